//! The artifact set's own records: `SHA256SUMS` (sha256sum format), `MANIFEST` (the `python X.Y.Z` line and
//! `x-snapshot-zip`), and checking a folder's files against them. Reading only: where the files come from and
//! what is built from them is the caller's.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest as _, Sha256};

use super::error::PyRuntimeError;

/// The pre-initialised module (preferred).
pub(crate) const SNAPSHOT: &str = "python-snapshot.wasm";
/// The plain reactor.
pub(crate) const PLAIN: &str = "python.wasm";
/// The stdlib zip as the release names it.
pub(crate) const STDLIB_ZIP: &str = "python-stdlib.zip";
/// The build's inputs.
pub(crate) const MANIFEST: &str = "MANIFEST";
/// The artifacts' digests.
pub(crate) const SUMS: &str = "SHA256SUMS";

/// A sha256 digest.
pub(crate) type Digest = [u8; 32];

/// Digests already known for some files (computed while writing them), so they need not be read again.
pub(crate) type Known = HashMap<PathBuf, Digest>;

/// Counts the bytes hashed, so tests can tell a call that re-verified from one that trusted its stamp.
#[derive(Debug, Default)]
pub(crate) struct HashCount(AtomicU64);

impl HashCount {
    /// Bytes hashed so far.
    #[cfg(test)]
    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
}

/// A writer that hashes what passes through it.
pub(crate) struct HashingWriter<'a, W> {
    inner: W,
    hasher: Sha256,
    count: &'a HashCount,
}

impl<'a, W: Write> HashingWriter<'a, W> {
    /// Wraps `inner`.
    pub(crate) fn new(inner: W, count: &'a HashCount) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            count,
        }
    }

    /// The writer back, and the digest of everything written.
    pub(crate) fn finish(self) -> (W, Digest) {
        (self.inner, self.hasher.finalize().into())
    }
}

impl<W: Write> Write for HashingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count.add(n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The sha256 of a file's contents.
pub(crate) fn sha256_file(path: &Path, count: &HashCount) -> Result<Digest, PyRuntimeError> {
    let mut file = File::open(path).map_err(|e| PyRuntimeError::io("open", path, e))?;
    let mut sink = HashingWriter::new(io::sink(), count);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(PyRuntimeError::io("read", path, e)),
        };
        // Writing to a sink cannot fail.
        let _ = sink.write_all(&buf[..n]);
    }
    Ok(sink.finish().1)
}

/// The sha256 of some bytes, as lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Parses 64 hex digits.
pub(crate) fn parse_digest(text: &str) -> Option<Digest> {
    let mut out = [0u8; 32];
    (text.len() == 64 && hex::decode_to_slice(text, &mut out).is_ok()).then_some(out)
}

/// `SHA256SUMS`: `HEX  name` per line (sha256sum's text mode; `HEX *name`, binary mode, is read as well).
pub(crate) fn parse_sums(
    text: &str,
    path: &Path,
    hint: &str,
) -> Result<HashMap<String, Digest>, PyRuntimeError> {
    let mut sums = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parsed = line
            .split_once(' ')
            .and_then(|(hex, rest)| {
                let name = rest.strip_prefix(' ').or_else(|| rest.strip_prefix('*'))?;
                Some((parse_digest(hex)?, name))
            })
            .filter(|(_, name)| !name.is_empty());
        let Some((digest, name)) = parsed else {
            return Err(PyRuntimeError::Format {
                path: path.to_path_buf(),
                reason: format!(
                    "line {} is not `<64 hex digits>  <name>` (sha256sum format): {line:?}",
                    i + 1
                ),
                hint: hint.to_string(),
            });
        };
        sums.insert(name.to_string(), digest);
    }
    Ok(sums)
}

/// What skiff reads from `MANIFEST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Manifest {
    /// Major and minor version from the `python X.Y.Z` line.
    pub(crate) python: (u32, u32),
    /// `x-snapshot-zip`: the stdlib zip the snapshot was taken against.
    pub(crate) snapshot_zip: Option<Digest>,
}

