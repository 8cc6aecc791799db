//! The types a `#[component]` function takes and returns, and the traits that connect them to the
//! step's inputs and outputs.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::describe::{
    INPUT_ARTIFACTS, KIND_ARTIFACT, KIND_METRICS, KIND_OUTPUT_ARTIFACT, KIND_PARAMETER,
    OUTPUT_ARTIFACTS, OUTPUT_METRICS,
};
use crate::{Error, input, output};

/// An error any function can return: a component that returns `Result<T, BoxError>` can use `?`
/// on every error type, and a failure ends the step with the error's message.
///
/// ```
/// fn parse(text: String) -> Result<i64, skiff_guest::BoxError> {
///     Ok(text.trim().parse::<i64>()?)
/// }
/// assert_eq!(parse(" 7 ".into()).unwrap(), 7);
/// assert_eq!(parse("x".into()).unwrap_err().to_string(), "invalid digit found in string");
/// ```
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A value an input parameter can be parsed into: integers, floats, `bool`, `String`,
/// [`Json<T>`] and [`serde_json::Value`].
///
/// ```
/// use skiff_guest::FromParam;
///
/// assert_eq!(i64::from_param(" 42\n"), Ok(42));
/// assert_eq!(bool::from_param("True"), Ok(true));
/// assert_eq!(<String as FromParam>::TYPE, "string");
/// assert!(u8::from_param("300").is_err());
/// ```
pub trait FromParam: Sized {
    /// The parameter's type in the component's description: `integer`, `number`, `boolean`,
    /// `string` or `json`.
    const TYPE: &'static str;
    /// What a valid value is, for error messages: "an integer", "true or false"...
    const EXPECTED: &'static str;

    /// Parses the parameter's text.
    ///
    /// # Errors
    ///
    /// Why the text is not a valid value.
    fn from_param(text: &str) -> Result<Self, String>;
}

/// A value a component can output as a parameter: integers, floats, `bool`, `String`,
/// [`Json<T>`] and [`serde_json::Value`].
///
/// ```
/// use skiff_guest::{Json, ToParam};
///
/// assert_eq!(2.5f64.to_param().unwrap(), "2.5");
/// assert_eq!(Json(vec![1, 2]).to_param().unwrap(), "[1,2]");
/// assert_eq!(<bool as ToParam>::TYPE, "boolean");
/// ```
pub trait ToParam {
    /// The output's type in the component's description (as in [`FromParam::TYPE`]).
    const TYPE: &'static str;

    /// The parameter's text.
    ///
    /// # Errors
    ///
    /// [`Error::Failed`] when the value cannot be written as text (a JSON value that does not
    /// serialize).
    fn to_param(&self) -> Result<String, Error>;
}

/// One argument of a `#[component]` function: how it is read from the step, and how it is
/// described. Implemented for every [`FromParam`] type, `Option` of one (an optional parameter:
/// absent or empty is `None`), [`InputArtifact`] and `Option<InputArtifact>` (an optional
/// artifact), [`OutputArtifact`] and [`Metrics`].
///
/// ```
/// use skiff_guest::Input;
///
/// assert_eq!(<Option<u32> as Input>::REQUIRED, false);
/// assert_eq!(<Option<u32> as Input>::read("skiff-doc-absent").unwrap(), None);
/// assert_eq!(<skiff_guest::InputArtifact as Input>::KIND, "artifact");
/// ```
pub trait Input: Sized {
    /// `parameter`, `artifact` (an input artifact), `output-artifact` or `metrics`.
    const KIND: &'static str;
    /// The parameter's type ([`FromParam::TYPE`]), or the kind for the others.
    const TYPE: &'static str;
    /// Whether the step must be given this input.
    const REQUIRED: bool;

    /// Reads the input named `name` from the step.
    ///
    /// # Errors
    ///
    /// A missing required input, a value that does not parse, an artifact that is not there.
    fn read(name: &str) -> Result<Self, Error>;
}

/// What a `#[component]` function returns. A single value (any [`ToParam`] type) is one output
/// named by `#[component(output = "...")]` (default `output`), written to
/// `/tmp/outputs/parameters/<name>` and printed as the step's result; a struct with
/// `#[derive(Outputs)]` is one output parameter per field; `()` is none; `Result<T, E>` is `T`'s,
/// and an `Err` fails the step with its message.
///
/// ```
/// use skiff_guest::Outputs;
///
/// #[derive(Outputs)]
/// struct Stats {
///     mean: f64,
///     rows: u64,
/// }
/// let names: Vec<_> = Stats::FIELDS.iter().map(|f| (f.name, f.ty)).collect();
/// assert_eq!(names, [("mean", "number"), ("rows", "integer")]);
/// assert_eq!(<Result<Stats, String> as Outputs>::FIELDS.len(), 2);
/// assert_eq!(<i64 as Outputs>::FIELDS[0].name, ""); // a single value, named by the component
/// ```
pub trait Outputs {
    /// The outputs, in order; a single value has one field with an empty name.
    const FIELDS: &'static [OutputField];

