//! Typed components end to end: the example components (`examples/components/*`, written with
//! `#[skiff_guest::component]`) built through `skiff component build` and run in the example
//! pipeline beside python and toolbox steps; what the macro makes a failure look like; and a
//! component made by `skiff component new` (with the SDK skiff embeds), built and run from its own
//! workflow.

mod common;

use std::path::{Path, PathBuf};

use common::{node, output_param, repo, run_json, skiff, stderr, stdout};
use skiff::executor::guests::paths;

/// Where `cargo build --release --target wasm32-wasip1` puts modules for this workspace.
fn wasm_release_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"));
    let target = if target.is_absolute() {
        target
    } else {
        repo().join(target)
    };
    target.join("wasm32-wasip1").join("release")
}

/// The toolchain `rust-toolchain.toml` pins (its `channel`).
fn pinned_toolchain() -> String {
    let text = std::fs::read_to_string(repo().join("rust-toolchain.toml")).unwrap();
    text.lines()
        .find_map(|l| l.trim().strip_prefix("channel"))
        .and_then(|rest| rest.split('"').nth(1))
        .expect("rust-toolchain.toml names a channel")
        .to_owned()
}

/// A workflow file in a fresh folder, for a test that changes a file from the repository.
fn write_workflow(dir: &Path, name: &str, yaml: &str) -> String {
    let file = dir.join(name);
    std::fs::write(&file, yaml).unwrap();
    file.to_str().unwrap().to_owned()
}

