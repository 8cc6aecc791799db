//! Hostile steps, end to end through the `skiff` binary: each test runs one step that tries to break
//! out of its sandbox or to exhaust the host, beside a bystander step and under an exit handler, and
//! proves that the attempt is contained: the hostile step fails with a message that says why (or its
//! attempt fails inside it), the bystander succeeds, the exit handler runs, and what lies outside
//! the sandbox (a canary file on the host, the host's environment) is untouched. The limits these
//! tests lean on are in `docs/limits.md`.

mod common;

use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::Command;

use common::{home, node, nodes_named, stderr, stdout};

/// The secret the test puts in skiff's own environment: no step may see it.
const HOST_SECRET: &str = "hunter2-do-not-leak";

/// A workflow file in a folder of its own, with a canary file outside the sandbox.
struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    /// A workflow whose `main` runs `hostile` (a template body, at the indentation of a template's
    /// fields) beside a bystander, with an exit handler.
    fn new(hostile: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("hostile-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap();
        std::fs::write(dir.path().join("canary.txt"), "canary\n").unwrap();
        let canary = dir.path().join("canary.txt").display().to_string();
        let hostile = hostile.replace("@CANARY@", &canary);
        let body: String = hostile
            .trim_matches('\n')
            .lines()
            .map(|l| format!("    {l}\n"))
            .collect();
        let workflow = format!(
            r#"apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: hostile-
spec:
  entrypoint: main
  onExit: exit-handler
  templates:
  - name: main
    steps:
    - - name: hostile
        template: hostile
      - name: bystander
        template: bystander
  - name: bystander
    container:
      image: alpine:3.20
      command: [sh, -c]
      args: ["echo fine > /tmp/ok; cat /tmp/ok"]
  - name: exit-handler
    container:
      image: alpine:3.20
      command: [echo, "exit handler saw {{{{workflow.status}}}}"]
  - name: hostile
{body}"#,
        );
        std::fs::write(dir.path().join("workflow.yaml"), workflow).unwrap();
        Case { dir }
    }

    /// Adds a file beside the workflow (a `.wat` module).
    fn with_file(self, name: &str, content: &str) -> Self {
        std::fs::write(self.dir.path().join(name), content).unwrap();
        self
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `skiff submit workflow.yaml --wait -o json ARGS` with `env` on top of the host secret.
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> (serde_json::Value, Output) {
        let out = self.skiff(&["-o", "json"], args, env);
        let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "no JSON from skiff ({e}); stdout:\n{}\nstderr:\n{}",
                stdout(&out),
                stderr(&out)
            )
        });
        (doc, out)
    }

    /// The same run, printing the logs instead of JSON.
    fn run_with_log(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        stdout(&self.skiff(&["--log"], args, env))
    }

    fn skiff(&self, how: &[&str], args: &[&str], env: &[(&str, &str)]) -> Output {
        let file = self.path("workflow.yaml");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_skiff"));
        cmd.arg("submit")
            .arg(&file)
            .arg("--wait")
            .args(how)
            .args(args)
            .env("SKIFF_HOME", home())
            .env("SKIFF_HOSTILE_SECRET", HOST_SECRET);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.timeout(Duration::from_secs(300)).output().unwrap()
    }

    /// The canary outside the sandbox still holds what the test wrote.
    fn assert_canary_untouched(&self) {
        assert_eq!(
            std::fs::read_to_string(self.path("canary.txt")).unwrap(),
            "canary\n"
        );
        let names: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| !n.ends_with(".wat"))
            .collect();
        let mut names = names;
        names.sort();
        assert_eq!(names, ["canary.txt", "workflow.yaml"], "a file appeared");
    }
}

/// The hostile step failed with a message containing `want`, the bystander succeeded, the exit
/// handler ran and saw the failure. Returns the hostile step's message.
fn assert_contained(doc: &serde_json::Value, want: &str) -> String {
    let hostile = node(doc, "hostile");
    let message = hostile["message"].as_str().unwrap_or_default().to_string();
    assert_eq!(hostile["phase"], "Failed", "{hostile:#}");
    assert!(message.contains(want), "message {message:?} lacks {want:?}");
    eprintln!("hostile step: {message}");
    assert_contained_around(doc, "Failed");
    message
}