impl Manifest {
    /// The name the interpreter looks for its stdlib zip under: `python315.zip` for 3.15.
    pub(crate) fn zip_name(&self) -> String {
        format!("python{}{}.zip", self.python.0, self.python.1)
    }
}

/// Reads the lines of `MANIFEST` skiff needs; other lines are build records and are left alone.
pub(crate) fn parse_manifest(
    text: &str,
    path: &Path,
    hint: &str,
) -> Result<Manifest, PyRuntimeError> {
    let bad = |reason: String| PyRuntimeError::Format {
        path: path.to_path_buf(),
        reason,
        hint: hint.to_string(),
    };
    let mut python = None;
    let mut snapshot_zip = None;
    for line in text.lines() {
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        let value = value.trim();
        match key {
            "python" => {
                let mut parts = value.split('.').map(str::parse::<u32>);
                match (parts.next(), parts.next()) {
                    (Some(Ok(major)), Some(Ok(minor))) => python = Some((major, minor)),
                    _ => {
                        return Err(bad(format!(
                            "has a `python` line skiff cannot read: {line:?}"
                        )));
                    }
                }
            }
            "x-snapshot-zip" => match parse_digest(value) {
                Some(d) => snapshot_zip = Some(d),
                None => {
                    return Err(bad(format!(
                        "has an `x-snapshot-zip` line that is not a sha256: {line:?}"
                    )));
                }
            },
            _ => {}
        }
    }
    let python = python.ok_or_else(|| {
        bad("has no `python X.Y.Z` line, so skiff cannot tell the name the interpreter looks for its stdlib zip \
             under"
            .to_string())
    })?;
    Ok(Manifest {
        python,
        snapshot_zip,
    })
}

/// The result of checking an artifacts folder.
#[derive(Debug, Clone)]
pub(crate) struct Verified {
    /// `MANIFEST`'s reading.
    pub(crate) manifest: Manifest,
    /// Digests of the files checked: `MANIFEST`, the module, the zip (and `SHA256SUMS` itself).
    pub(crate) digests: HashMap<&'static str, Digest>,
    /// The module's digest.
    pub(crate) module: Digest,
}

