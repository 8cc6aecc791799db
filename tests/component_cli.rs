//! `skiff component` end to end through the binary, and the component checks of `skiff lint` and
//! `skiff submit`. Modules are written from wat text with a `skiff.component` section (no cargo build).

mod common;

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use common::{stderr, stdout};

/// The contract's example description.
const CSV_STATS: &str = r#"{"skiff": 1, "name": "csv-stats", "description": "Column statistics of a CSV file.",
 "sdk": "0.1.0",
 "inputs": [
  {"name": "a", "kind": "parameter", "type": "integer", "required": true, "env": "SKIFF_INPUT_A"},
  {"name": "label", "kind": "parameter", "type": "string", "required": false, "env": "SKIFF_INPUT_LABEL"},
  {"name": "table", "kind": "artifact", "type": "artifact", "required": true, "path": "/tmp/inputs/artifacts/table"}
 ],
 "outputs": [
  {"name": "sum", "kind": "parameter", "type": "integer", "path": "/tmp/outputs/parameters/sum"},
  {"name": "report", "kind": "artifact", "type": "artifact", "path": "/tmp/outputs/artifacts/report"},
  {"name": "metrics", "kind": "metrics", "type": "metrics", "path": "/tmp/outputs/metrics/metrics.json"}
 ],
 "result": "sum"}"#;

/// A valid WASI command module, with `json` as its `skiff.component` section when given.
fn module(json: Option<&str>) -> Vec<u8> {
    let section = json
        .map(|j| {
            let escaped: String = j
                .bytes()
                .map(|b| match b {
                    b'"' | b'\\' | b'\n' => format!("\\{b:02x}"),
                    _ => (b as char).to_string(),
                })
                .collect();
            format!("(@custom \"skiff.component\" \"{escaped}\")")
        })
        .unwrap_or_default();
    wat::parse_str(format!(
        "(module (memory (export \"memory\") 1) (func (export \"_start\")) {section})"
    ))
    .unwrap()
}

/// A folder holding `csv.wasm` (the example component) and `plain.wasm` (no description).
fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("csv.wasm"), module(Some(CSV_STATS))).unwrap();
    std::fs::write(dir.path().join("plain.wasm"), module(None)).unwrap();
    dir
}

/// `skiff ARGS...` run in `dir`, with the tests' shared home.
fn skiff_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_skiff"))
        .args(args)
        .env("SKIFF_HOME", common::home())
        .env_remove("SKIFF_GUEST_SDK")
        .current_dir(dir)
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
    stdout(out)
}

