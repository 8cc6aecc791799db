//! Runs every workflow of `shared/conformance/argo/core` and checks the phase `EXPECTED.tsv` gives.
//!
//! The folder is found through `SKIFF_CONFORMANCE_DIR`, else beside the repository (`../shared/conformance`).
//! Locally the test is skipped with a message when neither exists; CI sets `SKIFF_REQUIRE_CONFORMANCE=1`, so
//! there a missing folder fails the test instead. Every workflow must reach its phase, the python ones
//! included (the first python step of the run finds, or downloads, and compiles the python runtime).

mod common;

use std::sync::Mutex;

use common::{conformance_dir, run_until};

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

/// Workflows whose outcome is random by design (a step exits with `random.choice(...)`), with how many runs
/// the test allows for the phase `EXPECTED.tsv` gives. Each is labelled `no-test: environment` upstream.
/// The odds of one run: resubmit.yaml needs 9 steps that each exit 0 with p = 2/3 (2.6%); retry-on-error
/// retries twice a step that exits 0 with p = 1/5 (49%); the other three retry up to 10 times a step
/// that succeeds with p = 1/3 (98.8%). The allowances make a false failure rarer than 1 in 1,000. A run
/// that does not reach the phase must still have failed for the program's reason: a step that exited
/// non-zero, never a node in `Error` (which is skiff's own failure).
const RANDOM: &[(&str, usize)] = &[
    ("core/resubmit.yaml", 300),
    ("core/retry-on-error.yaml", 12),
    ("core/retry-container.yaml", 4),
    ("core/retry-backoff.yaml", 4),
    ("core/retry-script.yaml", 4),
];

#[test]
fn argo_core_workflows_reach_their_expected_phase() {
    let Some(dir) = conformance_dir("argo/EXPECTED.tsv") else {
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
                    let attempts = RANDOM
                        .iter()
                        .find(|(f, _)| *f == file)
                        .map_or(1, |(_, n)| *n);
                    let (_, out, got, runs) = run_until(&path, &want, attempts);
                    if attempts > 1 {
                        eprintln!("{file}: {got} after {runs} run(s) of at most {attempts}");
                    }
                    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
                    report.lock().unwrap().push((file, want, got, stderr));
                }
            });
        }
    });
    let mut report = report.into_inner().unwrap();
    report.sort();
    let mut failures = Vec::new();
    for (file, want, got, stderr) in &report {
        let verdict = if want == got {
            "ok"
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
