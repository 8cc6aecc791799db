//! Runs that last: the store and the argo-like commands around it (`list`, `get`, `logs`, `delete`,
//! `retry`, `resubmit`, `stop`, `terminate`, `wait`, `watch`, `cp`), memoization, and the faults a run
//! must survive (SIGKILL, Ctrl-C, two processes on one database), all through the `skiff` binary.

mod common;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use skiff::engine::{NodeStatus, NodeType};
use skiff::spec::NodePhase;
use skiff::store::{RunRecord, Store};

use common::{repo, stderr, stdout};

/// A fresh `SKIFF_HOME` (its own database) that shares the compiled-module cache of the test home.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Self {
        let shared = common::home().join("cache");
        std::fs::create_dir_all(&shared).unwrap();
        let dir = tempfile::Builder::new()
            .prefix("runs-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap();
        std::os::unix::fs::symlink(&shared, dir.path().join("cache")).unwrap();
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_skiff"));
        cmd.args(args)
            .env("SKIFF_HOME", self.path())
            .current_dir(repo());
        cmd
    }

    fn skiff(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
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

    /// Starts `skiff ARGS` in the background.
    fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn store(&self) -> Store {
        Store::open(&Store::path_in(self.path())).unwrap()
    }

    /// The newest run's name, once there is one.
    fn latest(&self) -> String {
        wait_for("a run to be recorded", || self.store().latest().unwrap())
    }

    fn record(&self, name: &str) -> (RunRecord, Vec<NodeStatus>) {
        let store = self.store();
        (store.run(name).unwrap(), store.nodes(name).unwrap())
    }
}

/// Polls `f` every 50 ms until it gives something, for at most 60 s.
fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn node<'a>(nodes: &'a [NodeStatus], display: &str) -> &'a NodeStatus {
    let found: Vec<&NodeStatus> = nodes.iter().filter(|n| n.display_name == display).collect();
    assert_eq!(found.len(), 1, "one node {display} in {nodes:#?}");
    found[0]
}

/// Waits until the run's node `display` is running.
fn wait_running(home: &Home, run: &str, display: &str) {
    wait_for(&format!("{display} to run"), || {
        let nodes = home.store().nodes(run).ok()?;
        nodes
            .iter()
            .any(|n| n.display_name == display && n.phase == NodePhase::Running)
            .then_some(())
    });
}

fn finish(child: Child) -> Output {
    child.wait_with_output().unwrap()
}

