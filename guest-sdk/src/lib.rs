//! Write skiff components: Rust functions that run as workflow steps in skiff's wasm sandbox.
//!
//! A component is a function compiled to a WASI module (`wasm32-wasip1`). Mark it
//! [`#[component]`](macro@component) and the macro makes the program around it: `main` reads the
//! function's arguments from the step's inputs, calls it, and writes what it returns as the step's
//! outputs; a description of those inputs and outputs is embedded in the module, so `skiff
//! component describe` can print it, `skiff component template` can write the workflow template
//! for it, and skiff checks a workflow against it before running.
//!
//! ```no_run
//! /// Adds two integers.
//! #[skiff_guest::component(output = "sum")]
//! fn add(a: i64, b: i64) -> Result<i64, String> {
//!     a.checked_add(b).ok_or_else(|| format!("{a} + {b} does not fit in 64 bits"))
//! }
//! ```
//!
//! `skiff component build` compiles it; `skiff component template add.wasm` prints the template
//! to paste into a workflow. The [`guide`] walks from `skiff component new` to a running workflow.
//!
//! # Inputs and outputs
//!
//! | in the function | in the workflow | in the sandbox |
//! |---|---|---|
//! | argument `n: i64` (any [`FromParam`] type) | input parameter `n` | env `SKIFF_INPUT_N` (or `--n=value`) |
//! | argument `n: Option<i64>` | optional input parameter `n` (absent or empty: `None`) | the same |
//! | argument `data: InputArtifact` | input artifact `data` | `/tmp/inputs/artifacts/data` |
//! | argument `data: Option<InputArtifact>` | optional input artifact (`optional: true`) | the same, or nothing |
//! | argument `report: OutputArtifact` | output artifact `report` | `/tmp/outputs/artifacts/report` |
//! | argument `metrics: Metrics` | metrics, printed after the run | `/tmp/outputs/metrics/metrics.json` |
//! | returns `T` (any [`ToParam`] type) | output parameter `output` (or `#[component(output = "...")]`) and `outputs.result` | `/tmp/outputs/parameters/output`, stdout |
//! | returns a `#[derive(Outputs)]` struct | one output parameter per field | `/tmp/outputs/parameters/<field>` |
//! | returns `Err(e)` | the step fails with `e`'s message | stderr, exit code 1 |
//!
//! Parameter types: integers, floats, `bool`, `String`, and JSON ([`Json<T>`] for any serde
//! type, or [`serde_json::Value`]). A value that does not parse fails the step with a message that
//! names the input, the value and what was expected.
//!
//! Because a single returned value is also printed to stdout (it becomes `outputs.result`, as a
//! script's output does in Argo), a component that logs should log to stderr (`eprintln!`).
//!
//! # Without the macro
//!
//! The conventions are plain files and variables, and the [`input`] and [`output`] modules read
//! and write them directly; a hand-written `fn main` works too:
//!
//! ```no_run
//! use skiff_guest::{input, output, OrFail};
//!
//! fn main() {
//!     let a: i64 = input::param_as("a").or_fail();
//!     let b: i64 = input::param_as("b").or_fail();
//!     output::param("sum", a + b).or_fail(); // outputs.parameters.sum
//!     skiff_guest::result(a + b); // outputs.result
//! }
//! ```
//!
//! A component also builds and runs natively, so its function can be unit-tested as any other;
//! [`InputArtifact::at`], [`OutputArtifact::at`] and [`Metrics::at`] make the arguments a test
//! needs. Run natively, a component prints its description with `--skiff-describe`.
//!
//! **Inputs.** For each input parameter of a `wasm:` template, skiff sets the environment
//! variable `SKIFF_INPUT_<NAME>`, where `<NAME>` is the parameter's name in upper case with every
//! character that is not an ASCII letter or digit replaced by `_` (`learning-rate` →
//! `SKIFF_INPUT_LEARNING_RATE`; see [`input::env_var`]). A component run by hand, or a template
//! that passes `args: ["--a={{inputs.parameters.a}}"]`, works too: when the variable is not set,
//! the first argument of the form `--name=value` is used. Names that differ only in case or
//! punctuation map to the same variable; avoid them.
//!
//! **Outputs.** The sandbox's `/` is the step's own directory, so the paths above are private to
//! the step. skiff reads output parameters from the `valueFrom.path` the workflow declares, and
//! artifacts from their `path`; the template `skiff component template` prints declares the paths
//! above.

