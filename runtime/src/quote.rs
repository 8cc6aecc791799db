//! Double-quoted strings for the formats skiff writes by hand (JSON, YAML, TOML), which share their
//! escapes.

use std::fmt::Write as _;

/// `s` in double quotes: `"`, `\`, newline, tab and carriage return as their backslash escapes, every
/// character `escape` picks as `\uXXXX`, the rest as it is. JSON, YAML's double quotes and TOML's basic
/// strings all read it back as `s`. `escape` must pick only characters up to U+FFFF (`\u` has four
/// digits).
pub(crate) fn double_quoted(s: &str, escape: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if escape(c) => {
                debug_assert!(u32::from(c) <= 0xffff, "\\u takes four digits");
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_shared_set_and_what_the_caller_picks() {
        assert_eq!(
            double_quoted("a\"b\\c\n\t\r", |_| false),
            r#""a\"b\\c\n\t\r""#
        );
        assert_eq!(
            double_quoted("{x}\u{1}", |c| c == '{' || c.is_control()),
            r#""\u007bx}\u0001""#
        );
        let back: String =
            serde_json::from_str(&double_quoted("é\u{7f}", char::is_control)).unwrap();
        assert_eq!(back, "é\u{7f}");
    }
}
