//! Cost of deciding whether a step runs: `when` conditions and dag `depends` expressions on the inputs
//! real workflows give them (`cargo bench -p skiff --bench expr`).
//!
//! A `when` is parsed and evaluated from its substituted text every time (that is how it is used); a
//! `depends` is timed both as one call (`eval_depends`) and parsed once then evaluated (`Depends::eval`).

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use skiff::expr::{Depends, TaskOutcome, eval_depends, eval_when};
use skiff::spec::NodePhase;

fn when(c: &mut Criterion) {
    let cases = [
        ("coinflip", "heads == heads"),
        ("number", "7 > 5"),
        ("regex", "heads =~ \"^h.*\""),
        ("exit handler", "Failed != Succeeded"),
        (
            "compound",
            "(Succeeded != Succeeded) || (even == even && 3 < 10)",
        ),
    ];
    let mut group = c.benchmark_group("eval_when");
    for (name, expr) in cases {
        group.bench_function(name, |b| b.iter(|| eval_when(black_box(expr))));
    }
    group.finish();
}

fn depends(c: &mut Criterion) {
    let mut tasks: HashMap<String, TaskOutcome> = HashMap::new();
    for (name, phase) in [
        ("A", NodePhase::Succeeded),
        ("B", NodePhase::Succeeded),
        ("C", NodePhase::Failed),
        ("should-execute-2", NodePhase::Succeeded),
        ("should-not-execute", NodePhase::Omitted),
    ] {
        tasks.insert(name.to_owned(), TaskOutcome::new(phase));
    }
    let wide: Vec<String> = (0..50).map(|i| format!("task-{i}")).collect();
    for name in &wide {
        tasks.insert(name.clone(), TaskOutcome::new(NodePhase::Succeeded));
    }
    let wide_expr = wide.join(" && ");
    let lookup = |name: &str| tasks.get(name).cloned();

    let cases = [
        ("bare", "A".to_owned()),
        ("enhanced", "A && (C.Succeeded || C.Failed)".to_owned()),
        (
            "mixed",
            "should-execute-2.Succeeded || should-not-execute".to_owned(),
        ),
        ("50 names", wide_expr),
    ];
    let mut group = c.benchmark_group("eval_depends");
    for (name, expr) in &cases {
        group.bench_function(*name, |b| b.iter(|| eval_depends(black_box(expr), &lookup)));
    }
    group.finish();

    let mut group = c.benchmark_group("depends_parsed_once");
    for (name, expr) in &cases {
        let parsed = Depends::parse(expr).unwrap_or_else(|e| panic!("{e}"));
        group.bench_function(*name, |b| b.iter(|| black_box(&parsed).eval(&lookup)));
    }
    group.finish();
}

criterion_group!(benches, when, depends);
criterion_main!(benches);
