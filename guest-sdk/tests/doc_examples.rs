//! Every public item of the SDK shows an example in its documentation: a doc comment with a code
//! block right above each `pub` item (modules may carry theirs in `//!` comments), re-exports of
//! the macros included. `describe.rs` is skipped: it is the macro's hidden support, not an API.

use std::path::Path;

/// `(file, line, item)` for each `pub` item whose doc comment has no code block.
fn items_without_examples(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut missing = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let item = line.trim_start();
        let is_pub_item = [
            "pub fn ",
            "pub struct ",
            "pub enum ",
            "pub trait ",
            "pub type ",
            "pub mod ",
            "pub const ",
            "pub static ",
            "pub use ",
        ]
        .iter()
        .any(|p| item.starts_with(p));
        // Re-exports of this crate's own items are checked where the items are defined.
        let own_reexport =
            item.starts_with("pub use crate::") || item.starts_with("pub use types::");
        if !is_pub_item || own_reexport || item.starts_with("pub mod __private") {
            continue;
        }
        // The doc comment above (attributes in between are fine).
        let mut doc = Vec::new();
        for above in lines[..i].iter().rev() {
            let above = above.trim_start();
            if let Some(d) = above.strip_prefix("///") {
                doc.push(d);
            } else if above.starts_with("#[") {
                continue;
            } else {
                break;
            }
        }
        let mut has_example = doc.iter().any(|d| d.trim_start().starts_with("```"));
        if item.starts_with("pub mod ") && item.ends_with(';') {
            // `pub mod guide;`: its docs are the `//!` lines of its file.
            let name = item["pub mod ".len()..].trim_end_matches(';');
            let module = file.with_file_name(format!("{name}.rs"));
            let inner = std::fs::read_to_string(module).unwrap();
            has_example |= inner.lines().any(|l| l.starts_with("//! ```"));
        }
        if !has_example {
            missing.push(format!("{}:{}: {}", file.display(), i + 1, item));
        }
    }
    missing
}

#[test]
fn every_public_item_has_an_example() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut missing = Vec::new();
    let mut checked = 0;
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("describe.rs") {
            checked += 1;
            missing.extend(items_without_examples(&path));
        }
    }
    assert!(checked >= 3, "found only {checked} source files");
    assert!(
        missing.is_empty(),
        "public items without an example in their docs:\n{}",
        missing.join("\n")
    );
}
