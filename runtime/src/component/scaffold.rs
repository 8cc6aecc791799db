//! A new component crate (`skiff component new`): a `Cargo.toml` that stands alone, an example component,
//! a workflow that runs it, a README and a `.gitignore`.
//!
//! [`files`] makes the files' text (no IO); [`create`] writes them into a folder that is new or empty;
//! [`find_sdk`] decides where the crate's `skiff-guest` dependency comes from.

use std::path::{Path, PathBuf};

use thiserror::Error;

use super::{Description, Input, Kind, Output, ValueType};
use crate::engine::input_env_name;

/// Where a new crate's `skiff-guest` comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sdk {
    /// A path dependency on the SDK's source folder (absolute).
    Path(PathBuf),
}

/// Why a component crate cannot be made.
#[derive(Debug, Error)]
pub enum ScaffoldError {
    /// The name is not a crate name that works as a component.
    #[error(
        "'{name}' cannot name a component crate: {reason}\n  help: use lowercase letters, digits, `-` and \
         `_`, starting with a letter, e.g. `word-count`"
    )]
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The folder exists and is not empty.
    #[error(
        "{}: the folder exists and is not empty\n  help: choose another with --path, or remove it first",
        dir.display()
    )]
    NotEmpty {
        /// The folder.
        dir: PathBuf,
    },
    /// The path exists and is not a folder.
    #[error("{}: exists and is not a folder\n  help: choose another with --path", dir.display())]
    NotAFolder {
        /// The path.
        dir: PathBuf,
    },
    /// The SDK folder named has no `Cargo.toml`.
    #[error(
        "{}: no skiff-guest SDK here (no Cargo.toml)\n  help: point --sdk (or SKIFF_GUEST_SDK) at the \
         guest-sdk folder of a skiff checkout, or leave both unset to use the SDK this skiff embeds",
        path.display()
    )]
    NoSdk {
        /// The folder named.
        path: PathBuf,
    },
    /// A file or folder cannot be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Rust's keywords (strict, reserved and 2018+), which cannot name the component's function.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "union", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Names cargo refuses for a package (its own folders, the standard crates).
const RESERVED: &[&str] = &[
    "alloc",
    "build",
    "core",
    "deps",
    "examples",
    "incremental",
    "proc-macro",
    "proc_macro",
    "std",
    "test",
];