/// The bystander succeeded and the exit handler ran, seeing the run end as `status`.
fn assert_contained_around(doc: &serde_json::Value, status: &str) {
    assert_eq!(node(doc, "bystander")["phase"], "Succeeded");
    assert_eq!(node(doc, "bystander")["outputs"]["result"], "fine");
    let name = doc["metadata"]["name"].as_str().unwrap();
    let handler = node(doc, &format!("{name}.onExit"));
    assert_eq!(handler["phase"], "Succeeded", "{handler:#}");
    assert_eq!(
        handler["outputs"]["result"],
        format!("exit handler saw {status}")
    );
    assert_eq!(doc["status"]["phase"], status);
}

/// A python script template.
fn python(source: &str) -> String {
    let source: String = source
        .trim_matches('\n')
        .lines()
        .map(|l| format!("    {l}\n"))
        .collect();
    format!("script:\n  image: python:3.12\n  command: [python]\n  source: |\n{source}")
}

/// A `wasm:` template running `module`, with `extra` template fields.
fn wasm(module: &str, extra: &str) -> String {
    format!("wasm:\n  module: {module}\n{extra}")
}

#[test]
fn reading_etc_passwd_finds_only_the_sandbox() {
    let case = Case::new(&python(
        r#"
import os
print(sorted(os.listdir("/")))
open("/etc/passwd").read()
"#,
    ));
    let (doc, _) = case.run(&[], &[]);
    assert_contained(&doc, "FileNotFoundError");
    assert_contained(&doc, "/etc/passwd");
    case.assert_canary_untouched();
}

#[test]
fn reading_the_users_home_fails() {
    let host_home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let case = Case::new(&python(&format!(
        r#"
import os
print(os.listdir({host_home:?}))
"#
    )));
    let (doc, _) = case.run(&[], &[]);
    assert_contained(&doc, "FileNotFoundError");
}

#[test]
fn dot_dot_and_absolute_paths_do_not_leave_the_sandbox() {
    let case = Case::new(&python(
        r#"
import sys
canary = "@CANARY@"
failures = []
for path in [canary, "../" * 20 + canary.lstrip("/"), "/tmp/../../../.." + canary]:
    for mode in ["r", "w", "a"]:
        try:
            with open(path, mode) as f:
                f.write("pwned") if mode != "r" else f.read()
            print("OPENED", path, mode)
        except OSError as e:
            failures.append(type(e).__name__)
print(len(failures), "refused")
sys.exit(0 if len(failures) == 9 else 3)
"#,
    ));
    let (doc, _) = case.run(&[], &[]);
    // Every attempt failed inside the step, which then reported so and succeeded.
    assert_eq!(node(&doc, "hostile")["outputs"]["result"], "9 refused");
    assert_contained_around(&doc, "Succeeded");
    case.assert_canary_untouched();
}

#[test]
fn a_symlink_made_inside_the_sandbox_cannot_be_followed_out() {
    let case = Case::new(
        &(python(
            r#"
import os
canary = "@CANARY@"
results = []
for i, target in enumerate([canary, "../" * 20 + canary.lstrip("/")]):
    link = f"/tmp/link{i}"
    try:
        os.symlink(target, link)
        results.append("made")
    except OSError as e:
        results.append("refused to make")
        continue
    try:
        open(link).read()
        results.append("READ THROUGH")
    except OSError as e:
        results.append("refused to follow")
print(results)
# And the host must not follow it either when it collects the output parameter.
os.symlink("../" * 20 + canary.lstrip("/"), "/tmp/out")
"#,
        ) + "\noutputs:\n  parameters:\n  - name: leaked\n    valueFrom: {path: /tmp/out}\n"),
    );
    let (doc, _) = case.run(&[], &[]);
    let message = assert_contained(&doc, "output parameter 'leaked'");
    assert!(
        message.contains("leads outside the sandbox through a symlink"),
        "{message}"
    );
    let result = node(&doc, "hostile")["outputs"]["result"].as_str().unwrap();
    assert!(!result.contains("READ THROUGH"), "{result}");
    assert!(!doc.to_string().contains("canary\\n"), "the canary leaked");
    case.assert_canary_untouched();
}

