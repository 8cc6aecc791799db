//! Shell patterns (`*`, `?`, `[...]`, `\` quoting): `case`, `${x#pat}` and pathname expansion.

/// Whether `pat` matches all of `s`.
pub fn matches(pat: &str, s: &str) -> bool {
    let p: Vec<char> = pat.chars().collect();
    let s: Vec<char> = s.chars().collect();
    match_chars(&p, &s)
}

pub fn match_chars(p: &[char], s: &[char]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut back: Option<(usize, usize)> = None;
    loop {
        if p.get(pi) == Some(&'*') {
            pi += 1;
            back = Some((pi, si));
            continue;
        }
        if si == s.len() {
            if pi == p.len() {
                return true;
            }
        } else if pi < p.len()
            && let Some(next) = step(p, pi, s[si])
        {
            pi = next;
            si += 1;
            continue;
        }
        match back {
            Some((bp, bs)) if bs < s.len() => {
                back = Some((bp, bs + 1));
                pi = bp;
                si = bs + 1;
            }
            _ => return false,
        }
    }
}

/// Where the pattern continues after matching `c` at `pi`, if it does.
fn step(p: &[char], pi: usize, c: char) -> Option<usize> {
    match p[pi] {
        '?' => Some(pi + 1),
        '\\' if pi + 1 < p.len() => (p[pi + 1] == c).then_some(pi + 2),
        '[' => match class(p, pi, c) {
            Some((true, next)) => Some(next),
            Some((false, _)) => None,
            None => (c == '[').then_some(pi + 1),
        },
        x => (x == c).then_some(pi + 1),
    }
}

/// A bracket expression at `start`: whether it matches `c`, and where it ends. `None` when unclosed.
fn class(p: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some('!' | '^'));
    if negate {
        i += 1;
    }
    let mut found = false;
    let mut first = true;
    loop {
        let ch = *p.get(i)?;
        if ch == ']' && !first {
            return Some((found != negate, i + 1));
        }
        first = false;
        if ch == '[' && p.get(i + 1) == Some(&':') {
            let rest: String = p[i + 2..].iter().collect();
            if let Some(end) = rest.find(":]") {
                let name = &rest[..end];
                found |= match name {
                    "alpha" => c.is_alphabetic(),
                    "digit" => c.is_ascii_digit(),
                    "alnum" => c.is_alphanumeric(),
                    "upper" => c.is_uppercase(),
                    "lower" => c.is_lowercase(),
                    "space" => c.is_whitespace(),
                    "blank" => c == ' ' || c == '\t',
                    "punct" => c.is_ascii_punctuation(),
                    "xdigit" => c.is_ascii_hexdigit(),
                    _ => false,
                };
                i += 2 + name.chars().count() + 2;
                continue;
            }
        }
        let lo = if ch == '\\' && i + 1 < p.len() {
            i += 1;
            p[i]
        } else {
            ch
        };
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&x| x != ']') {
            let mut hi = p[i + 2];
            i += 3;
            if hi == '\\' {
                hi = *p.get(i)?;
                i += 1;
            }
            found |= lo <= c && c <= hi;
        } else {
            found |= lo == c;
            i += 1;
        }
    }
}

/// `${x#p}` (`long`: `##`) and `${x%p}` (`suffix`; `long`: `%%`).
pub fn trim(s: &str, pat: &str, suffix: bool, long: bool) -> String {
    let p: Vec<char> = pat.chars().collect();
    let c: Vec<char> = s.chars().collect();
    let n = c.len();
    let mut cuts: Vec<usize> = (0..=n).collect();
    if suffix != long {
        cuts.reverse();
    }
    for k in cuts {
        if suffix && match_chars(&p, &c[k..]) {
            return c[..k].iter().collect();
        }
        if !suffix && match_chars(&p, &c[..k]) {
            return c[k..].iter().collect();
        }
    }
    s.to_string()
}

/// `${x/p/r}` and `${x//p/r}` (patterns starting `#` or `%` are anchored).
pub fn replace(s: &str, pat: &str, rep: &str, all: bool) -> String {
    let (pat, start_only, end_only) = if let Some(p) = pat.strip_prefix('#') {
        (p, true, false)
    } else if let Some(p) = pat.strip_prefix('%') {
        (p, false, true)
    } else {
        (pat, false, false)
    };
    let p: Vec<char> = pat.chars().collect();
    let c: Vec<char> = s.chars().collect();
    let n = c.len();
    let mut out = String::new();
    let mut i = 0;
    let mut done = false;
    while i <= n {
        let mut hit = None;
        if !done && (!start_only || i == 0) {
            let ends: Vec<usize> = if end_only {
                vec![n]
            } else {
                (i..=n).rev().collect()
            };
            hit = ends.into_iter().find(|&j| {
                (j > i || p.is_empty() || start_only || end_only) && match_chars(&p, &c[i..j])
            });
        }
        match hit {
            Some(j) => {
                out.push_str(rep);
                done = !all;
                if j == i {
                    if i < n {
                        out.push(c[i]);
                    }
                    i += 1;
                    done = true;
                } else {
                    i = j;
                }
            }
            None => {
                if i < n {
                    out.push(c[i]);
                }
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(matches("*.txt", "a.txt"));
        assert!(!matches("*.txt", "a.txt.bak"));
        assert!(matches("a?c", "abc"));
        assert!(matches("[a-c]x", "bx"));
        assert!(!matches("[!a-c]x", "bx"));
        assert!(matches("[[:digit:]]*", "7up"));
        assert!(matches("\\*", "*"));
        assert!(!matches("\\*", "a"));
        assert!(matches("*a*b*", "xxaxxbxx"));
        assert!(matches("[", "["));
        assert!(matches("", ""));
        assert!(!matches("", "a"));
    }

    #[test]
    fn trims_and_replacements() {
        assert_eq!(trim("a/b/c.tar.gz", "*/", false, false), "b/c.tar.gz");
        assert_eq!(trim("a/b/c.tar.gz", "*/", false, true), "c.tar.gz");
        assert_eq!(trim("c.tar.gz", ".*", true, false), "c.tar");
        assert_eq!(trim("c.tar.gz", ".*", true, true), "c");
        assert_eq!(replace("hello", "l", "L", false), "heLlo");
        assert_eq!(replace("hello", "l", "L", true), "heLLo");
        assert_eq!(replace("hello", "#h", "J", false), "Jello");
        assert_eq!(replace("hello", "%o", "0", false), "hell0");
    }
}
