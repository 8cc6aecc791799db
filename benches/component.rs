//! What `#[skiff_guest::component]` costs per step: the hand-written `add` component
//! (`examples/components/add`, `input::param_as` and `output::param` by hand) beside its twin
//! written with the macro (`examples/components/add-macro`), both run in the same sandbox, with
//! the same inputs, writing the same output parameter and result.
//!
//! A plain program (no criterion): it alternates the two in rounds of equal batches so the
//! machine's drift hits both alike, and prints each one's median time per step, the difference
//! and the ratio, beside the 5 µs budget the macro has.
//!
//! `cargo bench -p skiff --bench component` (`SKIFF_BENCH_ROUNDS`, `SKIFF_BENCH_BATCH` to change
//! the sizes); the last numbers are in `benches/README.md`.

use std::time::{Duration, Instant};

use skiff::executor::guests::{EXAMPLE_ADD_WASM, paths};
use skiff::executor::wasm::{Sandbox, WasmConfig, WasmRuntime};

/// What the macro may add per step.
const BUDGET: Duration = Duration::from_micros(5);

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rounds = env_usize("SKIFF_BENCH_ROUNDS", 31);
    let batch = env_usize("SKIFF_BENCH_BATCH", 300);

    let runtime = WasmRuntime::new(WasmConfig {
        pool_instances: 16,
        ..WasmConfig::default()
    })
    .expect("runtime");
    let hand = runtime.module(EXAMPLE_ADD_WASM).expect("add.wasm");
    let macro_bytes = std::fs::read(paths::EXAMPLE_ADD_MACRO).expect("add-macro.wasm");
    let with_macro = runtime.module(&macro_bytes).expect("add-macro.wasm");

    // Step roots live on tmpfs when there is one, as skiff's own do.
    let root = tempfile::tempdir_in(skiff::engine::scratch_base()).expect("root");
    std::fs::create_dir(root.path().join("tmp")).expect("tmp");
    let sandbox = Sandbox {
        args: vec!["add".into()],
        env: vec![
            ("SKIFF_INPUT_A".into(), "40".into()),
            ("SKIFF_INPUT_B".into(), "2".into()),
        ],
        root: root.path().to_owned(),
        ..Sandbox::default()
    };
    let sum = root.path().join("tmp/outputs/parameters/sum");

    let run = |module| {
        let outcome = runtime.run(module, &sandbox).expect("run");
        assert_eq!(
            outcome.exit_code,
            0,
            "{}",
            String::from_utf8_lossy(&outcome.stderr)
        );
        assert_eq!(outcome.stdout, b"42\n");
        outcome
    };
    // Both write the same files: check once, then warm up.
    for module in [&hand, &with_macro] {
        std::fs::remove_file(&sum).ok();
        run(module);
        assert_eq!(std::fs::read_to_string(&sum).expect("sum"), "42");
    }
    for _ in 0..batch {
        run(&hand);
        run(&with_macro);
    }

    let mut hand_times = Vec::with_capacity(rounds);
    let mut macro_times = Vec::with_capacity(rounds);
    for round in 0..rounds {
        // Alternate which goes first, so neither always runs on a warmer cache.
        let order: [(&_, &mut Vec<Duration>); 2] = if round % 2 == 0 {
            [(&hand, &mut hand_times), (&with_macro, &mut macro_times)]
        } else {
            [(&with_macro, &mut macro_times), (&hand, &mut hand_times)]
        };
        for (module, times) in order {
            let start = Instant::now();
            for _ in 0..batch {
                std::hint::black_box(run(module));
            }
            times.push(start.elapsed() / batch as u32);
        }
    }
    let median = |times: &mut Vec<Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    let (hand_median, macro_median) = (median(&mut hand_times), median(&mut macro_times));
    let difference = macro_median.as_secs_f64() - hand_median.as_secs_f64();
    println!(
        "component bench: {rounds} rounds of {batch} steps each, medians of the per-step means"
    );
    println!(
        "  hand-written add   {:>8.2} µs per step",
        hand_median.as_secs_f64() * 1e6
    );
    println!(
        "  #[component] add   {:>8.2} µs per step",
        macro_median.as_secs_f64() * 1e6
    );
    println!(
        "  difference         {:>+8.2} µs per step (ratio {:.3}); budget {} µs: {}",
        difference * 1e6,
        macro_median.as_secs_f64() / hand_median.as_secs_f64(),
        BUDGET.as_micros(),
        if difference <= BUDGET.as_secs_f64() {
            "within"
        } else {
            "OVER"
        }
    );
    println!(
        "  module sizes: hand-written {} bytes, #[component] {} bytes",
        EXAMPLE_ADD_WASM.len(),
        macro_bytes.len()
    );
}