/// Checks that `name` works as a component crate's name: a cargo package name whose snake-case form is a
/// function name the component macro accepts.
///
/// # Errors
/// [`ScaffoldError::InvalidName`] saying what is wrong.
pub fn check_name(name: &str) -> Result<(), ScaffoldError> {
    let invalid = |reason: &str| {
        Err(ScaffoldError::InvalidName {
            name: name.to_string(),
            reason: reason.to_string(),
        })
    };
    let Some(first) = name.chars().next() else {
        return invalid("it is empty");
    };
    if !first.is_ascii_lowercase() {
        return invalid("it must start with a lowercase letter");
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_'))
    {
        return invalid(&format!("`{c}` is not allowed in a crate name"));
    }
    if name.len() > 64 {
        return invalid("it is longer than 64 characters");
    }
    let snake = snake(name);
    if KEYWORDS.contains(&snake.as_str()) {
        return invalid("it is a Rust keyword");
    }
    if RESERVED.contains(&name) {
        return invalid("cargo reserves it");
    }
    if snake == "main" {
        return invalid(
            "the component's function is named after the crate, and `main` is the one the macro writes",
        );
    }
    Ok(())
}

/// The function name of a component crate named `name`.
fn snake(name: &str) -> String {
    name.replace('-', "_")
}

/// Where the new crate's `skiff-guest` comes from: `flag` (`--sdk`), else `env` (`SKIFF_GUEST_SDK`), else
/// the SDK embedded in this skiff, written under `home` ([`super::sdk::install`]).
///
/// # Errors
/// [`ScaffoldError::NoSdk`] when the folder `flag` or `env` names has no `Cargo.toml`;
/// [`ScaffoldError::Io`] when the embedded SDK cannot be written.
pub fn find_sdk(
    flag: Option<&Path>,
    env: Option<&Path>,
    home: &Path,
) -> Result<Sdk, ScaffoldError> {
    if let Some(path) = flag.or(env.filter(|p| !p.as_os_str().is_empty())) {
        if !path.join("Cargo.toml").is_file() {
            return Err(ScaffoldError::NoSdk {
                path: path.to_path_buf(),
            });
        }
        return Ok(Sdk::Path(absolute(path)));
    }
    let installed =
        super::sdk::install(home).map_err(|(path, source)| ScaffoldError::Io { path, source })?;
    Ok(Sdk::Path(absolute(&installed)))
}

fn absolute(path: &Path) -> PathBuf {
    path.canonicalize()
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

/// The module a component crate named `name` builds, relative to the crate.
pub fn module_path(name: &str) -> String {
    format!("target/wasm32-wasip1/release/{name}.wasm")
}

/// The description the example component of [`files`] compiles to (what `#[skiff_guest::component]`
/// writes for it): the shape of the template in its `workflow.yaml`.
pub fn example_description(name: &str) -> Description {
    let param = |n: &str, t: ValueType, required: bool| Input {
        name: n.to_string(),
        kind: Kind::Parameter,
        type_: t,
        required,
        env: Some(input_env_name(n)),
        path: None,
    };
    Description {
        skiff: super::FORMAT_VERSION,
        name: name.replace('_', "-"),
        description: Some("Greets someone.".to_string()),
        sdk: Some(env!("CARGO_PKG_VERSION").to_string()),
        inputs: vec![
            param("name", ValueType::String, true),
            param("times", ValueType::Integer, false),
        ],
        outputs: vec![Output {
            name: "output".to_string(),
            kind: Kind::Parameter,
            type_: ValueType::String,
            path: Some(format!("{}output", super::OUTPUT_PARAMETERS_DIR)),
        }],
        result: Some("output".to_string()),
    }
}

/// The files of a new component crate named `name` (checked with [`check_name`] first), as paths
/// relative to the crate and their text.
pub fn files(name: &str, sdk: &Sdk) -> Vec<(&'static str, String)> {
    let snake = snake(name);
    let dependency = match sdk {
        Sdk::Path(p) => format!(
            "skiff-guest = {{ path = {} }}",
            toml_string(&p.to_string_lossy())
        ),
    };
    let cargo_toml = format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
{dependency}

# An empty workspace: the crate stands alone, even inside another workspace's folder.
[workspace]

# Small modules: they are loaded for every step.
[profile.release]
opt-level = "s"
lto = true
strip = "debuginfo"
"#
    );
    let main_rs = format!(
        r#"//! The `{name}` component: a typed Rust function that runs as a skiff workflow step.
//!
//! `#[skiff_guest::component]` makes the program's `main`: it reads each argument from the step's input
//! parameter of the same name, calls the function, and writes what it returns as an output. Build with
//! `skiff component build`; see README.md.

/// Greets someone.
#[skiff_guest::component]
fn {snake}(name: String, times: Option<u32>) -> String {{
    let greeting = format!("Hello, {{name}}!");
    vec![greeting; times.unwrap_or(1) as usize].join(" ")
}}

#[cfg(test)]
mod tests {{
    use super::*;

    #[test]
    fn greets_once_by_default() {{
        assert_eq!({snake}("world".to_string(), None), "Hello, world!");
    }}

    #[test]
    fn greets_as_often_as_asked() {{
        assert_eq!(
            {snake}("skiff".to_string(), Some(2)),
            "Hello, skiff! Hello, skiff!"
        );
    }}
}}
"#
    );
    let desc = example_description(name);
    let module = module_path(name);
    let template: String = super::template(&desc, &module, None)
        .lines()
        .map(|l| format!("    {l}\n"))
        .collect();
    let workflow = format!(
        r#"# Runs the {name} component. Build it first (`skiff component build`), then:
#   skiff submit workflow.yaml --watch
#   skiff submit workflow.yaml -p name=you --watch
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: {component}-
spec:
  entrypoint: main
  arguments:
    parameters:
      - name: name
        value: world
  templates:
    - name: main
      steps:
        - - name: greet
            template: {component}
            arguments:
              parameters:
                - name: name
                  value: "{{{{workflow.parameters.name}}}}"
                - name: times
                  value: "2"
    # What `skiff component template {module}` prints.
{template}"#,
        component = desc.name,
    );
    let readme = format!(
        r#"# {name}

A [skiff](https://github.com/skiff-dev/skiff) component: the typed Rust function in `src/main.rs`, built
to a WASI module that describes its own inputs and outputs.

## Build

```sh
skiff component build      # or: cargo build --target wasm32-wasip1 --release
```

The module is `{module}`. The build needs Rust's `wasm32-wasip1` target:
`rustup target add wasm32-wasip1`.

## Look at it

```sh
skiff component describe {module}
skiff component template {module}     # the Argo template that runs it
```

## Run it

```sh
skiff submit workflow.yaml --watch
skiff submit workflow.yaml -p name=you --watch
```

## Test it

```sh
cargo test      # the unit tests call the function directly, natively
```
"#
    );
    vec![
        ("Cargo.toml", cargo_toml),
        ("src/main.rs", main_rs),
        ("workflow.yaml", workflow),
        ("README.md", readme),
        (".gitignore", "/target\n".to_string()),
    ]
}

/// `s` as a TOML basic string.
fn toml_string(s: &str) -> String {
    crate::quote::double_quoted(s, char::is_control)
}

/// Writes a new component crate named `name` into `dir` (made if missing; it must be empty if it exists).
/// Returns the files written, relative to `dir`.
///
/// # Errors
/// [`ScaffoldError::InvalidName`], [`ScaffoldError::NotEmpty`], [`ScaffoldError::NotAFolder`], and
/// [`ScaffoldError::Io`] when a file cannot be written.
pub fn create(name: &str, dir: &Path, sdk: &Sdk) -> Result<Vec<&'static str>, ScaffoldError> {
    check_name(name)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ScaffoldError::Io { path, source }
    };
    if dir.exists() {
        if !dir.is_dir() {
            return Err(ScaffoldError::NotAFolder {
                dir: dir.to_path_buf(),
            });
        }
        if std::fs::read_dir(dir).map_err(io(dir))?.next().is_some() {
            return Err(ScaffoldError::NotEmpty {
                dir: dir.to_path_buf(),
            });
        }
    }
    let files = files(name, sdk);
    for (rel, text) in &files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, text).map_err(io(&path))?;
    }
    Ok(files.into_iter().map(|(rel, _)| rel).collect())
}
