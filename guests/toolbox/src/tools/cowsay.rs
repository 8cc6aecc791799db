//! `cowsay`, as docker/whalesay runs it: a speech bubble, then a whale (skiff's own drawing).

use crate::Io;

/// The whale under the bubble, its spout first.
const WHALE: &str = r#"    \
     \
      \            '  .  '
                    \ | /
                     \|/
            ..--"""""""""--..
         .-'    o            '-.       __
        (                       '-.__.'  )
         '-.                      .--.  (
            '--..__________..--''    '--'
"#;

/// Wraps text at word boundaries into lines of at most `width` characters (longer words are split).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > width {
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
            }
            lines.push(word[..width].iter().collect());
            word.drain(..width);
        }
        let word: String = word.into_iter().collect();
        if word.is_empty() {
            continue;
        }
        let len = cur.chars().count();
        if len == 0 {
            cur = word;
        } else if len + 1 + word.chars().count() <= width {
            cur.push(' ');
            cur.push_str(&word);
        } else {
            lines.push(std::mem::replace(&mut cur, word));
        }
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

/// The speech bubble around `lines`.
pub(crate) fn bubble(lines: &[String]) -> String {
    let width = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let mut out = format!(" {}\n", "_".repeat(width + 2));
    let n = lines.len();
    for (i, line) in lines.iter().enumerate() {
        let (open, close) = match (n, i) {
            (1, _) => ('<', '>'),
            (_, 0) => ('/', '\\'),
            (_, i) if i == n - 1 => ('\\', '/'),
            _ => ('|', '|'),
        };
        let pad = width - line.chars().count();
        out.push_str(&format!("{open} {line}{} {close}\n", " ".repeat(pad)));
    }
    out.push_str(&format!(" {}\n", "-".repeat(width + 2)));
    out
}

/// `cowsay [-n] [-W WIDTH] [TEXT]...`: text from the arguments, or standard input when there are none.
pub(crate) fn main(args: &[String], io: &mut Io<'_>) -> i32 {
    let mut width = 40usize;
    let mut nowrap = false;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-n" => nowrap = true,
            "-W" if i + 1 < args.len() => {
                i += 1;
                width = args[i].parse().unwrap_or(40).max(2);
            }
            // Faces and cow files mean nothing to a whale.
            "-b" | "-d" | "-g" | "-p" | "-s" | "-t" | "-w" | "-y" => {}
            "-e" | "-T" | "-f" if i + 1 < args.len() => i += 1,
            "--" => {
                i += 1;
                break;
            }
            _ => break,
        }
        i += 1;
    }
    let text = if i < args.len() {
        args[i..].join(" ")
    } else {
        let mut data = Vec::new();
        let _ = io.stdin.read_to_end(&mut data);
        String::from_utf8_lossy(&data).into_owned()
    };
    let text = text.replace('\t', "        ");
    let lines: Vec<String> = if nowrap {
        let mut v: Vec<String> = text.lines().map(str::to_string).collect();
        if v.is_empty() {
            v.push(String::new());
        }
        v
    } else {
        wrap(&text, width - 1)
    };
    let mut out = bubble(&lines);
    out.push_str(WHALE);
    i32::from(io.stdout.write_all(out.as_bytes()).is_err())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_word_boundaries() {
        let text = "the quick brown fox jumps over the lazy dog and keeps running far away";
        let lines = wrap(text, 39);
        assert!(lines.iter().all(|l| l.chars().count() <= 39));
        assert_eq!(lines.join(" "), text);
        assert_eq!(wrap(&"x".repeat(45), 39).len(), 2);
    }
}
