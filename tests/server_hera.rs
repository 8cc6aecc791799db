//! Hera, a client nobody here wrote, against a running `skiff server`: `tests/hera/hello.py` builds a DAG
//! with Hera's Python API, creates it through the Argo Server API with a bearer token, polls it until it
//! succeeds and checks an output parameter and a result.
//!
//! Hera lives in a virtual environment that `scripts/install-test-deps.sh` makes (`SKIFF_TEST_VENV`, else
//! `target/test-venv`). Without it the test says it skipped, unless `SKIFF_REQUIRE_CLIENTS` is set (CI
//! sets it), which makes a missing Hera a failure.

mod common;
#[path = "common/server.rs"]
mod server;

use std::path::PathBuf;
use std::process::Command;

use common::repo;
use server::Server;

/// The venv's python when Hera imports in it; `None` (after saying so) to skip.
fn hera_python() -> Option<PathBuf> {
    let venv = std::env::var_os("SKIFF_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/test-venv"));
    let venv = if venv.is_absolute() {
        venv
    } else {
        repo().join(venv)
    };
    let python = venv.join("bin/python");
    let imports = python.is_file()
        && Command::new(&python)
            .args(["-c", "import hera.workflows"])
            .output()
            .is_ok_and(|o| o.status.success());
    if imports {
        return Some(python);
    }
    let why = format!(
        "Hera is not installed in {} (run scripts/install-test-deps.sh)",
        venv.display()
    );
    assert!(
        std::env::var_os("SKIFF_REQUIRE_CLIENTS").is_none(),
        "SKIFF_REQUIRE_CLIENTS is set but {why}"
    );
    eprintln!("\n*** skipped: {why} ***\n");
    None
}

#[test]
fn hera_creates_a_workflow_and_waits_for_it_to_succeed() {
    let Some(python) = hera_python() else {
        return;
    };
    let token = "hera-test-token";
    let server = Server::start(&["--auth-token", token]);
    let out = Command::new(&python)
        .arg(repo().join("tests/hera/hello.py"))
        .arg(&server.url)
        .arg(token)
        // The server is on this machine: no proxy from the environment may stand in between.
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .current_dir(repo())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "hello.py failed ({})\nstdout:\n{stdout}\nstderr:\n{}\nserver log:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
    assert!(
        stdout.contains("Succeeded, loud='HELLO HERA'"),
        "stdout:\n{stdout}"
    );
}
