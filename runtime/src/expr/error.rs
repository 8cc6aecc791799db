//! The error type of `when` conditions, dag `depends` expressions and loop expansion.
//!
//! Each variant names the expression (or the value) it is about and, where it applies, the column
//! (1-based, in characters) where the problem starts, so that a step that fails on it carries a message
//! a user can act on. `{{...}}` substitution has its own error, [`TemplateError`](super::TemplateError).

use thiserror::Error;

/// Why an expression could not be parsed or evaluated, or a loop could not be expanded.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ExprError {
    /// The expression does not parse: an unknown operator, an unclosed quote or bracket, unbalanced
    /// parentheses, two operands in a row, a missing operand (Argo: "Invalid 'when' expression").
    #[error("invalid '{context}' expression '{expr}' at column {column}: {message}")]
    Syntax {
        /// Which kind of expression: `when` or `depends`.
        context: &'static str,
        /// The expression as given.
        expr: String,
        /// 1-based column (in characters) where the problem starts.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The expression parses on its own but not once its bare words are read as strings, the way Argo
    /// reads them (Argo: "Failed to parse 'when' expression"): `!word`, for instance.
    #[error("failed to parse '{context}' expression '{expr}' at column {column}: {message}")]
    Unparsable {
        /// Which kind of expression: `when` or `depends`.
        context: &'static str,
        /// The expression as given.
        expr: String,
        /// 1-based column (in characters) where the problem starts.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A regular expression after `=~` or `!~` does not compile.
    #[error(
        "invalid regular expression '{pattern}' in '{context}' expression '{expr}' at column {column}"
    )]
    Regex {
        /// Which kind of expression: `when` or `depends`.
        context: &'static str,
        /// The expression as given.
        expr: String,
        /// 1-based column (in characters) of the pattern.
        column: usize,
        /// The pattern that does not compile.
        pattern: String,
        /// The regex engine's complaint.
        #[source]
        source: regex::Error,
    },
    /// An operator met an operand it cannot use (a word where a number is needed, `&&` on a string), or a
    /// word with a `.` was read as a field access (Argo: "Failed to evaluate 'when' expression").
    #[error("failed to evaluate '{context}' expression '{expr}' at column {column}: {message}")]
    Eval {
        /// Which kind of expression: `when` or `depends`.
        context: &'static str,
        /// The expression as given.
        expr: String,
        /// 1-based column (in characters) of the operator or operand at fault.
        column: usize,
        /// What went wrong.
        message: String,
    },
    /// The expression evaluated to something other than a boolean (Argo: "Expected boolean evaluation").
    #[error("expected boolean evaluation for '{expr}', got {value}")]
    NotBoolean {
        /// The expression as given.
        expr: String,
        /// The value it evaluated to, printed the way Argo prints it.
        value: String,
    },
    /// A `depends` expression names a task that the lookup does not know.
    #[error("depends expression '{expr}' at column {column}: no task named '{task}'")]
    UnknownTask {
        /// The expression as given.
        expr: String,
        /// 1-based column (in characters) of the task name.
        column: usize,
        /// The unknown task name.
        task: String,
    },
    /// A `depends` expression asks for a task result that is not one of Argo's.
    #[error(
        "depends expression '{expr}' at column {column}: task result '{result}' for task '{task}' is invalid \
         (expected one of Succeeded, Failed, Errored, Skipped, Omitted, Daemoned, AnySucceeded, AllFailed)"
    )]
    UnknownResult {
        /// The expression as given.
        expr: String,
        /// 1-based column (in characters) of the result name.
        column: usize,
        /// The task the result is asked of.
        task: String,
        /// The result as written.
        result: String,
    },
    /// A `withParam` value (after substitution) is not a JSON list.
    #[error("withParam value could not be parsed as a JSON list: {text}: {reason}")]
    WithParam {
        /// The value, trimmed.
        text: String,
        /// Why it is not a list.
        reason: String,
    },
    /// A `withSequence` is not usable: a field is not an integer, or `count` and `end` are both set or both
    /// missing.
    #[error("invalid withSequence: {message}")]
    Sequence {
        /// What is wrong.
        message: String,
    },
}

/// The 1-based column (in characters) of byte offset `at` in `text`.
pub(crate) fn column(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    text.char_indices().take_while(|&(i, _)| i < at).count() + 1
}
