//! A `skiff server` process for the client tests (`server_remote.rs`, `server_hera.rs`): started on a free
//! port (`--port 0`) over a fresh `SKIFF_HOME` that shares the test home's compiled-module cache, and
//! killed when dropped. Included with `#[path]` by the tests that use it, beside `mod common;`.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the helpers"
)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A running server.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`, as the server printed it.
    pub url: String,
    /// Its `SKIFF_HOME`.
    pub home: tempfile::TempDir,
    log: PathBuf,
}

/// A fresh `SKIFF_HOME` under the target's temp dir whose `cache/` is the shared test home's.
pub fn fresh_home(prefix: &str) -> tempfile::TempDir {
    let shared = crate::common::home().join("cache");
    std::fs::create_dir_all(&shared).unwrap();
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    std::os::unix::fs::symlink(&shared, dir.path().join("cache")).unwrap();
    dir
}

impl Server {
    /// Starts `skiff server --port 0 EXTRA...` and waits for its first line,
    /// `skiff server listening on http://ADDR:PORT`.
    pub fn start(extra: &[&str]) -> Self {
        let home = fresh_home("server-");
        let log = home.path().join("server.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_skiff"))
            .args(["server", "--port", "0"])
            .args(extra)
            .env("SKIFF_HOME", home.path())
            .env_remove("ARGO_SERVER")
            .env_remove("ARGO_TOKEN")
            .current_dir(crate::common::repo())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        let _ = stdout.read_line(&mut first);
        let Some(url) = first
            .trim()
            .strip_prefix("skiff server listening on ")
            .map(str::to_string)
        else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`skiff server` did not say where it listens; first line {first:?}, stderr:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        // Keep reading its stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = stdout.read_to_end(&mut sink);
        });
        Self {
            child,
            url,
            home,
            log,
        }
    }

    /// The home's path.
    pub fn home_path(&self) -> &Path {
        self.home.path()
    }

    /// What the server wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
