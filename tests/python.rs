//! Python steps end to end through the `skiff` binary: script templates and `python -c` containers on
//! python images run in the sandboxed CPython, stdout becomes `outputs.result`, exit statuses and
//! tracebacks are recorded, and a failing step still lets the exit handler run.
//!
//! The first python step of a test build finds (or downloads) and compiles the runtime into the shared test
//! home; every later one loads it from the cache.

mod common;

use common::{node, run_json, skiff, stderr, stdout};

#[test]
fn script_result_flows_into_a_python_c_step() {
    let (code, doc, out) = run_json("examples/python-steps.yaml", &[]);
    assert_eq!(code, 0, "{}", stderr(&out));
    assert_eq!(doc["status"]["phase"], "Succeeded");
    assert_eq!(
        node(&doc, "squares")["outputs"]["result"],
        "[0, 1, 4, 9, 16]"
    );
    assert_eq!(node(&doc, "total")["outputs"]["result"], "30");
    let name = doc["metadata"]["name"].as_str().unwrap();
    let report = node(&doc, &format!("{name}.onExit"));
    assert_eq!(report["outputs"]["result"], "the run ended Succeeded");
}

#[test]
fn a_missing_package_fails_with_its_traceback_and_the_exit_handler_runs() {
    let out = skiff(&[
        "submit",
        "examples/python-steps.yaml",
        "-p",
        "package=torch",
        "--wait",
        "--log",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Traceback (most recent call last):"),
        "{text}"
    );
    assert!(
        text.contains("ModuleNotFoundError: No module named 'torch'"),
        "{text}"
    );
    assert!(text.contains("the run ended Failed"), "{text}");
    // The launcher's own frames are not in the traceback: it starts at the user's code.
    assert!(!text.contains("<turn"), "{text}");

    let (_, doc, _) = run_json("examples/python-steps.yaml", &["-p", "package=torch"]);
    let total = node(&doc, "total");
    assert_eq!(total["phase"], "Failed");
    // The traceback's last line (CPython adds a hint after the module's name), then the status.
    let message = total["message"].as_str().unwrap();
    assert!(
        message.starts_with("ModuleNotFoundError: No module named 'torch'")
            && message.ends_with("(exit code 1)"),
        "{message}"
    );
    let name = doc["metadata"]["name"].as_str().unwrap();
    assert_eq!(node(&doc, &format!("{name}.onExit"))["phase"], "Succeeded");
}

fn write(name: &str, yaml: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("python-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, yaml).unwrap();
    path
}

#[test]
fn exit_statuses_and_sys_argv() {
    let path = write(
        "exit.yaml",
        r#"
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: py-exit-}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: three, template: exit3}
      - {name: argv, template: argv}
  - name: exit3
    container:
      image: python:alpine3.23
      command: [python, -c, "import sys; print('bye'); sys.exit(3)"]
  - name: argv
    script:
      image: python:3.11
      command: [python3, -u]
      source: |
        import os, sys
        print(sys.argv, __name__, os.getcwd(), os.environ.get("HOME"))
        open("/tmp/x", "w").write("ok")
        print(open("/tmp/x").read())
"#,
    );
    let (code, doc, out) = run_json(path.to_str().unwrap(), &[]);
    assert_eq!(code, 1, "{}", stderr(&out));
    let three = node(&doc, "three");
    assert_eq!(three["phase"], "Failed");
    assert_eq!(three["outputs"]["exitCode"], "3");
    assert_eq!(three["outputs"]["result"], "bye");
    let argv = node(&doc, "argv");
    assert_eq!(argv["phase"], "Succeeded");
    assert_eq!(
        argv["outputs"]["result"],
        "['/argo/staging/script'] __main__ / /tmp\nok"
    );
}
