//! Building a component crate (`skiff component build`): cargo for `wasm32-wasip1`, its diagnostics
//! passed through to stderr, and the `.wasm` files it made found in its JSON messages.

use std::ffi::OsString;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use thiserror::Error;

/// The target components are built for.
pub const TARGET: &str = "wasm32-wasip1";

/// Why a build did not produce modules.
#[derive(Debug, Error)]
pub enum BuildError {
    /// There is no `Cargo.toml` where the build was pointed.
    #[error(
        "{}: no Cargo.toml here\n  help: run it in a component crate's folder, or name the folder \
         (`skiff component build PATH`); `skiff component new NAME` makes one",
        path.display()
    )]
    NoManifest {
        /// Where it looked.
        path: PathBuf,
    },
    /// cargo cannot be started.
    #[error(
        "cannot run cargo ({}): {source}\n  help: install Rust (https://rustup.rs), or point $CARGO at \
         the cargo binary",
        cargo.to_string_lossy()
    )]
    CargoNotFound {
        /// The program tried.
        cargo: OsString,
        /// Why it did not start.
        #[source]
        source: std::io::Error,
    },
    /// The Rust standard library for `wasm32-wasip1` is not installed.
    #[error(
        "the {TARGET} target is not installed for this Rust toolchain\n  help: run `rustup target add \
         {TARGET}` and build again"
    )]
    TargetMissing,
    /// cargo failed; its diagnostics are on stderr already.
    #[error("the build failed (cargo exited with {})", status.map_or("a signal".to_string(), |c| format!("status {c}")))]
    Failed {
        /// cargo's exit status (`None` when a signal ended it).
        status: Option<i32>,
    },
    /// cargo succeeded but made no `.wasm` file.
    #[error(
        "the build made no .wasm file\n  help: a component is a binary crate (src/main.rs); a library \
         crate builds no module"
    )]
    NoModule,
    /// Talking to cargo failed.
    #[error("cannot read cargo's output: {0}")]
    Io(#[from] std::io::Error),
}

/// The manifest a build of `path` uses: `path` itself when it names a `Cargo.toml`, else the
/// `Cargo.toml` in the folder `path`.
pub fn manifest(path: &Path) -> PathBuf {
    if path.file_name().is_some_and(|n| n == "Cargo.toml") {
        path.to_path_buf()
    } else {
        path.join("Cargo.toml")
    }
}

/// The arguments of the cargo command that builds `manifest` (`release` or the dev profile).
pub fn cargo_args(manifest: &Path, release: bool) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["build".into(), "--target".into(), TARGET.into()];
    if release {
        args.push("--release".into());
    }
    args.push("--manifest-path".into());
    args.push(manifest.as_os_str().to_owned());
    args.push("--message-format=json-render-diagnostics".into());
    args
}

/// Builds the crate of `manifest` with `cargo` (the program: `$CARGO`, else `cargo`), passing its
/// diagnostics and progress through to stderr. Returns the `.wasm` files it made, in cargo's order.
///
/// # Errors
/// [`BuildError::NoManifest`], [`BuildError::CargoNotFound`], [`BuildError::TargetMissing`],
/// [`BuildError::Failed`] (with cargo's status), [`BuildError::NoModule`], [`BuildError::Io`].
pub fn build(cargo: &OsString, manifest: &Path, release: bool) -> Result<Vec<PathBuf>, BuildError> {
    if !manifest.is_file() {
        return Err(BuildError::NoManifest {
            path: manifest.parent().unwrap_or(manifest).to_path_buf(),
        });
    }
    let mut child = Command::new(cargo)
        .args(cargo_args(manifest, release))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| BuildError::CargoNotFound {
            cargo: cargo.clone(),
            source,
        })?;
    let stderr = child.stderr.take().expect("stderr is piped");
    // cargo's own stderr (progress, rendered diagnostics) goes straight through; the target-missing note
    // is looked for on the way.
    let passthrough = std::thread::spawn(move || {
        let mut missing = false;
        let mut reader = BufReader::new(stderr);
        let mut line = Vec::new();
        while reader.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
            let text = String::from_utf8_lossy(&line);
            missing |= says_target_missing(&text);
            let _ = std::io::stderr().write_all(&line);
            line.clear();
        }
        missing
    });
    let mut modules = Vec::new();
    let stdout = child.stdout.take().expect("stdout is piped");
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        match message(&line) {
            Message::Modules(found) => {
                for m in found {
                    if !modules.contains(&m) {
                        modules.push(m);
                    }
                }
            }
            Message::Rendered(text) => {
                let _ = std::io::stderr().write_all(text.as_bytes());
            }
            Message::Other => {}
            Message::NotJson => {
                let _ = writeln!(std::io::stderr(), "{line}");
            }
        }
    }
    let status = child.wait()?;
    let missing = passthrough.join().unwrap_or(false);
    if !status.success() {
        return Err(if missing {
            BuildError::TargetMissing
        } else {
            BuildError::Failed {
                status: status.code(),
            }
        });
    }
    if modules.is_empty() {
        return Err(BuildError::NoModule);
    }
    Ok(modules)
}

