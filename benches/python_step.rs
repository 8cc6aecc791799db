//! One python step doing `print(1+1)`, warm (the runtime compiled and loaded, as for every step after the
//! first), beside a native `python3 -c "print(1+1)"` process.
//!
//! `cargo bench -p skiff --bench python_step` prints one table from one run. The runtime is found as skiff
//! finds it (`SKIFF_HOME`'s cache, else downloaded) and compiled once if needed. Set `SKIFF_BENCH_STEPS` to
//! change the number of steps (default 200), `SKIFF_BENCH_CODE` to time other code (`pass` gives the floor:
//! a fresh instance, the launcher, the sandbox root made and removed).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use skiff::executor::python::{Invocation, PythonRuntime, PythonSetup, PythonStep};

fn home() -> PathBuf {
    std::env::var_os("SKIFF_HOME")
        .map(PathBuf::from)
        .or_else(|| dirs::data_dir().map(|d| d.join("skiff")))
        .unwrap_or_else(|| PathBuf::from(".skiff"))
}

fn per_step(total: Duration, n: usize) -> f64 {
    total.as_secs_f64() * 1e3 / n as f64
}

fn main() {
    let n: usize = std::env::var("SKIFF_BENCH_STEPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let started = Instant::now();
    let runtime = PythonRuntime::load(&PythonSetup {
        cache_dir: home().join("cache"),
        allow_download: true,
    })
    .unwrap_or_else(|e| panic!("{e}"));
    println!(
        "python runtime ready in {:.1} ms (load, from the cache when compiled before); PAGEMAP_SCAN: {}",
        started.elapsed().as_secs_f64() * 1e3,
        if wasmtime::PoolingAllocationConfig::is_pagemap_scan_available() {
            "yes (pooled memories reset only dirtied pages)"
        } else {
            "no"
        }
    );

    let scratch = tempfile::tempdir().unwrap();
    // `SKIFF_BENCH_CODE` times other code (its stdout is not checked then).
    let custom = std::env::var("SKIFF_BENCH_CODE").ok();
    let code = Invocation::Code {
        code: custom.clone().unwrap_or_else(|| "print(1+1)".into()),
        args: vec![],
    };
    let run_one = |i: usize| {
        let root = scratch.path().join(format!("s{i}"));
        std::fs::create_dir_all(root.join("tmp")).unwrap();
        let out = runtime
            .run(
                &code,
                &PythonStep {
                    root: root.clone(),
                    ..PythonStep::default()
                },
            )
            .unwrap();
        if custom.is_none() {
            assert_eq!(out.stdout, b"2\n", "{}", String::from_utf8_lossy(&out.log));
        }
        std::fs::remove_dir_all(&root).unwrap();
    };
    // Warm: the first instance faults in the snapshot's pages.
    for i in 0..5 {
        run_one(i);
    }
    let t = Instant::now();
    for i in 0..n {
        run_one(i);
    }
    let wasm = per_step(t.elapsed(), n);

    // The interpreter itself, not a wrapper script in front of it (pyenv's shims cost ~100 ms).
    let python = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let native = python.map(|python| {
        let runs = n.min(100);
        let t = Instant::now();
        for _ in 0..runs {
            let out = Command::new(&python)
                .args(["-c", "print(1+1)"])
                .output()
                .unwrap();
            assert_eq!(out.stdout, b"2\n");
        }
        per_step(t.elapsed(), runs)
    });

    println!("{:<44} {:>12}", "print(1+1), per step", "ms");
    println!(
        "{:<44} {:>12.2}",
        "skiff python step (fresh sandbox, warm)", wasm
    );
    match native {
        Some(native) => {
            println!("{:<44} {:>12.2}", "native `python3 -c` process", native);
            println!(
                "{:<44} {:>12.1}x",
                "native / skiff",
                native / wasm.max(f64::EPSILON)
            );
        }
        None => println!("native python3: not found, no comparison"),
    }
}
