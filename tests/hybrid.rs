//! Runs that span this machine and a cluster: where each step goes (`--executor`, GPU asks, a kubeconfig
//! or none), what `submit --dry-run` prints for it, and a run needing a cluster that is not there being
//! refused before any step runs. Nothing here talks to a cluster: a kubeconfig only has to exist for a
//! cluster to count as configured.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{repo, stderr, stdout};

const HYBRID: &str = "examples/hybrid-training.yaml";

/// A fresh `SKIFF_HOME` and `HOME` (no `~/.kube/config`), sharing the compiled-module cache of the test
/// home, and no kubeconfig unless [`Home::with_kubeconfig`] writes one.
struct Home {
    dir: tempfile::TempDir,
    kubeconfig: Option<std::path::PathBuf>,
}

impl Home {
    fn new() -> Self {
        let shared = common::home().join("cache");
        std::fs::create_dir_all(&shared).unwrap();
        let dir = tempfile::Builder::new()
            .prefix("hybrid-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap();
        std::fs::create_dir_all(dir.path().join("skiff")).unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        std::os::unix::fs::symlink(&shared, dir.path().join("skiff").join("cache")).unwrap();
        Self {
            dir,
            kubeconfig: None,
        }
    }

    /// The same, with a kubeconfig (outside `HOME`) that `KUBECONFIG` points at.
    fn with_kubeconfig() -> Self {
        let mut home = Self::new();
        let path = home.dir.path().join("kubeconfig");
        std::fs::write(
            &path,
            "apiVersion: v1
kind: Config
current-context: gpu
clusters:
- name: gpu
  cluster: {server: 'https://127.0.0.1:6443', insecure-skip-tls-verify: true}
contexts:
- name: gpu
  context: {cluster: gpu, user: me}
users:
- name: me
  user: {token: not-a-secret}
",
        )
        .unwrap();
        home.kubeconfig = Some(path);
        home
    }

    fn skiff_home(&self) -> std::path::PathBuf {
        self.dir.path().join("skiff")
    }

    fn skiff(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_skiff"));
        cmd.args(args)
            .env("SKIFF_HOME", self.skiff_home())
            .env("HOME", self.dir.path().join("home"))
            .env_remove("KUBECONFIG")
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env_remove("SKIFF_WAIT_IMAGE")
            .current_dir(repo());
        if let Some(path) = &self.kubeconfig {
            cmd.env("KUBECONFIG", path);
        }
        cmd.output().unwrap()
    }

    /// `skiff ARGS` that must succeed without a word on stderr; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.skiff(args);
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "skiff {args:?} ({:?})\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            stdout(&out),
            stderr(&out)
        );
        stdout(&out)
    }
}

/// The documents of a YAML stream.
fn documents(text: &str) -> Vec<serde_yaml::Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect()
}