/// Checks `MANIFEST`, `module` and the stdlib zip in `art` against `art/SHA256SUMS`, and, for the snapshot, that
/// `MANIFEST`'s `x-snapshot-zip` is the zip's digest. `known` supplies digests already computed; `hint` says
/// what to do when something is wrong.
pub(crate) fn verify(
    art: &Path,
    module: &str,
    known: &Known,
    count: &HashCount,
    hint: &str,
) -> Result<Verified, PyRuntimeError> {
    for name in [SUMS, MANIFEST, module, STDLIB_ZIP] {
        if !art.join(name).is_file() {
            return Err(PyRuntimeError::Missing {
                dir: art.to_path_buf(),
                name: name.to_string(),
                hint: hint.to_string(),
            });
        }
    }
    let sums_path = art.join(SUMS);
    let sums_bytes =
        std::fs::read(&sums_path).map_err(|e| PyRuntimeError::io("read", &sums_path, e))?;
    count.add(sums_bytes.len() as u64);
    let sums = parse_sums(&String::from_utf8_lossy(&sums_bytes), &sums_path, hint)?;

    let mut digests = HashMap::new();
    digests.insert(SUMS, Sha256::digest(&sums_bytes).into());
    for name in [MANIFEST, module, STDLIB_ZIP] {
        let path = art.join(name);
        let expected = sums.get(name).ok_or_else(|| PyRuntimeError::NotListed {
            sums: sums_path.clone(),
            name: name.to_string(),
            hint: hint.to_string(),
        })?;
        let actual = match known.get(&path) {
            Some(d) => *d,
            None => sha256_file(&path, count)?,
        };
        if &actual != expected {
            return Err(PyRuntimeError::Checksum {
                path,
                sums: sums_path.clone(),
                expected: hex::encode(expected),
                actual: hex::encode(actual),
                hint: hint.to_string(),
            });
        }
        // `name` is one of the constants or `module`; keep a static key for the constants only.
        let key: &'static str = match name {
            MANIFEST => MANIFEST,
            STDLIB_ZIP => STDLIB_ZIP,
            _ => "module",
        };
        digests.insert(key, actual);
    }

    let manifest_path = art.join(MANIFEST);
    let text = std::fs::read_to_string(&manifest_path)
        .map_err(|e| PyRuntimeError::io("read", &manifest_path, e))?;
    let manifest = parse_manifest(&text, &manifest_path, hint)?;
    let zip = digests[STDLIB_ZIP];
    if module == SNAPSHOT {
        match manifest.snapshot_zip {
            Some(expected) if expected == zip => {}
            Some(expected) => {
                return Err(PyRuntimeError::SnapshotZip {
                    manifest: manifest_path,
                    zip: art.join(STDLIB_ZIP),
                    expected: hex::encode(expected),
                    actual: hex::encode(zip),
                });
            }
            None => {
                return Err(PyRuntimeError::Format {
                    path: manifest_path,
                    reason: "has no `x-snapshot-zip` line, so skiff cannot tell which stdlib zip \
                             python-snapshot.wasm was taken against"
                        .to_string(),
                    hint: "Set SKIFF_PYTHON_WASM to the release's python.wasm instead.".to_string(),
                });
            }
        }
    }
    Ok(Verified {
        manifest,
        module: digests["module"],
        digests,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_read_both_modes_and_refuse_garbage() {
        let a = "a".repeat(64);
        let b = "b".repeat(64);
        let text = format!("{a}  MANIFEST\n\n{b} *python.wasm\n{a}  LICENSES/x y.txt\n");
        let sums = parse_sums(&text, Path::new("S"), "").expect("parses");
        assert_eq!(sums.len(), 3);
        assert_eq!(sums["python.wasm"], [0xbb; 32]);
        assert_eq!(sums["LICENSES/x y.txt"], [0xaa; 32]);

        let err = parse_sums("abc  MANIFEST\n", Path::new("/a/SHA256SUMS"), "Fix it.").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("/a/SHA256SUMS") && msg.contains("line 1") && msg.contains("Fix it."),
            "{msg}"
        );
        assert!(parse_sums(&format!("{a}  \n"), Path::new("S"), "").is_err());
        assert!(parse_sums(&format!("{a}\tMANIFEST\n"), Path::new("S"), "").is_err());
    }

    #[test]
    fn manifest_names_the_zip_and_reads_the_snapshot_digest() {
        let d = "c".repeat(64);
        let text =
            format!("package numpy 2.3\npython 3.15.0\nx-snapshot-zip {d}\nx-preimport a, b\n");
        let m = parse_manifest(&text, Path::new("M"), "").expect("parses");
        assert_eq!(m.python, (3, 15));
        assert_eq!(m.zip_name(), "python315.zip");
        assert_eq!(m.snapshot_zip, Some([0xcc; 32]));

        let none = parse_manifest("package x 1\n", Path::new("/m/MANIFEST"), "").unwrap_err();
        assert!(
            none.to_string().contains("no `python X.Y.Z` line"),
            "{none}"
        );
        assert!(parse_manifest("python three\n", Path::new("M"), "").is_err());
        assert!(parse_manifest("python 3.15.0\nx-snapshot-zip 12\n", Path::new("M"), "").is_err());
        assert_eq!(
            parse_manifest("python 3.9\n", Path::new("M"), "")
                .expect("parses")
                .zip_name(),
            "python39.zip"
        );
    }

    #[test]
    fn hashing_counts_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        std::fs::write(&path, b"abc").expect("write");
        let count = HashCount::default();
        let d = sha256_file(&path, &count).expect("hash");
        assert_eq!(
            hex::encode(d),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(count.get(), 3);
    }
}
