//! The CLI in remote mode: `skiff --server URL ...` from an empty `SKIFF_HOME` against a running
//! `skiff server`, printing what the local commands print about the server's runs.

mod common;
#[path = "common/server.rs"]
mod server;

use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use common::{repo, stderr, stdout};
use server::{Server, fresh_home};

/// A client with its own empty home, talking to one server.
struct Client {
    home: tempfile::TempDir,
    url: String,
    namespace: &'static str,
}

impl Client {
    fn new(url: &str) -> Self {
        Self {
            home: tempfile::Builder::new()
                .prefix("client-")
                .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
                .unwrap(),
            url: url.to_string(),
            namespace: "default",
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_skiff"));
        cmd.arg("--server")
            .arg(&self.url)
            .args(args)
            .env("SKIFF_HOME", self.home.path())
            .env("ARGO_NAMESPACE", self.namespace)
            .env_remove("ARGO_SERVER")
            .env_remove("ARGO_TOKEN")
            .current_dir(repo())
            .timeout(Duration::from_secs(120));
        cmd
    }

    fn skiff(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs and expects exit 0; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.skiff(args);
        assert!(
            out.status.success(),
            "skiff --server {} {args:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
            self.url,
            out.status,
            stdout(&out),
            stderr(&out)
        );
        stdout(&out)
    }

    fn json(&self, name: &str) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["get", name, "-o", "json"])).unwrap()
    }

    /// Nothing was written locally: the commands went to the server.
    fn assert_untouched(&self) {
        assert!(
            !self.home.path().join("skiff.db").exists(),
            "remote mode opened a local store"
        );
    }
}

