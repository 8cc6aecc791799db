//! The on-disk cache of compiled modules.
//!
//! One file per (module, engine configuration):
//! `<cache_dir>/<sha256 of the module bytes>-<first 16 hex digits of the engine hash>.cwasm`,
//! holding `Module::serialize`'s output. The engine hash is the sha256 of wasmtime's
//! `Engine::precompile_compatibility_hash` (wasmtime's version, the target, every setting that
//! changes generated code), so a skiff built with another wasmtime, or configured differently,
//! never loads a file it cannot use; it compiles and writes its own beside it.
//!
//! Files are written to a temporary file in the same directory and renamed into place, so a
//! reader sees the old file, the new file, or none, never half of one; two processes compiling
//! the same module at once both succeed and the last rename wins. A file that fails to load
//! (truncated, overwritten, from an incompatible build that slipped past the hash) is compiled
//! again and replaced. Beside each file, `<file>.sum` holds its sha256 and its size, modification time
//! and inode when written; a file whose checksum file is missing, or that changed since and no longer
//! matches its sha256, is never mapped in (its machine code would run) but compiled again. Nothing is
//! ever evicted: remove the directory to reclaim the space.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

use super::WasmError;

/// sha256, as the cache and the in-memory map key modules by it.
pub(crate) type Sha256Hash = [u8; 32];

/// The sha256 of `bytes`.
pub(crate) fn sha256(bytes: &[u8]) -> Sha256Hash {
    Sha256::digest(bytes).into()
}

/// Feeds a [`Hash`] value into sha256, so the engine hash is stable across processes (std's
/// `DefaultHasher` makes no such promise).
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        // Only `write` matters here; the digest is read from the inner state.
        0
    }
}

/// The hex digits naming an engine's configuration in cache file names.
pub(crate) fn engine_tag(engine: &Engine) -> String {
    let mut hasher = Sha256Hasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let digest: Sha256Hash = hasher.0.finalize().into();
    hex::encode(&digest[..8])
}

/// The on-disk cache: a directory and the engine tag files in it are named with.
#[derive(Debug, Clone)]
pub(crate) struct DiskCache {
    dir: PathBuf,
    engine_tag: String,
}

/// What [`DiskCache::load`] found.
pub(crate) enum Lookup {
    /// A usable compiled module.
    Hit(Module),
    /// No file for this module.
    Miss,
    /// A file that could not be loaded; it will be overwritten.
    Corrupt(wasmtime::Error),
}

impl DiskCache {
    pub(crate) fn new(dir: PathBuf, engine: &Engine) -> Self {
        DiskCache {
            dir,
            engine_tag: engine_tag(engine),
        }
    }

    /// The file a module with this hash is cached in.
    pub(crate) fn path(&self, hash: &Sha256Hash) -> PathBuf {
        self.dir
            .join(format!("{}-{}.cwasm", hex::encode(hash), self.engine_tag))
    }

    /// Loads a module compiled earlier, if there is one.
    pub(crate) fn load(&self, engine: &Engine, hash: &Sha256Hash) -> Lookup {
        let path = self.path(hash);
        if !path.is_file() {
            return Lookup::Miss;
        }
        if let Err(why) = verify(&path) {
            return Lookup::Corrupt(wasmtime::Error::msg(why));
        }
        match deserialize(engine, &path) {
            Ok(module) => Lookup::Hit(module),
            Err(err) => Lookup::Corrupt(err),
        }
    }

    /// Creates the cache directory if it is not there.
    fn create_dir(&self) -> Result<(), WasmError> {
        std::fs::create_dir_all(&self.dir).map_err(io_err(
            "could not create the module cache directory",
            &self.dir,
        ))
    }

    /// Takes the lock file of one module's entry (`.<name>.lock` beside it), waiting while another process
    /// holds it: whoever compiles a module holds it until the entry is written. Released on drop.
    ///
    /// # Errors
    ///
    /// [`WasmError::Io`] if the directory or the lock file cannot be made.
    pub(crate) fn lock(&self, hash: &Sha256Hash) -> Result<std::fs::File, WasmError> {
        let path = self
            .dir
            .join(format!(".{}-{}.lock", hex::encode(hash), self.engine_tag));
        self.create_dir()?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err("could not open the module cache's lock file", &path))?;
        file.lock()
            .map_err(io_err("could not lock the module cache's lock file", &path))?;
        Ok(file)
    }

    /// Writes a compiled module, atomically.
    ///
    /// # Errors
    ///
    /// [`WasmError::Compile`] if wasmtime cannot serialize the module, [`WasmError::Io`] if the
    /// directory cannot be created or the file written.
    pub(crate) fn store(&self, hash: &Sha256Hash, module: &Module) -> Result<PathBuf, WasmError> {
        let bytes = module
            .serialize()
            .map_err(|e| WasmError::Compile(WasmError::boxed(e)))?;
        self.create_dir()?;
        let path = self.path(hash);
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .suffix(".cwasm")
            .tempfile_in(&self.dir)
            .map_err(io_err("could not create a file in", &self.dir))?;
        tmp.write_all(&bytes)
            .and_then(|()| tmp.as_file().sync_data())
            .map_err(io_err("could not write the module cache entry", tmp.path()))?;
        tmp.persist(&path)
            .map_err(|e| e.error)
            .map_err(io_err("could not write the module cache entry", &path))?;
        let meta = std::fs::metadata(&path)
            .map_err(io_err("could not read the module cache entry", &path))?;
        let seal = Seal {
            sum: hex::encode(sha256(&bytes)),
            stat: Stat::of(&meta),
        };
        let sum_path = seal_path(&path);
        std::fs::write(&sum_path, seal.to_line()).map_err(io_err(
            "could not write the module cache entry's checksum",
            &sum_path,
        ))?;
        Ok(path)
    }
}