#[test]
fn an_output_artifact_under_a_symlinked_folder_is_not_collected() {
    let case = Case::new(
        &(python(
            r#"
import os
folder = os.path.dirname("@CANARY@")
os.symlink("../" * 20 + folder.lstrip("/"), "/tmp/d")
"#,
        ) + "\noutputs:\n  artifacts:\n  - name: leaked\n    path: /tmp/d/canary.txt\n"),
    );
    let (doc, _) = case.run(&[], &[]);
    let message = assert_contained(&doc, "output artifact 'leaked'");
    assert!(
        message.contains("/tmp/d/canary.txt leads outside the sandbox through a symlink"),
        "{message}"
    );
    assert!(node(&doc, "hostile")["outputs"]["artifacts"].is_null());
    case.assert_canary_untouched();
}

#[test]
fn python_cannot_open_a_socket() {
    let case = Case::new(&python(
        r#"
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(("127.0.0.1", 22))
"#,
    ));
    let (doc, _) = case.run(&[], &[]);
    let message = assert_contained(&doc, "Error");
    assert!(message.contains("(exit code 1)"), "{message}");
}

#[test]
fn the_hosts_environment_is_not_visible() {
    let case = Case::new(&python(
        r#"
import os
print(sorted(os.environ.items()))
"#,
    ));
    let (doc, _) = case.run(&[], &[]);
    let result = node(&doc, "hostile")["outputs"]["result"].as_str().unwrap();
    assert!(!result.contains(HOST_SECRET), "{result}");
    assert!(!result.contains("SKIFF_HOSTILE_SECRET"), "{result}");
    assert!(!result.contains("CARGO"), "{result}");
    assert_contained_around(&doc, "Succeeded");

    let case = Case::new(
        "container:\n  image: busybox\n  command: [sh, -c]\n  args: [\"env; echo secret=$SKIFF_HOSTILE_SECRET\"]\n",
    );
    let (doc, _) = case.run(&[], &[]);
    let result = node(&doc, "hostile")["outputs"]["result"].as_str().unwrap();
    assert!(!result.contains(HOST_SECRET), "{result}");
    assert!(result.ends_with("secret="), "{result}");
}

#[test]
fn a_loop_forever_is_stopped_at_its_deadline() {
    let case = Case::new(&format!(
        "activeDeadlineSeconds: 2\n{}",
        python("while True:\n    pass\n")
    ));
    let started = Instant::now();
    let (doc, _) = case.run(&[], &[]);
    assert_contained(&doc, "step exceeded its deadline of 2s");
    assert_eq!(node(&doc, "hostile")["outputs"]["exitCode"], "137");
    assert!(started.elapsed() < Duration::from_secs(60));

    let case = Case::new(
        "timeout: 1s\ncontainer:\n  image: alpine\n  command: [sh, -c]\n  args: [\"while true; do :; done\"]\n",
    );
    let (doc, _) = case.run(&[], &[]);
    assert_contained(&doc, "step exceeded its deadline of 1s");
}

#[test]
fn allocating_without_end_hits_the_memory_limit() {
    let case = Case::new(&format!(
        "{}\n  resources:\n    limits: {{memory: 256Mi}}\n",
        python("chunks = []\nwhile True:\n    chunks.append(bytearray(1 << 20))\n")
    ));
    let (doc, _) = case.run(&[], &[]);
    let message = assert_contained(&doc, "step exceeded its memory limit of 256 MiB");
    assert_eq!(
        node(&doc, "hostile")["outputs"]["exitCode"],
        "137",
        "{message}"
    );
}

/// A module that grows its memory by 64 KiB pages until `memory.grow` fails, then traps.
const GROW_FOREVER: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $more
      (if (i32.ne (memory.grow (i32.const 16)) (i32.const -1)) (then (br $more))))
    unreachable))"#;