    /// Writes the outputs; `single` names a single value.
    ///
    /// # Errors
    ///
    /// A file that cannot be written, or the function's own error.
    fn write(self, single: &str) -> Result<(), Error>;
}

/// One output parameter of [`Outputs`]: its name (empty for a single value) and type.
///
/// ```
/// let field = skiff_guest::OutputField { name: "mean", ty: "number" };
/// assert_eq!(field.ty, "number");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputField {
    /// The output parameter's name; empty for a single returned value.
    pub name: &'static str,
    /// Its type ([`ToParam::TYPE`]).
    pub ty: &'static str,
}

macro_rules! scalar {
    ($type_name:literal, $expected:literal, $($t:ty),+) => {$(
        impl FromParam for $t {
            const TYPE: &'static str = $type_name;
            const EXPECTED: &'static str = $expected;

            fn from_param(text: &str) -> Result<Self, String> {
                text.trim().parse().map_err(|err| format!("{err}"))
            }
        }
        impl ToParam for $t {
            const TYPE: &'static str = $type_name;

            fn to_param(&self) -> Result<String, Error> {
                Ok(self.to_string())
            }
        }
        parameter_input!($t);
        single_output!($t);
    )+};
}

macro_rules! parameter_input {
    ($t:ty) => {
        impl Input for $t {
            const KIND: &'static str = KIND_PARAMETER;
            const TYPE: &'static str = <$t as FromParam>::TYPE;
            const REQUIRED: bool = true;

            fn read(name: &str) -> Result<Self, Error> {
                let text = input::param(name).ok_or_else(|| Error::MissingParam {
                    name: name.to_owned(),
                })?;
                parse_param(name, text)
            }
        }
    };
}

macro_rules! single_output {
    ($t:ty) => {
        impl Outputs for $t {
            const FIELDS: &'static [OutputField] = &[OutputField {
                name: "",
                ty: <$t as ToParam>::TYPE,
            }];

            fn write(self, single: &str) -> Result<(), Error> {
                write_single(single, &self)
            }
        }
    };
}

scalar!("integer", "an integer", i8, i16, i32, i64, i128, isize);
scalar!(
    "integer",
    "a non-negative integer",
    u8,
    u16,
    u32,
    u64,
    u128,
    usize
);
scalar!("number", "a number", f32, f64);

impl FromParam for bool {
    const TYPE: &'static str = "boolean";
    const EXPECTED: &'static str = "true or false";

    fn from_param(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("true") {
            Ok(true)
        } else if text.eq_ignore_ascii_case("false") {
            Ok(false)
        } else {
            Err("expected true or false".to_owned())
        }
    }
}
impl ToParam for bool {
    const TYPE: &'static str = "boolean";

    fn to_param(&self) -> Result<String, Error> {
        Ok(self.to_string())
    }
}
parameter_input!(bool);
single_output!(bool);

impl FromParam for String {
    const TYPE: &'static str = "string";
    const EXPECTED: &'static str = "a string";

    fn from_param(text: &str) -> Result<Self, String> {
        Ok(text.to_owned())
    }
}
impl ToParam for String {
    const TYPE: &'static str = "string";

    fn to_param(&self) -> Result<String, Error> {
        Ok(self.clone())
    }
}
parameter_input!(String);
single_output!(String);

impl FromParam for serde_json::Value {
    const TYPE: &'static str = "json";
    const EXPECTED: &'static str = "JSON";

    fn from_param(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|err| err.to_string())
    }
}
impl ToParam for serde_json::Value {
    const TYPE: &'static str = "json";

    fn to_param(&self) -> Result<String, Error> {
        Ok(self.to_string())
    }
}
parameter_input!(serde_json::Value);
single_output!(serde_json::Value);