use std::fmt;
use std::path::PathBuf;

mod describe;
pub mod guide;
mod types;

/// Turns a function into a component (see [the crate's docs](crate) and the [`guide`]).
///
/// ```
/// use skiff_guest::{InputArtifact, Metrics, OutputArtifact};
///
/// /// Copies the lines of `text` that contain `word` to `matches`; counts them.
/// #[skiff_guest::component(output = "count")]
/// fn grep(
///     text: InputArtifact,
///     word: String,
///     matches: OutputArtifact,
///     mut metrics: Metrics,
/// ) -> Result<u64, skiff_guest::BoxError> {
///     let text = text.read_to_string()?;
///     let found: Vec<&str> = text.lines().filter(|l| l.contains(&word)).collect();
///     matches.write(found.join("\n"))?;
///     metrics.log("lines", text.lines().count() as f64)?;
///     Ok(found.len() as u64)
/// }
///
/// let dir = std::env::temp_dir().join("skiff-guest-doc-grep");
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("in.txt"), "a cat\na dog\ncats").unwrap();
/// let count = grep(
///     InputArtifact::at(dir.join("in.txt")),
///     "cat".into(),
///     OutputArtifact::at(dir.join("out.txt")),
///     Metrics::at(dir.join("metrics.json")),
/// )
/// .unwrap();
/// assert_eq!(count, 2);
/// assert_eq!(std::fs::read_to_string(dir.join("out.txt")).unwrap(), "a cat\ncats");
/// ```
pub use skiff_guest_macros::component;

/// Derives [`Outputs`](trait@Outputs) for a struct: one output parameter per field.
///
/// ```
/// #[derive(skiff_guest::Outputs)]
/// struct Split {
///     head: String,
///     rest: skiff_guest::Json<Vec<String>>,
/// }
///
/// /// Splits a comma-separated list into its first item and the others.
/// #[skiff_guest::component]
/// fn split(list: String) -> Split {
///     let mut items = list.split(',').map(str::to_owned);
///     Split { head: items.next().unwrap_or_default(), rest: skiff_guest::Json(items.collect()) }
/// }
///
/// assert_eq!(split("a,b,c".into()).rest.0, ["b", "c"]);
/// ```
pub use skiff_guest_macros::Outputs;
pub use types::{
    BoxError, FromParam, Input, InputArtifact, Json, Metrics, OutputArtifact, OutputField, Outputs,
    ToParam,
};

/// What `#[component]` expands to uses these; they are not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::describe::{Arg, Description, main};
}

