//! Reading the run store at scale: `skiff list` over 10,000 recorded runs and `skiff get` of one run of
//! 10,000 nodes, each against its 100 ms target.
//!
//! The store is filled through the library (a fan-out of 10,000 leaf steps under one steps node, and
//! 10,000 finished runs), then each question is timed twice: through the library (open the database,
//! read, format the text) and through the `skiff` binary (process start included, output discarded).
//! Each number is the median of several runs.
//!
//! Run: `cargo bench -p skiff --bench store`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use skiff::cli::list::table;
use skiff::cli::tree::{header, tree};
use skiff::engine::state::node_id;
use skiff::engine::{NodeOutputs, NodeStatus, NodeType};
use skiff::spec::NodePhase;
use skiff::store::{Batch, ListFilter, NewRun, Owner, RunUpdate, Store};

const RUNS: usize = 10_000;
const NODES: usize = 10_000;
const TARGET: Duration = Duration::from_millis(100);
const SAMPLES: usize = 7;

fn new_run(name: &str, created: SystemTime) -> NewRun {
    NewRun {
        name: name.to_string(),
        uid: format!("uid-{name}"),
        namespace: "default".to_string(),
        created_at: created,
        priority: None,
        spec: "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {generateName: bench-}\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    container: {image: alpine, command: [echo, hi]}\n".to_string(),
        source: None,
        parameters: vec![],
        entrypoint: None,
    }
}

fn node(run: &str, name: &str, display: &str, ty: NodeType, now: SystemTime) -> NodeStatus {
    NodeStatus {
        id: node_id(run, name),
        name: name.to_string(),
        display_name: display.to_string(),
        node_type: ty,
        template_name: Some("echo".to_string()),
        phase: NodePhase::Succeeded,
        message: None,
        started_at: Some(now),
        finished_at: Some(now + Duration::from_millis(3)),
        children: vec![],
        executor: Some("toolbox".to_string()),
        inputs: vec![("i".to_string(), "1".to_string())],
        outputs: NodeOutputs {
            result: Some("item".to_string()),
            exit_code: Some(0),
            ..NodeOutputs::default()
        },
        retry_attempt: None,
        memoization: None,
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time(mut f: impl FnMut()) -> Duration {
    f();
    median(
        (0..SAMPLES)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .collect(),
    )
}

fn report(what: &str, took: Duration) {
    println!(
        "{what:<52} {:>8.1} ms   target {} ms   {:.1}x under",
        took.as_secs_f64() * 1e3,
        TARGET.as_millis(),
        TARGET.as_secs_f64() / took.as_secs_f64()
    );
}

fn main() {
    let home = tempfile::tempdir().expect("temp dir");
    let path = Store::path_in(home.path());
    let mut store = Store::open(&path).expect("store");
    let owner = Owner::current();
    let now = SystemTime::now();

    let fill = Instant::now();
    for i in 0..RUNS {
        let name = format!("bench-{i:05}");
        store
            .create_run(&new_run(&name, now - Duration::from_secs(i as u64)), &owner)
            .expect("create");
        store
            .write(
                &name,
                &Batch {
                    progress: Some((1, 1)),
                    run: Some(RunUpdate {
                        phase: if i % 10 == 0 {
                            NodePhase::Failed
                        } else {
                            NodePhase::Succeeded
                        },
                        message: (i % 10 == 0).then(|| "child 'x' failed".to_string()),
                        finished_at: Some(now),
                    }),
                    ..Batch::default()
                },
            )
            .expect("write");
    }
    let big = "bench-wide";
    store
        .create_run(
            &new_run(big, now - Duration::from_secs(RUNS as u64 + 1)),
            &owner,
        )
        .expect("create");
    let mut nodes = vec![
        node(big, big, big, NodeType::Steps, now),
        node(big, &format!("{big}[0]"), "[0]", NodeType::StepGroup, now),
    ];
    for i in 0..NODES - 2 {
        let name = format!("{big}[0].each({i}:{i})");
        nodes.push(node(
            big,
            &name,
            &format!("each({i}:{i})"),
            NodeType::Pod,
            now,
        ));
    }
    let group = nodes[1].id.clone();
    nodes[0].children.push(group);
    let leaves: Vec<String> = nodes[2..].iter().map(|n| n.id.clone()).collect();
    nodes[1].children = leaves;
    store
        .write(
            big,
            &Batch {
                nodes: nodes
                    .into_iter()
                    .enumerate()
                    .map(|(i, n)| (i as u64, n))
                    .collect(),
                progress: Some(((NODES - 2) as u64, (NODES - 2) as u64)),
                run: Some(RunUpdate {
                    phase: NodePhase::Succeeded,
                    message: None,
                    finished_at: Some(now),
                }),
                ..Batch::default()
            },
        )
        .expect("write");
    drop(store);
    println!(
        "filled {} runs and one run of {NODES} nodes in {:.1} s ({})",
        RUNS + 1,
        fill.elapsed().as_secs_f64(),
        path.display()
    );

    let list_lib = time(|| {
        let store = Store::open(&path).expect("store");
        let runs = store.list(&ListFilter::default()).expect("list");
        assert_eq!(runs.len(), RUNS + 1);
        std::hint::black_box(table(&runs, false, SystemTime::now()));
    });
    report("list of 10,001 runs (library: open, read, table)", list_lib);

    let get_lib = time(|| {
        let store = Store::open(&path).expect("store");
        let (_, state) = store.state(big).expect("state");
        assert_eq!(state.nodes.len(), NODES);
        std::hint::black_box(format!("{}{}", header(&state), tree(&state)));
    });
    report(
        "get of a 10,000-node run (library: open, read, tree)",
        get_lib,
    );

    let binary = |args: &[&str]| {
        let status = Command::new(env!("CARGO_BIN_EXE_skiff"))
            .args(args)
            .env("SKIFF_HOME", home.path())
            .stdout(Stdio::null())
            .status()
            .expect("skiff runs");
        assert!(status.success());
    };
    let list_bin = time(|| binary(&["list"]));
    report("`skiff list` over 10,001 runs (process included)", list_bin);
    let get_bin = time(|| binary(&["get", big]));
    report(
        "`skiff get` of a 10,000-node run (process included)",
        get_bin,
    );
    let json_bin = time(|| binary(&["get", big, "-o", "json"]));
    report("`skiff get -o json` of a 10,000-node run", json_bin);
}
