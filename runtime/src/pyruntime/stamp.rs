//! The stamp file: what a prepared runtime folder was verified from, so that later calls trust it after a few
//! `stat`s instead of hashing 150 MB again.
//!
//! The file is `<dir>/STAMP`, plain text, written last (through a temporary file and a rename) by the process
//! holding the folder's lock:
//!
//! ```text
//! skiff-python-stamp 1
//! origin wheel <sha256 of the wheel>            | origin folder <module name> <artifacts folder>
//! artifacts <folder>
//! module <file name>
//! module-sha256 <hex>
//! zip-name python315.zip
//! mpl-data yes|no
//! file <size> <mtime in ns since 1970> <sha256 hex or -> <path>
//! ```
//!
//! Paths under the prepared folder are written relative to it, so a moved cache stays valid; others are
//! absolute. A stamp holds when every `file` line's size and modification time still match.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use super::artifacts::{Digest, parse_digest};
use super::error::PyRuntimeError;
use super::{DistSource, PythonDist};

/// The stamp's file name inside a prepared folder.
pub(crate) const STAMP: &str = "STAMP";
const HEADER: &str = "skiff-python-stamp 1";

/// Where a prepared folder's artifacts came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Unpacked from the wheel with this sha256 (hex) into `<dir>/artifacts`.
    Wheel(String),
    /// Used in place from this artifacts folder, with this module.
    Folder {
        /// The module's file name.
        module: String,
        /// The (canonical) artifacts folder.
        artifacts: PathBuf,
    },
}

/// One file's recorded state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileStamp {
    /// Relative to the prepared folder, or absolute.
    pub(crate) path: PathBuf,
    /// Length in bytes.
    pub(crate) size: u64,
    /// Modification time, ns since the epoch (0 where the platform has none).
    pub(crate) mtime_ns: u128,
    /// The verified digest, for files that have one.
    pub(crate) sha256: Option<Digest>,
}

impl FileStamp {
    /// Records `path` as it is now; `path` is resolved against `dir` when relative.
    pub(crate) fn of(
        dir: &Path,
        path: PathBuf,
        sha256: Option<Digest>,
    ) -> Result<Self, PyRuntimeError> {
        let full = dir.join(&path);
        let meta = fs::metadata(&full)
            .map_err(|e| PyRuntimeError::io("read the metadata of", &full, e))?;
        Ok(FileStamp {
            path,
            size: meta.len(),
            mtime_ns: mtime_ns(&meta),
            sha256,
        })
    }

    fn still_matches(&self, dir: &Path) -> bool {
        fs::metadata(dir.join(&self.path))
            .is_ok_and(|m| m.len() == self.size && mtime_ns(&m) == self.mtime_ns)
    }
}

fn mtime_ns(meta: &fs::Metadata) -> u128 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos())
}

/// A prepared folder's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub(crate) origin: Origin,
    /// The artifacts folder (relative to the prepared folder, or absolute).
    pub(crate) artifacts: PathBuf,
    /// The module's file name in `artifacts`.
    pub(crate) module: String,
    pub(crate) module_sha256: Digest,
    /// `python315.zip`.
    pub(crate) zip_name: String,
    /// Whether `<dir>/mpl-data` was unpacked.
    pub(crate) mpl_data: bool,
    pub(crate) files: Vec<FileStamp>,
}

impl Stamp {
    /// The stamp's text.
    pub(crate) fn render(&self) -> Result<String, PyRuntimeError> {
        let mut out = format!("{HEADER}\n");
        match &self.origin {
            Origin::Wheel(sha) => out.push_str(&format!("origin wheel {sha}\n")),
            Origin::Folder { module, artifacts } => {
                if module.contains([' ', '\n', '\r']) {
                    return Err(PyRuntimeError::UnsupportedPath {
                        path: PathBuf::from(module),
                    });
                }
                out.push_str(&format!("origin folder {module} {}\n", text(artifacts)?));
            }
        }
        out.push_str(&format!("artifacts {}\n", text(&self.artifacts)?));
        out.push_str(&format!("module {}\n", self.module));
        out.push_str(&format!(
            "module-sha256 {}\n",
            hex::encode(self.module_sha256)
        ));
        out.push_str(&format!("zip-name {}\n", self.zip_name));
        out.push_str(&format!(
            "mpl-data {}\n",
            if self.mpl_data { "yes" } else { "no" }
        ));
        for f in &self.files {
            let sha = f.sha256.map_or_else(|| "-".to_string(), hex::encode);
            out.push_str(&format!(
                "file {} {} {sha} {}\n",
                f.size,
                f.mtime_ns,
                text(&f.path)?
            ));
        }
        Ok(out)
    }

    /// Reads a stamp's text; `None` for anything not written by [`Stamp::render`].
    pub(crate) fn parse(input: &str) -> Option<Stamp> {
        let mut lines = input.lines();
        if lines.next()? != HEADER {
            return None;
        }
        let (mut origin, mut artifacts, mut module, mut module_sha256, mut zip_name, mut mpl_data) =
            (None, None, None, None, None, None);
        let mut files = Vec::new();
        for line in lines {
            let (key, rest) = line.split_once(' ')?;
            match key {
                "origin" => {
                    origin = Some(match rest.split_once(' ')? {
                        ("wheel", sha) => Origin::Wheel(sha.to_string()),
                        ("folder", rest) => {
                            let (module, path) = rest.split_once(' ')?;
                            Origin::Folder {
                                module: module.to_string(),
                                artifacts: PathBuf::from(path),
                            }
                        }
                        _ => return None,
                    });
                }
                "artifacts" => artifacts = Some(PathBuf::from(rest)),
                "module" => module = Some(rest.to_string()),
                "module-sha256" => module_sha256 = Some(parse_digest(rest)?),
                "zip-name" => zip_name = Some(rest.to_string()),
                "mpl-data" => mpl_data = Some(rest == "yes"),
                "file" => {
                    let mut parts = rest.splitn(4, ' ');
                    let size = parts.next()?.parse().ok()?;
                    let mtime_ns = parts.next()?.parse().ok()?;
                    let sha256 = match parts.next()? {
                        "-" => None,
                        hex => Some(parse_digest(hex)?),
                    };
                    let path = PathBuf::from(parts.next()?);
                    files.push(FileStamp {
                        path,
                        size,
                        mtime_ns,
                        sha256,
                    });
                }
                _ => return None,
            }
        }
        Some(Stamp {
            origin: origin?,
            artifacts: artifacts?,
            module: module?,
            module_sha256: module_sha256?,
            zip_name: zip_name?,
            mpl_data: mpl_data?,
            files,
        })
    }

