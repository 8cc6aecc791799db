//! Finding where a key of a compiled pipeline is written, for error messages.
//!
//! KFP writes its IR in block style, one key per line, indented by two spaces per level, so a path of
//! mapping keys (`root`, `dag`, `tasks`, `add`, `componentRef`) is found by looking for each key in turn,
//! below the previous one and indented deeper, within the previous key's block. Where a key is not found
//! (the YAML was written in another style), the deepest key that was found is reported, then the file's
//! first line: the message still says what is wrong.

/// The 1-based line and column of the deepest key of `path` found in `src`.
pub(crate) fn locate(src: &str, path: &[&str]) -> (usize, usize) {
    let lines: Vec<&str> = src.lines().collect();
    let mut found = (1, 1);
    let mut start = 0;
    let mut parent_indent: Option<usize> = None;
    for key in path {
        let mut hit = None;
        for (i, line) in lines.iter().enumerate().skip(start) {
            let content = line.trim_start_matches(' ');
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            let indent = line.len() - content.len();
            if parent_indent.is_some_and(|p| indent <= p) {
                break;
            }
            if starts_with_key(content, key) {
                hit = Some((i, indent));
                break;
            }
        }
        let Some((i, indent)) = hit else { break };
        found = (i + 1, lines[i][..indent].chars().count() + 1);
        start = i + 1;
        parent_indent = Some(indent);
    }
    found
}

/// Whether `content` (a line without its indentation) starts with the mapping key `key`, plain or quoted.
fn starts_with_key(content: &str, key: &str) -> bool {
    let content = content.strip_prefix("- ").unwrap_or(content);
    for (open, close) in [("", ""), ("'", "'"), ("\"", "\"")] {
        if let Some(rest) = content
            .strip_prefix(open)
            .and_then(|r| r.strip_prefix(key))
            .and_then(|r| r.strip_prefix(close))
            && let Some(after) = rest.strip_prefix(':')
            && (after.is_empty() || after.starts_with(' '))
        {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "# header\ncomponents:\n  comp-a:\n    executorLabel: exec-a\nroot:\n  dag:\n    tasks:\n      a:\n        componentRef:\n          name: comp-b\n      'b':\n        componentRef: {name: x}\n";

    #[test]
    fn finds_nested_keys_in_order() {
        assert_eq!(locate(SRC, &["root"]), (5, 1));
        assert_eq!(
            locate(SRC, &["root", "dag", "tasks", "a", "componentRef", "name"]),
            (10, 11)
        );
        assert_eq!(locate(SRC, &["root", "dag", "tasks", "b"]), (11, 7));
        assert_eq!(locate(SRC, &["components", "comp-a"]), (3, 3));
    }

    #[test]
    fn stops_at_the_deepest_key_found() {
        // `name` is not under `b`'s block in block style: the task's key is reported.
        assert_eq!(
            locate(SRC, &["root", "dag", "tasks", "b", "componentRef", "name"]),
            (12, 9)
        );
        // A key outside its parent's block is not found there.
        assert_eq!(locate(SRC, &["components", "root"]), (2, 1));
        assert_eq!(locate(SRC, &["nothing"]), (1, 1));
    }
}
