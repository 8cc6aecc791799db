//! Errors about a workflow file: what is wrong, where (`file:line:column`), and what to do about it.

use std::fmt;
use std::path::PathBuf;

use thiserror::Error;

/// A place in a workflow file. `line` and `column` are 1-based; the column counts characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    /// The file, as the caller named it.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl Location {
    /// A location at `line`:`column` of `file`.
    pub fn new(file: impl Into<PathBuf>, line: usize, column: usize) -> Self {
        Location {
            file: file.into(),
            line,
            column,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// A problem in a workflow file, found while parsing or validating it: a user error, never a bug of skiff's.
///
/// Displayed as `{file}:{line}:{column}: {message}`, followed by `\n  help: {help}` when there is help.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{location}: {message}{}", help.as_ref().map(|h| format!("\n  help: {h}")).unwrap_or_default())]
pub struct SpecError {
    /// Where the problem is.
    pub location: Location,
    /// What is wrong, in one line.
    pub message: String,
    /// What to do about it, when there is something useful to say.
    pub help: Option<String>,
}

impl SpecError {
    /// An error at `location` with `message` and no help.
    pub fn new(location: Location, message: impl Into<String>) -> Self {
        SpecError {
            location,
            message: message.into(),
            help: None,
        }
    }

    /// The same error with `help` (what to do).
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Errors as one text, one per line: what the CLI prints and the server answers for a workflow it refuses.
///
/// ```
/// assert_eq!(skiff::spec::one_per_line(&["a.yaml:1:1: one", "a.yaml:2:1: two"]), "a.yaml:1:1: one\na.yaml:2:1: two");
/// ```
pub fn one_per_line<E: std::fmt::Display>(errors: &[E]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_location_message_and_help() {
        let err = SpecError::new(Location::new("wf.yaml", 3, 7), "unknown template `x`");
        assert_eq!(err.to_string(), "wf.yaml:3:7: unknown template `x`");
        let err = err.with_help("defined templates: a, b");
        assert_eq!(
            err.to_string(),
            "wf.yaml:3:7: unknown template `x`\n  help: defined templates: a, b"
        );
    }
}