/// A value passed as JSON text: any type serde can read (as an input) or write (as an output).
///
/// ```
/// use skiff_guest::{FromParam, Json};
///
/// #[derive(serde::Deserialize)]
/// struct Window {
///     start: u32,
///     end: u32,
/// }
/// let Json(w) = Json::<Window>::from_param(r#"{"start": 2, "end": 5}"#).unwrap();
/// assert_eq!(w.end - w.start, 3);
/// let Json(list) = Json::<Vec<String>>::from_param(r#"["a","b"]"#).unwrap();
/// assert_eq!(list, ["a", "b"]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned> FromParam for Json<T> {
    const TYPE: &'static str = "json";
    const EXPECTED: &'static str = "JSON";

    fn from_param(text: &str) -> Result<Self, String> {
        serde_json::from_str(text)
            .map(Json)
            .map_err(|err| err.to_string())
    }
}

impl<T: Serialize> ToParam for Json<T> {
    const TYPE: &'static str = "json";

    fn to_param(&self) -> Result<String, Error> {
        serde_json::to_string(&self.0).map_err(|err| Error::Failed {
            message: format!("the output cannot be written as JSON: {err}"),
        })
    }
}

impl<T: DeserializeOwned> Input for Json<T> {
    const KIND: &'static str = KIND_PARAMETER;
    const TYPE: &'static str = "json";
    const REQUIRED: bool = true;

    fn read(name: &str) -> Result<Self, Error> {
        let text = input::param(name).ok_or_else(|| Error::MissingParam {
            name: name.to_owned(),
        })?;
        parse_param(name, text)
    }
}

impl<T: Serialize> Outputs for Json<T> {
    const FIELDS: &'static [OutputField] = &[OutputField {
        name: "",
        ty: "json",
    }];

    fn write(self, single: &str) -> Result<(), Error> {
        write_single(single, &self)
    }
}

impl<T: FromParam> Input for Option<T> {
    const KIND: &'static str = KIND_PARAMETER;
    const TYPE: &'static str = T::TYPE;
    const REQUIRED: bool = false;

    fn read(name: &str) -> Result<Self, Error> {
        match input::param(name) {
            Some(text) if !text.is_empty() => parse_param(name, text).map(Some),
            _ => Ok(None),
        }
    }
}

impl Outputs for () {
    const FIELDS: &'static [OutputField] = &[];

    fn write(self, _single: &str) -> Result<(), Error> {
        Ok(())
    }
}

impl<T: Outputs, E: fmt::Display> Outputs for Result<T, E> {
    const FIELDS: &'static [OutputField] = T::FIELDS;

    fn write(self, single: &str) -> Result<(), Error> {
        match self {
            Ok(value) => value.write(single),
            Err(err) => Err(Error::Failed {
                message: err.to_string(),
            }),
        }
    }
}

fn parse_param<T: FromParam>(name: &str, text: String) -> Result<T, Error> {
    T::from_param(&text).map_err(|reason| Error::InvalidParam {
        name: name.to_owned(),
        expected: T::EXPECTED.to_owned(),
        reason,
        value: text,
    })
}

/// Writes a single returned value as the output parameter `name` and prints it as the result.
fn write_single(name: &str, value: &impl ToParam) -> Result<(), Error> {
    let text = value.to_param()?;
    output::param(name, &text)?;
    crate::result(text);
    Ok(())
}

/// An input artifact: the file (or directory) skiff placed at `/tmp/inputs/artifacts/<name>`.
///
/// ```no_run
/// #[skiff_guest::component]
/// fn lines(text: skiff_guest::InputArtifact) -> Result<usize, skiff_guest::BoxError> {
///     Ok(text.read_to_string()?.lines().count())
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputArtifact {
    path: PathBuf,
}

impl InputArtifact {
    /// The artifact at `path` (for calling a component function in a test).
    ///
    /// ```
    /// let artifact = skiff_guest::InputArtifact::at("tests/data.csv");
    /// assert_eq!(artifact.path(), std::path::Path::new("tests/data.csv"));
    /// ```
    pub fn at(path: impl Into<PathBuf>) -> Self {
        InputArtifact { path: path.into() }
    }