/// `(template, runs)` of each step of a dry run's plan.
fn runs(plan: &serde_yaml::Value) -> Vec<(String, String)> {
    assert_eq!(plan["kind"], "SkiffPlan", "{plan:?}");
    plan["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["template"].as_str().unwrap().to_string(),
                s["runs"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn dry_run_of_the_hybrid_example() {
    let home = Home::with_kubeconfig();
    let text = home.ok(&["submit", "--dry-run", "-o", "yaml", HYBRID]);
    let docs = documents(&text);
    assert_eq!(
        runs(&docs[0]),
        pairs(&[
            ("prepare", "local"),
            ("train", "kubernetes"),
            ("evaluate", "local"),
            ("report", "local"),
        ])
    );
    let kinds: Vec<&str> = docs[1..]
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["ConfigMap", "Pod"]);
    // `-o yaml` is the default.
    assert_eq!(home.ok(&["submit", "--dry-run", HYBRID]), text);
    insta::assert_snapshot!("dry_run_hybrid", text);
    // Nothing was recorded.
    assert!(!Path::new(&home.skiff_home().join("skiff.db")).exists());
}

#[test]
fn dry_run_of_an_all_local_workflow() {
    let home = Home::new();
    let text = home.ok(&["submit", "--dry-run", "examples/steps.yaml"]);
    assert_eq!(documents(&text).len(), 1);
    insta::assert_snapshot!("dry_run_steps", text);
    // Script and container steps on python images, and an exit handler.
    let text = home.ok(&["submit", "--dry-run", "examples/python-steps.yaml"]);
    assert_eq!(documents(&text).len(), 1);
    insta::assert_snapshot!("dry_run_python_steps", text);
}

#[test]
fn executor_local_runs_every_step_here() {
    let home = Home::new();
    let text = home.ok(&["submit", "--dry-run", "--executor", "local", HYBRID]);
    let docs = documents(&text);
    assert_eq!(docs.len(), 1, "no pods:\n{text}");
    assert_eq!(docs[0]["executor"], "local");
    assert_eq!(
        runs(&docs[0]),
        pairs(&[
            ("prepare", "local"),
            ("train", "local"),
            ("evaluate", "local"),
            ("report", "local"),
        ])
    );
}

#[test]
fn executor_kubernetes_sends_every_container_to_the_namespace() {
    let home = Home::with_kubeconfig();
    let text = home.ok(&[
        "submit",
        "--dry-run",
        "-o",
        "json",
        "--executor",
        "kubernetes",
        "-n",
        "ml",
        HYBRID,
    ]);
    let objects: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(objects[0]["kind"], "SkiffPlan");
    assert_eq!(objects[0]["executor"], "kubernetes");
    let pods: Vec<(&str, &str)> = objects
        .iter()
        .filter(|o| o["kind"] == "Pod")
        .map(|o| {
            (
                o["metadata"]["name"].as_str().unwrap(),
                o["metadata"]["namespace"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        pods,
        [
            ("hybrid-training-xxxxx-prepare", "ml"),
            ("hybrid-training-xxxxx-train", "ml"),
            ("hybrid-training-xxxxx-evaluate", "ml"),
            ("hybrid-training-xxxxx-report", "ml"),
        ]
    );
    let names = home.ok(&[
        "submit",
        "--dry-run",
        "-o",
        "name",
        "--executor",
        "kubernetes",
        HYBRID,
    ]);
    assert!(
        names.starts_with("skiffplan/hybrid-training-xxxxx\n"),
        "{names}"
    );
    assert!(
        names.contains("\npod/hybrid-training-xxxxx-report\n"),
        "{names}"
    );
}

#[test]
fn a_dry_run_without_a_cluster_prints_the_plan_and_warns() {
    let home = Home::new();
    let out = home.skiff(&["submit", "--dry-run", HYBRID]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let docs = documents(&stdout(&out));
    assert_eq!(docs[0]["steps"][1]["runs"], "kubernetes");
    let err = stderr(&out);
    assert!(err.contains("would stop before its first step"), "{err}");
    assert!(err.contains("  - train (image pytorch/pytorch:"), "{err}");
}

#[test]
fn a_cluster_step_without_a_cluster_fails_before_anything_runs() {
    let home = Home::new();
    let out = home.skiff(&["submit", HYBRID, "--wait"]);
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout:\n{}\nstderr:\n{err}",
        stdout(&out)
    );
    assert!(err.contains("train"), "{err}");
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    // Nothing ran, nothing was recorded.
    assert!(!home.skiff_home().join("artifacts").exists());
    let list = home.ok(&["list", "-o", "name"]);
    assert_eq!(list, "", "{list}");
}

#[test]
fn dry_run_refuses_what_submit_refuses() {
    let home = Home::new();
    let out = home.skiff(&["submit", "--dry-run", HYBRID, "-p", "nope=1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    let out = home.skiff(&["submit", "--dry-run", "--wait", HYBRID]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--wait"), "{}", stderr(&out));
}
