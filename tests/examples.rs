//! Every workflow in `examples/` runs end to end through the `skiff` binary and ends as documented.

mod common;

use common::{node, nodes_named, output_param, run_json, skiff, stderr, stdout};

#[test]
fn hello_world_prints_the_whale_and_succeeds() {
    // The README's promise, exactly: `--watch` alone shows the whale of a one-step workflow.
    let out = skiff(&["submit", "examples/hello-world.yaml", "--watch"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(text.contains("< hello world >"), "{text}");
    assert!(text.contains("Status:              Succeeded"), "{text}");
    assert!(text.contains("✔ hello-world-"), "{text}");
    let bubble = text.find("< hello world >").unwrap();
    assert!(
        bubble > text.find("STEP").unwrap(),
        "the output follows the tree: {text}"
    );

    // With `--log` the lines come prefixed with the step's name, once.
    let out = skiff(&["submit", "examples/hello-world.yaml", "--watch", "--log"]);
    let text = stdout(&out);
    assert_eq!(text.matches("< hello world >").count(), 1, "{text}");
    assert!(text.contains(": < hello world >"), "{text}");
}

#[test]
fn hello_world_parameter_override_reaches_the_step() {
    let (code, doc, _) = run_json("examples/hello-world.yaml", &["-p", "message=ahoy skiff"]);
    assert_eq!(code, 0);
    assert_eq!(doc["status"]["phase"], "Succeeded");
    let root = doc["status"]["nodes"]
        .as_object()
        .unwrap()
        .values()
        .find(|n| n["type"] == "Pod")
        .unwrap();
    assert!(
        root["outputs"]["result"]
            .as_str()
            .unwrap()
            .contains("< ahoy skiff >")
    );
}

#[test]
fn steps_run_in_order_and_in_parallel() {
    let (code, doc, _) = run_json("examples/steps.yaml", &[]);
    assert_eq!(code, 0);
    for (name, msg) in [
        ("hello1", "hello1"),
        ("hello2a", "hello2a"),
        ("hello2b", "hello2b"),
    ] {
        let n = node(&doc, name);
        assert_eq!(n["phase"], "Succeeded");
        assert_eq!(n["outputs"]["result"], msg);
    }
    // hello1 finished before the second group started.
    let first = node(&doc, "hello1")["finishedAt"]
        .as_str()
        .unwrap()
        .to_string();
    let second = node(&doc, "hello2a")["startedAt"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(first <= second);
}

#[test]
fn steps_watch_draws_the_tree() {
    let out = skiff(&["submit", "examples/steps.yaml", "--watch"]);
    let text = stdout(&out);
    assert!(out.status.success());
    assert!(text.contains("STEP"), "{text}");
    assert!(text.contains("├───✔ hello1"), "{text}");
    assert!(text.contains("└─┬─✔ hello2a"), "{text}");
    assert!(text.contains("  └─✔ hello2b"), "{text}");
}

#[test]
fn exit_handler_sees_the_failure() {
    let (code, doc, _) = run_json("examples/exit-handler.yaml", &[]);
    assert_eq!(code, 1, "--wait exits 1 on a failed run");
    assert_eq!(doc["status"]["phase"], "Failed");
    let notify = node(&doc, "notify");
    let result = notify["outputs"]["result"].as_str().unwrap();
    assert!(result.contains("ended Failed"), "{result}");
    assert!(result.contains("\"displayName\":"), "{result}");
    assert_eq!(node(&doc, "investigate")["phase"], "Succeeded");
    assert_eq!(node(&doc, "celebrate")["phase"], "Skipped");
}

#[test]
fn exit_handler_logs_show_both_streams() {
    let out = skiff(&["submit", "examples/exit-handler.yaml", "--log"]);
    let text = stdout(&out);
    assert!(text.contains("working"), "{text}");
    assert!(text.contains("disk full"), "{text}");
    assert!(text.contains("something broke"), "{text}");
}

#[test]
fn dag_diamond_respects_dependencies() {
    let (code, doc, _) = run_json("examples/dag-diamond.yaml", &[]);
    assert_eq!(code, 0);
    for name in ["A", "B", "C", "D"] {
        assert_eq!(node(&doc, name)["outputs"]["result"], name);
    }
    let a_done = node(&doc, "A")["finishedAt"].as_str().unwrap().to_string();
    let d_start = node(&doc, "D")["startedAt"].as_str().unwrap().to_string();
    assert!(a_done <= d_start);
}

#[test]
fn parameters_default_and_override() {
    let (code, doc, _) = run_json("examples/parameters.yaml", &[]);
    assert_eq!(code, 0);
    let pod = nodes_named(&doc, doc["metadata"]["name"].as_str().unwrap())[0];
    assert_eq!(pod["outputs"]["result"], "hello world (1)\nhello world (2)");

    let (code, doc, _) = run_json(
        "examples/parameters.yaml",
        &["-p", "greeting=howdy", "-p", "count=3"],
    );
    assert_eq!(code, 0);
    let pod = nodes_named(&doc, doc["metadata"]["name"].as_str().unwrap())[0];
    assert_eq!(
        pod["outputs"]["result"],
        "howdy world (1)\nhowdy world (2)\nhowdy world (3)"
    );
}

#[test]
fn parameters_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("params.yaml");
    std::fs::write(&file, "who: files\ncount: 1\n").unwrap();
    let (code, doc, _) = run_json("examples/parameters.yaml", &["-f", file.to_str().unwrap()]);
    assert_eq!(code, 0);
    let pod = nodes_named(&doc, doc["metadata"]["name"].as_str().unwrap())[0];
    assert_eq!(pod["outputs"]["result"], "hello files (1)");
}

#[test]
fn output_parameter_flows_to_the_next_step() {
    let (code, doc, _) = run_json("examples/output-parameter.yaml", &[]);
    assert_eq!(code, 0);
    assert_eq!(
        output_param(&doc, "generate", "greeting"),
        "hello from a file"
    );
    assert_eq!(
        node(&doc, "consume")["outputs"]["result"],
        "got: hello from a file"
    );
}

#[test]
fn artifact_directory_passes_between_steps() {
    let (code, doc, _) = run_json("examples/artifact-passing.yaml", &[]);
    assert_eq!(code, 0, "{doc:#}");
    let result = node(&doc, "consume")["outputs"]["result"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(result.contains("numbers.txt"), "{result}");
    assert!(result.contains("sum of lines: 5"), "{result}");
    assert!(result.ends_with("done"), "{result}");
}

#[test]
fn output_name_prints_the_generated_name() {
    let out = skiff(&["submit", "examples/steps.yaml", "-o", "name"]);
    let name = stdout(&out);
    let name = name.trim();
    assert!(out.status.success());
    assert!(name.starts_with("steps-"), "{name}");
    assert_eq!(name.len(), "steps-".len() + 5, "{name}");
}

#[test]
fn wasm_template_runs_the_example_component() {
    // examples/add.yaml points at the module `cargo build -p skiff-example-add --target wasm32-wasip1
    // --release` makes; the test points it at the copy build.rs made, and runs it as written otherwise.
    let dir = tempfile::tempdir().unwrap();
    let yaml = std::fs::read_to_string(common::repo().join("examples/add.yaml")).unwrap();
    let built = skiff::executor::guests::paths::EXAMPLE_ADD;
    let yaml = yaml.replace(
        "../target/wasm32-wasip1/release/skiff-example-add.wasm",
        built,
    );
    let file = dir.path().join("add.yaml");
    std::fs::write(&file, yaml).unwrap();
    let (code, doc, out) = run_json(file.to_str().unwrap(), &["-p", "a=40", "-p", "b=2"]);
    assert_eq!(code, 0, "{}", stderr(&out));
    assert_eq!(output_param(&doc, "first", "sum"), "42");
    assert_eq!(node(&doc, "second")["outputs"]["result"], "84");
    let first = node(&doc, "first");
    assert_eq!(first["type"], "Pod");

    let (code, doc, _) = run_json(file.to_str().unwrap(), &["-p", "b=two"]);
    assert_eq!(code, 1);
    let message = node(&doc, "first")["message"].as_str().unwrap().to_string();
    // A `wasm:` module's last stderr line is the step's message.
    assert_eq!(
        message,
        "input parameter `b` must be an integer, got \"two\" (invalid digit found in string) (exit code 1)"
    );
}

#[test]
fn template_metrics_are_recorded_and_printed() {
    let (code, doc, out) = run_json("examples/metrics.yaml", &[]);
    assert_eq!(code, 0, "{}", stderr(&out));
    let name = doc["metadata"]["name"].as_str().unwrap();
    let recorded = output_param(&doc, name, "skiff-metrics-prometheus");
    let metrics: serde_json::Value = serde_json::from_str(&recorded).unwrap();
    assert_eq!(metrics["rows"], 12);
    assert!(metrics["seconds"].as_f64().is_some_and(|s| s >= 0.0));
    // `when` was false: the step did not fail.
    assert!(metrics.get("failures").is_none(), "{metrics}");

    let out = skiff(&["submit", "examples/metrics.yaml", "--wait"]);
    let text = stdout(&out);
    assert!(text.contains("prometheus.rows     12"), "{text}");
}
