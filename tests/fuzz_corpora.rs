//! Replays the fuzz corpora (`fuzz/corpus/<target>/`) and the inputs that once crashed a target
//! (`fuzz/regressions/<target>/`) through the same entry points the fuzz targets call
//! ([`skiff::fuzzing`]), so that `cargo test` keeps every input the fuzzer found interesting from panicking
//! again, without cargo-fuzz or a nightly toolchain. `fuzz/README.md` says how to run the fuzzers.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files of `fuzz/<kind>/<target>/`, sorted; none when the folder does not exist.
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = fuzz_dir().join(kind).join(target);
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("read a corpus entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs every corpus and regression input of `target` through `run`, and fails naming each input that
/// panics. The corpus must not be empty.
fn replay(target: &str, run: fn(&[u8])) {
    let corpus = inputs("corpus", target);
    assert!(
        !corpus.is_empty(),
        "fuzz/corpus/{target}/ is empty: regenerate it with `python3 fuzz/seeds/make_seeds.py`"
    );
    let files: Vec<PathBuf> = corpus
        .into_iter()
        .chain(inputs("regressions", target))
        .collect();
    // A thread with a large stack: the fuzzers run inputs on the main thread (8 MiB) in an optimized
    // build, and a debug build's frames are several times larger.
    let failed = std::thread::Builder::new()
        .name(format!("replay-{target}"))
        .stack_size(32 << 20)
        .spawn(move || replay_files(&files, run))
        .expect("spawn the replay thread")
        .join()
        .expect("the replay thread ends");
    assert!(
        failed.is_empty(),
        "{} inputs of the `{target}` fuzz target panic:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

/// Runs each file through `run`; returns `file: message` for each that panics.
fn replay_files(files: &[PathBuf], run: fn(&[u8])) -> Vec<String> {
    let mut failed = Vec::new();
    for file in files {
        let data = match fs::read(file) {
            Ok(data) => data,
            // A fuzzer running on the corpus meanwhile replaces files as it shrinks them.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("cannot read {}: {e}", file.display()),
        };
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| run(&data))) {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_string()))
                .unwrap_or_default();
            failed.push(format!("{}: {message}", file.display()));
        }
    }
    failed
}

#[test]
fn workflow_corpus_replays() {
    replay("workflow", skiff::fuzzing::workflow);
}

#[test]
fn expr_corpus_replays() {
    replay("expr", skiff::fuzzing::expr);
}

#[test]
fn kfp_corpus_replays() {
    replay("kfp", skiff::fuzzing::kfp);
}

#[test]
fn shell_corpus_replays() {
    replay("shell", skiff::fuzzing::shell);
}

#[test]
fn component_corpus_replays() {
    replay("component", skiff::fuzzing::component);
}
