//! Faults of the machine rather than of the workflow: a damaged compiled-module cache, a full disk while
//! an artifact is saved, a run database that is not one. Each ends in a clear message, never a panic, and
//! nothing already recorded is lost.
//!
//! The full-disk test mounts a small tmpfs as the artifact folder inside a user and mount namespace
//! (`unshare --user --map-root-user --mount`), so it needs neither root nor a real disk to fill. Where
//! `unshare` cannot make those namespaces it is skipped with a note, unless `SKIFF_REQUIRE_FAULTS` is
//! set (CI sets it), which makes that a failure.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{repo, stderr, stdout};

/// A fresh `SKIFF_HOME`, with a module cache of its own (so the tests can damage it) seeded from the
/// shared test home's, so the toolbox is not compiled again.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("faults-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap();
        Self { dir }
    }

    /// A home whose `cache/modules` holds copies of the shared home's compiled modules (the toolbox
    /// among them), leaving out the large Python runtime.
    fn with_module_cache() -> Self {
        // The shared home compiles the toolbox once for every test of this build.
        let warm = common::skiff(&["submit", "examples/hello-world.yaml", "--wait"]);
        assert!(warm.status.success(), "{}", stderr(&warm));
        let home = Self::new();
        let modules = home.modules();
        std::fs::create_dir_all(&modules).unwrap();
        for entry in std::fs::read_dir(common::home().join("cache/modules")).unwrap() {
            let path = entry.unwrap().path();
            let small = std::fs::metadata(&path).unwrap().len() < 64 << 20;
            if path.extension().is_some_and(|e| e == "cwasm") && small {
                std::fs::copy(&path, modules.join(path.file_name().unwrap())).unwrap();
            }
        }
        home
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn modules(&self) -> PathBuf {
        self.path().join("cache/modules")
    }

    fn db(&self) -> PathBuf {
        self.path().join("skiff.db")
    }

    fn skiff(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_skiff"))
            .args(args)
            .env("SKIFF_HOME", self.path())
            .current_dir(repo())
            .output()
            .unwrap()
    }

    /// `skiff ARGS` that must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.skiff(args);
        assert!(
            out.status.success(),
            "skiff {args:?} failed ({:?})\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            stdout(&out),
            stderr(&out)
        );
        stdout(&out)
    }
}