/// A workflow whose `main` calls the `csv-stats` template with parameters `args` (flow YAML) and a raw
/// `table` artifact; `template` is placed under `spec.templates` as written.
fn workflow(template: &str, args: &str) -> String {
    let indented: String = template.lines().map(|l| format!("    {l}\n")).collect();
    format!(
        "apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: csv-
spec:
  entrypoint: main
  templates:
    - name: main
      steps:
        - - name: stats
            template: csv-stats
            arguments:
              parameters: {args}
              artifacts:
                - name: table
                  raw: {{data: \"a,b\\n1,2\\n\"}}
{indented}"
    )
}

#[test]
fn describe_prints_the_component_as_text_and_json() {
    let dir = folder();
    let text = ok(&skiff_in(
        dir.path(),
        &["component", "describe", "csv.wasm"],
    ));
    insta::assert_snapshot!("describe_text", text);
    let json = ok(&skiff_in(
        dir.path(),
        &["component", "describe", "csv.wasm", "-o", "json"],
    ));
    insta::assert_snapshot!("describe_json", json);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["result"], "sum");
}

#[test]
fn describe_explains_a_module_without_a_description() {
    let dir = folder();
    let out = skiff_in(dir.path(), &["component", "describe", "plain.wasm"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("plain.wasm: the module has no `skiff.component` section: it was built without #[skiff_guest::component]"),
        "{err}"
    );
    std::fs::write(dir.path().join("notes.txt"), "hello").unwrap();
    let out = skiff_in(dir.path(), &["component", "describe", "notes.txt"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("notes.txt: not a wasm module"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_printed_template_passes_lint() {
    let dir = folder();
    let template = ok(&skiff_in(
        dir.path(),
        &["component", "template", "csv.wasm"],
    ));
    assert!(template.starts_with("# csv-stats: "), "{template}");
    assert!(
        template.contains("\n  wasm:\n    module: csv.wasm\n"),
        "{template}"
    );
    let yaml = workflow(&template, "[{name: a, value: \"3\"}]");
    std::fs::write(dir.path().join("wf.yaml"), &yaml).unwrap();
    let out = skiff_in(dir.path(), &["lint", "wf.yaml"]);
    assert_eq!(ok(&out), "wf.yaml is valid\n", "{yaml}");

    // --name and --module-path change what they say.
    let named = ok(&skiff_in(
        dir.path(),
        &[
            "component",
            "template",
            "csv.wasm",
            "--name",
            "stats",
            "--module-path",
            "components/csv.wasm",
        ],
    ));
    assert!(named.contains("- name: stats\n"), "{named}");
    assert!(
        named.contains("    module: components/csv.wasm\n"),
        "{named}"
    );
}

/// Writes `yaml` as `wf.yaml` in `dir` and submits it: the exit code and stderr.
fn submit(dir: &Path, yaml: &str) -> (Option<i32>, String) {
    std::fs::write(dir.join("wf.yaml"), yaml).unwrap();
    let out = skiff_in(dir, &["submit", "wf.yaml", "--wait"]);
    (out.status.code(), stderr(&out))
}

const TEMPLATE: &str = "\
- name: csv-stats
  inputs:
    parameters:
      - name: a
      - name: label
        default: \"\"
    artifacts:
      - name: table
        path: /tmp/inputs/artifacts/table
  wasm:
    module: csv.wasm
";

#[test]
fn submit_refuses_a_missing_required_parameter() {
    let dir = folder();
    let template = TEMPLATE.replace("      - name: a\n", "");
    let (code, err) = submit(dir.path(), &workflow(&template, "[]"));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(
            "wf.yaml:20:11: template 'csv-stats' does not declare input parameter 'a', which component 'csv-stats' requires\n  help: add `{name: a}` under the template's inputs.parameters"
        ),
        "{err}"
    );
}

#[test]
fn submit_refuses_a_bad_literal() {
    let dir = folder();
    let (code, err) = submit(dir.path(), &workflow(TEMPLATE, "[{name: a, value: three}]"));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(
            "wf.yaml:13:45: template 'csv-stats': input parameter 'a' is given 'three', which component 'csv-stats' cannot read as an integer: not a whole number"
        ),
        "{err}"
    );
    // `--dry-run` checks as a run does.
    let out = skiff_in(dir.path(), &["submit", "--dry-run", "wf.yaml"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot read as an integer"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn submit_refuses_an_unknown_parameter_with_a_suggestion() {
    let dir = folder();
    let template = TEMPLATE.replace("- name: label", "- name: lable");
    let (code, err) = submit(
        dir.path(),
        &workflow(&template, "[{name: a, value: \"1\"}]"),
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(
            "wf.yaml:21:19: template 'csv-stats': input parameter 'lable' is not an input of component 'csv-stats', which never reads it\n  help: did you mean `label`?"
        ),
        "{err}"
    );
    // lint reports it the same way.
    let out = skiff_in(dir.path(), &["lint", "wf.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("wf.yaml:21:19: template 'csv-stats': input parameter 'lable'"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_module_without_a_description_is_left_to_the_run() {
    let dir = folder();
    let template = TEMPLATE.replace("module: csv.wasm", "module: plain.wasm");
    std::fs::write(
        dir.path().join("wf.yaml"),
        workflow(&template, "[{name: a, value: three}]"),
    )
    .unwrap();
    assert_eq!(
        ok(&skiff_in(dir.path(), &["lint", "wf.yaml"])),
        "wf.yaml is valid\n"
    );
}

#[test]
fn new_creates_a_component_crate() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(&skiff_in(dir.path(), &["component", "new", "word-count"]));
    assert!(
        out.starts_with("Created component crate word-count in word-count\n"),
        "{out}"
    );
    let krate = dir.path().join("word-count");
    for file in [
        "Cargo.toml",
        "src/main.rs",
        "workflow.yaml",
        "README.md",
        ".gitignore",
    ] {
        assert!(krate.join(file).is_file(), "{file} is missing: {out}");
    }
    let cargo = std::fs::read_to_string(krate.join("Cargo.toml")).unwrap();
    assert!(cargo.contains("name = \"word-count\"\n"), "{cargo}");
    assert!(cargo.contains("edition = \"2024\"\n"), "{cargo}");
    assert!(cargo.contains("\n[workspace]\n"), "{cargo}");
    assert!(
        cargo.contains("opt-level = \"s\"\nlto = true\nstrip = \"debuginfo\"\n"),
        "{cargo}"
    );
    // The SDK skiff embeds, written under the home, as a path dependency.
    let sdk = common::home()
        .join("sdk")
        .join(env!("CARGO_PKG_VERSION"))
        .join("skiff-guest")
        .canonicalize()
        .unwrap();
    assert!(
        cargo.contains(&format!("skiff-guest = {{ path = \"{}\" }}", sdk.display())),
        "{cargo}"
    );
    assert_eq!(
        std::fs::read_to_string(sdk.join("src/types.rs")).unwrap(),
        std::fs::read_to_string(common::repo().join("guest-sdk/src/types.rs")).unwrap()
    );
    let main = std::fs::read_to_string(krate.join("src/main.rs")).unwrap();
    assert!(
        main.contains(
            "#[skiff_guest::component]\nfn word_count(name: String, times: Option<u32>) -> String {"
        ),
        "{main}"
    );
    assert!(main.contains("#[cfg(test)]"), "{main}");

    // The workflow parses and validates (the module is not built yet: nothing to check against).
    let out = ok(&skiff_in(&krate, &["lint", "workflow.yaml"]));
    assert_eq!(out, "workflow.yaml is valid\n");
    let workflow = std::fs::read_to_string(krate.join("workflow.yaml")).unwrap();
    assert!(
        workflow.contains("module: target/wasm32-wasip1/release/word-count.wasm"),
        "{workflow}"
    );

    // --sdk wins; a folder that is not empty is refused.
    let other = dir.path().join("other");
    let out = ok(&skiff_in(
        dir.path(),
        &[
            "component",
            "new",
            "greeter",
            "--path",
            "other",
            "--sdk",
            krate.to_str().unwrap(),
        ],
    ));
    assert!(
        out.contains("Created component crate greeter in other"),
        "{out}"
    );
    let cargo = std::fs::read_to_string(other.join("Cargo.toml")).unwrap();
    assert!(
        cargo.contains(&format!(
            "skiff-guest = {{ path = \"{}\" }}",
            krate.canonicalize().unwrap().display()
        )),
        "{cargo}"
    );
    let out = skiff_in(
        dir.path(),
        &["component", "new", "again", "--path", "other"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("other: the folder exists and is not empty"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn new_refuses_a_bad_name() {
    let dir = tempfile::tempdir().unwrap();
    for (name, says) in [
        (
            "Word Count",
            "'Word Count' cannot name a component crate: it must start with a lowercase letter",
        ),
        ("9lives", "it must start with a lowercase letter"),
        ("word.count", "`.` is not allowed in a crate name"),
        ("fn", "it is a Rust keyword"),
        ("main", "`main` is the one the macro writes"),
    ] {
        let out = skiff_in(dir.path(), &["component", "new", name]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(stderr(&out).contains(says), "{name}: {}", stderr(&out));
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// Writes an executable `cargo` stand-in in `dir` running `script`.
#[cfg(unix)]
fn fake_cargo(dir: &Path, script: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join("fake-cargo");
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[cfg(unix)]
#[test]
fn build_reports_modules_and_failures() {
    let dir = folder();
    std::fs::write(dir.path().join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
    let build = |cargo: &Path| {
        Command::new(env!("CARGO_BIN_EXE_skiff"))
            .args(["component", "build"])
            .env("SKIFF_HOME", common::home())
            .env("CARGO", cargo)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };

    // The modules cargo reports, each with its size and description.
    let csv = dir.path().join("csv.wasm");
    let plain = dir.path().join("plain.wasm");
    let cargo = fake_cargo(
        dir.path(),
        &format!(
            "echo \"   Compiling x: $*\" >&2\n\
             echo '{{\"reason\":\"compiler-artifact\",\"filenames\":[\"{}\"]}}'\n\
             echo '{{\"reason\":\"compiler-artifact\",\"filenames\":[\"{}\"]}}'\n\
             echo '{{\"reason\":\"build-finished\",\"success\":true}}'",
            csv.display(),
            plain.display()
        ),
    );
    let out = build(&cargo);
    let text = ok(&out);
    let size = std::fs::metadata(&csv).unwrap().len();
    assert!(
        text.starts_with(&format!("{}  ({size} bytes, ", csv.display())),
        "{text}"
    );
    assert!(
        text.contains("\n  csv-stats: Column statistics of a CSV file. (inputs: a: integer"),
        "{text}"
    );
    assert!(
        text.contains("\n  no description: built without #[skiff_guest::component]"),
        "{text}"
    );
    assert!(
        stderr(&out).contains(
            "Compiling x: build --target wasm32-wasip1 --release --manifest-path ./Cargo.toml --message-format=json-render-diagnostics"
        ),
        "{}",
        stderr(&out)
    );

    // A failed build: cargo's messages pass through, and its status is skiff's.
    let cargo = fake_cargo(
        dir.path(),
        "echo 'error[E0308]: mismatched types' >&2\nexit 101",
    );
    let out = build(&cargo);
    assert_eq!(out.status.code(), Some(101));
    assert!(stderr(&out).contains("error[E0308]: mismatched types"));

    // The target is missing: say how to add it.
    let cargo = fake_cargo(
        dir.path(),
        "echo 'error[E0463]: cannot find crate for `core`' >&2\n\
         echo '  = note: the `wasm32-wasip1` target may not be installed' >&2\nexit 101",
    );
    let out = build(&cargo);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("help: run `rustup target add wasm32-wasip1`"),
        "{}",
        stderr(&out)
    );

    // No cargo at all.
    let out = build(&dir.path().join("no-such-cargo"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot run cargo"),
        "{}",
        stderr(&out)
    );
}
