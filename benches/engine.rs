//! Per-step overhead of the whole engine (scheduler, executor, recording results) for a no-op wasm step, in a
//! 1,000-task fan-out and a 1,000-step chain, printed beside the same steps run as native processes; and a
//! 1,000-task fan-out of busybox `echo hello` steps (the toolbox) beside native `echo` processes.
//!
//! `cargo bench -p skiff --bench engine` prints one table from one run; the ratios are what to compare
//! (this machine is shared and noisy). Set `SKIFF_BENCH_STEPS` to change the 1,000.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use skiff::engine::{Engine, EngineConfig, RunOptions};
use skiff::spec::{NodePhase, parse_workflow};

/// `(module (func (export "_start")))`: a WASI command that does nothing.
const NOOP_WASM: &[u8] = &[
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: () -> ()
    0x03, 0x02, 0x01, 0x00, // function section
    0x07, 0x0a, 0x01, 0x06, b'_', b's', b't', b'a', b'r', b't', 0x00, 0x00, // export "_start"
    0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b, // code section: empty body
];

fn fan_out(n: usize) -> String {
    let mut y = String::from(
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: fan-out}\nspec:\n  entrypoint: main\n  templates:\n  - name: noop\n    wasm: {module: noop.wasm}\n  - name: main\n    dag:\n      tasks:\n",
    );
    for i in 0..n {
        y.push_str(&format!("      - {{name: t{i}, template: noop}}\n"));
    }
    y
}

/// A fan-out of `echo hello` steps on busybox: the toolbox's path (a 1 MB module, argv, stdout as the
/// result), the shape of most steps in Argo's examples.
fn echo_fan_out(n: usize) -> String {
    let mut y = String::from(
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: echo-fan-out}\nspec:\n  entrypoint: main\n  templates:\n  - name: echo\n    container: {image: busybox, command: [echo], args: [hello]}\n  - name: main\n    dag:\n      tasks:\n",
    );
    for i in 0..n {
        y.push_str(&format!("      - {{name: t{i}, template: echo}}\n"));
    }
    y
}

fn chain(n: usize) -> String {
    let mut y = String::from(
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: chain}\nspec:\n  entrypoint: main\n  templates:\n  - name: noop\n    wasm: {module: noop.wasm}\n  - name: main\n    steps:\n",
    );
    for i in 0..n {
        y.push_str(&format!("    - - {{name: s{i}, template: noop}}\n"));
    }
    y
}

fn run_engine(
    engine: &Engine,
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    name: &str,
    yaml: &str,
) -> Duration {
    let file = dir.join(format!("{name}.yaml"));
    std::fs::write(&file, yaml).unwrap();
    let doc = parse_workflow(yaml, &file).unwrap();
    let start = Instant::now();
    let state = rt.block_on(async {
        engine
            .start(&doc, RunOptions::default())
            .unwrap()
            .wait()
            .await
    });
    let took = start.elapsed();
    assert_eq!(state.phase, NodePhase::Succeeded, "{:?}", state.message);
    took
}

fn native_chain(n: usize) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        let status = Command::new("true").status().unwrap();
        assert!(status.success());
    }
    start.elapsed()
}

fn native_echo_fan_out(n: usize, parallel: usize) -> Duration {
    let start = Instant::now();
    let mut left = n;
    while left > 0 {
        let batch = left.min(parallel);
        let children: Vec<_> = (0..batch)
            .map(|_| {
                Command::new("echo")
                    .arg("hello")
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            assert!(c.wait_with_output().unwrap().status.success());
        }
        left -= batch;
    }
    start.elapsed()
}

fn native_fan_out(n: usize, parallel: usize) -> Duration {
    let start = Instant::now();
    let mut left = n;
    while left > 0 {
        let batch = left.min(parallel);
        let children: Vec<_> = (0..batch)
            .map(|_| Command::new("true").spawn().unwrap())
            .collect();
        for mut c in children {
            assert!(c.wait().unwrap().success());
        }
        left -= batch;
    }
    start.elapsed()
}

fn main() {
    // `cargo bench` passes `--bench`; run from `cargo test --benches`, keep it quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let n: usize = std::env::var("SKIFF_BENCH_STEPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 20 } else { 1000 });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("noop.wasm"), NOOP_WASM).unwrap();
    let parallel = std::thread::available_parallelism()
        .map(|p| p.get())
        .unwrap_or(2);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // The limits the CLI runs steps under (`SKIFF_MAX_SANDBOX_BYTES=0` leaves out the disk-cap watcher).
    let mut config = EngineConfig::new(dir.path().join("home"));
    config.limits = skiff::executor::limits::StepLimits::from_env().unwrap();
    let engine = Engine::new(config).unwrap();
    // Warm: compile the modules once (they are cached) and touch every code path.
    run_engine(&engine, &rt, dir.path(), "warm", &fan_out(4));
    run_engine(&engine, &rt, dir.path(), "warm-echo", &echo_fan_out(4));

    let per = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    let skiff_fan = per(run_engine(&engine, &rt, dir.path(), "fan", &fan_out(n)));
    let skiff_chain = per(run_engine(&engine, &rt, dir.path(), "chain", &chain(n)));
    let skiff_echo = per(run_engine(
        &engine,
        &rt,
        dir.path(),
        "echo",
        &echo_fan_out(n),
    ));
    let native_fan = per(native_fan_out(n, parallel));
    let native_chain = per(native_chain(n));
    let native_echo = per(native_echo_fan_out(n, parallel));

    println!("per-step overhead, {n} no-op steps, {parallel} CPUs (one run)");
    println!(
        "{:<10} {:>14} {:>16} {:>10}",
        "shape", "skiff wasm µs", "native proc µs", "ratio"
    );
    println!(
        "{:<10} {:>14.1} {:>16.1} {:>9.1}x",
        "fan-out",
        skiff_fan,
        native_fan,
        native_fan / skiff_fan
    );
    println!(
        "{:<10} {:>14.1} {:>16.1} {:>9.1}x",
        "chain",
        skiff_chain,
        native_chain,
        native_chain / skiff_chain
    );
    println!(
        "{:<10} {:>14.1} {:>16.1} {:>9.1}x",
        "echo fan",
        skiff_echo,
        native_echo,
        native_echo / skiff_echo
    );
    println!("target: at most 100 µs per step through the engine");
}
