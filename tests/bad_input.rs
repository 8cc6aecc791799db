//! Bad input is refused before anything runs: one clear error naming file:line:column, exit code 2.

mod common;

use common::{skiff, stderr, stdout};

/// Submits a file of `tests/bad-input/` and checks the exit code and that stderr has every expected part.
fn refused(file: &str, expected: &[&str]) -> String {
    let path = format!("tests/bad-input/{file}");
    let out = skiff(&["submit", &path, "--wait"]);
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{file}: expected exit 2\nstdout:\n{}\nstderr:\n{err}",
        stdout(&out)
    );
    for part in expected {
        assert!(err.contains(part), "{file}: stderr lacks {part:?}:\n{err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    assert!(stdout(&out).is_empty(), "nothing runs: {}", stdout(&out));
    err
}

#[test]
fn malformed_yaml_names_the_line() {
    refused(
        "malformed-yaml.yaml",
        &["tests/bad-input/malformed-yaml.yaml:1"],
    );
}

#[test]
fn unknown_template_names_the_step_and_the_line() {
    refused(
        "unknown-template.yaml",
        &[
            "tests/bad-input/unknown-template.yaml:11:",
            "print-mesage",
            "print-message",
        ],
    );
}

#[test]
fn cycle_names_the_tasks() {
    refused(
        "cycle.yaml",
        &["tests/bad-input/cycle.yaml:", "cycle", "A", "B", "C"],
    );
}

#[test]
fn missing_parameter_says_how_to_supply_it() {
    refused(
        "missing-parameter.yaml",
        &["tests/bad-input/missing-parameter.yaml:9:", "message", "-p"],
    );
}

#[test]
fn missing_parameter_is_fine_once_supplied() {
    let out = skiff(&[
        "submit",
        "tests/bad-input/missing-parameter.yaml",
        "--wait",
        "-p",
        "message=supplied",
        "--log",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("supplied"));
}

#[test]
fn unsupported_image_names_the_image_and_the_way_out() {
    refused(
        "unsupported-image.yaml",
        &[
            "tests/bad-input/unsupported-image.yaml:10:",
            "tensorflow/tensorflow:2.15.0-gpu",
            "skiff.dev/executor: kubernetes",
        ],
    );
}

#[test]
fn unknown_variable_is_named() {
    refused(
        "unknown-variable.yaml",
        &[
            "tests/bad-input/unknown-variable.yaml:15:",
            "inputs.parameters.mesage",
        ],
    );
}

#[test]
fn missing_entrypoint_is_named() {
    refused(
        "missing-entrypoint.yaml",
        &["missing-entrypoint.yaml", "entrypoint"],
    );
}

#[test]
fn missing_file_is_bad_input() {
    let out = skiff(&["submit", "tests/bad-input/no-such-file.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no-such-file.yaml"));
}

#[test]
fn parameter_without_equals_is_bad_input() {
    let out = skiff(&["submit", "examples/steps.yaml", "-p", "novalue"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("name=value"), "{}", stderr(&out));
}

#[test]
fn lint_reports_every_bad_file_and_passes_good_ones() {
    let out = skiff(&["lint", "examples/steps.yaml", "tests/bad-input/cycle.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).contains("examples/steps.yaml is valid"));
    assert!(stderr(&out).contains("cycle"));
    let out = skiff(&["lint", "examples/steps.yaml", "examples/dag-diamond.yaml"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_kfp_task_naming_a_missing_component_names_the_line() {
    refused(
        "kfp-missing-component.yaml",
        &[
            "tests/bad-input/kfp-missing-component.yaml:9:11:",
            "comp-train",
            "help: ",
        ],
    );
}

#[test]
fn a_kfp_condition_skiff_cannot_translate_says_what_it_can() {
    refused(
        "kfp-bad-condition.yaml",
        &[
            "tests/bad-input/kfp-bad-condition.yaml:20:11:",
            "cannot translate the condition of task `echo`",
            "==, !=",
        ],
    );
}

/// `skiff submit FILE --wait` (with `--strict` for `strict-*` files) on every file of `tests/bad-input/`:
/// each is refused with exit 2, nothing on stdout, no panic, a message naming the file and its line and
/// saying what to do, and
/// every message is kept in one snapshot, file by file.
#[test]
fn every_bad_input_file_is_refused_with_its_message() {
    let mut files: Vec<String> = std::fs::read_dir(common::repo().join("tests/bad-input"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "only {} files", files.len());
    let mut report = String::new();
    for file in &files {
        let path = format!("tests/bad-input/{file}");
        let mut args = vec!["submit", path.as_str(), "--wait"];
        if file.starts_with("strict-") {
            args.push("--strict");
        }
        let out = skiff(&args);
        let err = stderr(&out);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{file}: expected exit 2\nstdout:\n{}\nstderr:\n{err}",
            stdout(&out)
        );
        assert!(stdout(&out).is_empty(), "{file}: {}", stdout(&out));
        assert!(!err.contains("panicked"), "{file}: {err}");
        let located = format!("{path}:");
        assert!(
            err.contains(&path),
            "{file}: the message does not name the file:\n{err}"
        );
        let has_line = err
            .match_indices(&located)
            .any(|(at, _)| err[at + located.len()..].starts_with(|c: char| c.is_ascii_digit()));
        assert!(has_line, "{file}: the message names no line:\n{err}");
        // What to do: a help line, or (for an image skiff cannot run) the ways out in the message.
        assert!(
            err.contains("help: ") || err.contains(": give the template"),
            "{file}: the message does not say what to do:\n{err}"
        );
        report.push_str(&format!("== {file}\n{}\n", err.trim_end()));
    }
    insta::assert_snapshot!("every_bad_input_file", report);
}

#[test]
fn unknown_fields_are_ignored_unless_strict() {
    let file = "tests/bad-input/strict-unknown-fields.yaml";
    let out = skiff(&["lint", file]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = skiff(&["lint", "--strict", file]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    for part in [
        "strict-unknown-fields.yaml:8:3: unknown field `serviceAcountName` in `spec`",
        "strict-unknown-fields.yaml:11:7: unknown field `retryStratgy`",
        "strict-unknown-fields.yaml:15:9: unknown field `comand` in `spec.templates[0].container`",
        "help: check its spelling",
    ] {
        assert!(err.contains(part), "lacks {part:?}:\n{err}");
    }
    // Every example is strict-clean: skiff reads every field they use.
    for example in [
        "examples/steps.yaml",
        "examples/dag-diamond.yaml",
        "examples/exit-handler.yaml",
    ] {
        let out = skiff(&["lint", "--strict", example]);
        assert!(out.status.success(), "{example}: {}", stderr(&out));
    }
}

/// A file in a temporary folder under the build's target dir, named `name`, holding `text`.
fn generated(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("bad-input");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Lints a generated file; returns its exit code, stderr, and how long it took.
fn lint_generated(path: &std::path::Path) -> (Option<i32>, String, std::time::Duration) {
    let started = std::time::Instant::now();
    let out = skiff(&["lint", path.to_str().unwrap()]);
    (out.status.code(), stderr(&out), started.elapsed())
}

const HEADER: &str = "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  generateName: big-\nspec:\n  entrypoint: main\n";

#[test]
fn a_file_over_ten_megabytes_with_an_error_at_the_end_names_its_last_line() {
    let mut text = String::from(HEADER);
    text.push_str("  arguments:\n    parameters:\n");
    let mut lines = text.lines().count();
    while text.len() < 11 << 20 {
        text.push_str(&format!(
            "      - {{name: p{lines}, value: \"{}\"}}\n",
            "x".repeat(100)
        ));
        lines += 1;
    }
    text.push_str("  templates: [unclosed\n");
    let path = generated("huge.yaml", &text);
    let (code, err, took) = lint_generated(&path);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!("huge.yaml:{}:", lines + 1)),
        "expected line {}:\n{err}",
        lines + 1
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(took.as_secs() < 60, "took {took:?}");
}

#[test]
fn deeply_nested_yaml_is_refused_without_a_stack_overflow() {
    let depth = 100_000;
    let flow = format!(
        "{HEADER}  arguments:\n    parameters:\n      - name: deep\n        value: {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let mut block = String::from(HEADER);
    block.push_str("  templates:\n    - name: main\n      inputs:\n");
    for level in 0..2_000 {
        block.push_str(&format!("{}k:\n", " ".repeat(8 + level)));
    }
    for (name, text) in [("deep-flow.yaml", flow), ("deep-block.yaml", block)] {
        let path = generated(name, &text);
        let (code, err, took) = lint_generated(&path);
        assert_eq!(code, Some(2), "{name}: {err}");
        assert!(err.contains(&format!("{name}:")), "{name}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("overflow"),
            "{name}: {err}"
        );
        assert!(took.as_secs() < 60, "{name}: took {took:?}");
    }
}