    /// Where the artifact is.
    ///
    /// ```
    /// let artifact = skiff_guest::InputArtifact::at("/tmp/inputs/artifacts/table");
    /// assert!(artifact.path().ends_with("table"));
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The artifact's bytes.
    ///
    /// # Errors
    ///
    /// The file cannot be read; the message names it.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join("skiff-guest-doc-read");
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("a"), b"\x01\x02").unwrap();
    /// assert_eq!(skiff_guest::InputArtifact::at(dir.join("a")).read().unwrap(), [1, 2]);
    /// ```
    pub fn read(&self) -> std::io::Result<Vec<u8>> {
        std::fs::read(&self.path).map_err(|err| with_path(&self.path, err))
    }

    /// The artifact's text.
    ///
    /// # Errors
    ///
    /// The file cannot be read or is not UTF-8; the message names it.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join("skiff-guest-doc-read-text");
    /// std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("a.txt"), "hello").unwrap();
    /// let text = skiff_guest::InputArtifact::at(dir.join("a.txt")).read_to_string().unwrap();
    /// assert_eq!(text, "hello");
    /// ```
    pub fn read_to_string(&self) -> std::io::Result<String> {
        std::fs::read_to_string(&self.path).map_err(|err| with_path(&self.path, err))
    }

    /// Opens the artifact for reading (for large files: read it in pieces).
    ///
    /// # Errors
    ///
    /// The file cannot be opened; the message names it.
    ///
    /// ```
    /// use std::io::{BufRead, BufReader};
    ///
    /// let path = std::env::temp_dir().join("skiff-guest-doc-open.txt");
    /// std::fs::write(&path, "a\nb\n").unwrap();
    /// let file = skiff_guest::InputArtifact::at(&path).open().unwrap();
    /// assert_eq!(BufReader::new(file).lines().count(), 2);
    /// ```
    pub fn open(&self) -> std::io::Result<std::fs::File> {
        std::fs::File::open(&self.path).map_err(|err| with_path(&self.path, err))
    }
}

impl Input for InputArtifact {
    const KIND: &'static str = KIND_ARTIFACT;
    const TYPE: &'static str = "artifact";
    const REQUIRED: bool = true;

    fn read(name: &str) -> Result<Self, Error> {
        let path = PathBuf::from(format!("{INPUT_ARTIFACTS}{name}"));
        if path.exists() {
            Ok(InputArtifact { path })
        } else {
            Err(Error::MissingArtifact {
                name: name.to_owned(),
                path,
            })
        }
    }
}

/// An optional input artifact (a template declares it with `optional: true`): `None` when the
/// step was given none.
///
/// ```
/// use skiff_guest::{Input, InputArtifact};
///
/// assert_eq!(<Option<InputArtifact> as Input>::REQUIRED, false);
/// assert_eq!(<Option<InputArtifact> as Input>::read("skiff-doc-not-given").unwrap(), None);
/// ```
impl Input for Option<InputArtifact> {
    const KIND: &'static str = KIND_ARTIFACT;
    const TYPE: &'static str = "artifact";
    const REQUIRED: bool = false;

    fn read(name: &str) -> Result<Self, Error> {
        match <InputArtifact as Input>::read(name) {
            Ok(artifact) => Ok(Some(artifact)),
            Err(Error::MissingArtifact { .. }) => Ok(None),
            Err(err) => Err(err),
        }
    }
}

/// An output artifact: where the component writes the file (or directory) skiff collects from
/// `/tmp/outputs/artifacts/<name>`. Its directory exists when the function is called.
///
/// ```no_run
/// #[skiff_guest::component]
/// fn shout(text: String, loud: skiff_guest::OutputArtifact) -> Result<(), skiff_guest::BoxError> {
///     loud.write(text.to_uppercase())?;
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputArtifact {
    path: PathBuf,
}

impl OutputArtifact {
    /// The artifact at `path` (for calling a component function in a test).
    ///
    /// ```
    /// let out = skiff_guest::OutputArtifact::at(std::env::temp_dir().join("report.txt"));
    /// assert!(out.path().ends_with("report.txt"));
    /// ```
    pub fn at(path: impl Into<PathBuf>) -> Self {
        OutputArtifact { path: path.into() }
    }

    /// Where to write the artifact.
    ///
    /// ```
    /// let out = skiff_guest::OutputArtifact::at("/tmp/outputs/artifacts/report");
    /// assert_eq!(out.path(), std::path::Path::new("/tmp/outputs/artifacts/report"));
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the whole artifact.
    ///
    /// # Errors
    ///
    /// The file cannot be written; the message names it.
    ///
    /// ```
    /// let path = std::env::temp_dir().join("skiff-guest-doc-write.txt");
    /// skiff_guest::OutputArtifact::at(&path).write("done").unwrap();
    /// assert_eq!(std::fs::read_to_string(&path).unwrap(), "done");
    /// ```
    pub fn write(&self, contents: impl AsRef<[u8]>) -> std::io::Result<()> {
        std::fs::write(&self.path, contents).map_err(|err| with_path(&self.path, err))
    }