#[test]
fn a_run_is_recorded_with_its_nodes_and_logs_and_read_back_by_list_get_and_logs() {
    let home = Home::new();
    home.ok(&["submit", "tests/runs/two-steps.yaml", "-p", "nap=0"]);
    let name = home.latest();
    let (record, nodes) = home.record(&name);
    assert_eq!(record.summary.phase, NodePhase::Succeeded);
    assert_eq!(record.summary.progress, (3, 3));
    assert_eq!(record.parameters, [("nap".to_string(), "0".to_string())]);
    assert!(record.spec.contains("generateName: two-steps-"));
    let quick = node(&nodes, "quick");
    assert_eq!(quick.outputs.result.as_deref(), Some("quick done"));
    assert_eq!(
        quick.inputs,
        [("msg".to_string(), "quick done".to_string())]
    );
    assert_eq!(quick.outputs.exit_code, Some(0));
    assert!(quick.started_at.is_some() && quick.finished_at.is_some());
    assert_eq!(quick.executor.as_deref(), Some("toolbox"));

    // generateName: the prefix and five characters.
    assert!(name.starts_with("two-steps-") && name.len() == "two-steps-".len() + 5);

    let list = home.ok(&["list"]);
    let mut lines = list.lines();
    let head = lines.next().unwrap();
    for column in ["NAME", "STATUS", "AGE", "DURATION", "PRIORITY", "MESSAGE"] {
        assert!(head.contains(column), "{list}");
    }
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with(&format!("{name}   Succeeded")),
        "{list}"
    );
    assert_eq!(home.ok(&["list", "-o", "name"]), format!("{name}\n"));
    assert_eq!(home.ok(&["list", "--status", "Failed", "-o", "name"]), "");
    assert_eq!(
        home.ok(&["list", "--prefix", "two-", "-o", "name"]),
        format!("{name}\n")
    );
    assert_eq!(home.ok(&["list", "--prefix", "nope", "-o", "name"]), "");
    assert_eq!(
        home.ok(&["list", "--since", "1h", "-o", "name"]),
        format!("{name}\n")
    );
    let json: serde_json::Value = serde_json::from_str(&home.ok(&["list", "-o", "json"])).unwrap();
    assert_eq!(json[0]["metadata"]["name"], name.as_str());
    assert_eq!(json[0]["status"]["phase"], "Succeeded");
    assert!(home.ok(&["list", "-o", "wide"]).contains("P/R/C"));

    let get = home.ok(&["get", &name]);
    assert!(
        get.contains(&format!("Name:                {name}")),
        "{get}"
    );
    assert!(get.contains("Status:              Succeeded"), "{get}");
    assert!(get.contains("Progress:            3/3"), "{get}");
    assert!(get.contains("├───✔ quick"), "{get}");
    assert!(get.contains("✔ slow"), "{get}");
    assert!(get.contains(&format!("✔ {name}.onExit")), "{get}");
    assert_eq!(home.ok(&["get", "@latest"]), home.ok(&["get", &name]));

    let json: serde_json::Value =
        serde_json::from_str(&home.ok(&["get", &name, "-o", "json"])).unwrap();
    let nodes_json = json["status"]["nodes"].as_object().unwrap();
    assert_eq!(nodes_json.len(), nodes.len());
    assert_eq!(nodes_json[&quick.id]["outputs"]["result"], "quick done");
    assert_eq!(nodes_json[&quick.id]["phase"], "Succeeded");
    assert_eq!(json["metadata"]["name"], name.as_str());
    let yaml = home.ok(&["get", &name, "-o", "yaml"]);
    assert!(yaml.contains("phase: Succeeded"), "{yaml}");

    let logs = home.ok(&["logs", &name]);
    assert!(
        logs.contains(&format!("{}: quick done\n", quick.id)),
        "{logs}"
    );
    assert!(logs.contains(": slow started\n"), "{logs}");
    assert!(logs.contains(": exit handler saw Succeeded\n"), "{logs}");
    let only = home.ok(&["logs", &name, "quick"]);
    assert_eq!(only, format!("{}: quick done\n", quick.id));
    assert_eq!(
        home.ok(&["logs", &name, &quick.id, "--no-prefix"]),
        "quick done\n"
    );
    let grep = home.ok(&["logs", &name, "--grep", "^slow", "--no-prefix"]);
    assert_eq!(grep, "slow started\nslow done\n");
    assert_eq!(
        home.ok(&["logs", &name, "--since", "1h", "quick", "--no-prefix"]),
        "quick done\n"
    );
    let bad = home.skiff(&["logs", &name, "no-such-step"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("no step 'no-such-step'"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn unknown_runs_and_bad_filters_are_clear_errors() {
    let home = Home::new();
    for args in [
        vec!["get", "ghost"],
        vec!["logs", "ghost"],
        vec!["delete", "ghost"],
        vec!["retry", "ghost"],
        vec!["stop", "ghost"],
    ] {
        let out = home.skiff(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("run 'ghost' not found"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    let out = home.skiff(&["get", "@latest"]);
    assert!(
        stderr(&out).contains("no runs are recorded yet"),
        "{}",
        stderr(&out)
    );
    let out = home.skiff(&["list", "--status", "Sleeping"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown phase 'Sleeping'"),
        "{}",
        stderr(&out)
    );
    let out = home.skiff(&["list", "--since", "yesterday"]);
    assert!(stderr(&out).contains("not a duration"), "{}", stderr(&out));
}

#[test]
fn a_fixed_name_that_is_taken_is_refused_as_argo_refuses_it() {
    let home = Home::new();
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join("fixed.yaml");
    std::fs::write(
        &wf,
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: fixed}\nspec:\n  entrypoint: a\n  templates:\n  - name: a\n    container: {image: alpine, command: [echo, hi]}\n",
    )
    .unwrap();
    let wf = wf.to_str().unwrap();
    home.ok(&["submit", wf]);
    let again = home.skiff(&["submit", wf]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("a run named 'fixed' already exists"),
        "{}",
        stderr(&again)
    );
    home.ok(&["delete", "fixed"]);
    home.ok(&["submit", wf]);
}

#[test]
fn delete_removes_runs_their_logs_and_artifacts() {
    let home = Home::new();
    home.ok(&["submit", "tests/runs/artifacts.yaml"]);
    let first = home.latest();
    home.ok(&["submit", "tests/runs/two-steps.yaml", "-p", "nap=0"]);
    let second = home.latest();
    assert_ne!(first, second);
    let artifacts = home.path().join("artifacts").join(&first);
    assert!(artifacts.is_dir());
    let out = home.ok(&["delete", &first]);
    assert_eq!(out, format!("Workflow '{first}' deleted\n"));
    assert!(!artifacts.exists());
    assert_eq!(home.ok(&["list", "-o", "name"]), format!("{second}\n"));
    assert!(home.store().logs(&first, None, 0).unwrap().is_empty());
    // `--older` spares the young; `--all` takes everything.
    home.ok(&["delete", "--older", "1h"]);
    assert_eq!(home.ok(&["list", "-o", "name"]), format!("{second}\n"));
    home.ok(&["delete", "--all"]);
    assert_eq!(home.ok(&["list", "-o", "name"]), "");
}

#[test]
fn cp_copies_a_runs_output_artifacts() {
    let home = Home::new();
    home.ok(&["submit", "tests/runs/artifacts.yaml"]);
    let name = home.latest();
    let out_dir = tempfile::tempdir().unwrap();
    let printed = home.ok(&["cp", &name, out_dir.path().to_str().unwrap()]);
    assert!(printed.contains("Stored artifact report"), "{printed}");
    let (_, nodes) = home.record(&name);
    let make = node(&nodes, "make");
    let base = out_dir
        .path()
        .join("default")
        .join(&name)
        .join(&make.id)
        .join("outputs");
    assert_eq!(
        std::fs::read_to_string(base.join("report")).unwrap(),
        "42\n"
    );
    assert_eq!(
        std::fs::read_to_string(base.join("folder/b.txt")).unwrap(),
        "b\n"
    );

    let flat = tempfile::tempdir().unwrap();
    home.ok(&[
        "cp",
        &name,
        flat.path().to_str().unwrap(),
        "--artifact-name",
        "report",
        "--path",
        "{templateName}/{artifactName}",
    ]);
    assert_eq!(
        std::fs::read_to_string(flat.path().join("make/report")).unwrap(),
        "42\n"
    );
    assert!(!flat.path().join("make/folder").exists());
    let escape = home.skiff(&[
        "cp",
        &name,
        flat.path().to_str().unwrap(),
        "--path",
        "../{artifactName}",
    ]);
    assert_eq!(escape.status.code(), Some(2));
}

#[test]
fn sigkill_leaves_an_interrupted_run_that_retry_finishes_without_rerunning_what_succeeded() {
    let home = Home::new();
    let child = home.spawn(&["submit", "tests/runs/two-steps.yaml"]);
    let name = home.latest();
    wait_running(&home, &name, "slow");
    // Killed mid-step: no chance to write anything more.
    let pid = child.id().to_string();
    let status = Command::new("kill").args(["-KILL", &pid]).status().unwrap();
    assert!(status.success());
    let killed = finish(child);
    assert!(!killed.status.success());

    let store = home.store();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    drop(store);

    // The next command finds the process gone and says so, rather than "Running" forever.
    let list = home.ok(&["list"]);
    assert!(list.contains("Error"), "{list}");
    assert!(list.contains("interrupted"), "{list}");
    let get = home.ok(&["get", &name]);
    assert!(get.contains("Status:              Error"), "{get}");
    assert!(
        get.contains(&format!("`skiff retry {name}` finishes it")),
        "{get}"
    );
    let (before, nodes_before) = home.record(&name);
    assert_eq!(before.summary.phase, NodePhase::Error);
    let quick_before = node(&nodes_before, "quick").clone();
    assert_eq!(quick_before.phase, NodePhase::Succeeded);
    assert_eq!(node(&nodes_before, "slow").phase, NodePhase::Error);
    let quick_logs = |store: &Store| {
        store
            .logs(&name, Some(&quick_before.id), 0)
            .unwrap()
            .into_iter()
            .map(|c| c.seq)
            .collect::<Vec<_>>()
    };
    let quick_log_before = quick_logs(&home.store());
    assert!(!quick_log_before.is_empty());

    let out = home.skiff(&["retry", &name, "--wait"]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let (after, nodes_after) = home.record(&name);
    assert_eq!(
        after.summary.phase,
        NodePhase::Succeeded,
        "{:?}",
        after.summary.message
    );
    assert_eq!(after.summary.message, None);
    // `quick` was not run again: the same node, times and log chunks as before.
    let quick_after = node(&nodes_after, "quick");
    assert_eq!(quick_after.started_at, quick_before.started_at);
    assert_eq!(quick_after.finished_at, quick_before.finished_at);
    assert_eq!(quick_logs(&home.store()), quick_log_before);
    // `slow` ran to its end, and the exit handler ran again.
    let slow = node(&nodes_after, "slow");
    assert_eq!(slow.phase, NodePhase::Succeeded);
    assert!(slow.started_at > quick_before.finished_at);
    let logs = home.ok(&["logs", &name, "--no-prefix"]);
    assert_eq!(logs.matches("quick done").count(), 1, "{logs}");
    assert!(logs.contains("slow done"), "{logs}");
    assert!(logs.contains("exit handler saw Succeeded"), "{logs}");
    assert_eq!(home.store().integrity_check().unwrap(), "ok");

    let again = home.skiff(&["retry", &name]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("nothing to retry"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn ctrl_c_stops_the_steps_runs_the_exit_handler_and_records_a_failure() {
    let home = Home::new();
    let child = home.spawn(&["submit", "tests/runs/two-steps.yaml", "-p", "nap=30"]);
    let name = home.latest();
    wait_running(&home, &name, "slow");
    let started = Instant::now();
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = finish(child);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the 30 s step was stopped"
    );
    assert!(stderr(&out).contains("stopping"), "{}", stderr(&out));
    let (record, nodes) = home.record(&name);
    assert_eq!(record.summary.phase, NodePhase::Failed);
    assert!(
        record
            .summary
            .message
            .as_deref()
            .unwrap()
            .contains("Ctrl-C"),
        "{:?}",
        record.summary.message
    );
    assert_eq!(node(&nodes, "slow").phase, NodePhase::Failed);
    let exit = node(&nodes, &format!("{name}.onExit"));
    assert_eq!(exit.phase, NodePhase::Succeeded);
    assert_eq!(
        exit.outputs.result.as_deref(),
        Some("exit handler saw Failed")
    );
}

#[test]
fn stop_and_terminate_from_another_process() {
    let home = Home::new();
    let child = home.spawn(&["submit", "tests/runs/two-steps.yaml", "-p", "nap=30"]);
    let name = home.latest();
    wait_running(&home, &name, "slow");
    assert_eq!(
        home.ok(&["stop", &name]),
        format!("workflow {name} stopped\n")
    );
    let out = finish(child);
    assert!(out.status.success(), "{}", stderr(&out));
    let (record, nodes) = home.record(&name);
    assert_eq!(record.summary.phase, NodePhase::Failed);
    assert_eq!(
        record.summary.message.as_deref(),
        Some("Stopped with strategy 'Stop'")
    );
    assert_eq!(
        node(&nodes, &format!("{name}.onExit")).phase,
        NodePhase::Succeeded
    );
    assert!(
        home.ok(&["stop", &name])
            .contains("has already ended (Failed)")
    );

    let child = home.spawn(&["submit", "tests/runs/two-steps.yaml", "-p", "nap=30"]);
    let second = wait_for("the second run", || {
        home.store().latest().unwrap().filter(|n| *n != name)
    });
    wait_running(&home, &second, "slow");
    home.ok(&["terminate", &second]);
    finish(child);
    let (record, nodes) = home.record(&second);
    assert_eq!(record.summary.phase, NodePhase::Failed);
    assert_eq!(
        record.summary.message.as_deref(),
        Some("Stopped with strategy 'Terminate'")
    );
    assert!(
        nodes.iter().all(|n| !n.name.ends_with(".onExit")),
        "terminate skips the exit handler: {nodes:#?}"
    );

    // `wait` on a run that failed exits 1.
    let out = home.skiff(&["wait", &second]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).starts_with(&format!("{second} Failed at ")));
}

#[test]
fn retry_of_a_stopped_run_keeps_the_steps_that_succeeded() {
    let home = Home::new();
    let child = home.spawn(&["submit", "tests/runs/two-steps.yaml", "-p", "nap=1"]);
    let name = home.latest();
    wait_running(&home, &name, "slow");
    home.ok(&["stop", &name]);
    finish(child);
    let (_, before) = home.record(&name);
    let quick = node(&before, "quick").clone();
    let out = home.ok(&["retry", &name, "--wait", "-o", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["status"]["phase"], "Succeeded");
    let (_, after) = home.record(&name);
    assert_eq!(node(&after, "quick").started_at, quick.started_at);
    assert_eq!(node(&after, "slow").phase, NodePhase::Succeeded);

    // --restart-successful with a selector runs the selected succeeded step again.
    let out = home.skiff(&[
        "retry",
        &name,
        "--restart-successful",
        "--node-field-selector",
        "displayName=quick",
        "--wait",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (_, again) = home.record(&name);
    assert!(node(&again, "quick").started_at > quick.started_at);
    assert_eq!(
        node(&again, "slow").started_at,
        node(&after, "slow").started_at
    );
}

#[test]
fn wait_and_watch_follow_a_run_another_process_runs() {
    let home = Home::new();
    let child = home.spawn(&["submit", "tests/runs/two-steps.yaml", "-p", "nap=1"]);
    let name = home.latest();
    let waited = home.ok(&["wait", &name]);
    assert!(
        waited.starts_with(&format!("{name} Succeeded at ")),
        "{waited}"
    );
    finish(child);
    let watched = home.ok(&["watch", &name]);
    assert!(
        watched.contains("Status:              Succeeded"),
        "{watched}"
    );
    assert!(watched.contains("✔ slow"), "{watched}");

    // `logs -f` prints lines as they come and ends with the run.
    let child = home.spawn(&["submit", "tests/runs/two-steps.yaml", "-p", "nap=2"]);
    let second = wait_for("the second run", || {
        home.store().latest().unwrap().filter(|n| *n != name)
    });
    let follow = home.spawn(&["logs", &second, "-f", "--no-prefix"]);
    let out = finish(follow);
    finish(child);
    let text = stdout(&out);
    assert!(text.contains("slow started\n"), "{text}");
    assert!(text.contains("slow done\n"), "{text}");
    assert!(text.contains("exit handler saw Succeeded\n"), "{text}");
}

#[test]
fn logs_are_in_the_store_while_the_step_still_runs() {
    let home = Home::new();
    let child = home.spawn(&["submit", "tests/runs/two-steps.yaml", "-p", "nap=30"]);
    let name = home.latest();
    wait_running(&home, &name, "slow");
    let (_, nodes) = home.record(&name);
    let slow = node(&nodes, "slow").id.clone();
    // `slow` printed its first line and is now asleep: the line is already stored.
    wait_for("the running step's first line", || {
        let chunks = home.store().logs(&name, Some(&slow), 0).unwrap();
        chunks
            .iter()
            .any(|c| c.data.starts_with(b"slow started"))
            .then_some(())
    });
    assert_eq!(
        home.ok(&["logs", &name, "slow", "--no-prefix"]),
        "slow started\n"
    );
    home.ok(&["terminate", &name]);
    finish(child);
}

#[test]
fn memoized_steps_reuse_their_outputs_and_say_so() {
    let home = Home::new();
    home.ok(&["submit", "tests/runs/memoized.yaml", "--wait"]);
    let first = home.latest();
    let (_, nodes) = home.record(&first);
    let square = node(&nodes, "square");
    assert_eq!(square.outputs.result.as_deref(), Some("49"));
    let memo = square.memoization.as_ref().unwrap();
    assert!(!memo.hit);
    assert_eq!(memo.key, "square-7");
    assert_eq!(memo.cache_name, "squares");

    home.ok(&["submit", "tests/runs/memoized.yaml", "--wait"]);
    let second = wait_for("the second run", || {
        home.store().latest().unwrap().filter(|n| *n != first)
    });
    let (_, nodes) = home.record(&second);
    let square = node(&nodes, "square");
    assert!(square.memoization.as_ref().unwrap().hit);
    assert_eq!(square.outputs.result.as_deref(), Some("49"));
    assert_eq!(
        node(&nodes, "show").outputs.result.as_deref(),
        Some("square is 49")
    );
    // It did not run: no log.
    assert!(
        home.store()
            .logs(&second, Some(&square.id), 0)
            .unwrap()
            .is_empty()
    );
    let get = home.ok(&["get", &second]);
    assert!(
        get.contains("memoized (cache squares, key square-7)"),
        "{get}"
    );

    // Another input misses.
    home.ok(&["submit", "tests/runs/memoized.yaml", "--wait", "-p", "n=3"]);
    let third = home.latest();
    let (_, nodes) = home.record(&third);
    let square = node(&nodes, "square");
    assert!(!square.memoization.as_ref().unwrap().hit);
    assert_eq!(square.outputs.result.as_deref(), Some("9"));
}

#[test]
fn resubmit_starts_a_new_run_and_memoized_reuses_what_succeeded() {
    let home = Home::new();
    home.ok(&["submit", "tests/runs/two-steps.yaml", "-p", "nap=0"]);
    let first = home.latest();
    home.ok(&["resubmit", &first, "--wait"]);
    let second = home.latest();
    assert_ne!(second, first);
    assert!(second.starts_with("two-steps-"), "{second}");
    let (record, nodes) = home.record(&second);
    assert_eq!(record.summary.phase, NodePhase::Succeeded);
    assert_eq!(record.parameters, [("nap".to_string(), "0".to_string())]);
    assert_eq!(node(&nodes, "quick").phase, NodePhase::Succeeded);
    assert!(home.store().logs(&second, None, 0).unwrap().len() >= 3);

    home.ok(&["resubmit", &first, "--memoized", "--wait"]);
    let third = home.latest();
    let (_, nodes) = home.record(&third);
    let (_, old) = home.record(&first);
    // Every step is reused from the first run (renamed into this one); only the exit handler ran.
    let quick = node(&nodes, "quick");
    assert_eq!(quick.started_at, node(&old, "quick").started_at);
    assert!(quick.name.starts_with(&third));
    assert_eq!(
        node(&nodes, &format!("{third}.onExit")).phase,
        NodePhase::Succeeded
    );
}

#[test]
fn two_processes_run_workflows_on_one_database_at_once() {
    let home = Home::new();
    let a = home.spawn(&["submit", "tests/runs/fan-out.yaml", "--wait"]);
    let b = home.spawn(&["submit", "tests/runs/fan-out.yaml", "--wait"]);
    let (a, b) = (finish(a), finish(b));
    assert!(a.status.success(), "{}", stderr(&a));
    assert!(b.status.success(), "{}", stderr(&b));
    let store = home.store();
    let runs = store.list(&Default::default()).unwrap();
    assert_eq!(runs.len(), 2);
    for run in &runs {
        assert_eq!(run.phase, NodePhase::Succeeded);
        assert_eq!(run.progress, (40, 40));
        let nodes = store.nodes(&run.name).unwrap();
        assert_eq!(
            nodes
                .iter()
                .filter(|n| n.node_type == NodeType::Pod)
                .count(),
            40
        );
        assert_eq!(store.logs(&run.name, None, 0).unwrap().len(), 40);
    }
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

#[test]
fn a_damaged_database_is_a_clear_error() {
    let home = Home::new();
    std::fs::write(Store::path_in(home.path()), vec![7u8; 4096]).unwrap();
    let out = home.skiff(&["list"]);
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(err.contains("skiff.db"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// Records three runs with fixed times through the library, so that `list` and `get` print the same
/// text on every machine.
fn recorded_runs(home: &Home) {
    use skiff::engine::NodeOutputs;
    use skiff::engine::state::{from_millis, node_id, to_millis};
    use skiff::store::{Batch, NewRun, Owner, RunUpdate};

    let now = to_millis(std::time::SystemTime::now());
    let minute = 60_000;
    let mut store = home.store();
    let owner = Owner::current();
    let mk = |run: &str,
              name: &str,
              display: &str,
              ty: NodeType,
              phase: NodePhase,
              start: i64,
              end: Option<i64>| {
        NodeStatus {
            id: node_id(run, name),
            name: name.to_string(),
            display_name: display.to_string(),
            node_type: ty,
            template_name: (ty != NodeType::StepGroup)
                .then(|| if ty == NodeType::Steps { "main" } else { "say" }.to_string()),
            phase,
            message: None,
            started_at: Some(from_millis(start)),
            finished_at: end.map(from_millis),
            children: vec![],
            executor: (ty == NodeType::Pod).then(|| "toolbox".to_string()),
            inputs: vec![],
            outputs: NodeOutputs::default(),
            retry_attempt: None,
            memoization: None,
        }
    };
    let link = |nodes: &mut Vec<NodeStatus>, parent: usize, child: usize| {
        let id = nodes[child].id.clone();
        nodes[parent].children.push(id);
    };
    let runs = [
        ("snap-ok", 3 * 24 * 60, NodePhase::Succeeded),
        ("snap-failed", 2 * 60, NodePhase::Failed),
        ("snap-running", 10, NodePhase::Running),
    ];
    for (name, age_minutes, phase) in runs {
        let start = (now - age_minutes * minute) / 1000 * 1000;
        store
            .create_run(
                &NewRun {
                    name: name.to_string(),
                    uid: format!("uid-{name}"),
                    namespace: "default".to_string(),
                    created_at: from_millis(start),
                    priority: None,
                    spec: format!(
                        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {{name: {name}}}\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    steps: [[{{name: hello, template: say}}]]\n  - name: say\n    container: {{image: alpine, command: [echo, hi]}}\n"
                    ),
                    source: None,
                    parameters: vec![],
                    entrypoint: None,
                },
                &owner,
            )
            .unwrap();
        let done = |ms: i64| (phase != NodePhase::Running).then_some(start + ms);
        let leaf = |i: i64| {
            if phase == NodePhase::Running && i > 0 {
                None
            } else {
                Some(start + 1_000 + i * 20_000)
            }
        };
        let mut nodes = vec![
            mk(
                name,
                name,
                name,
                NodeType::Steps,
                phase,
                start,
                done(75_000),
            ),
            mk(
                name,
                &format!("{name}[0]"),
                "[0]",
                NodeType::StepGroup,
                NodePhase::Succeeded,
                start,
                Some(start + 1_000),
            ),
            mk(
                name,
                &format!("{name}[0].hello"),
                "hello",
                NodeType::Pod,
                NodePhase::Succeeded,
                start,
                leaf(0),
            ),
            mk(
                name,
                &format!("{name}[1]"),
                "[1]",
                NodeType::StepGroup,
                phase,
                start + 1_000,
                done(75_000),
            ),
            mk(
                name,
                &format!("{name}[1].left"),
                "left",
                NodeType::Pod,
                NodePhase::Succeeded,
                start + 1_000,
                leaf(1),
            ),
            mk(
                name,
                &format!("{name}[1].right"),
                "right",
                NodeType::Pod,
                phase,
                start + 1_000,
                done(74_000),
            ),
        ];
        if phase == NodePhase::Failed {
            nodes[5].message = Some("exit code 3".to_string());
        }
        if phase == NodePhase::Running {
            nodes[4].phase = NodePhase::Running;
            nodes[4].finished_at = None;
        }
        for (p, c) in [(0, 1), (1, 2), (0, 3), (3, 4), (3, 5)] {
            link(&mut nodes, p, c);
        }
        let (done_leaves, all) = match phase {
            NodePhase::Running => (1, 3),
            _ => (3, 3),
        };
        let message = (phase == NodePhase::Failed).then(|| {
            format!(
                "child '{}' failed",
                node_id(name, &format!("{name}[1].right"))
            )
        });
        store
            .write(
                name,
                &Batch {
                    nodes: nodes
                        .into_iter()
                        .enumerate()
                        .map(|(i, n)| (i as u64, n))
                        .collect(),
                    progress: Some((done_leaves, all)),
                    run: Some(RunUpdate {
                        phase,
                        message,
                        finished_at: done(75_000).map(from_millis),
                    }),
                    ..Batch::default()
                },
            )
            .unwrap();
    }
}

#[test]
fn list_prints_argos_table() {
    let home = Home::new();
    recorded_runs(&home);
    insta::assert_snapshot!("list", home.ok(&["list"]));
    insta::assert_snapshot!("list_wide", home.ok(&["list", "-o", "wide"]));
    insta::assert_snapshot!(
        "list_failed",
        home.ok(&["list", "--status", "Failed,Error"])
    );
}

#[test]
fn get_prints_argos_header_and_tree() {
    let home = Home::new();
    recorded_runs(&home);
    let filters = vec![(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[TIME]")];
    insta::with_settings!({filters => filters}, {
        insta::assert_snapshot!("get_succeeded", home.ok(&["get", "snap-ok"]));
        insta::assert_snapshot!("get_failed", home.ok(&["get", "snap-failed"]));
        insta::assert_snapshot!("get_failed_only", home.ok(&["get", "snap-failed", "--status", "Failed"]));
        insta::assert_snapshot!("get_json", home.ok(&["get", "snap-failed", "-o", "json"]));
    });
}