/// Whether a line of cargo's stderr says the target's standard library is missing.
pub fn says_target_missing(line: &str) -> bool {
    line.contains("target may not be installed")
        || (line.contains("can't find crate for `core`")
            || line.contains("can't find crate for `std`"))
            && line.contains(TARGET)
}

/// What one line of cargo's JSON output says.
#[derive(Debug, PartialEq, Eq)]
pub enum Message {
    /// A `compiler-artifact` message: its `.wasm` files.
    Modules(Vec<PathBuf>),
    /// A diagnostic cargo did not render to stderr itself: its text.
    Rendered(String),
    /// Any other message.
    Other,
    /// Not a JSON message.
    NotJson,
}

/// Reads one line of cargo's `--message-format=json...` output.
pub fn message(line: &str) -> Message {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
        return Message::NotJson;
    };
    match value["reason"].as_str() {
        Some("compiler-artifact") => Message::Modules(
            value["filenames"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(serde_json::Value::as_str)
                .filter(|f| f.ends_with(".wasm"))
                .map(PathBuf::from)
                .collect(),
        ),
        Some("compiler-message") => match value["message"]["rendered"].as_str() {
            Some(text) => Message::Rendered(text.to_string()),
            None => Message::Other,
        },
        _ => Message::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_wasm_files_in_artifact_messages() {
        let line = r#"{"reason":"compiler-artifact","target":{"kind":["bin"]},"filenames":["/x/target/wasm32-wasip1/release/greet.wasm"],"fresh":false}"#;
        assert_eq!(
            message(line),
            Message::Modules(vec![PathBuf::from(
                "/x/target/wasm32-wasip1/release/greet.wasm"
            )])
        );
        let lib =
            r#"{"reason":"compiler-artifact","filenames":["/x/libfoo.rlib","/x/libfoo.rmeta"]}"#;
        assert_eq!(message(lib), Message::Modules(vec![]));
        assert_eq!(
            message(r#"{"reason":"build-finished","success":true}"#),
            Message::Other
        );
        assert_eq!(
            message(r#"{"reason":"compiler-message","message":{"rendered":"warning: x\n"}}"#),
            Message::Rendered("warning: x\n".to_string())
        );
        assert_eq!(message("Compiling"), Message::NotJson);
    }

    #[test]
    fn the_cargo_command() {
        let args = cargo_args(Path::new("c/Cargo.toml"), true);
        assert_eq!(
            args,
            [
                "build",
                "--target",
                "wasm32-wasip1",
                "--release",
                "--manifest-path",
                "c/Cargo.toml",
                "--message-format=json-render-diagnostics"
            ]
            .map(OsString::from)
        );
        assert!(!cargo_args(Path::new("Cargo.toml"), false).contains(&"--release".into()));
        assert_eq!(manifest(Path::new("c")), PathBuf::from("c/Cargo.toml"));
        assert_eq!(
            manifest(Path::new("c/Cargo.toml")),
            PathBuf::from("c/Cargo.toml")
        );
    }

    #[test]
    fn recognises_a_missing_target() {
        assert!(says_target_missing(
            "  = note: the `wasm32-wasip1` target may not be installed"
        ));
        assert!(!says_target_missing("error[E0308]: mismatched types"));
    }

    #[test]
    fn a_missing_cargo_is_named() {
        let err = build(
            &OsString::from("/nonexistent/cargo"),
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")),
            true,
        )
        .unwrap_err();
        assert!(matches!(err, BuildError::CargoNotFound { .. }), "{err}");
        let err = build(
            &OsString::from("cargo"),
            Path::new("/nonexistent/Cargo.toml"),
            true,
        )
        .unwrap_err();
        assert!(matches!(err, BuildError::NoManifest { .. }), "{err}");
    }
}
