//! Typed components: wasm modules that describe themselves.
//!
//! A function annotated `#[skiff_guest::component]` compiles to a `wasm32-wasip1` module that carries a
//! description of its inputs and outputs in a wasm custom section named [`SECTION`]: one UTF-8 JSON object
//! ([`Description`]). This module owns reading that section and everything skiff does with it:
//! - [`read`] / [`parse`]: the section of a module file, typed ([`Description`]); only the module's
//!   section headers are read, the module is not validated;
//! - [`describe`]: the description as text (`skiff component describe`);
//! - [`template`]: an Argo template that runs the module (`skiff component template`);
//! - [`check()`]: a workflow's `wasm:` templates checked against the components they run (`skiff lint`,
//!   `skiff submit` and the server run it after validation);
//! - [`scaffold`]: a new component crate (`skiff component new`);
//! - [`cargo`]: building a component crate and finding the modules it made (`skiff component build`).
//!
//! It does not run modules (the executor does) and does not write descriptions (the guest SDK's macro
//! does). The format is documented in `docs/components.md`.
//!
//! # The section
//! ```json
//! {"skiff": 1, "name": "add", "description": "Adds.", "sdk": "0.1.0",
//!  "inputs": [{"name": "a", "kind": "parameter", "type": "integer", "required": true, "env": "SKIFF_INPUT_A"}],
//!  "outputs": [{"name": "sum", "kind": "parameter", "type": "integer", "path": "/tmp/outputs/parameters/sum"}],
//!  "result": "sum"}
//! ```
//! `skiff` is the format version: a reader refuses a higher one ([`ComponentError::NewerFormat`]) and
//! ignores fields it does not know.

pub mod cargo;
pub mod check;
pub mod scaffold;
pub mod sdk;
mod text;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use check::check;
pub use text::{describe, summary, template};

/// The name of the custom section a component's description is in.
pub const SECTION: &str = "skiff.component";

/// The newest format version (the `skiff` field) this skiff reads.
pub const FORMAT_VERSION: u64 = 1;

/// Where output parameters are written by convention; an output parameter read from under here must be
/// one the component writes ([`check()`]).
pub const OUTPUT_PARAMETERS_DIR: &str = "/tmp/outputs/parameters/";

/// A component's description: what the `skiff.component` section holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Description {
    /// The format version.
    pub skiff: u64,
    /// The component's name (by default the function's, with `_` as `-`).
    pub name: String,
    /// What it does: the function's doc comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The version of the `skiff-guest` SDK that built it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdk: Option<String>,
    /// The inputs, in the function's argument order.
    #[serde(default)]
    pub inputs: Vec<Input>,
    /// The outputs.
    #[serde(default)]
    pub outputs: Vec<Output>,
    /// The output whose value the module also prints to stdout (the step's `outputs.result`), if any.
    #[serde(default)]
    pub result: Option<String>,
}

impl Description {
    /// The input parameters.
    pub fn parameters(&self) -> impl Iterator<Item = &Input> {
        self.inputs.iter().filter(|i| i.kind == Kind::Parameter)
    }

    /// The input artifacts.
    pub fn artifacts(&self) -> impl Iterator<Item = &Input> {
        self.inputs.iter().filter(|i| i.kind == Kind::Artifact)
    }

    /// The input named `name`.
    pub fn input(&self, name: &str) -> Option<&Input> {
        self.inputs.iter().find(|i| i.name == name)
    }
}

/// One input of a component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    /// Its name: the template's input parameter or artifact of that name feeds it.
    pub name: String,
    /// A parameter or an artifact.
    pub kind: Kind,
    /// The value's type.
    #[serde(rename = "type")]
    pub type_: ValueType,
    /// Whether it must be given; an optional input is an `Option<T>`: absent or empty is `None`.
    #[serde(default = "required_default")]
    pub required: bool,
    /// A parameter: the environment variable it is read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// An artifact: where the module reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

fn required_default() -> bool {
    true
}