/// What went wrong reading an input or writing an output; its message is meant for the step's
/// log as it is.
///
/// ```
/// let err = skiff_guest::input::param_as::<u8>("skiff-doc-missing").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "missing input parameter `skiff-doc-missing` (set SKIFF_INPUT_SKIFF_DOC_MISSING)"
/// );
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The input parameter was given neither as `SKIFF_INPUT_<NAME>` nor as `--name=value`.
    MissingParam {
        /// The parameter's name.
        name: String,
    },
    /// The input parameter's value does not parse as the type asked for.
    InvalidParam {
        /// The parameter's name.
        name: String,
        /// The value given.
        value: String,
        /// What it should have been, e.g. "an integer".
        expected: String,
        /// The parser's complaint.
        reason: String,
    },
    /// An input artifact the component takes is not where skiff places it.
    MissingArtifact {
        /// The artifact's name.
        name: String,
        /// Where it should be.
        path: PathBuf,
    },
    /// A metric's value is NaN or infinite (JSON has no such numbers).
    InvalidMetric {
        /// The metric's name.
        name: String,
        /// The value.
        value: f64,
    },
    /// The component function returned an error; its message.
    Failed {
        /// The error's message.
        message: String,
    },
    /// An output file could not be written.
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::MissingParam { name } => write!(
                f,
                "missing input parameter `{name}` (set {})",
                input::env_var(name)
            ),
            Error::InvalidParam {
                name,
                value,
                expected,
                reason,
            } => write!(
                f,
                "input parameter `{name}` must be {expected}, got {value:?} ({reason})"
            ),
            Error::MissingArtifact { name, path } => write!(
                f,
                "missing input artifact `{name}`: nothing at {} (declare it under inputs.artifacts with that path)",
                path.display()
            ),
            Error::InvalidMetric { name, value } => {
                write!(f, "metric `{name}` must be a finite number, got {value}")
            }
            Error::Failed { message } => f.write_str(message),
            Error::Io { path, source } => write!(f, "could not write {}: {source}", path.display()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// "an integer" for integer types, "a number" for floats, "true or false" for `bool`, else the
/// type's short name.
fn expected_phrase(type_name: &str) -> String {
    let short = type_name.rsplit("::").next().unwrap_or(type_name);
    match short {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "an integer".to_owned(),
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a non-negative integer".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        "bool" => "true or false".to_owned(),
        other => format!("a valid {other}"),
    }
}

/// Reading what the workflow passes in, without the macro.
///
/// ```no_run
/// use skiff_guest::{input, OrFail};
///
/// let rows: usize = input::param_as("rows").or_fail();
/// let table = std::fs::read_to_string(input::artifact_path("table")).or_fail();
/// println!("{}", table.lines().take(rows).count());
/// ```
pub mod input {
    use std::path::PathBuf;
    use std::str::FromStr;

    use super::Error;

    /// Where skiff places the input artifact `name`: `/tmp/inputs/artifacts/<name>`.
    ///
    /// ```
    /// assert_eq!(
    ///     skiff_guest::input::artifact_path("data.csv"),
    ///     std::path::Path::new("/tmp/inputs/artifacts/data.csv")
    /// );
    /// ```
    pub fn artifact_path(name: &str) -> PathBuf {
        PathBuf::from("/tmp/inputs/artifacts").join(name)
    }

    /// The environment variable skiff sets for input parameter `name`.
    ///
    /// ```
    /// assert_eq!(skiff_guest::input::env_var("learning-rate"), "SKIFF_INPUT_LEARNING_RATE");
    /// assert_eq!(skiff_guest::input::env_var("a"), "SKIFF_INPUT_A");
    /// ```
    pub fn env_var(name: &str) -> String {
        let mut var = String::with_capacity("SKIFF_INPUT_".len() + name.len());
        var.push_str("SKIFF_INPUT_");
        var.extend(name.chars().map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        }));
        var
    }

    /// The input parameter `name`: env `SKIFF_INPUT_<NAME>`, else the first argument
    /// `--name=value`; `None` if neither is there.
    ///
    /// ```no_run
    /// let greeting = skiff_guest::input::param("greeting");
    /// if let Some(greeting) = greeting {
    ///     println!("{greeting}, world");
    /// }
    /// ```
    pub fn param(name: &str) -> Option<String> {
        if let Ok(value) = std::env::var(env_var(name)) {
            return Some(value);
        }
        let flag = format!("--{name}=");
        std::env::args()
            .skip(1)
            .find_map(|arg| arg.strip_prefix(&flag).map(str::to_owned))
    }

    /// The input parameter `name`, or `default` when it is not given.
    ///
    /// ```no_run
    /// let mode = skiff_guest::input::param_or("mode", "fast");
    /// ```
    pub fn param_or(name: &str, default: &str) -> String {
        param(name).unwrap_or_else(|| default.to_owned())
    }

    /// The input parameter `name`, parsed as `T`.
    ///
    /// # Errors
    ///
    /// [`Error::MissingParam`] if it is not given, [`Error::InvalidParam`] if it does not parse.
    ///
    /// ```no_run
    /// use skiff_guest::OrFail;
    ///
    /// let epochs: u32 = skiff_guest::input::param_as("epochs").or_fail();
    /// ```
    pub fn param_as<T>(name: &str) -> Result<T, Error>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        let value = param(name).ok_or_else(|| Error::MissingParam {
            name: name.to_owned(),
        })?;
        value
            .trim()
            .parse()
            .map_err(|err: T::Err| Error::InvalidParam {
                name: name.to_owned(),
                expected: super::expected_phrase(std::any::type_name::<T>()),
                reason: err.to_string(),
                value,
            })
    }
}