#[test]
fn the_example_components_build_and_run_in_the_pipeline() {
    for component in ["csv-stats", "word-count", "thumbnail"] {
        let dir = format!("examples/components/{component}");
        let out = skiff(&["component", "build", &dir]);
        assert!(out.status.success(), "{dir}: {}", stderr(&out));
        let report = format!("{}{}", stdout(&out), stderr(&out));
        let module = format!("skiff-example-{component}.wasm");
        assert!(report.contains(&module), "{report}");
        assert!(
            wasm_release_dir().join(&module).is_file(),
            "{module} is not in {}",
            wasm_release_dir().display()
        );
    }

    // The example names the modules relative to itself (`../target/...`); a CARGO_TARGET_DIR
    // elsewhere moves them.
    let yaml = std::fs::read_to_string(repo().join("examples/components.yaml")).unwrap();
    let yaml = yaml.replace(
        "../target/wasm32-wasip1/release/",
        &format!("{}/", wasm_release_dir().display()),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = write_workflow(dir.path(), "components.yaml", &yaml);
    let (code, doc, out) = run_json(&file, &[]);
    assert_eq!(code, 0, "{}", stderr(&out));

    // csv-stats: 200 temperatures around 18 °C, and its metrics.
    assert_eq!(output_param(&doc, "stats", "count"), "200");
    let mean: f64 = output_param(&doc, "stats", "mean").parse().unwrap();
    let stddev: f64 = output_param(&doc, "stats", "stddev").parse().unwrap();
    assert!((16.0..20.0).contains(&mean), "{mean}");
    assert!((3.0..5.0).contains(&stddev), "{stddev}");
    let min: f64 = output_param(&doc, "stats", "min").parse().unwrap();
    let max: f64 = output_param(&doc, "stats", "max").parse().unwrap();
    assert!(min < mean && mean < max, "{min} {mean} {max}");
    let metrics: serde_json::Value =
        serde_json::from_str(&output_param(&doc, "stats", "skiff-metrics-metrics")).unwrap();
    assert_eq!(metrics["count"], 200);
    assert_eq!(metrics["mean"].as_f64(), Some(mean));

    // word-count: 50 lines of 12 words from a 10-word vocabulary, the top 3 as JSON.
    assert_eq!(output_param(&doc, "words", "words"), "600");
    assert_eq!(output_param(&doc, "words", "distinct"), "10");
    let top: Vec<(String, u64)> =
        serde_json::from_str(&output_param(&doc, "words", "top")).unwrap();
    assert_eq!(top.len(), 3);
    assert_eq!(top[0].0, "the", "{top:?}");
    assert!(top[0].1 >= top[1].1 && top[1].1 >= top[2].1, "{top:?}");

    // thumbnail: 64x48 to width 16 keeps the aspect ratio.
    assert_eq!(output_param(&doc, "thumb", "width"), "16");
    assert_eq!(output_param(&doc, "thumb", "height"), "12");

    // The python report read the components' artifacts and parameters.
    let report: serde_json::Value =
        serde_json::from_str(node(&doc, "report")["outputs"]["result"].as_str().unwrap()).unwrap();
    assert_eq!(report["words"], 600);
    assert_eq!(
        report["distinct"], 10,
        "the counts artifact has one line per word"
    );
    assert_eq!(report["thumbnail"], "16x12");
    assert_eq!(report["thumbnail_header"], "16 12");
    assert_eq!(report["top"][0][0], "the");
    assert_eq!(report["temperature"]["mean"].as_f64(), Some(mean));
    // The toolbox step read the report artifact.
    let check = node(&doc, "check")["outputs"]["result"].as_str().unwrap();
    assert!(check.contains("\"thumbnail\": \"16x12\""), "{check}");

    // Components are ordinary wasm steps: the run is recorded with their logs and metrics.
    let name = doc["metadata"]["name"].as_str().unwrap();
    let out = skiff(&["get", name]);
    assert!(out.status.success(), "{}", stderr(&out));
    let get = stdout(&out);
    for step in ["make-data", "stats", "words", "thumb", "report", "check"] {
        assert!(get.contains(step), "{get}");
    }
}

/// A workflow running the built example modules with its inputs from workflow parameters, so
/// that values the check before the run cannot see reach the component.
fn failing_workflow() -> String {
    format!(
        r#"apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{generateName: component-failures-}}
spec:
  entrypoint: main
  arguments:
    parameters: [{{name: width, value: "8"}}, {{name: column, value: b}}]
  templates:
    - name: main
      steps:
        - - name: make
            template: make
        - - name: thumb
            template: thumbnail
            continueOn: {{failed: true}}
            arguments:
              parameters: [{{name: width, value: "{{{{workflow.parameters.width}}}}"}}]
              artifacts: [{{name: image, from: "{{{{steps.make.outputs.artifacts.image}}}}"}}]
          - name: stats
            template: csv-stats
            continueOn: {{failed: true}}
            arguments:
              parameters: [{{name: column, value: "{{{{workflow.parameters.column}}}}"}}]
              artifacts: [{{name: table, from: "{{{{steps.make.outputs.artifacts.table}}}}"}}]
    - name: make
      container:
        image: busybox
        command: [sh, -c]
        args: ["printf 'P5 2 1 255 \\001\\002' > /tmp/img; printf 'a,b\\n1,2\\n3,x\\n' > /tmp/t.csv"]
      outputs:
        artifacts: [{{name: image, path: /tmp/img}}, {{name: table, path: /tmp/t.csv}}]
    - name: thumbnail
      inputs:
        parameters: [{{name: width}}, {{name: height, default: ""}}]
        artifacts: [{{name: image, path: /tmp/inputs/artifacts/image}}]
      wasm: {{module: "{thumbnail}"}}
      outputs:
        parameters:
          - {{name: width, valueFrom: {{path: /tmp/outputs/parameters/width}}}}
    - name: csv-stats
      inputs:
        parameters: [{{name: column}}]
        artifacts: [{{name: table, path: /tmp/inputs/artifacts/table}}]
      wasm: {{module: "{stats}"}}
      outputs:
        parameters:
          - {{name: mean, valueFrom: {{path: /tmp/outputs/parameters/mean}}}}
"#,
        thumbnail = paths::EXAMPLE_THUMBNAIL,
        stats = paths::EXAMPLE_CSV_STATS,
    )
}

#[test]
fn a_component_failure_says_which_input_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_workflow(dir.path(), "failures.yaml", &failing_workflow());

    // The thumbnail succeeds (the 2x1 image grows to 8x4); csv-stats fails with the function's
    // own error, because column `b` has a cell that is not a number.
    let (code, doc, out) = run_json(&file, &[]);
    assert_eq!(code, 0, "continueOn keeps the run going: {}", stderr(&out));
    assert_eq!(output_param(&doc, "thumb", "width"), "8");
    let stats = node(&doc, "stats");
    assert_eq!(stats["phase"], "Failed");
    let message = stats["message"].as_str().unwrap();
    assert!(
        message.contains("row 3, column `b`: \"x\" is not a number"),
        "the function's error is the step's message: {message}"
    );

    // A value that does not parse as the argument's type never reaches the function.
    let (_, doc, _) = run_json(&file, &["-p", "width=wide", "-p", "column=nope"]);
    let thumb = node(&doc, "thumb");
    assert_eq!(thumb["phase"], "Failed");
    let message = thumb["message"].as_str().unwrap();
    assert!(
        message.contains("input parameter `width` must be a non-negative integer, got \"wide\""),
        "{message}"
    );
    let message = node(&doc, "stats")["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("no column `nope` in the header (columns: a, b)"),
        "{message}"
    );
    // The same text is in the step's log.
    let name = doc["metadata"]["name"].as_str().unwrap();
    let out = skiff(&["logs", name, "thumb"]);
    assert!(
        stdout(&out).contains("input parameter `width` must be"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn the_macro_twin_of_add_behaves_as_the_hand_written_one() {
    // Same template, either module: same outputs.
    let yaml = std::fs::read_to_string(repo().join("examples/add.yaml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for module in [paths::EXAMPLE_ADD, paths::EXAMPLE_ADD_MACRO] {
        let yaml = yaml.replace(
            "../target/wasm32-wasip1/release/skiff-example-add.wasm",
            module,
        );
        let file = write_workflow(dir.path(), "add.yaml", &yaml);
        let (code, doc, out) = run_json(&file, &["-p", "a=40", "-p", "b=2"]);
        assert_eq!(code, 0, "{module}: {}", stderr(&out));
        assert_eq!(output_param(&doc, "first", "sum"), "42");
        assert_eq!(node(&doc, "second")["outputs"]["result"], "84");
    }
    // Only the macro's module describes itself.
    let out = skiff(&[
        "component",
        "describe",
        paths::EXAMPLE_ADD_MACRO,
        "-o",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let description: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(description["name"], "add");
    assert_eq!(description["result"], "sum");
    assert_eq!(description["inputs"][1]["env"], "SKIFF_INPUT_B");
    let out = skiff(&["component", "describe", paths::EXAMPLE_ADD]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("#[skiff_guest::component]"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_new_component_builds_and_runs_from_its_own_workflow() {
    let dir = tempfile::tempdir().unwrap();
    let crate_dir = dir.path().join("hello-comp");
    // The SDK skiff embeds (no --sdk): what a user of an installed skiff gets.
    let out = skiff(&[
        "component",
        "new",
        "hello-comp",
        "--path",
        crate_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Reuse one build folder between runs of this test: the first build compiles the SDK's
    // dependencies (serde, syn) for wasm.
    let shared = Path::new(env!("CARGO_TARGET_TMPDIR")).join("component-new-target");
    std::fs::create_dir_all(&shared).unwrap();
    std::os::unix::fs::symlink(&shared, crate_dir.join("target")).unwrap();

    // The new crate lives outside this repository, so rustup would pick the default toolchain
    // for it, which may lack the wasm target: build it with the one rust-toolchain.toml pins.
    let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_skiff"))
        .args(["component", "build", crate_dir.to_str().unwrap()])
        .env("SKIFF_HOME", common::home())
        .env("RUSTUP_TOOLCHAIN", pinned_toolchain())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let module = crate_dir.join("target/wasm32-wasip1/release/hello-comp.wasm");
    assert!(module.is_file(), "{}", stdout(&out));

    let out = skiff(&[
        "component",
        "describe",
        module.to_str().unwrap(),
        "-o",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let description: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(description["name"], "hello-comp");

    let workflow = crate_dir.join("workflow.yaml");
    let (code, doc, out) = run_json(workflow.to_str().unwrap(), &[]);
    assert_eq!(code, 0, "{}", stderr(&out));
    let nodes = doc["status"]["nodes"].as_object().unwrap();
    let succeeded = nodes
        .values()
        .filter(|n| n["type"] == "Pod" && n["phase"] == "Succeeded")
        .count();
    assert!(succeeded >= 1, "{doc}");
}
