//! Write skiff components: small programs that run as workflow steps in skiff's wasm sandbox.
//!
//! A component is an ordinary Rust program (`fn main`) built for `wasm32-wasip1`. This crate is the
//! few conventions between such a program and the workflow that runs it: where its input
//! parameters come from, where its outputs go, and how it reports a result or a failure. It has no
//! dependencies and nothing in it is wasm-specific, so a component also builds and runs natively
//! (handy in unit tests).
//!
//! # Walk-through
//!
//! A component that adds two numbers:
//!
//! ```no_run
//! use skiff_guest::{input, output, OrFail};
//!
//! fn main() {
//!     let a: i64 = input::param_as("a").or_fail();
//!     let b: i64 = input::param_as("b").or_fail();
//!     let sum = a + b;
//!     output::param("sum", sum).or_fail(); // outputs.parameters.sum
//!     skiff_guest::result(sum); // outputs.result
//! }
//! ```
//!
//! Build it with `cargo build --target wasm32-wasip1 --release` and point a `wasm:` template at
//! the `.wasm` file:
//!
//! ```yaml
//! - name: add
//!   inputs: {parameters: [{name: a}, {name: b}]}
//!   wasm:
//!     module: ../target/wasm32-wasip1/release/skiff_example_add.wasm
//!   outputs:
//!     parameters:
//!       - name: sum
//!         valueFrom: {path: /tmp/outputs/parameters/sum}
//! ```
//!
//! # The conventions
//!
//! | what | where | in this crate |
//! |---|---|---|
//! | input parameter `name` | env `SKIFF_INPUT_<NAME>`, else the argument `--name=value` | [`input::param`] and friends |
//! | input artifact `name` | file `/tmp/inputs/artifacts/<name>` | [`input::artifact_path`] |
//! | output parameter `name` | file `/tmp/outputs/parameters/<name>` | [`output::param`] |
//! | output artifact `name` | file (or directory) `/tmp/outputs/artifacts/<name>` | [`output::artifact_path`] |
//! | the step's result | stdout, one trailing newline trimmed | [`result`] |
//! | failure | a message on stderr, exit code 1 | [`fail`], [`OrFail`] |
//!
//! **Inputs.** For each input parameter of a `wasm:` template, skiff sets the environment
//! variable `SKIFF_INPUT_<NAME>`, where `<NAME>` is the parameter's name in upper case with every
//! character that is not an ASCII letter or digit replaced by `_` (`learning-rate` →
//! `SKIFF_INPUT_LEARNING_RATE`; see [`input::env_var`]). A template's `args` are free-form, so
//! they are not the channel skiff fills; but a component run by hand, or a template that passes
//! `args: ["--a={{inputs.parameters.a}}"]`, works too: when the variable is not set, the first
//! argument of the form `--name=value` is used. Names that differ only in case or punctuation map
//! to the same variable; avoid them.
//!
//! **Outputs.** The sandbox's `/` is the step's own directory, so the paths above are private to
//! the step. skiff reads output parameters from the `valueFrom.path` the workflow declares; the
//! convention is `/tmp/outputs/parameters/<name>`, which [`output::param`] writes (creating the
//! directories). The same goes for artifacts under `/tmp/outputs/artifacts/` and, read-only by
//! convention, `/tmp/inputs/artifacts/`, where skiff places input artifacts declared with that
//! `path`.

use std::fmt;
use std::path::PathBuf;

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
        /// The type it should have been, e.g. `i64`.
        expected: &'static str,
        /// The parser's complaint.
        reason: String,
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
                "input parameter `{name}` must be {}, got {value:?} ({reason})",
                describe(expected)
            ),
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
fn describe(type_name: &str) -> String {
    let short = type_name.rsplit("::").next().unwrap_or(type_name);
    match short {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "an integer".to_owned(),
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a non-negative integer".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        "bool" => "true or false".to_owned(),
        other => format!("a valid {other}"),
    }
}

/// Reading what the workflow passes in.
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
                expected: std::any::type_name::<T>(),
                reason: err.to_string(),
                value,
            })
    }
}

/// Writing what the workflow reads back.
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
            expected: std::any::type_name::<i64>(),
            reason: "invalid digit found in string".into(),
        };
        assert_eq!(
            err.to_string(),
            "input parameter `a` must be an integer, got \"x\" (invalid digit found in string)"
        );
        assert_eq!(describe("alloc::string::String"), "a valid String");
        assert_eq!(describe("f64"), "a number");
    }

    #[test]
    fn env_var_names_are_upper_case_with_underscores() {
        assert_eq!(input::env_var("x.y z-1"), "SKIFF_INPUT_X_Y_Z_1");
    }
}