/// Writing what the workflow reads back, without the macro.
///
/// ```no_run
/// use skiff_guest::{output, OrFail};
///
/// output::param("rows", 12).or_fail();
/// std::fs::write(output::artifact_path("report.txt"), "12 rows").or_fail();
/// ```
pub mod output {
    use std::fmt::Display;
    use std::path::PathBuf;

    use super::Error;

    /// Where the output parameter `name` is written: `/tmp/outputs/parameters/<name>`.
    ///
    /// ```
    /// assert_eq!(
    ///     skiff_guest::output::param_path("sum"),
    ///     std::path::Path::new("/tmp/outputs/parameters/sum")
    /// );
    /// ```
    pub fn param_path(name: &str) -> PathBuf {
        PathBuf::from("/tmp/outputs/parameters").join(name)
    }

    /// Writes output parameter `name` (its value, without a trailing newline) to
    /// `/tmp/outputs/parameters/<name>`, creating the directories. The workflow reads it with
    /// `valueFrom: {path: /tmp/outputs/parameters/<name>}`.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the file cannot be written.
    ///
    /// ```no_run
    /// use skiff_guest::OrFail;
    ///
    /// skiff_guest::output::param("sum", 42).or_fail();
    /// ```
    pub fn param(name: &str, value: impl Display) -> Result<(), Error> {
        let path = param_path(name);
        let write = |path: &PathBuf| {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(path, value.to_string())
        };
        write(&path).map_err(|source| Error::Io { path, source })
    }

    /// Where to write the output artifact `name`: `/tmp/outputs/artifacts/<name>`. The
    /// directory is created, so the path can be written at once (as a file, or created as a
    /// directory).
    ///
    /// ```no_run
    /// let path = skiff_guest::output::artifact_path("model.bin");
    /// std::fs::write(&path, b"weights").unwrap();
    /// ```
    pub fn artifact_path(name: &str) -> PathBuf {
        let dir = PathBuf::from("/tmp/outputs/artifacts");
        // Best effort: if this fails, writing the artifact fails too, with a clearer error.
        let _ = std::fs::create_dir_all(&dir);
        dir.join(name)
    }
}

/// Prints the step's result to stdout; skiff makes it `outputs.result` (one trailing newline
/// trimmed). Call it once.
///
/// ```no_run
/// skiff_guest::result(1 + 2);
/// ```
pub fn result(value: impl fmt::Display) {
    println!("{value}");
}

/// Ends the step as failed: prints `msg` to stderr and exits with code 1.
///
/// ```no_run
/// let rows = 0;
/// if rows == 0 {
///     skiff_guest::fail("the input table is empty");
/// }
/// ```
pub fn fail(msg: impl fmt::Display) -> ! {
    eprintln!("{msg}");
    std::process::exit(1)
}

/// `.or_fail()`: the value, or [`fail`] with the error's message.
///
/// ```no_run
/// use skiff_guest::OrFail;
///
/// let n: u64 = skiff_guest::input::param_as("n").or_fail();
/// ```
pub trait OrFail<T> {
    /// Unwraps, or ends the step with the error's message on stderr and exit code 1.
    fn or_fail(self) -> T;
}

impl<T, E: fmt::Display> OrFail<T> for Result<T, E> {
    fn or_fail(self) -> T {
        self.unwrap_or_else(|err| fail(err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_values_say_what_was_expected() {
        let err = Error::InvalidParam {
            name: "a".into(),
            value: "x".into(),
            expected: expected_phrase(std::any::type_name::<i64>()),
            reason: "invalid digit found in string".into(),
        };
        assert_eq!(
            err.to_string(),
            "input parameter `a` must be an integer, got \"x\" (invalid digit found in string)"
        );
        assert_eq!(expected_phrase("alloc::string::String"), "a valid String");
        assert_eq!(expected_phrase("f64"), "a number");
    }

    #[test]
    fn env_var_names_are_upper_case_with_underscores() {
        assert_eq!(input::env_var("x.y z-1"), "SKIFF_INPUT_X_Y_Z_1");
    }
}