#[test]
fn the_default_memory_limit_applies_without_resources() {
    let case = Case::new(&wasm("grow.wat", "")).with_file("grow.wat", GROW_FOREVER);
    let (doc, _) = case.run(&["--default-memory", "64Mi"], &[]);
    assert_contained(&doc, "step exceeded its memory limit of 64 MiB");
    let (doc, _) = case.run(&[], &[("SKIFF_DEFAULT_MEMORY", "32Mi")]);
    assert_contained(&doc, "step exceeded its memory limit of 32 MiB");
}

#[test]
fn recursing_without_end_fails_cleanly() {
    // CPython's own limit.
    let case = Case::new(&python("def f(n):\n    return f(n + 1) + 1\nf(0)\n"));
    let (doc, _) = case.run(&[], &[]);
    assert_contained(&doc, "RecursionError");

    // A module with no limit of its own overflows the wasm stack, which traps.
    let case = Case::new(&wasm("recurse.wat", "")).with_file(
        "recurse.wat",
        r#"(module (memory (export "memory") 1)
             (func $f (param i32) (result i32) (i32.add (call $f (local.get 0)) (i32.const 1)))
             (func (export "_start") (drop (call $f (i32.const 0)))))"#,
    );
    let (doc, _) = case.run(&[], &[]);
    assert_contained(&doc, "call stack exhausted");
}

#[test]
fn flooding_stdout_keeps_the_log_capped_and_fails_the_result() {
    let case = Case::new(&python(
        r#"
import sys
chunk = b"x" * (1 << 20)
for _ in range(1024):
    sys.stdout.buffer.write(chunk)
"#,
    ));
    let started = Instant::now();
    let (doc, _) = case.run(&[], &[]);
    let message = assert_contained(
        &doc,
        "outputs.result (the step's stdout) is at least 8388608 bytes",
    );
    assert!(message.contains("(SKIFF_MAX_OUTPUT_BYTES)"), "{message}");
    eprintln!("1 GiB of stdout took {:?}", started.elapsed());

    let log = case.run_with_log(&[], &[("SKIFF_MAX_LOG_BYTES", "1000")]);
    assert!(
        log.contains("[skiff: stdout truncated at 1000 bytes]"),
        "{}",
        &log[..log.len().min(3000)]
    );
    assert!(log.len() < 100_000, "the log is {} bytes", log.len());
}

#[test]
fn thousands_of_files_hit_the_disk_cap() {
    let case = Case::new(&python(
        r#"
import os, time
for i in range(5000):
    open(f"/tmp/f{i}", "w").close()
time.sleep(5)
"#,
    ));
    // Without a cap low enough, 5000 empty files are fine.
    let (doc, _) = case.run(&[], &[("SKIFF_MAX_SANDBOX_BYTES", "64Mi")]);
    assert_eq!(node(&doc, "hostile")["phase"], "Succeeded");
    // 5000 entries count 512 bytes each: 2.5 MB, over a 1 MiB cap.
    let (doc, _) = case.run(&[], &[("SKIFF_MAX_SANDBOX_BYTES", "1Mi")]);
    assert_contained(
        &doc,
        "over the disk cap of 1048576 (SKIFF_MAX_SANDBOX_BYTES)",
    );
}

#[test]
fn writing_without_end_is_stopped_at_the_disk_cap() {
    let case = Case::new(&python(
        r#"
chunk = b"x" * (1 << 20)
with open("/tmp/fill", "wb") as f:
    while True:
        f.write(chunk)
"#,
    ));
    let started = Instant::now();
    let (doc, _) = case.run(&[], &[("SKIFF_MAX_SANDBOX_BYTES", "64Mi")]);
    let message = assert_contained(&doc, "step stopped: its sandbox holds");
    assert!(
        message.ends_with("over the disk cap of 67108864 (SKIFF_MAX_SANDBOX_BYTES)"),
        "{message}"
    );
    eprintln!("stopped after {:?}: {message}", started.elapsed());
}