/// The compiled modules in `dir`, with their contents.
fn cached(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_damaged_module_cache_entry_is_detected_and_rebuilt() {
    let home = Home::with_module_cache();
    home.ok(&["submit", "examples/hello-world.yaml", "--wait"]);
    let good = cached(&home.modules());
    assert!(!good.is_empty(), "no compiled module was cached");
    type Damage = fn(&[u8]) -> Vec<u8>;
    let damages: [(&str, Damage); 4] = [
        ("truncated to half", |b| b[..b.len() / 2].to_vec()),
        ("emptied", |_| Vec::new()),
        ("header overwritten", |b| {
            let mut b = b.to_vec();
            b[..64].fill(0xa5);
            b
        }),
        ("replaced by text", |_| b"not a compiled module\n".to_vec()),
    ];
    for (what, damage) in damages {
        for (path, bytes) in &good {
            std::fs::write(path, damage(bytes)).unwrap();
        }
        let out = home.skiff(&["submit", "examples/hello-world.yaml", "--wait", "--log"]);
        let err = stderr(&out);
        assert!(
            out.status.success(),
            "{what}: the step failed\nstdout:\n{}\nstderr:\n{err}",
            stdout(&out)
        );
        assert!(
            stdout(&out).contains("hello world"),
            "{what}: {}",
            stdout(&out)
        );
        assert!(
            err.contains("compiled-module cache entry")
                && err.contains("compiling the module again"),
            "{what}: no warning that the entry was rebuilt:\n{err}"
        );
        assert!(!err.contains("panicked"), "{what}: {err}");
        // The entry that was used is whole again: wasmtime's output for the same module and engine.
        let rebuilt: Vec<_> = cached(&home.modules())
            .into_iter()
            .filter(|(p, _)| err.contains(&*p.to_string_lossy()))
            .collect();
        assert!(
            !rebuilt.is_empty(),
            "{what}: the warning names no cache file:\n{err}"
        );
        for (path, bytes) in rebuilt {
            let before = &good.iter().find(|(p, _)| *p == path).unwrap().1;
            assert_eq!(
                bytes.len(),
                before.len(),
                "{what}: {} was not rebuilt",
                path.display()
            );
        }
        // And it loads as it is now, with no warning.
        let again = home.skiff(&["submit", "examples/hello-world.yaml", "--wait"]);
        assert!(again.status.success(), "{what}: {}", stderr(&again));
        assert!(
            !stderr(&again).contains("cache entry"),
            "{what}: the rebuilt entry did not load: {}",
            stderr(&again)
        );
    }
}

/// Whether `unshare` can make a user and mount namespace and mount a tmpfs in it here. When it cannot,
/// the caller skips, except under `SKIFF_REQUIRE_FAULTS`.
fn can_mount_tmpfs() -> bool {
    let dir = tempfile::tempdir().unwrap();
    let ok = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c"])
        .arg(r#"mount -t tmpfs -o size=1m tmpfs "$1""#)
        .arg("sh")
        .arg(dir.path())
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok || std::env::var_os("SKIFF_REQUIRE_FAULTS").is_none(),
        "SKIFF_REQUIRE_FAULTS is set but `unshare --user --map-root-user --mount` cannot mount a tmpfs here"
    );
    if !ok {
        eprintln!("skipped: `unshare --user --map-root-user --mount` cannot mount a tmpfs here");
    }
    ok
}

#[test]
fn a_full_disk_while_saving_an_artifact_fails_that_step_and_loses_nothing_recorded() {
    if !can_mount_tmpfs() {
        return;
    }
    let home = Home::with_module_cache();
    let artifacts = home.path().join("artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    // The artifact folder is a 4 MiB tmpfs, seen only by this skiff; the database and the module cache
    // stay on the real disk. The big step leaves about 15 MB.
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c"])
        .arg(concat!(
            r#"mount -t tmpfs -o size=4m tmpfs "$1" || exit 99; "$2" submit "$3" --wait -o json; "#,
            // The small step's artifact, read before the tmpfs goes away with the namespace.
            r#"rc=$?; printf 'kept artifact: %s\n' "$(cat "$1"/*/*/kept)" >&2; exit $rc"#
        ))
        .arg("sh")
        .arg(&artifacts)
        .arg(env!("CARGO_BIN_EXE_skiff"))
        .arg("tests/faults/full-disk.yaml")
        .env("SKIFF_HOME", home.path())
        .current_dir(repo())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the run should fail\nstdout:\n{}\nstderr:\n{err}",
        stdout(&out)
    );
    assert!(!err.contains("panicked"), "{err}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let name = doc["metadata"]["name"].as_str().unwrap().to_string();
    // A step in Error makes the run Error, as in Argo.
    assert_eq!(doc["status"]["phase"], "Error", "{doc:#}");

    // The big step failed, saying which artifact and why.
    let big = common::node(&doc, "big");
    assert_eq!(big["phase"], "Error", "{big:#}");
    let message = big["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("cannot save output artifact 'big'")
            && message.to_lowercase().contains("no space left on device"),
        "{message}"
    );
    // The step before it kept its artifact record, the exit handler ran.
    let small = common::node(&doc, "small");
    assert_eq!(small["phase"], "Succeeded", "{small:#}");
    assert_eq!(
        small["outputs"]["artifacts"][0]["name"], "kept",
        "{small:#}"
    );
    assert!(err.contains("kept artifact: kept\n"), "{err}");
    let after = doc["status"]["nodes"]
        .as_object()
        .unwrap()
        .values()
        .find(|n| n["displayName"] == format!("{name}.onExit") || n["templateName"] == "after")
        .unwrap_or_else(|| panic!("no exit handler node: {doc:#}"));
    assert_eq!(after["phase"], "Succeeded", "{after:#}");

    // What was recorded reads back from the database, outside the namespace.
    let listed = home.ok(&["list"]);
    assert!(
        listed.contains(&name) && listed.contains("Error"),
        "{listed}"
    );
    let got = home.ok(&["get", &name, "-o", "json"]);
    assert!(got.contains("No space left on device"), "{got}");
    let logs = home.ok(&["logs", &name, "--no-prefix"]);
    for line in [
        "small step ran",
        "big step ran",
        "exit handler ran after Error",
    ] {
        assert!(logs.contains(line), "logs lack {line:?}:\n{logs}");
    }
}

/// `skiff list`, `get` and `submit` against a damaged database: each exits 3 with a message that names the
/// database and says what to do, and none panics.
fn every_command_is_a_clear_error(home: &Home, damage: &str) {
    for args in [
        vec!["list"],
        vec!["get", "@latest"],
        vec!["get", "some-run"],
        vec!["submit", "examples/hello-world.yaml", "--wait"],
    ] {
        let out = home.skiff(&args);
        let err = stderr(&out);
        assert_eq!(
            out.status.code(),
            Some(3),
            "{damage}: skiff {args:?}:\n{err}"
        );
        assert!(
            !err.contains("panicked"),
            "{damage}: skiff {args:?}:\n{err}"
        );
        assert!(err.contains("skiff.db"), "{damage}: skiff {args:?}:\n{err}");
        assert!(err.contains("help: "), "{damage}: skiff {args:?}:\n{err}");
        assert!(
            stdout(&out).is_empty(),
            "{damage}: skiff {args:?}: {}",
            stdout(&out)
        );
    }
}

#[test]
fn a_database_that_is_not_sqlite_is_a_clear_error() {
    let home = Home::new();
    std::fs::write(
        home.db(),
        b"this is not a database, only a text file\n".repeat(200),
    )
    .unwrap();
    every_command_is_a_clear_error(&home, "text");
    let mut garbage = vec![0u8; 8192];
    for (i, b) in garbage.iter_mut().enumerate() {
        *b = (i * 31 % 251) as u8;
    }
    std::fs::write(home.db(), garbage).unwrap();
    every_command_is_a_clear_error(&home, "garbage bytes");
}

#[test]
fn a_database_that_cannot_be_opened_is_a_clear_error() {
    // Root ignores file permissions, so a folder stands where the file should be: as unreadable to
    // SQLite as a file with mode 000 is to anyone else.
    let home = Home::new();
    std::fs::create_dir_all(home.db().join("inside")).unwrap();
    every_command_is_a_clear_error(&home, "a folder");
}

#[test]
fn a_database_cut_off_mid_page_is_a_clear_error() {
    let home = Home::with_module_cache();
    // Enough runs that the database spans many pages.
    for _ in 0..3 {
        home.ok(&["submit", "tests/runs/fan-out.yaml", "--wait"]);
    }
    let before = home.ok(&["list"]);
    assert_eq!(before.lines().count(), 4, "{before}");
    // The last process checkpointed its write-ahead log into the file when it closed the database.
    let len = std::fs::metadata(home.db()).unwrap().len();
    assert!(len > 16 * 4096, "a small database: {len} bytes");
    for cut in [len / 2 + 1000, 4096 + 100, 50] {
        let bytes = std::fs::read(home.db()).unwrap();
        std::fs::write(home.db(), &bytes[..usize::try_from(cut).unwrap()]).unwrap();
        for extra in ["skiff.db-wal", "skiff.db-shm"] {
            let _ = std::fs::remove_file(home.path().join(extra));
        }
        for args in [vec!["list"], vec!["get", "@latest"]] {
            let out = home.skiff(&args);
            let err = stderr(&out);
            assert!(
                !err.contains("panicked"),
                "cut at {cut}: skiff {args:?}:\n{err}"
            );
            if !out.status.success() {
                assert_eq!(out.status.code(), Some(3), "cut at {cut}: {args:?}:\n{err}");
                assert!(err.contains("skiff.db"), "cut at {cut}: {args:?}:\n{err}");
            }
        }
    }
    // Cut inside the header, the file is no database at all.
    every_command_is_a_clear_error(&home, "cut at 50 bytes");
}
