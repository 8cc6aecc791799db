//! Runs every compiled Kubeflow pipeline of `shared/conformance/kfp` (v2 IR YAML and v1 Argo YAML) through
//! `skiff submit`, and checks the final state `EXPECTED.tsv` gives and, where it gives one, the pipeline's
//! output (the add pipeline returns 40).
//!
//! The folder is found as the Argo conformance test finds it (`SKIFF_CONFORMANCE_DIR`, else
//! `../shared/conformance`); CI sets `SKIFF_REQUIRE_CONFORMANCE=1`.

mod common;

use std::sync::Mutex;

use common::{conformance_dir, node, run_json, run_until, skiff, stderr, stdout};

/// Pipelines whose outcome is random by design, with how many runs the test allows for the expected state:
/// retry.yaml's two tasks exit with `random.choice` of 0-3 (11 tries) and of 0-1 (6 tries), so one run
/// succeeds with p = 94%; four runs miss with p < 1e-4. A run that misses must have failed only through
/// the program's exit statuses, never with a node in `Error` (skiff's own failure).
const RANDOM: &[(&str, usize)] = &[("v2/retry.yaml", 4)];

/// The value of the root node's output parameter `name`, as JSON (a text that is not JSON stays a string).
fn pipeline_output(doc: &serde_json::Value) -> Option<serde_json::Value> {
    let nodes = doc["status"]["nodes"].as_object()?;
    let root = nodes
        .values()
        .find(|n| n["id"] == doc["metadata"]["name"])?;
    let params = root["outputs"]["parameters"].as_array()?;
    let value = params.first()?["value"].as_str()?;
    Some(
        serde_json::from_str(value)
            .unwrap_or_else(|_| serde_json::Value::String(value.to_string())),
    )
}