    /// Whether every recorded file still has its recorded size and modification time.
    pub(crate) fn still_matches(&self, dir: &Path) -> bool {
        !self.files.is_empty() && self.files.iter().all(|f| f.still_matches(dir))
    }

    /// The runtime this stamp describes, in `dir`.
    pub(crate) fn dist(&self, dir: &Path, source: DistSource) -> PythonDist {
        PythonDist {
            dir: dir.to_path_buf(),
            module: dir.join(&self.artifacts).join(&self.module),
            lib_dir: dir.join("lib"),
            zip_name: self.zip_name.clone(),
            mpl_data: self.mpl_data.then(|| dir.join("mpl-data")),
            module_sha256: self.module_sha256,
            source,
        }
    }
}

/// The stamp in `dir`, if it was written for `origin` and still matches the files.
pub(crate) fn load_valid(dir: &Path, origin: &Origin) -> Option<Stamp> {
    let text = fs::read_to_string(dir.join(STAMP)).ok()?;
    let stamp = Stamp::parse(&text)?;
    (stamp.origin == *origin && stamp.still_matches(dir)).then_some(stamp)
}

/// Writes `stamp` into `dir`, atomically.
pub(crate) fn write(dir: &Path, stamp: &Stamp) -> Result<(), PyRuntimeError> {
    let text = stamp.render()?;
    let tmp = dir.join(format!("{STAMP}.tmp"));
    fs::write(&tmp, text).map_err(|e| PyRuntimeError::io("write", &tmp, e))?;
    let path = dir.join(STAMP);
    fs::rename(&tmp, &path).map_err(|e| PyRuntimeError::io("write", &path, e))
}

/// Removes the stamp in `dir` (before the folder is changed), if there is one.
pub(crate) fn remove(dir: &Path) -> Result<(), PyRuntimeError> {
    let path = dir.join(STAMP);
    match fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(PyRuntimeError::io("remove", &path, e)),
    }
}

/// A path as stamp text: UTF-8 without line breaks.
fn text(path: &Path) -> Result<&str, PyRuntimeError> {
    path.to_str()
        .filter(|s| !s.contains(['\n', '\r']))
        .ok_or_else(|| PyRuntimeError::UnsupportedPath {
            path: path.to_path_buf(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(dir: &Path) -> Stamp {
        fs::write(dir.join("a b"), b"12345").expect("write");
        Stamp {
            origin: Origin::Folder {
                module: "python.wasm".into(),
                artifacts: PathBuf::from("/x y/artifacts"),
            },
            artifacts: PathBuf::from("/x y/artifacts"),
            module: "python.wasm".into(),
            module_sha256: [7; 32],
            zip_name: "python315.zip".into(),
            mpl_data: true,
            files: vec![FileStamp::of(dir, PathBuf::from("a b"), Some([1; 32])).expect("stat")],
        }
    }

    #[test]
    fn round_trips_and_notices_changes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let stamp = sample(dir.path());
        assert_eq!(stamp.files[0].size, 5);
        write(dir.path(), &stamp).expect("write");
        let text = fs::read_to_string(dir.path().join(STAMP)).expect("read");
        assert_eq!(Stamp::parse(&text), Some(stamp.clone()));
        assert!(load_valid(dir.path(), &stamp.origin).is_some());
        assert!(
            load_valid(dir.path(), &Origin::Wheel("ab".into())).is_none(),
            "other origin"
        );

        fs::write(dir.path().join("a b"), b"123456").expect("grow");
        assert!(
            load_valid(dir.path(), &stamp.origin).is_none(),
            "size changed"
        );
        fs::remove_file(dir.path().join("a b")).expect("rm");
        assert!(load_valid(dir.path(), &stamp.origin).is_none(), "file gone");

        let dist = stamp.dist(dir.path(), DistSource::Cache);
        assert_eq!(dist.module, PathBuf::from("/x y/artifacts/python.wasm"));
        assert_eq!(dist.mpl_data, Some(dir.path().join("mpl-data")));
    }

    #[test]
    fn garbage_is_no_stamp() {
        assert_eq!(Stamp::parse(""), None);
        assert_eq!(Stamp::parse("skiff-python-stamp 2\n"), None);
        assert_eq!(
            Stamp::parse("skiff-python-stamp 1\norigin wheel ab\n"),
            None,
            "fields missing"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let text = sample(dir.path()).render().expect("render");
        assert_eq!(Stamp::parse(&text.replace("file 5", "file x")), None);
    }

    #[test]
    fn odd_paths_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut stamp = sample(dir.path());
        stamp.artifacts = PathBuf::from("/a\nb");
        assert!(matches!(
            stamp.render(),
            Err(PyRuntimeError::UnsupportedPath { .. })
        ));
    }
}
