//! Where artifacts live between steps: a directory per run on the local disk.
//!
//! Layout: `<root>/<run>/<node-id>/<artifact-name>` holds what a step left at an output artifact's path (a
//! file, or a directory copied whole). Input artifacts are copied from there into the next step's sandbox.
//! This module owns the layout and the copying; it does not know about templates or runs' phases.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// An error of the artifact store.
#[derive(Debug, Error)]
pub enum ArtifactError {
    /// Copying an artifact failed.
    #[error("cannot copy artifact from {from} to {to}: {source}")]
    Copy {
        /// Where it was copied from.
        from: PathBuf,
        /// Where it was copied to.
        to: PathBuf,
        /// The IO error.
        #[source]
        source: io::Error,
    },
}

/// A local directory of artifacts.
#[derive(Debug, Clone)]
pub struct ArtifactStore {
    root: PathBuf,
}

impl ArtifactStore {
    /// A store rooted at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The store's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where artifact `name` of node `node_id` in run `run` is kept.
    pub fn path(&self, run: &str, node_id: &str, name: &str) -> PathBuf {
        self.root.join(run).join(node_id).join(name)
    }

    /// Copies `from` (a file or a directory) into the store as artifact `name` of `node_id`.
    ///
    /// # Errors
    /// [`ArtifactError::Copy`] when reading `from` or writing the store fails.
    pub fn save(
        &self,
        run: &str,
        node_id: &str,
        name: &str,
        from: &Path,
    ) -> Result<PathBuf, ArtifactError> {
        let to = self.path(run, node_id, name);
        // The step's sandbox is thrown away after this, so linking its files is safe and free.
        copy_tree(from, &to, true)?;
        Ok(to)
    }

    /// Writes `data` into the store as artifact `name` of `node_id` (used for `raw` artifacts).
    ///
    /// # Errors
    /// [`ArtifactError::Copy`] when writing the store fails.
    pub fn save_bytes(
        &self,
        run: &str,
        node_id: &str,
        name: &str,
        data: &[u8],
    ) -> Result<PathBuf, ArtifactError> {
        let to = self.path(run, node_id, name);
        let err = |source| ArtifactError::Copy {
            from: PathBuf::from("<raw>"),
            to: to.clone(),
            source,
        };
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent).map_err(err)?;
        }
        fs::write(&to, data).map_err(err)?;
        Ok(to)
    }
}

/// Copies a file or a directory tree from `from` to `to`, creating `to`'s parents. With `link`, files are hard
/// linked where possible (only for sources nobody writes again). Symlinks are skipped, so a step cannot smuggle
/// a host file into an artifact.
///
/// # Errors
/// [`ArtifactError::Copy`] naming both paths.
pub fn copy_tree(from: &Path, to: &Path, link: bool) -> Result<(), ArtifactError> {
    let err = |source| ArtifactError::Copy {
        from: from.to_path_buf(),
        to: to.to_path_buf(),
        source,
    };
    let meta = fs::symlink_metadata(from).map_err(err)?;
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent).map_err(err)?;
    }
    if meta.is_dir() {
        fs::create_dir_all(to).map_err(err)?;
        for entry in fs::read_dir(from).map_err(err)? {
            let entry = entry.map_err(err)?;
            copy_tree(&entry.path(), &to.join(entry.file_name()), link)?;
        }
    } else if meta.is_file() && !(link && fs::hard_link(from, to).is_ok()) {
        fs::copy(from, to).map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_files_and_directories() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        fs::create_dir_all(src.join("sub")).unwrap();
        fs::write(src.join("a.txt"), "a").unwrap();
        fs::write(src.join("sub/b.txt"), "b").unwrap();
        let store = ArtifactStore::new(dir.path().join("store"));
        let saved = store.save("run", "node", "tree", &src).unwrap();
        assert_eq!(fs::read_to_string(saved.join("sub/b.txt")).unwrap(), "b");
        let one = store
            .save("run", "node", "one", &src.join("a.txt"))
            .unwrap();
        assert_eq!(fs::read_to_string(one).unwrap(), "a");
        let raw = store.save_bytes("run", "node", "raw", b"data").unwrap();
        assert_eq!(fs::read(raw).unwrap(), b"data");
        assert!(
            store
                .save("run", "node", "x", &src.join("missing"))
                .is_err()
        );
    }
}