#[test]
fn kfp_pipelines_reach_their_expected_state() {
    let Some(dir) = conformance_dir("kfp/EXPECTED.tsv") else {
        eprintln!("conformance folder not found: skipped (CI requires it)");
        return;
    };
    let kfp = dir.join("kfp");
    let expected = std::fs::read_to_string(kfp.join("EXPECTED.tsv")).unwrap();
    let cases: Vec<(String, String, Option<String>)> = expected
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut cols = l.split('\t');
            let file = cols.next().unwrap_or_default().trim().to_string();
            let state = cols.next().unwrap_or_default().trim().to_string();
            let output = cols
                .next()
                .map(|o| o.trim().to_string())
                .filter(|o| !o.is_empty());
            (file, state, output)
        })
        .collect();
    assert!(
        cases.len() >= 13,
        "EXPECTED.tsv lists {} pipelines",
        cases.len()
    );

    let queue = Mutex::new(cases);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                loop {
                    let Some((file, want, output)) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let path = kfp.join(&file);
                    let attempts = RANDOM
                        .iter()
                        .find(|(f, _)| *f == file)
                        .map_or(1, |(_, n)| *n);
                    let (doc, out, got, runs) = run_until(&path, &want, attempts);
                    if attempts > 1 {
                        eprintln!("{file}: {got} after {runs} run(s) of at most {attempts}");
                    }
                    let mut problems = Vec::new();
                    if got != want {
                        problems.push(format!("expected {want}, got {got}"));
                    }
                    if let Some(output) = &output {
                        let want_value: serde_json::Value = serde_json::from_str(output).unwrap();
                        let got_value = pipeline_output(&doc);
                        if got_value.as_ref() != Some(&want_value) {
                            problems.push(format!(
                                "expected the output {want_value}, got {got_value:?}"
                            ));
                        }
                    }
                    let verdict = if problems.is_empty() { "ok" } else { "FAILED" };
                    eprintln!("{verdict:>7}  {file}  (expected {want}, got {got})");
                    if !problems.is_empty() {
                        let messages: Vec<String> = doc["status"]["nodes"]
                            .as_object()
                            .into_iter()
                            .flat_map(|n| n.values())
                            .filter_map(|n| {
                                n["message"]
                                    .as_str()
                                    .map(|m| format!("  {}: {m}", n["displayName"]))
                            })
                            .collect();
                        failures.lock().unwrap().push(format!(
                            "{file}: {}\n{}\n{}",
                            problems.join("; "),
                            messages.join("\n"),
                            String::from_utf8_lossy(&out.stderr)
                        ));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_add_pipeline_prints_its_output_and_takes_parameters() {
    let Some(dir) = conformance_dir("kfp/EXPECTED.tsv") else {
        return;
    };
    let file = dir.join("kfp/v2/add_pipeline_v2.yaml");
    let out = skiff(&[
        "submit",
        file.to_str().unwrap(),
        "--wait",
        "-p",
        "v1=10",
        "-p",
        "v2=4",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // (10 + 4) * (10 - 4)
    assert!(
        stdout(&out).ends_with("\nOutputs:\n  Output: 84\n"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn metrics_are_printed_after_the_run() {
    let Some(dir) = conformance_dir("kfp/EXPECTED.tsv") else {
        return;
    };
    let file = dir.join("kfp/v2/pipeline_with_metrics_outputs.yaml");
    let out = skiff(&["submit", file.to_str().unwrap(), "--wait"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let table = text.split_once("STEP              METRIC").map(|(_, t)| t);
    let rows: Vec<&str> = table
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("metrics.accuracy"))
        .collect();
    assert_eq!(rows.len(), 3, "{text}");
}

#[test]
fn a_component_that_raises_fails_with_its_traceback() {
    let Some(dir) = conformance_dir("kfp/EXPECTED.tsv") else {
        return;
    };
    let source = std::fs::read_to_string(dir.join("kfp/v2/add_pipeline_v2.yaml")).unwrap();
    let broken = source.replace("return a + b", "raise ValueError('a is ' + str(a))");
    assert_ne!(source, broken);
    let tmp = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("kfp-raises.yaml");
    std::fs::write(&tmp, broken).unwrap();

    let out = skiff(&["submit", tmp.to_str().unwrap(), "--wait", "--log"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let log = stdout(&out);
    assert!(
        log.contains("add: Traceback (most recent call last):"),
        "{log}"
    );
    assert!(log.contains("add: ValueError: a is 7"), "{log}");

    let (_, doc, _) = run_json(tmp.to_str().unwrap(), &[]);
    assert_eq!(doc["status"]["phase"], "Failed");
    assert_eq!(
        node(&doc, "add")["message"],
        "ValueError: a is 7 (exit code 1)"
    );
    assert_eq!(node(&doc, "subtract")["phase"], "Succeeded");
}

#[test]
fn packages_to_install_must_be_in_the_runtime() {
    let Some(dir) = conformance_dir("kfp/EXPECTED.tsv") else {
        return;
    };
    let source = std::fs::read_to_string(dir.join("kfp/v2/add_pipeline_v2.yaml")).unwrap();
    let tmp = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));

    // numpy and scikit-learn are in the runtime: the pipeline runs as before.
    let present = source.replace(
        "'kfp==2.17.0'",
        "'kfp==2.17.0' 'numpy>=1.26' 'scikit_learn'",
    );
    assert_ne!(source, present);
    std::fs::write(tmp.join("kfp-packages-present.yaml"), present).unwrap();
    let (code, doc, out) = run_json(tmp.join("kfp-packages-present.yaml").to_str().unwrap(), &[]);
    assert_eq!(code, 0, "{}", stderr(&out));
    assert_eq!(doc["status"]["phase"], "Succeeded");

    // torch is not: the step fails before it runs, saying so.
    let missing = source.replace("'kfp==2.17.0'", "'kfp==2.17.0' 'torch==2.5'");
    std::fs::write(tmp.join("kfp-packages-missing.yaml"), missing).unwrap();
    let (code, doc, _) = run_json(tmp.join("kfp-packages-missing.yaml").to_str().unwrap(), &[]);
    assert_eq!(code, 1);
    let message = node(&doc, "add")["message"].as_str().unwrap().to_string();
    assert!(
        message.starts_with(
            "the step installs torch with pip, which skiff's python runtime does not have"
        ),
        "{message}"
    );
}
