//! `grep`, `egrep`, `fgrep`: basic, extended and fixed-string patterns on the toolbox's regex engine.

use super::regex::{Regex, Syntax};
use super::{getopt, is_stdin, lines, read_all};
use crate::{Io, Sys, describe};

struct Matcher {
    res: Vec<Regex>,
    word: bool,
    line: bool,
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl Matcher {
    /// The matches of one pattern in `text`, in order (non-overlapping).
    fn find(&self, re: &Regex, text: &[char], from: usize) -> Option<(usize, usize)> {
        let mut pos = from;
        while pos <= text.len() {
            let (s, e) = re.find_at(text, pos)?;
            let ok = if self.line {
                s == 0 && e == text.len()
            } else if self.word {
                (s == 0 || !is_word(text[s - 1])) && (e == text.len() || !is_word(text[e])) && e > s
            } else {
                true
            };
            if ok {
                return Some((s, e));
            }
            if self.line {
                return None;
            }
            pos = s + 1;
        }
        None
    }

    fn matches(&self, text: &[char]) -> bool {
        self.res.iter().any(|re| self.find(re, text, 0).is_some())
    }

    /// All matches of all patterns, leftmost first (for `-o`).
    fn all(&self, text: &[char]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut pos = 0;
        while pos <= text.len() {
            let best = self
                .res
                .iter()
                .filter_map(|re| self.find(re, text, pos))
                .min_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
            let Some((s, e)) = best else { break };
            if e > s {
                out.push((s, e));
                pos = e;
            } else {
                pos = s + 1;
            }
        }
        out
    }
}

/// Lists the files under a directory (sorted), for `-r`.
fn walk(sys: &Sys, path: &str, out: &mut Vec<String>) {
    let host = sys.host_path(path);
    if host.is_dir() {
        let Ok(read) = std::fs::read_dir(&host) else {
            return;
        };
        let mut names: Vec<String> = read
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for n in names {
            let p = if path.ends_with('/') {
                format!("{path}{n}")
            } else {
                format!("{path}/{n}")
            };
            walk(sys, &p, out);
        }
    } else {
        out.push(path.to_string());
    }
}

/// `grep [-EFGivcnqslLhHowxr] [-m N] [-e PATTERN]... [-f FILE] [PATTERN] [FILE]...`
pub(crate) fn main(tool: &str, args: &[String], sys: &mut Sys, io: &mut Io<'_>) -> i32 {
    let opts = match getopt(args, "EFGivcnqslLhHowxrRyaIUz", "efmABC", false) {
        Ok(o) => o,
        Err(e) => {
            let _ = writeln!(io.stderr, "{tool}: {e}");
            return 2;
        }
    };
    let mut syntax = match tool {
        "egrep" => Syntax::Extended,
        _ => Syntax::Basic,
    };
    let mut fixed = tool == "fgrep";
    for f in &opts.flags {
        match f {
            'E' => {
                syntax = Syntax::Extended;
                fixed = false;
            }
            'F' => fixed = true,
            'G' => {
                syntax = Syntax::Basic;
                fixed = false;
            }
            _ => {}
        }
    }
    let icase = opts.has('i') || opts.has('y');
    let mut patterns: Vec<String> = Vec::new();
    let mut have_pattern_opt = false;
    for (k, v) in &opts.values {
        match k {
            'e' => {
                have_pattern_opt = true;
                patterns.extend(v.split('\n').map(str::to_string));
            }
            'f' => {
                have_pattern_opt = true;
                match read_all(v, sys, &mut *io.stdin) {
                    Ok(d) => patterns.extend(
                        lines(&d)
                            .iter()
                            .map(|l| String::from_utf8_lossy(l).into_owned()),
                    ),
                    Err(e) => {
                        let _ = writeln!(io.stderr, "{tool}: {v}: {}", describe(&e));
                        return 2;
                    }
                }
            }
            _ => {}
        }
    }
    let mut operands = opts.operands.clone();
    if !have_pattern_opt {
        if operands.is_empty() {
            let _ = writeln!(
                io.stderr,
                "Usage: {tool} [-EFGivcnqslLhHowx] [-e PATTERN]... [-f FILE] [PATTERN] [FILE]..."
            );
            return 2;
        }
        patterns.extend(operands.remove(0).split('\n').map(str::to_string));
    }
    let mut res = Vec::new();
    for p in &patterns {
        let re = if fixed {
            Ok(Regex::literal(p, icase))
        } else {
            Regex::new(p, syntax, icase)
        };
        match re {
            Ok(r) => res.push(r),
            Err(e) => {
                let _ = writeln!(io.stderr, "{tool}: {e}");
                return 2;
            }
        }
    }
    let matcher = Matcher {
        res,
        word: opts.has('w'),
        line: opts.has('x'),
    };
    let recursive = opts.has('r') || opts.has('R');
    if operands.is_empty() {
        operands.push(if recursive {
            ".".to_string()
        } else {
            "-".to_string()
        });
    }
    let mut files = Vec::new();
    for o in &operands {
        if recursive && !is_stdin(o) {
            walk(sys, o, &mut files);
        } else {
            files.push(o.clone());
        }
    }
    let with_names = (files.len() > 1 || opts.has('H') || recursive) && !opts.has('h');
    let (invert, count, quiet, list, list_missing, only, numbers) = (
        opts.has('v'),
        opts.has('c'),
        opts.has('q'),
        opts.has('l'),
        opts.has('L'),
        opts.has('o'),
        opts.has('n'),
    );
    let max: Option<usize> = opts.value('m').and_then(|m| m.parse().ok());
    let mut any = false;
    let mut error = false;
    let mut out = Vec::new();
    'files: for file in &files {
        let data = match read_all(file, sys, &mut *io.stdin) {
            Ok(d) => d,
            Err(e) => {
                if !opts.has('s') {
                    let _ = writeln!(io.stderr, "{tool}: {file}: {}", describe(&e));
                }
                error = true;
                continue;
            }
        };
        let name = if is_stdin(file) {
            "(standard input)"
        } else {
            file.as_str()
        };
        let mut n = 0usize;
        for (lineno, raw) in lines(&data).iter().enumerate() {
            if max.is_some_and(|m| n >= m) {
                break;
            }
            let text = String::from_utf8_lossy(raw);
            let chars: Vec<char> = text.chars().collect();
            let hit = matcher.matches(&chars) != invert;
            if !hit {
                continue;
            }
            n += 1;
            any = true;
            if quiet {
                break 'files;
            }
            if count || list || list_missing {
                continue;
            }
            let prefix = {
                let mut p = String::new();
                if with_names {
                    p.push_str(name);
                    p.push(':');
                }
                if numbers {
                    p.push_str(&(lineno + 1).to_string());
                    p.push(':');
                }
                p
            };
            if only && !invert {
                for (s, e) in matcher.all(&chars) {
                    out.extend_from_slice(prefix.as_bytes());
                    out.extend(chars[s..e].iter().collect::<String>().as_bytes());
                    out.push(b'\n');
                }
            } else {
                out.extend_from_slice(prefix.as_bytes());
                out.extend_from_slice(raw);
                out.push(b'\n');
            }
        }
        if count {
            if with_names {
                out.extend_from_slice(format!("{name}:{n}\n").as_bytes());
            } else {
                out.extend_from_slice(format!("{n}\n").as_bytes());
            }
        }
        if list && n > 0 {
            out.extend_from_slice(format!("{name}\n").as_bytes());
        }
        if list_missing && n == 0 {
            out.extend_from_slice(format!("{name}\n").as_bytes());
        }
    }
    let _ = io.stdout.write_all(&out);
    if quiet && any {
        0
    } else if error {
        2
    } else if any {
        0
    } else {
        1
    }
}
