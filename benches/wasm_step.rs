//! What one wasm step costs: `WasmRuntime::run` on a no-op module with the pooling allocator and
//! with on-demand allocation, with and without a root directory to preopen, the example `add`
//! component and the toolbox's `true` and `echo` (both embedded by the build), and finding a module
//! again in the in-memory and on-disk caches.
//!
//! `cargo bench -p skiff --bench wasm_step`; the last numbers are in `benches/README.md`.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use skiff::executor::guests::{EXAMPLE_ADD_WASM, TOOLBOX_WASM};
use skiff::executor::wasm::{Sandbox, WasmConfig, WasmRuntime};

/// The smallest WASI command: a `_start` that returns, and the memory WASI expects.
const NOOP: &str = r#"(module (memory (export "memory") 1) (func (export "_start")))"#;

fn runtime(pool_instances: u32, cache_dir: Option<PathBuf>) -> WasmRuntime {
    WasmRuntime::new(WasmConfig {
        pool_instances,
        cache_dir,
        ..WasmConfig::default()
    })
    .expect("runtime")
}

fn run_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("run");
    // Step roots live on tmpfs when there is one, as skiff's own do.
    let root = tempfile::tempdir_in(skiff::engine::scratch_base()).expect("root");
    std::fs::create_dir(root.path().join("tmp")).expect("tmp");
    let with_root = Sandbox {
        args: vec!["step".into()],
        root: root.path().to_owned(),
        ..Sandbox::default()
    };
    let bare = Sandbox {
        args: vec!["step".into()],
        ..Sandbox::default()
    };
    for (allocator, pool) in [("pooling", 256), ("on-demand", 0)] {
        let runtime = runtime(pool, None);
        assert_eq!(
            runtime.is_pooling(),
            pool > 0,
            "the pool could not be reserved"
        );
        let module = runtime.module(NOOP.as_bytes()).expect("module");
        group.bench_function(format!("noop/{allocator}"), |b| {
            b.iter(|| black_box(runtime.run(&module, &bare).expect("run")))
        });
        group.bench_function(format!("noop-with-root/{allocator}"), |b| {
            b.iter(|| black_box(runtime.run(&module, &with_root).expect("run")))
        });
        let add = runtime.module(EXAMPLE_ADD_WASM).expect("add.wasm");
        let sandbox = Sandbox {
            env: vec![
                ("SKIFF_INPUT_A".into(), "40".into()),
                ("SKIFF_INPUT_B".into(), "2".into()),
            ],
            ..with_root.clone()
        };
        group.bench_function(format!("add/{allocator}"), |b| {
            b.iter(|| {
                let outcome = runtime.run(&add, &sandbox).expect("run");
                assert_eq!(outcome.stdout, b"42\n");
                outcome
            })
        });
        let toolbox = runtime.module(TOOLBOX_WASM).expect("toolbox");
        for (name, argv, want) in [
            ("toolbox-true", vec!["true"], &b""[..]),
            ("toolbox-echo", vec!["echo", "hello"], &b"hello\n"[..]),
        ] {
            let sandbox = Sandbox {
                args: argv.into_iter().map(String::from).collect(),
                ..with_root.clone()
            };
            group.bench_function(format!("{name}/{allocator}"), |b| {
                b.iter(|| {
                    let outcome = runtime.run(&toolbox, &sandbox).expect("run");
                    assert_eq!(outcome.stdout, want);
                    outcome
                })
            });
        }
    }
    group.finish();
}

fn find_module(c: &mut Criterion) {
    let mut group = c.benchmark_group("module");
    let cache = tempfile::tempdir().expect("cache dir");
    let cached = || runtime(0, Some(cache.path().to_owned()));

    let warm = cached();
    warm.module(NOOP.as_bytes()).expect("module");
    group.bench_function("noop/memory-hit", |b| {
        b.iter(|| warm.module(black_box(NOOP.as_bytes())).expect("module"))
    });
    group.bench_function("noop/disk-hit", |b| {
        b.iter_batched(
            cached,
            |fresh| fresh.module(NOOP.as_bytes()).expect("module"),
            BatchSize::PerIteration,
        )
    });
    group.bench_function("noop/compile", |b| {
        b.iter_batched(
            || runtime(0, None),
            |fresh| fresh.module(NOOP.as_bytes()).expect("module"),
            BatchSize::PerIteration,
        )
    });
    // A `wasm:` template names a file: the embedded `add` component, written out as a user's would be.
    let files = tempfile::tempdir().expect("module dir");
    let add = files.path().join("add.wasm");
    std::fs::write(&add, EXAMPLE_ADD_WASM).expect("write add.wasm");
    warm.module_from_file(&add).expect("add.wasm");
    group.bench_function("add/file-memory-hit", |b| {
        b.iter(|| warm.module_from_file(&add).expect("module"))
    });
    group.bench_function("add/disk-hit", |b| {
        b.iter_batched(
            cached,
            |fresh| fresh.module_from_file(&add).expect("module"),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = run_step, find_module
}
criterion_main!(benches);
