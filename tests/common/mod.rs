//! Helpers shared by the end-to-end tests.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the helpers"
)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A `SKIFF_HOME` shared by the tests of one build, so the toolbox is compiled once and then loaded from the
/// module cache.
pub fn home() -> PathBuf {
    let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join("skiff-test-home");
    std::fs::create_dir_all(&home).unwrap();
    home
}

/// `skiff ARGS...` with the shared home, run from the repository root.
pub fn skiff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_skiff"))
        .args(args)
        .env("SKIFF_HOME", home())
        .current_dir(repo())
        .output()
        .unwrap()
}

/// stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs a workflow with `--wait -o json` and returns the exit code and the workflow's status document.
pub fn run_json(file: &str, extra: &[&str]) -> (i32, serde_json::Value, Output) {
    let mut args = vec!["submit", file, "--wait", "-o", "json"];
    args.extend_from_slice(extra);
    let out = skiff(&args);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON from skiff ({e}); stdout:\n{}\nstderr:\n{}",
            stdout(&out),
            stderr(&out)
        )
    });
    (out.status.code().unwrap_or(-1), doc, out)
}

/// The nodes of a status document whose display name is `name`.
pub fn nodes_named<'a>(doc: &'a serde_json::Value, name: &str) -> Vec<&'a serde_json::Value> {
    doc["status"]["nodes"]
        .as_object()
        .unwrap()
        .values()
        .filter(|n| n["displayName"] == name)
        .collect()
}

/// The one node of a status document whose display name is `name`.
pub fn node<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    let found = nodes_named(doc, name);
    assert_eq!(
        found.len(),
        1,
        "expected one node named {name}, got {found:?}"
    );
    found[0]
}

/// The value of output parameter `param` of the node named `name`.
pub fn output_param(doc: &serde_json::Value, name: &str, param: &str) -> String {
    node(doc, name)["outputs"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == param)
        .unwrap()["value"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The shared conformance folder (`SKIFF_CONFORMANCE_DIR`, else `../shared/conformance` beside the
/// repository) when it holds `marker`. `None` skips the caller's test, except where CI sets
/// `SKIFF_REQUIRE_CONFORMANCE`, which makes a missing folder a failure.
pub fn conformance_dir(marker: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("SKIFF_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/conformance"));
    if dir.join(marker).is_file() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("SKIFF_REQUIRE_CONFORMANCE").is_none(),
        "SKIFF_REQUIRE_CONFORMANCE is set but {} has no {marker}",
        dir.display()
    );
    None
}

/// Runs `file` with `--wait -o json` until it ends in phase `want`, at most `attempts` times (for
/// workflows that are random by design), stopping early when a node is in `Error`: skiff's own failure,
/// never the program's. Returns the last run's status document, output and phase, and the number of runs.
pub fn run_until(
    file: &Path,
    want: &str,
    attempts: usize,
) -> (serde_json::Value, Output, String, usize) {
    let mut runs = 0;
    loop {
        runs += 1;
        let (_, doc, out) = run_json(file.to_str().unwrap(), &[]);
        let got = doc["status"]["phase"].as_str().unwrap_or("?").to_string();
        let errored = doc["status"]["nodes"]
            .as_object()
            .into_iter()
            .flat_map(|n| n.values())
            .any(|n| n["phase"] == "Error");
        if got == want || runs >= attempts || errored {
            return (doc, out, got, runs);
        }
    }
}