    /// Creates the artifact's file for writing (for large outputs: write it in pieces).
    ///
    /// # Errors
    ///
    /// The file cannot be created; the message names it.
    ///
    /// ```
    /// use std::io::Write;
    ///
    /// let path = std::env::temp_dir().join("skiff-guest-doc-create.txt");
    /// let mut file = skiff_guest::OutputArtifact::at(&path).create().unwrap();
    /// writeln!(file, "row 1").unwrap();
    /// ```
    pub fn create(&self) -> std::io::Result<std::fs::File> {
        std::fs::File::create(&self.path).map_err(|err| with_path(&self.path, err))
    }
}

impl Input for OutputArtifact {
    const KIND: &'static str = KIND_OUTPUT_ARTIFACT;
    const TYPE: &'static str = "artifact";
    const REQUIRED: bool = true;

    fn read(name: &str) -> Result<Self, Error> {
        let path = PathBuf::from(format!("{OUTPUT_ARTIFACTS}{name}"));
        create_parent(&path)?;
        Ok(OutputArtifact { path })
    }
}

/// The step's metrics: numbers by name, written as a JSON object to
/// `/tmp/outputs/metrics/<name>.json` each time one is logged. skiff keeps them with the run and
/// prints them after it (the template reads them as the output parameter `skiff-metrics-<name>`).
///
/// ```no_run
/// #[skiff_guest::component]
/// fn train(epochs: u32, mut metrics: skiff_guest::Metrics) -> Result<(), skiff_guest::Error> {
///     metrics.log("epochs", f64::from(epochs))?;
///     metrics.log("accuracy", 0.93)
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    path: PathBuf,
    values: BTreeMap<String, f64>,
}

impl Metrics {
    /// Metrics written to `path` (for calling a component function in a test).
    ///
    /// ```
    /// let metrics = skiff_guest::Metrics::at(std::env::temp_dir().join("metrics.json"));
    /// assert!(metrics.values().is_empty());
    /// ```
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Metrics {
            path: path.into(),
            values: BTreeMap::new(),
        }
    }

    /// Records `value` as metric `name` (a second value for the same name replaces the first)
    /// and rewrites the file.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidMetric`] for NaN or an infinity (JSON has no such numbers); [`Error::Io`]
    /// when the file cannot be written.
    ///
    /// ```
    /// let path = std::env::temp_dir().join("skiff-guest-doc-metrics.json");
    /// let mut metrics = skiff_guest::Metrics::at(&path);
    /// metrics.log("rows", 12.0).unwrap();
    /// metrics.log("mean", 2.5).unwrap();
    /// assert_eq!(std::fs::read_to_string(&path).unwrap(), r#"{"mean":2.5,"rows":12}"#);
    /// assert!(metrics.log("bad", f64::NAN).is_err());
    /// ```
    pub fn log(&mut self, name: &str, value: f64) -> Result<(), Error> {
        if !value.is_finite() {
            return Err(Error::InvalidMetric {
                name: name.to_owned(),
                value,
            });
        }
        self.values.insert(name.to_owned(), value);
        let mut object = serde_json::Map::new();
        for (name, &value) in &self.values {
            let number = if value.fract() == 0.0 && value.abs() < 1e15 {
                serde_json::Number::from(value as i64)
            } else {
                // Finite, checked above.
                serde_json::Number::from_f64(value).unwrap_or_else(|| 0.into())
            };
            object.insert(name.clone(), serde_json::Value::Number(number));
        }
        let text = serde_json::Value::Object(object).to_string();
        std::fs::write(&self.path, text).map_err(|source| Error::Io {
            path: self.path.clone(),
            source,
        })
    }

    /// The metrics logged so far.
    ///
    /// ```
    /// let mut metrics = skiff_guest::Metrics::at(std::env::temp_dir().join("skiff-guest-doc-m.json"));
    /// metrics.log("loss", 0.25).unwrap();
    /// assert_eq!(metrics.values()["loss"], 0.25);
    /// ```
    pub fn values(&self) -> &BTreeMap<String, f64> {
        &self.values
    }
}

impl Input for Metrics {
    const KIND: &'static str = KIND_METRICS;
    const TYPE: &'static str = "metrics";
    const REQUIRED: bool = true;

    fn read(name: &str) -> Result<Self, Error> {
        let path = PathBuf::from(format!("{OUTPUT_METRICS}{name}.json"));
        create_parent(&path)?;
        std::fs::write(&path, "{}").map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        Ok(Metrics::at(path))
    }
}

fn create_parent(path: &Path) -> Result<(), Error> {
    match path.parent() {
        Some(dir) => std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_owned(),
            source,
        }),
        None => Ok(()),
    }
}

fn with_path(path: &Path, err: std::io::Error) -> std::io::Error {
    std::io::Error::new(err.kind(), format!("{}: {err}", path.display()))
}