/// One output of a component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Output {
    /// Its name.
    pub name: String,
    /// A parameter, an artifact or metrics.
    pub kind: Kind,
    /// The value's type.
    #[serde(rename = "type")]
    pub type_: ValueType,
    /// Where the module writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// What an input or output is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Kind {
    /// A parameter: a string value (an environment variable in, a file out).
    Parameter,
    /// An artifact: a file or directory.
    Artifact,
    /// Metrics: a flat JSON object of name → number, written to a file.
    Metrics,
    /// A kind this skiff does not know (from a newer SDK), kept as written.
    Other(String),
}

/// The type of an input's or output's value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum ValueType {
    /// A whole number (`-3`, `42`).
    Integer,
    /// A number (`0.5`, `1e-3`, `7`).
    Number,
    /// `true` or `false`.
    Boolean,
    /// Any text.
    String,
    /// JSON text.
    Json,
    /// An artifact.
    Artifact,
    /// Metrics.
    Metrics,
    /// A type this skiff does not know (from a newer SDK), kept as written.
    Other(String),
}

impl Kind {
    /// The name, as the section spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Kind::Parameter => "parameter",
            Kind::Artifact => "artifact",
            Kind::Metrics => "metrics",
            Kind::Other(s) => s,
        }
    }
}

impl From<String> for Kind {
    fn from(s: String) -> Self {
        match s.as_str() {
            "parameter" => Kind::Parameter,
            "artifact" => Kind::Artifact,
            "metrics" => Kind::Metrics,
            _ => Kind::Other(s),
        }
    }
}