#[test]
fn a_100_mb_output_parameter_fails_with_the_cap() {
    let case = Case::new(
        &(python(
            r#"
with open("/tmp/big", "wb") as f:
    f.write(b"y" * (100 << 20))
"#,
        ) + "\noutputs:\n  parameters:\n  - name: big\n    valueFrom: {path: /tmp/big}\n"),
    );
    let (doc, _) = case.run(&[], &[("SKIFF_MAX_SANDBOX_BYTES", "512Mi")]);
    assert_contained(
        &doc,
        "output parameter 'big' is 104857600 bytes; the cap is 4194304 (SKIFF_MAX_OUTPUT_BYTES)",
    );
    let (doc, _) = case.run(
        &[],
        &[
            ("SKIFF_MAX_SANDBOX_BYTES", "512Mi"),
            ("SKIFF_MAX_OUTPUT_BYTES", "1000"),
        ],
    );
    assert_contained(&doc, "the cap is 1000 (SKIFF_MAX_OUTPUT_BYTES)");
}

#[test]
fn python_cannot_spawn_processes() {
    for source in [
        "import subprocess\nsubprocess.run(['ls', '/'])\n",
        "import os\nos.system('ls /')\n",
        "import os\nos.execv('/bin/sh', ['sh'])\n",
    ] {
        let case = Case::new(&python(source));
        let (doc, _) = case.run(&[], &[]);
        let message = assert_contained(&doc, "Error");
        assert!(message.contains("(exit code 1)"), "{source}: {message}");
    }
}

#[test]
fn the_shell_cannot_run_a_program_outside_the_toolbox() {
    let case = Case::new(
        "container:\n  image: alpine\n  command: [sh, -c]\n  args: [\"sleep 0 & exec /usr/bin/nc -l 8080\"]\n",
    );
    let (doc, _) = case.run(&[], &[]);
    assert_contained(&doc, "exit code 127");
    let log = case.run_with_log(&[], &[]);
    assert!(log.contains("not found"), "{log}");
}

/// 200 steps that each take 32 MiB, under a host budget of 256 MiB: they queue, at most 8 at a time
/// (the executor's own test checks the peak), and all succeed.
#[test]
fn two_hundred_steps_queue_behind_the_host_memory_budget() {
    let dir = tempfile::Builder::new()
        .prefix("hostile-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    std::fs::write(
        dir.path().join("touch.wat"),
        r#"(module (memory (export "memory") 1)
             (func (export "_start") (local $p i32)
               (drop (memory.grow (i32.const 511)))
               (loop $more
                 (i32.store8 (local.get $p) (i32.const 1))
                 (local.set $p (i32.add (local.get $p) (i32.const 4096)))
                 (br_if $more (i32.lt_u (local.get $p) (i32.const 0x2000000))))))"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("workflow.yaml"),
        r#"apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: fan-out-
spec:
  entrypoint: main
  onExit: done
  templates:
  - name: main
    steps:
    - - name: step
        template: touch
        withSequence: {count: "200"}
  - name: touch
    wasm: {module: touch.wat}
    resources:
      limits: {memory: 32Mi}
  - name: done
    container: {image: alpine, command: [echo, "{{workflow.status}}"]}
"#,
    )
    .unwrap();
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_skiff"))
        .args([
            "submit",
            "workflow.yaml",
            "--wait",
            "-o",
            "json",
            "--parallelism",
            "200",
        ])
        .current_dir(dir.path())
        .env("SKIFF_HOME", home())
        .env("SKIFF_HOST_MEMORY", "256Mi")
        .timeout(Duration::from_secs(300))
        .output()
        .unwrap();
    let took = started.elapsed();
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    assert_eq!(doc["status"]["phase"], "Succeeded", "{}", stderr(&out));
    let steps: Vec<_> = doc["status"]["nodes"]
        .as_object()
        .unwrap()
        .values()
        .filter(|n| n["templateName"] == "touch")
        .collect();
    assert_eq!(steps.len(), 200);
    assert!(steps.iter().all(|n| n["phase"] == "Succeeded"));
    let name = doc["metadata"]["name"].as_str().unwrap();
    assert_eq!(nodes_named(&doc, &format!("{name}.onExit")).len(), 1);
    eprintln!("200 steps of 32 MiB under a 256 MiB budget took {took:?}");
}
