//! The web UI end to end: a real `skiff server` (with a token), driven by headless Chromium through
//! `tests/ui/submit_and_watch.mjs`, which submits a workflow on the submit page, waits for the graph to turn
//! green, opens a step's logs and saves screenshots to `target/ui-screenshots/`.
//!
//! `tests/ui/graph.test.mjs` (the graph layout and the YAML printer, in plain Node) runs here too.
//!
//! It needs `node`, the npm packages of `tests/ui` (`npm ci --prefix tests/ui`) and Debian's `chromium`;
//! `scripts/install-test-deps.sh` installs all three. Without them the test says it skipped, unless
//! `SKIFF_REQUIRE_BROWSER` is set (CI sets it), which makes a missing piece a failure.

mod common;
#[path = "common/server.rs"]
mod server;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::repo;
use server::Server;

/// The Chromium the script drives: `CHROMIUM`, else Debian's.
fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// Whether `node` runs.
fn has_node() -> bool {
    Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success())
}

/// What is missing to run the browser test, if anything.
fn missing() -> Option<String> {
    if !has_node() {
        return Some("`node` is not on PATH".into());
    }
    if !repo()
        .join("tests/ui/node_modules/playwright-core/package.json")
        .exists()
    {
        return Some("tests/ui/node_modules has no playwright-core".into());
    }
    let browser = chromium();
    if !browser.exists() {
        return Some(format!("{} does not exist", browser.display()));
    }
    None
}

/// Whether to run: `false` (after saying so loudly) to skip; panics under `SKIFF_REQUIRE_BROWSER`.
fn browser_available() -> bool {
    let Some(why) = missing() else {
        return true;
    };
    let why = format!(
        "{why}; run `bash scripts/install-test-deps.sh` (it runs `apt-get install -y chromium` and \
         `npm ci --prefix tests/ui`)"
    );
    assert!(
        std::env::var_os("SKIFF_REQUIRE_BROWSER").is_none(),
        "SKIFF_REQUIRE_BROWSER is set but {why}"
    );
    eprintln!("\n*** skipped: the browser test of the web UI: {why} ***\n");
    false
}

/// Asserts that `path` is a non-empty PNG file.
fn assert_png(path: &Path) {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("no screenshot {}: {e}", path.display()));
    assert!(
        bytes.len() > 1000 && bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG screenshot ({} bytes)",
        path.display(),
        bytes.len()
    );
}

#[test]
fn the_ui_submits_a_workflow_shows_its_graph_turn_green_and_its_logs() {
    if !browser_available() {
        return;
    }
    let token = "ui-test-token";
    let server = Server::start(&["--auth-token", token]);
    let shots = repo().join("target/ui-screenshots");
    let _ = std::fs::remove_dir_all(&shots);

    let out = Command::new("node")
        .arg(repo().join("tests/ui/submit_and_watch.mjs"))
        .arg(&server.url)
        .arg(&shots)
        .env("SKIFF_TOKEN", token)
        .env("CHROMIUM", chromium())
        .current_dir(repo())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the browser test failed ({}); screenshots in {}\nstdout:\n{stdout}\nstderr:\n{stderr}\nserver log:\n{}",
        out.status,
        shots.display(),
        server.log()
    );
    for name in ["1-submit", "2-list", "3-graph", "4-logs", "5-yaml"] {
        assert_png(&shots.join(format!("{name}.png")));
    }
}

#[test]
fn the_graph_layout_and_the_yaml_printer_pass_their_node_tests() {
    if !has_node() {
        assert!(
            std::env::var_os("SKIFF_REQUIRE_BROWSER").is_none(),
            "SKIFF_REQUIRE_BROWSER is set but `node` is not on PATH"
        );
        eprintln!("\n*** skipped: the web UI's node tests: `node` is not on PATH ***\n");
        return;
    }
    let out = Command::new("node")
        .args(["--test", "tests/ui/graph.test.mjs"])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "node --test tests/ui/graph.test.mjs failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