impl From<Kind> for String {
    fn from(k: Kind) -> Self {
        k.as_str().to_string()
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ValueType {
    /// The name, as the section spells it.
    pub fn as_str(&self) -> &str {
        match self {
            ValueType::Integer => "integer",
            ValueType::Number => "number",
            ValueType::Boolean => "boolean",
            ValueType::String => "string",
            ValueType::Json => "json",
            ValueType::Artifact => "artifact",
            ValueType::Metrics => "metrics",
            ValueType::Other(s) => s,
        }
    }

    /// Whether `value` reads as this type: the check a literal parameter value gets before a run. Types that
    /// take any text (string, artifact, unknown types) accept everything.
    ///
    /// # Errors
    /// What is wrong with the value, in a few words.
    pub fn accepts(&self, value: &str) -> Result<(), String> {
        let v = value.trim();
        match self {
            ValueType::Integer => v
                .parse::<i128>()
                .map(drop)
                .map_err(|_| "not a whole number".to_string()),
            ValueType::Number => match v.parse::<f64>() {
                Ok(n) if n.is_finite() => Ok(()),
                _ => Err("not a number".to_string()),
            },
            ValueType::Boolean => match v {
                "true" | "false" => Ok(()),
                _ => Err("not `true` or `false`".to_string()),
            },
            ValueType::Json => serde_json::from_str::<serde_json::Value>(v)
                .map(drop)
                .map_err(|e| format!("not JSON ({e})")),
            ValueType::String | ValueType::Artifact | ValueType::Metrics | ValueType::Other(_) => {
                Ok(())
            }
        }
    }
}

impl From<String> for ValueType {
    fn from(s: String) -> Self {
        match s.as_str() {
            "integer" => ValueType::Integer,
            "number" => ValueType::Number,
            "boolean" => ValueType::Boolean,
            "string" => ValueType::String,
            "json" => ValueType::Json,
            "artifact" => ValueType::Artifact,
            "metrics" => ValueType::Metrics,
            _ => ValueType::Other(s),
        }
    }
}

impl From<ValueType> for String {
    fn from(t: ValueType) -> Self {
        t.as_str().to_string()
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a module's description cannot be read.
#[derive(Debug, Error)]
pub enum ComponentError {
    /// The file cannot be read.
    #[error("{}: cannot read the module: {source}", path.display())]
    Read {
        /// The module file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a wasm module (or is damaged).
    #[error(
        "{}: not a wasm module: {source}\n  help: point at the .wasm file a build made, e.g. \
         target/wasm32-wasip1/release/NAME.wasm (`skiff component build` prints its path)",
        path.display()
    )]
    NotWasm {
        /// The module file.
        path: PathBuf,
        /// What the parser found.
        #[source]
        source: wasmparser::BinaryReaderError,
    },
    /// The module has no `skiff.component` section.
    #[error(
        "{}: the module has no `{SECTION}` section: it was built without #[skiff_guest::component]\n  \
         help: annotate the component's function with #[skiff_guest::component] and build it again; a \
         module with its own `fn main` still runs in a `wasm:` template, but skiff cannot describe or check it",
        path.display()
    )]
    NoDescription {
        /// The module file.
        path: PathBuf,
    },
    /// The description is in a format newer than this skiff reads.
    #[error(
        "{}: the module's description is format version {found}; this skiff reads version \
         {FORMAT_VERSION} and older\n  help: upgrade skiff (skiff {} is running), or build the component \
         with a skiff-guest as old as this skiff",
        path.display(),
        env!("CARGO_PKG_VERSION")
    )]
    NewerFormat {
        /// The module file.
        path: PathBuf,
        /// The version the module has.
        found: u64,
    },
    /// The section is not a description.
    #[error(
        "{}: the module's `{SECTION}` section is not a valid description: {message}\n  help: build the \
         component again with a released skiff-guest; the section is written by #[skiff_guest::component] \
         and is not meant to be edited",
        path.display()
    )]
    BadDescription {
        /// The module file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Reads the description of the module file at `path`.
///
/// # Errors
/// [`ComponentError::Read`] when the file cannot be read, and the errors of [`parse`].
pub fn read(path: &Path) -> Result<Description, ComponentError> {
    let bytes = std::fs::read(path).map_err(|source| ComponentError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&bytes, path)
}

/// Reads the description in a module's bytes; `path` names the module in errors.
///
/// # Errors
/// [`ComponentError::NotWasm`], [`ComponentError::NoDescription`], [`ComponentError::NewerFormat`],
/// [`ComponentError::BadDescription`].
pub fn parse(bytes: &[u8], path: &Path) -> Result<Description, ComponentError> {
    let section = section(bytes).map_err(|source| ComponentError::NotWasm {
        path: path.to_path_buf(),
        source,
    })?;
    let Some(section) = section else {
        return Err(ComponentError::NoDescription {
            path: path.to_path_buf(),
        });
    };
    from_json(section, path)
}

/// Reads a description from the section's JSON; `path` names the module in errors.
///
/// # Errors
/// [`ComponentError::NewerFormat`] and [`ComponentError::BadDescription`].
pub fn from_json(json: &[u8], path: &Path) -> Result<Description, ComponentError> {
    let bad = |message: String| ComponentError::BadDescription {
        path: path.to_path_buf(),
        message,
    };
    let value: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| bad(format!("not JSON: {e}")))?;
    let Some(object) = value.as_object() else {
        return Err(bad("not a JSON object".to_string()));
    };
    // The version first, so a newer format that changed other fields is reported as newer, not as bad.
    match object.get("skiff").map(serde_json::Value::as_u64) {
        None => return Err(bad("no `skiff` format version".to_string())),
        Some(None) => {
            return Err(bad(
                "the `skiff` format version is not a whole number".to_string()
            ));
        }
        Some(Some(found)) if found > FORMAT_VERSION => {
            return Err(ComponentError::NewerFormat {
                path: path.to_path_buf(),
                found,
            });
        }
        Some(Some(_)) => {}
    }
    serde_json::from_value(value).map_err(|e| bad(e.to_string()))
}

/// The contents of the first `skiff.component` custom section of a module (or of a module nested in a
/// component), without validating the module.
///
/// # Errors
/// When the bytes are not a wasm binary, or its sections do not read.
pub fn section(bytes: &[u8]) -> Result<Option<&[u8]>, wasmparser::BinaryReaderError> {
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        if let wasmparser::Payload::CustomSection(reader) = payload?
            && reader.name() == SECTION
        {
            return Ok(Some(reader.data()));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests;
