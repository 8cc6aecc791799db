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