/// `skiff get NAME` run here on the server's own home: the local rendering to compare with.
fn local_get(server: &Server, name: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_skiff"))
        .args(["get", name])
        .env("SKIFF_HOME", server.home_path())
        .env_remove("ARGO_SERVER")
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

/// A `get` picture without what may differ between renderings of the same run: durations (the API's
/// times are whole seconds) and the column padding they cause.
fn shape(text: &str) -> Vec<String> {
    let duration = regex::Regex::new(r"^\d+(µs|ms|s|m\d+s|h\d+m)$").unwrap();
    text.lines()
        .filter(|l| !l.starts_with("Duration:"))
        .map(|l| {
            l.split_whitespace()
                .filter(|w| !duration.is_match(w))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

fn node_phase(doc: &serde_json::Value, display: &str) -> Option<String> {
    doc["status"]["nodes"]
        .as_object()?
        .values()
        .find(|n| n["displayName"] == display)
        .and_then(|n| n["phase"].as_str())
        .map(str::to_string)
}

#[test]
fn submit_list_get_logs_and_delete_go_through_the_server() {
    let server = Server::start(&[]);
    let client = Client::new(&server.url);

    let out = client.ok(&[
        "submit",
        "tests/runs/two-steps.yaml",
        "-p",
        "nap=0",
        "--wait",
    ]);
    assert!(out.contains("Succeeded"), "{out}");
    let name = out
        .lines()
        .find_map(|l| l.strip_prefix("Name:"))
        .map(|n| n.trim().to_string())
        .unwrap_or_else(|| panic!("no Name: line in\n{out}"));

    let listed = client.ok(&["list"]);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with(&name) && l.contains("Succeeded")),
        "{listed}"
    );
    assert!(
        client
            .ok(&["list", "-o", "name"])
            .lines()
            .any(|l| l == name)
    );
    assert!(
        !client
            .ok(&["list", "--status", "Failed", "-o", "name"])
            .contains(&name)
    );

    // The tree over the API is the one `get` draws from the server's own store.
    let remote = client.ok(&["get", &name]);
    assert_eq!(
        shape(&remote),
        shape(&local_get(&server, &name)),
        "{remote}"
    );
    assert!(
        remote.contains("✔ quick") && remote.contains("✔ slow"),
        "{remote}"
    );
    assert_eq!(client.ok(&["get", "@latest", "-o", "name"]).trim(), name);
    let doc = client.json(&name);
    assert_eq!(doc["status"]["phase"], "Succeeded");
    assert_eq!(node_phase(&doc, "slow").as_deref(), Some("Succeeded"));

    let logs = client.ok(&["logs", &name]);
    assert!(
        logs.contains("quick done") && logs.contains("slow done"),
        "{logs}"
    );
    let slow = client.ok(&["logs", &name, "slow", "--no-prefix"]);
    assert!(
        slow.contains("slow started") && !slow.contains("quick done"),
        "{slow}"
    );
    let grepped = client.ok(&["logs", &name, "--grep", "slow d"]);
    assert!(
        grepped.contains("slow done") && !grepped.contains("slow started"),
        "{grepped}"
    );
    assert_eq!(
        client.ok(&["wait", &name]).split_whitespace().nth(1),
        Some("Succeeded")
    );

    let deleted = client.ok(&["delete", &name]);
    assert!(
        deleted.contains(&format!("Workflow '{name}' deleted")),
        "{deleted}"
    );
    let gone = client.skiff(&["get", &name]);
    assert_eq!(gone.status.code(), Some(2), "{}", stderr(&gone));
    assert!(stderr(&gone).contains(&name), "{}", stderr(&gone));
    client.assert_untouched();
}

#[test]
fn a_stopped_run_is_retried_through_the_server() {
    let server = Server::start(&[]);
    let client = Client::new(&server.url);
    // Without --wait, submit returns once the server has the run.
    let name = client
        .ok(&[
            "submit",
            "tests/runs/two-steps.yaml",
            "-p",
            "nap=3",
            "-o",
            "name",
        ])
        .trim()
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    while node_phase(&client.json(&name), "slow").as_deref() != Some("Running") {
        assert!(Instant::now() < deadline, "slow never ran");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(client.ok(&["stop", &name]).contains("stopped"));
    let waited = client.skiff(&["wait", &name]);
    assert_eq!(waited.status.code(), Some(1), "{}", stderr(&waited));
    assert!(stdout(&waited).contains("Failed"), "{}", stdout(&waited));

    let retried = client.ok(&["retry", &name, "--wait", "-o", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&retried).unwrap();
    assert_eq!(doc["status"]["phase"], "Succeeded", "{retried}");
    assert_eq!(doc["metadata"]["name"], name.as_str());
    client.assert_untouched();
}

#[test]
fn a_bad_workflow_is_refused_with_its_line_and_column() {
    let server = Server::start(&[]);
    let client = Client::new(&server.url);
    for cmd in ["submit", "lint"] {
        let out = client.skiff(&[cmd, "tests/bad-input/unknown-template.yaml"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {err}");
        assert!(err.contains(":11:23:"), "{cmd}: {err}");
        assert!(err.contains("print-mesage"), "{cmd}: {err}");
    }
    let listed = client.ok(&["list", "-o", "name"]);
    assert!(listed.trim().is_empty(), "{listed}");
    client.assert_untouched();
}

#[test]
fn a_server_that_is_not_there_is_named() {
    let client = Client::new("http://127.0.0.1:1");
    let out = client.skiff(&["list"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot reach skiff server at http://127.0.0.1:1"),
        "{err}"
    );
    assert!(err.contains("is `skiff server` running?"), "{err}");
}

#[test]
fn a_token_is_required_when_the_server_has_one() {
    let server = Server::start(&["--auth-token", "s3cret"]);
    let client = Client::new(&server.url);
    let out = client.skiff(&["list"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("401"), "{}", stderr(&out));
    assert!(stderr(&out).contains("--token"), "{}", stderr(&out));
    let wrong = client.skiff(&["--token", "nope", "list"]);
    assert_eq!(wrong.status.code(), Some(2), "{}", stderr(&wrong));
    client.ok(&["--token", "s3cret", "list"]);
    let out = client
        .command(&["list"])
        .env("ARGO_TOKEN", "Bearer s3cret")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn local_only_commands_say_so() {
    let home = fresh_home("client-cp-");
    let out = Command::new(env!("CARGO_BIN_EXE_skiff"))
        .args(["cp", "some-run", "out"])
        .env("ARGO_SERVER", "127.0.0.1:1")
        .env("SKIFF_HOME", home.path())
        .current_dir(repo())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("local-only"), "{}", stderr(&out));
}
