//! `{{name}}` tags: finding them and substituting their values.
//!
//! A tag is `{{`, optional spaces, a name, optional spaces, `}}`. A tag whose body starts with `=` is an
//! expression tag (`{{=sprig.upper(x)}}`); its body is kept as written in [`Tag::name`] with
//! [`Tag::expression`] set.

use thiserror::Error;

/// One `{{...}}` tag found in a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// The trimmed body: `inputs.parameters.x`, or for an expression tag the text after `=`.
    pub name: String,
    /// Byte offset of the opening `{{` in the scanned string.
    pub start: usize,
    /// Byte offset just past the closing `}}`.
    pub end: usize,
    /// Whether this is an expression tag (`{{=...}}`).
    pub expression: bool,
}

/// An error from substituting tags.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TemplateError {
    /// A tag names a variable that the lookup does not know.
    #[error("unresolved variable {{{{{name}}}}}")]
    Unresolved {
        /// The variable name inside the tag.
        name: String,
    },
}

/// Lists the tags in `text`, in order. An unclosed `{{` is not a tag.
pub fn tags(text: &str) -> Vec<Tag> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("{{") {
        let start = from + open;
        let Some(close) = text[start + 2..].find("}}") else {
            break;
        };
        let body = text[start + 2..start + 2 + close].trim();
        let end = start + 2 + close + 2;
        let (expression, name) = match body.strip_prefix('=') {
            Some(rest) => (true, rest.trim()),
            None => (false, body),
        };
        out.push(Tag {
            name: name.to_string(),
            start,
            end,
            expression,
        });
        from = end;
    }
    out
}

/// Replaces every tag in `text` with the value `lookup` gives its name.
///
/// # Errors
/// [`TemplateError::Unresolved`] for the first tag `lookup` answers with `None`.
pub fn substitute(
    text: &str,
    lookup: &dyn Fn(&Tag) -> Option<String>,
) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for tag in tags(text) {
        let value = lookup(&tag).ok_or_else(|| TemplateError::Unresolved {
            name: tag.name.clone(),
        })?;
        out.push_str(&text[last..tag.start]);
        out.push_str(&value);
        last = tag.end;
    }
    out.push_str(&text[last..]);
    Ok(out)
}

/// Like [`substitute`], but a tag `lookup` does not know is left as written, as Argo leaves it.
pub fn substitute_lenient(text: &str, lookup: &dyn Fn(&Tag) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for tag in tags(text) {
        out.push_str(&text[last..tag.start]);
        match lookup(&tag) {
            Some(value) => out.push_str(&value),
            None => out.push_str(&text[tag.start..tag.end]),
        }
        last = tag.end;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(tag: &Tag) -> Option<String> {
        match tag.name.as_str() {
            "a" => Some("1".into()),
            "inputs.parameters.msg" => Some("hi there".into()),
            _ => None,
        }
    }

    #[test]
    fn finds_tags_with_spaces_and_expressions() {
        let found = tags("x {{ a }} y {{=b + 1}} {{unclosed");
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].name, "a");
        assert!(!found[0].expression);
        assert_eq!(found[1].name, "b + 1");
        assert!(found[1].expression);
    }

    #[test]
    fn substitutes_known_and_reports_unknown() {
        assert_eq!(
            substitute("echo {{inputs.parameters.msg}} {{a}}", &vars).unwrap(),
            "echo hi there 1"
        );
        assert_eq!(
            substitute("{{nope}}", &vars),
            Err(TemplateError::Unresolved {
                name: "nope".into()
            })
        );
        assert_eq!(substitute_lenient("{{a}} {{nope}}", &vars), "1 {{nope}}");
    }
}