/// Where the checksum of a cache entry is kept: beside it, `.sum` added.
fn seal_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".sum");
    PathBuf::from(name)
}

/// What a file looked like when its checksum was taken: size, modification time and inode. While these
/// stay the same the file is taken as unchanged, so a load does not hash hundreds of megabytes each time;
/// any write through the filesystem changes the modification time, and then the file is hashed again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stat {
    len: u64,
    mtime_ns: i128,
    ino: u64,
}

impl Stat {
    fn of(meta: &std::fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        Stat {
            len: meta.len(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            ino: meta.ino(),
        }
    }
}

/// The `.sum` file: the entry's sha256 and its [`Stat`] when it was written.
#[derive(Debug, PartialEq, Eq)]
struct Seal {
    sum: String,
    stat: Stat,
}

impl Seal {
    fn to_line(&self) -> String {
        format!(
            "v1 {} {} {} {}\n",
            self.sum, self.stat.len, self.stat.mtime_ns, self.stat.ino
        )
    }

    fn parse(text: &str) -> Option<Self> {
        let mut fields = text.split_whitespace();
        if fields.next()? != "v1" {
            return None;
        }
        let sum = fields.next()?.to_string();
        let stat = Stat {
            len: fields.next()?.parse().ok()?,
            mtime_ns: fields.next()?.parse().ok()?,
            ino: fields.next()?.parse().ok()?,
        };
        (sum.len() == 64 && fields.next().is_none()).then_some(Seal { sum, stat })
    }
}

/// Checks a cache entry against its `.sum` before its machine code is mapped in: an entry without a
/// readable checksum, or one changed since (hashed again when its size, time or inode moved) whose bytes
/// no longer match, is refused and compiled again.
fn verify(path: &Path) -> Result<(), String> {
    let sum_path = seal_path(path);
    let seal = std::fs::read_to_string(&sum_path)
        .ok()
        .and_then(|text| Seal::parse(&text))
        .ok_or_else(|| format!("{} is missing or unreadable", sum_path.display()))?;
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if Stat::of(&meta) == seal.stat {
        return Ok(());
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if hex::encode(sha256(&bytes)) == seal.sum {
        Ok(())
    } else {
        Err(format!(
            "{} changed since it was written: its sha256 no longer matches {}",
            path.display(),
            sum_path.display()
        ))
    }
}

/// Makes a [`WasmError::Io`] about `path` from an I/O error.
fn io_err(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> WasmError {
    let path = path.to_owned();
    move |source| WasmError::Io {
        action,
        path,
        source,
    }
}

/// Maps a cached compiled module back in.
#[expect(
    unsafe_code,
    reason = "Module::deserialize_file trusts the file to be wasmtime's own output"
)]
fn deserialize(engine: &Engine, path: &Path) -> wasmtime::Result<Module> {
    // SAFETY: `deserialize_file` runs the file's machine code, so the file must be what
    // `Module::serialize` wrote, and must not change while the module is alive. Both hold: only
    // `DiskCache::store` writes into skiff's cache directory, under a name made of the sha256 of
    // the module's bytes and of the engine's compatibility hash, so the file is this module
    // compiled by a compatible engine (wasmtime also checks its header and the engine
    // configuration, and rejects a mismatch); and `store` replaces a file by renaming a new one
    // over it, which leaves the inode mapped here untouched. The cache directory is as trusted
    // as the skiff binary itself: whoever can write there can also replace skiff.
    unsafe { Module::deserialize_file(engine, path) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_flipped_inside_an_entry_are_caught_by_its_checksum() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        let cache = DiskCache::new(dir.path().to_path_buf(), &engine);
        let wasm =
            wat::parse_str(r#"(module (func (export "f") (result i32) i32.const 7))"#).unwrap();
        let hash = sha256(&wasm);
        let module = Module::new(&engine, &wasm).unwrap();
        let path = cache.store(&hash, &module).unwrap();
        assert!(matches!(cache.load(&engine, &hash), Lookup::Hit(_)));
        // Let the clock move on, so the write below gets a new modification time.
        std::thread::sleep(std::time::Duration::from_millis(20));
        let mut bytes = std::fs::read(&path).unwrap();
        let middle = bytes.len() / 2;
        for b in &mut bytes[middle..middle + 16] {
            *b ^= 0xff;
        }
        let mut file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.write_all(&bytes).unwrap();
        drop(file);
        match cache.load(&engine, &hash) {
            Lookup::Corrupt(e) => assert!(e.to_string().contains("no longer matches"), "{e}"),
            _ => panic!("a flipped entry was loaded"),
        }
        // Without its checksum an entry is not trusted either; writing it again seals it again.
        cache.store(&hash, &module).unwrap();
        assert!(matches!(cache.load(&engine, &hash), Lookup::Hit(_)));
        std::fs::remove_file(seal_path(&path)).unwrap();
        assert!(matches!(cache.load(&engine, &hash), Lookup::Corrupt(_)));
    }

    #[test]
    fn the_engine_tag_is_stable_and_tracks_the_configuration() {
        let a = Engine::default();
        let b = Engine::default();
        assert_eq!(engine_tag(&a), engine_tag(&b));
        assert_eq!(engine_tag(&a).len(), 16);
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let c = Engine::new(&config).unwrap();
        assert_ne!(engine_tag(&a), engine_tag(&c));
    }
}
