//! Against a real cluster (the current kubeconfig context): `cargo test -p skiff --test kube_cluster --
//! --ignored` with kind or k3d running (see docs/kubernetes.md). Each test deletes what it creates.

mod common;

use std::process::Command;

use common::{repo, stderr, stdout};

fn skiff(home: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_skiff"))
        .args(args)
        .env("SKIFF_HOME", home)
        .current_dir(repo())
        .output()
        .unwrap()
}

#[test]
#[ignore = "needs cluster"]
fn a_pod_step_takes_an_artifact_in_and_hands_a_parameter_and_a_folder_back() {
    let home = tempfile::tempdir().unwrap();
    let out = skiff(
        home.path(),
        &["submit", "tests/kube/round-trip.yaml", "--wait", "--log"],
    );
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("pod says hi"), "{text}");
    assert!(text.contains("answer 42"), "{text}");
    let get = skiff(home.path(), &["get", "@latest", "-o", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&get.stdout).unwrap();
    // Nothing left on the cluster.
    let name = json["metadata"]["name"].as_str().unwrap();
    let left = Command::new("kubectl")
        .args(["get", "pods,configmaps", "-l"])
        .arg(format!("workflows.argoproj.io/workflow={name}"))
        .arg("-o")
        .arg("name")
        .output()
        .unwrap();
    assert_eq!(stdout(&left).trim(), "", "pods left behind");
}

#[test]
#[ignore = "needs cluster"]
fn an_image_that_does_not_exist_fails_the_step_and_leaves_nothing() {
    let home = tempfile::tempdir().unwrap();
    let workflow = home.path().join("bad-image.yaml");
    std::fs::write(
        &workflow,
        "apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: bad-image-}
spec:
  entrypoint: main
  activeDeadlineSeconds: 120
  templates:
  - name: main
    metadata: {annotations: {skiff.dev/executor: kubernetes}}
    container: {image: 'registry.invalid/none:1', command: [sh, -c, 'true']}
",
    )
    .unwrap();
    let out = skiff(
        home.path(),
        &["submit", workflow.to_str().unwrap(), "--wait"],
    );
    assert!(!out.status.success());
    let get = skiff(home.path(), &["get", "@latest"]);
    assert!(stdout(&get).contains("Failed"), "{}", stdout(&get));
}
