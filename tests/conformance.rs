//! Runs every workflow of `shared/conformance/argo/core` and checks the phase `EXPECTED.tsv` gives.
//!
//! The folder is found through `SKIFF_CONFORMANCE_DIR`, else beside the repository (`../shared/conformance`).
//! Locally the test is skipped with a message when neither exists; CI sets `SKIFF_REQUIRE_CONFORMANCE=1`, so
//! there a missing folder fails the test instead. Workflows whose steps need the python executor (a later
//! piece of work) must fail with the python executor's message; every other one must reach its phase.

mod common;

use std::path::PathBuf;
use std::sync::Mutex;

use common::{repo, run_json};

/// Workflows for which `EXPECTED.tsv` gives a phase that Argo itself would not reach, with the phase Argo
/// reaches and why. Both are labelled `workflows.argoproj.io/no-test: environment` upstream, so Argo's own
/// end-to-end suite never runs them; run for real, each has a step that exits 1 with no `continueOn`, which
/// fails the step and so the workflow. skiff keeps Argo's semantics (the contract) and this test asserts
/// the phase Argo would give, so a change either way is caught.
const ARGO_DISAGREES: &[(&str, &str, &str)] = &[
    (
        "core/pod-gc-strategy.yaml",
        "Failed",
        "step `fail` runs `exit 1` without continueOn; podGC only deletes pods, it does not change phases",
    ),
    (
        "core/pod-gc-strategy-with-label-selector.yaml",
        "Failed",
        "step `fail` runs `exit 1` without continueOn; podGC only deletes pods, it does not change phases",
    ),
];

fn conformance_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SKIFF_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/conformance"));
    if dir.join("argo/EXPECTED.tsv").is_file() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("SKIFF_REQUIRE_CONFORMANCE").is_none(),
        "SKIFF_REQUIRE_CONFORMANCE is set but {} has no argo/EXPECTED.tsv",
        dir.display()
    );
    None
}

#[test]
fn argo_core_workflows_reach_their_expected_phase() {
    let Some(dir) = conformance_dir() else {
        eprintln!("conformance folder not found: skipped (CI requires it)");
        return;
    };
    let argo = dir.join("argo");
    let expected = std::fs::read_to_string(argo.join("EXPECTED.tsv")).unwrap();
    let cases: Vec<(String, String)> = expected
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_once('\t'))
        .filter(|(f, _)| f.starts_with("core/"))
        .map(|(f, p)| {
            let argo = ARGO_DISAGREES
                .iter()
                .find(|(file, _, _)| *file == f)
                .map_or(p.trim(), |(_, phase, _)| phase);
            (f.to_string(), argo.to_string())
        })
        .collect();
    assert!(
        cases.len() >= 40,
        "EXPECTED.tsv lists {} core workflows",
        cases.len()
    );

    let queue = Mutex::new(cases.clone());
    let report = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                loop {
                    let Some((file, want)) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let path = argo.join(&file);
                    let (_, doc, out) = run_json(path.to_str().unwrap(), &[]);
                    let got = doc["status"]["phase"].as_str().unwrap_or("?").to_string();
                    let needs_python = doc["status"]["nodes"]
                        .as_object()
                        .into_iter()
                        .flat_map(|n| n.values())
                        .any(|n| {
                            n["message"]
                                .as_str()
                                .is_some_and(|m| m.contains("python executor"))
                        });
                    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
                    report
                        .lock()
                        .unwrap()
                        .push((file, want, got, needs_python, stderr));
                }
            });
        }
    });
    let mut report = report.into_inner().unwrap();
    report.sort();
    let mut failures = Vec::new();
    for (file, want, got, needs_python, stderr) in &report {
        let verdict = if want == got {
            "ok"
        } else if *needs_python {
            "needs python"
        } else {
            failures.push(format!("{file}: expected {want}, got {got}\n{stderr}"));
            "FAILED"
        };
        eprintln!("{verdict:>13}  {file}  (expected {want}, got {got})");
        if let Some((_, _, why)) = ARGO_DISAGREES.iter().find(|(f, _, _)| f == file) {
            eprintln!(
                "               EXPECTED.tsv says otherwise; Argo's semantics give {want}: {why}"
            );
        }
    }
    let passed = report.iter().filter(|r| r.1 == r.2).count();
    eprintln!(
        "{passed} of {} core workflows reach their expected phase",
        report.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
