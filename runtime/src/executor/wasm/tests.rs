//! Tests of the sandbox with small guests written in WebAssembly text, each doing one thing
//! through raw WASI preview 1 calls, so that what is tested is the host side (the part that is
//! the security boundary), not a guest libc's path handling.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use super::*;

/// One runtime shared by the tests that need nothing special (an engine and pool per test would
/// make the suite slower and reserve address space for nothing).
static RUNTIME: LazyLock<WasmRuntime> = LazyLock::new(|| {
    WasmRuntime::new(WasmConfig {
        pool_instances: 32,
        ..WasmConfig::default()
    })
    .expect("runtime")
});

/// The WASI functions the guests import, and a `$write (fd ptr len)` helper.
const PRELUDE: &str = r#"
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_readdir" (func $fd_readdir (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; memory map: 16 iovec, 24 nwritten/nread, 32 fd, 40 errno scratch, 1024.. data, 8192.. buffer
  (func $write (param $fd i32) (param $ptr i32) (param $len i32)
    (i32.store (i32.const 16) (local.get $ptr))
    (i32.store (i32.const 20) (local.get $len))
    (drop (call $fd_write (local.get $fd) (i32.const 16) (i32.const 1) (i32.const 24))))
  ;; copies fd to stdout until end of file
  (func $cat (param $fd i32) (local $n i32)
    (loop $more
      (i32.store (i32.const 16) (i32.const 8192))
      (i32.store (i32.const 20) (i32.const 4096))
      (call $check (call $fd_read (local.get $fd) (i32.const 16) (i32.const 1) (i32.const 24)))
      (local.set $n (i32.load (i32.const 24)))
      (if (i32.gt_u (local.get $n) (i32.const 0))
        (then (call $write (i32.const 1) (i32.const 8192) (local.get $n)) (br $more)))))
  ;; exits with the errno if it is not 0
  (func $check (param $errno i32)
    (if (local.get $errno) (then (call $exit (local.get $errno)))))
"#;

/// A module with [`PRELUDE`], `data` placed from offset 1024, and `body` as `_start`.
fn guest(data: &[u8], body: &str) -> String {
    let mut escaped = String::new();
    for byte in data {
        write!(escaped, "\\{byte:02x}").unwrap();
    }
    format!(
        "(module {PRELUDE}\n (data (i32.const 1024) \"{escaped}\")\n \
         (func (export \"_start\") {body}))"
    )
}

/// A guest that opens `path` under the root (fd 3) with `oflags`, then runs `then` with the new
/// fd at address 32; exits with the errno if the open fails.
fn open_then(path: &str, oflags: u32, then: &str) -> String {
    let len = path.len();
    guest(
        path.as_bytes(),
        &format!(
            "(call $check (call $path_open (i32.const 3) (i32.const 1) (i32.const 1024) \
             (i32.const {len}) (i32.const {oflags}) (i64.const 0x1fffffff) (i64.const 0x1fffffff) \
             (i32.const 0) (i32.const 32)))\n {then}"
        ),
    )
}

fn cat_file(path: &str) -> String {
    open_then(path, 0, "(call $cat (i32.load (i32.const 32)))")
}

/// Writes `hello` into `path` (created or truncated).
fn write_file(path: &str) -> String {
    let wat = open_then(
        path,
        1 | 8,
        "(call $write (i32.load (i32.const 32)) (i32.const 2048) (i32.const 5))",
    );
    wat.replacen("(data ", "(data (i32.const 2048) \"hello\") (data ", 1)
}

fn run_wat(wat: &str, sandbox: &Sandbox) -> RunOutcome {
    let module = RUNTIME.module(wat.as_bytes()).expect("module");
    RUNTIME.run(&module, sandbox).expect("run")
}

fn in_root(root: &Path) -> Sandbox {
    Sandbox {
        args: vec!["guest".into()],
        root: root.to_owned(),
        ..Sandbox::default()
    }
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("utf-8")
}

#[test]
fn a_normal_return_is_exit_code_zero() {
    let outcome = run_wat(r#"(module (func (export "_start")))"#, &Sandbox::default());
    assert_eq!(outcome.exit_code, 0);
    assert_eq!(outcome.error, None);
    assert!(outcome.success());
}

#[test]
fn proc_exit_gives_its_code() {
    for code in [0, 1, 3, 125, 126, 127, 130, 255] {
        let outcome = run_wat(
            &guest(b"", &format!("(call $exit (i32.const {code}))")),
            &Sandbox::default(),
        );
        assert_eq!((outcome.exit_code, outcome.error), (code, None));
    }
}

#[test]
fn an_exit_code_above_255_keeps_its_low_byte() {
    let outcome = run_wat(
        &guest(b"", "(call $exit (i32.const 258))"),
        &Sandbox::default(),
    );
    assert_eq!((outcome.exit_code, outcome.error), (2, None));
}

#[test]
fn a_trap_is_exit_code_minus_one_with_a_message() {
    let outcome = run_wat(
        r#"(module (func (export "_start") unreachable))"#,
        &Sandbox::default(),
    );
    assert_eq!(outcome.exit_code, -1);
    assert!(!outcome.success());
    let error = outcome.error.unwrap();
    assert!(
        error.starts_with("wasm trap: wasm `unreachable` instruction executed"),
        "{error}"
    );
}

#[test]
fn stdout_stderr_and_the_interleaved_log_are_captured() {
    let wat = guest(
        b"out1\nerr1\nout2\n",
        "(call $write (i32.const 1) (i32.const 1024) (i32.const 5))
         (call $write (i32.const 2) (i32.const 1029) (i32.const 5))
         (call $write (i32.const 1) (i32.const 1034) (i32.const 5))",
    );
    let outcome = run_wat(&wat, &Sandbox::default());
    assert_eq!(text(&outcome.stdout), "out1\nout2\n");
    assert_eq!(text(&outcome.stderr), "err1\n");
    assert_eq!(text(&outcome.log), "out1\nerr1\nout2\n");
}

#[test]
fn output_past_the_stdout_limit_is_dropped_and_noted_in_the_log() {
    let wat = guest(
        b"0123456789",
        "(call $write (i32.const 1) (i32.const 1024) (i32.const 10))
         (call $write (i32.const 1) (i32.const 1024) (i32.const 10))",
    );
    let outcome = run_wat(
        &wat,
        &Sandbox {
            stdout_limit: Some(15),
            ..Sandbox::default()
        },
    );
    assert_eq!(outcome.exit_code, 0);
    assert_eq!(text(&outcome.stdout), "012345678901234");
    assert_eq!(
        text(&outcome.log),
        "012345678901234\n[skiff: stdout truncated at 15 bytes]\n"
    );
}

#[test]
fn args_and_env_are_exactly_those_given() {
    let wat = guest(
        b"",
        "(call $check (call $args_sizes_get (i32.const 0) (i32.const 4)))
         (call $check (call $args_get (i32.const 4096) (i32.const 8192)))
         (call $write (i32.const 1) (i32.const 8192) (i32.load (i32.const 4)))
         (call $check (call $environ_sizes_get (i32.const 0) (i32.const 4)))
         (call $check (call $environ_get (i32.const 4096) (i32.const 8192)))
         (call $write (i32.const 2) (i32.const 8192) (i32.load (i32.const 4)))",
    );
    // SAFETY of the test's assumption: the test process has a PATH; the guest must not see it.
    assert!(std::env::var_os("PATH").is_some());
    let outcome = run_wat(
        &wat,
        &Sandbox {
            args: vec!["prog".into(), "a b".into(), "--x=1".into()],
            env: vec![("A".into(), "1".into()), ("B".into(), "two words".into())],
            ..Sandbox::default()
        },
    );
    assert_eq!(outcome.exit_code, 0, "{:?}", outcome.error);
    assert_eq!(text(&outcome.stdout), "prog\0a b\0--x=1\0");
    assert_eq!(text(&outcome.stderr), "A=1\0B=two words\0");
}

#[test]
fn stdin_is_the_bytes_given_then_end_of_file() {
    let outcome = run_wat(
        &guest(b"", "(call $cat (i32.const 0))"),
        &Sandbox {
            stdin: b"line one\nline two\n".to_vec(),
            ..Sandbox::default()
        },
    );
    assert_eq!(outcome.exit_code, 0, "{:?}", outcome.error);
    assert_eq!(text(&outcome.stdout), "line one\nline two\n");
}

#[test]
fn files_written_under_tmp_land_in_the_root() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("tmp")).unwrap();
    let outcome = run_wat(&write_file("tmp/x"), &in_root(root.path()));
    assert_eq!(outcome.exit_code, 0, "{:?}", outcome.error);
    assert_eq!(
        std::fs::read_to_string(root.path().join("tmp/x")).unwrap(),
        "hello"
    );
}

#[test]
fn files_in_the_root_can_be_read_and_listed() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("data")).unwrap();
    std::fs::write(root.path().join("data/in.txt"), "input").unwrap();
    std::fs::write(root.path().join("top.txt"), "").unwrap();
    // A relative symlink that stays inside the root is followed.
    std::os::unix::fs::symlink("data/in.txt", root.path().join("link.txt")).unwrap();

    let outcome = run_wat(&cat_file("data/in.txt"), &in_root(root.path()));
    assert_eq!((outcome.exit_code, text(&outcome.stdout)), (0, "input"));
    let outcome = run_wat(&cat_file("link.txt"), &in_root(root.path()));
    assert_eq!((outcome.exit_code, text(&outcome.stdout)), (0, "input"));

    let list = guest(
        b"",
        "(call $check (call $fd_readdir (i32.const 3) (i32.const 8192) (i32.const 4096) \
           (i64.const 0) (i32.const 24)))
         (call $write (i32.const 1) (i32.const 8192) (i32.load (i32.const 24)))",
    );
    let outcome = run_wat(&list, &in_root(root.path()));
    assert_eq!(outcome.exit_code, 0, "{:?}", outcome.error);
    let listing = String::from_utf8_lossy(&outcome.stdout);
    for name in ["data", "top.txt", "link.txt"] {
        assert!(listing.contains(name), "{name} missing from {listing:?}");
    }
}

#[test]
fn paths_cannot_escape_the_root() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "secret").unwrap();
    let parent = tempfile::tempdir().unwrap();
    let root = parent.path().join("root");
    std::fs::create_dir_all(root.join("data")).unwrap();
    std::fs::write(parent.path().join("sibling.txt"), "secret").unwrap();
    std::os::unix::fs::symlink(outside.path(), root.join("abs-link")).unwrap();
    std::os::unix::fs::symlink("../sibling.txt", root.join("rel-link")).unwrap();
    let secret_abs = outside.path().join("secret.txt");

    for path in [
        "../sibling.txt",
        "data/../../sibling.txt",
        secret_abs.to_str().unwrap(),
        "/etc/passwd",
        "abs-link/secret.txt",
        "rel-link",
    ] {
        let outcome = run_wat(&cat_file(path), &in_root(&root));
        assert_ne!(outcome.exit_code, 0, "{path} was opened");
        assert!(outcome.stdout.is_empty(), "{path} was read");
        assert_eq!(
            outcome.error, None,
            "{path}: a refused open is an errno, not a trap"
        );
    }
    for path in ["../created.txt", "abs-link/created.txt"] {
        let outcome = run_wat(&write_file(path), &in_root(&root));
        assert_ne!(outcome.exit_code, 0, "{path} was created");
    }
    assert!(!parent.path().join("created.txt").exists());
    assert!(!outside.path().join("created.txt").exists());
}

#[test]
fn without_a_root_there_is_no_filesystem() {
    let outcome = run_wat(&cat_file("anything"), &Sandbox::default());
    assert_eq!(outcome.exit_code, 8, "EBADF: fd 3 does not exist");
}

#[test]
fn a_missing_root_is_an_error_of_skiffs() {
    let module = RUNTIME
        .module(br#"(module (func (export "_start")))"#)
        .unwrap();
    let err = RUNTIME
        .run(&module, &in_root(Path::new("/nonexistent/skiff-root")))
        .unwrap_err();
    assert!(matches!(err, WasmError::Root { .. }), "{err}");
}

#[test]
fn a_busy_loop_is_stopped_at_its_deadline() {
    let outcome = run_wat(
        r#"(module (func (export "_start") (loop $forever (br $forever))))"#,
        &Sandbox {
            timeout: Some(Duration::from_millis(200)),
            ..Sandbox::default()
        },
    );
    assert_eq!(outcome.exit_code, 137);
    assert_eq!(
        outcome.error.as_deref(),
        Some("step exceeded its deadline of 200ms")
    );
    assert!(outcome.duration >= Duration::from_millis(200));
    assert!(
        outcome.duration < Duration::from_secs(2),
        "{:?}",
        outcome.duration
    );
}

#[test]
fn the_default_timeout_applies_when_the_sandbox_sets_none() {
    let runtime = WasmRuntime::new(WasmConfig {
        pool_instances: 0,
        default_timeout: Some(Duration::from_secs(1)),
        ..WasmConfig::default()
    })
    .unwrap();
    let module = runtime
        .module(br#"(module (func (export "_start") (loop $forever (br $forever))))"#)
        .unwrap();
    let outcome = runtime.run(&module, &Sandbox::default()).unwrap();
    assert_eq!(
        outcome.error.as_deref(),
        Some("step exceeded its deadline of 1s")
    );
}

/// A guest that sleeps through `poll_oneoff` on one relative monotonic timer of `nanos`, plus an
/// `fd_write` subscription on stdout when `with_stdout`; exits with 40 + the number of events,
/// or 99 if the first event is not the timer's or stdout's.
fn sleeper(nanos: u64, with_stdout: bool) -> String {
    let mut subs = Vec::new();
    let mut sub = [0u8; 48];
    sub[0..8].copy_from_slice(&0x1234u64.to_le_bytes());
    sub[16..20].copy_from_slice(&1u32.to_le_bytes());
    sub[24..32].copy_from_slice(&nanos.to_le_bytes());
    subs.extend_from_slice(&sub);
    if with_stdout {
        let mut sub = [0u8; 48];
        sub[0..8].copy_from_slice(&0x5678u64.to_le_bytes());
        sub[8] = 2; // fd_write
        sub[16..20].copy_from_slice(&1u32.to_le_bytes()); // fd 1
        subs.extend_from_slice(&sub);
    }
    let n = subs.len() / 48;
    guest(
        &subs,
        &format!(
            "(call $check (call $poll_oneoff (i32.const 1024) (i32.const 4096) (i32.const {n}) \
               (i32.const 24)))
             (if (i32.and (i64.ne (i64.load (i32.const 4096)) (i64.const 0x1234))
                          (i64.ne (i64.load (i32.const 4096)) (i64.const 0x5678)))
               (then (call $exit (i32.const 99))))
             (call $exit (i32.add (i32.const 40) (i32.load (i32.const 24))))"
        ),
    )
}

#[test]
fn a_sleep_is_cut_short_by_the_deadline() {
    let outcome = run_wat(
        &sleeper(30_000_000_000, false),
        &Sandbox {
            timeout: Some(Duration::from_millis(300)),
            ..Sandbox::default()
        },
    );
    assert_eq!(outcome.exit_code, 137);
    assert_eq!(
        outcome.error.as_deref(),
        Some("step exceeded its deadline of 300ms")
    );
    assert!(
        outcome.duration < Duration::from_secs(3),
        "{:?}",
        outcome.duration
    );
}

#[test]
fn a_sleep_within_the_deadline_wakes_with_its_event() {
    for timeout in [Some(Duration::from_secs(10)), None] {
        let outcome = run_wat(
            &sleeper(20_000_000, false),
            &Sandbox {
                timeout,
                ..Sandbox::default()
            },
        );
        assert_eq!(
            (outcome.exit_code, outcome.error),
            (41, None),
            "timeout {timeout:?}"
        );
        assert!(outcome.duration >= Duration::from_millis(20));
    }
}

#[test]
fn a_poll_on_files_and_timers_goes_to_wasmtime_wasi() {
    // With a deadline this takes the trampoline; without one, wasmtime-wasi directly.
    for timeout in [Some(Duration::from_secs(10)), None] {
        let outcome = run_wat(
            &sleeper(5_000_000_000, true),
            &Sandbox {
                timeout,
                ..Sandbox::default()
            },
        );
        assert_eq!(outcome.error, None, "timeout {timeout:?}");
        assert!(
            (41..=42).contains(&outcome.exit_code),
            "{}",
            outcome.exit_code
        );
        assert!(
            outcome.duration < Duration::from_secs(2),
            "stdout is ready at once"
        );
    }
}

#[test]
fn growing_memory_past_the_limit_kills_the_step() {
    let grow = |pages: u32| {
        format!(
            r#"(module (memory (export "memory") 1)
                 (func (export "_start")
                   (if (i32.eq (memory.grow (i32.const {pages})) (i32.const -1)) (then unreachable))))"#
        )
    };
    let limited = Sandbox {
        memory_limit: Some(1 << 20),
        ..Sandbox::default()
    };
    let outcome = run_wat(&grow(100), &limited);
    assert_eq!(outcome.exit_code, 137);
    assert_eq!(
        outcome.error.as_deref(),
        Some("step exceeded its memory limit of 1 MiB (it asked for 6.3 MiB)")
    );
    let outcome = run_wat(&grow(15), &limited);
    assert_eq!((outcome.exit_code, outcome.error), (0, None));
}

#[test]
fn an_initial_memory_over_the_limit_kills_the_step() {
    let outcome = run_wat(
        r#"(module (memory (export "memory") 32) (func (export "_start")))"#,
        &Sandbox {
            memory_limit: Some(1 << 20),
            ..Sandbox::default()
        },
    );
    assert_eq!(outcome.exit_code, 137);
    assert!(outcome.error.unwrap().contains("memory limit of 1 MiB"));
}

#[test]
fn modules_skiff_cannot_run_are_refused_with_a_reason() {
    let err = RUNTIME.module(b"MZ\x90\x00 not wasm").unwrap_err();
    assert!(matches!(err, WasmError::NotWasm { .. }), "{err}");
    let err = RUNTIME
        .module(b"(module (func $broken (i32.add)))")
        .unwrap_err();
    assert!(matches!(err, WasmError::NotWasm { .. }), "{err}");
    let err = RUNTIME.module(b"\0asm\x0d\0\x01\0").unwrap_err();
    assert!(matches!(err, WasmError::Component), "{err}");
    assert!(err.to_string().contains("wasm32-wasip1"));
    let err = RUNTIME
        .module(br#"(module (func (export "main")))"#)
        .unwrap_err();
    assert!(matches!(err, WasmError::MissingStart), "{err}");

    let err = RUNTIME
        .module(
            br#"(module (import "wasi:sockets/tcp@0.2.0" "create-tcp-socket" (func))
                        (func (export "_start")))"#,
        )
        .unwrap_err();
    let WasmError::Link { module, name, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(
        (module.as_str(), name.as_str()),
        ("wasi:sockets/tcp@0.2.0", "create-tcp-socket")
    );
    let message = err.to_string();
    assert!(
        message.contains("`wasi:sockets/tcp@0.2.0::create-tcp-socket`"),
        "{message}"
    );
    assert!(
        message.contains("wasm32-wasip1 command modules"),
        "{message}"
    );

    let err = RUNTIME
        .module(
            br#"(module (import "wasi_snapshot_preview1" "sock_open" (func (param i32) (result i32)))
                        (func (export "_start")))"#,
        )
        .unwrap_err();
    assert!(
        matches!(&err, WasmError::Link { name, .. } if name == "sock_open"),
        "{err}"
    );
}

#[test]
fn the_same_bytes_are_loaded_once() {
    let runtime = WasmRuntime::new(WasmConfig {
        pool_instances: 0,
        ..WasmConfig::default()
    })
    .unwrap();
    let wat = br#"(module (func (export "_start")))"#;
    let a = runtime.module(wat).unwrap();
    let b = runtime.module(wat).unwrap();
    assert!(a.same_instance_pre(&b));
    assert_eq!(a.hash(), b.hash());
    assert_eq!(
        runtime.cache_stats(),
        CacheStats {
            memory_hits: 1,
            compiled: 1,
            ..CacheStats::default()
        }
    );
}

#[test]
fn module_files_are_reread_only_when_they_change() {
    let runtime = WasmRuntime::new(WasmConfig {
        pool_instances: 0,
        ..WasmConfig::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.wat");
    std::fs::write(&path, r#"(module (func (export "_start")))"#).unwrap();
    let a = runtime.module_from_file(&path).unwrap();
    let b = runtime.module_from_file(&path).unwrap();
    assert!(a.same_instance_pre(&b));
    std::fs::write(&path, r#"(module (func (export "_start") nop))"#).unwrap();
    let c = runtime.module_from_file(&path).unwrap();
    assert_ne!(a.hash(), c.hash());
    let err = runtime
        .module_from_file(&dir.path().join("missing.wasm"))
        .unwrap_err();
    assert!(matches!(err, WasmError::Io { .. }), "{err}");
}

#[test]
fn compiled_modules_are_cached_on_disk_and_corrupt_entries_rebuilt() {
    let cache = tempfile::tempdir().unwrap();
    let config = || WasmConfig {
        cache_dir: Some(cache.path().join("modules")),
        pool_instances: 4,
        ..WasmConfig::default()
    };
    let wat = guest(
        b"hi",
        "(call $write (i32.const 1) (i32.const 1024) (i32.const 2))",
    );

    let first = WasmRuntime::new(config()).unwrap();
    first.module(wat.as_bytes()).unwrap();
    assert_eq!(first.cache_stats().compiled, 1);
    let entries: Vec<_> = std::fs::read_dir(cache.path().join("modules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    assert!(std::path::Path::new(&format!("{}.sum", entry.display())).is_file());

    let second = WasmRuntime::new(config()).unwrap();
    let module = second.module(wat.as_bytes()).unwrap();
    assert_eq!(
        second.cache_stats(),
        CacheStats {
            disk_hits: 1,
            ..CacheStats::default()
        }
    );
    let outcome = second.run(&module, &Sandbox::default()).unwrap();
    assert_eq!(text(&outcome.stdout), "hi");

    // The entry is mapped by `second`'s module: overwriting it in place would change code under
    // it (SIGBUS). Corrupt it the way skiff itself replaces files, by renaming over it.
    drop((module, second));
    let garbage = cache.path().join("garbage");
    std::fs::write(&garbage, b"\x7fELF but not really a compiled module").unwrap();
    std::fs::rename(&garbage, entry).unwrap();
    let third = WasmRuntime::new(config()).unwrap();
    let module = third.module(wat.as_bytes()).unwrap();
    assert_eq!(
        third.cache_stats(),
        CacheStats {
            compiled: 1,
            rebuilt_corrupt: 1,
            ..CacheStats::default()
        }
    );
    assert_eq!(
        text(&third.run(&module, &Sandbox::default()).unwrap().stdout),
        "hi"
    );

    let fourth = WasmRuntime::new(config()).unwrap();
    fourth.module(wat.as_bytes()).unwrap();
    assert_eq!(
        fourth.cache_stats().disk_hits,
        1,
        "the rebuilt entry is valid"
    );
}

#[test]
fn steps_past_the_pool_size_wait_for_a_slot() {
    let runtime = WasmRuntime::new(WasmConfig {
        pool_instances: 2,
        ..WasmConfig::default()
    })
    .unwrap();
    assert!(runtime.is_pooling());
    let module = runtime
        .module(sleeper(10_000_000, false).as_bytes())
        .unwrap();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..12)
            .map(|_| {
                let runtime = runtime.clone();
                let module = module.clone();
                scope.spawn(move || {
                    runtime
                        .run(
                            &module,
                            &Sandbox {
                                timeout: Some(Duration::from_secs(30)),
                                ..Sandbox::default()
                            },
                        )
                        .unwrap()
                })
            })
            .collect();
        for handle in handles {
            let outcome = handle.join().unwrap();
            assert_eq!((outcome.exit_code, outcome.error), (41, None));
        }
    });
}

#[test]
fn a_module_from_another_runtime_is_refused() {
    let other = WasmRuntime::new(WasmConfig {
        pool_instances: 0,
        ..WasmConfig::default()
    })
    .unwrap();
    let module = other
        .module(br#"(module (func (export "_start")))"#)
        .unwrap();
    let err = RUNTIME.run(&module, &Sandbox::default()).unwrap_err();
    assert!(matches!(err, WasmError::Instantiate(_)), "{err}");
}

#[test]
fn runtimes_and_modules_can_be_shared_across_threads() {
    fn shared<T: Send + Sync + Clone + 'static>() {}
    shared::<WasmRuntime>();
    shared::<WasmModule>();
}

/// The example component, built by build.rs.
#[test]
fn the_add_component_adds_and_writes_its_output_parameter() {
    let module = RUNTIME
        .module(crate::executor::guests::EXAMPLE_ADD_WASM)
        .expect("add.wasm");
    let root = tempfile::tempdir().unwrap();
    let sandbox = |a: &str, b: &str| Sandbox {
        args: vec!["add".into()],
        env: vec![
            ("SKIFF_INPUT_A".into(), a.into()),
            ("SKIFF_INPUT_B".into(), b.into()),
        ],
        root: root.path().to_owned(),
        timeout: Some(Duration::from_secs(10)),
        memory_limit: Some(64 << 20),
        ..Sandbox::default()
    };

    let outcome = RUNTIME.run(&module, &sandbox("40", "2")).unwrap();
    assert_eq!((outcome.exit_code, outcome.error.as_deref()), (0, None));
    assert_eq!(text(&outcome.stdout), "42\n");
    let sum = root.path().join("tmp/outputs/parameters/sum");
    assert_eq!(std::fs::read_to_string(sum).unwrap(), "42");

    let outcome = RUNTIME.run(&module, &sandbox("40", "two")).unwrap();
    assert_eq!(outcome.exit_code, 1);
    assert_eq!(
        text(&outcome.stderr),
        "input parameter `b` must be an integer, got \"two\" (invalid digit found in string)\n"
    );
}

/// Runs `wat` with `sandbox` on a thread of its own, sets the sandbox's stop signal after
/// `after`, and returns the outcome and how long the step ran past the stop. Fails, rather than
/// hangs, when the step does not end within 10 s of the stop.
fn stopped_after(wat: &str, sandbox: Sandbox, after: Duration) -> (RunOutcome, Duration) {
    let module = RUNTIME.module(wat.as_bytes()).expect("module");
    let stop = sandbox.stop.clone().expect("a stop signal");
    let (done, outcome) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(RUNTIME.run(&module, &sandbox).expect("run"));
    });
    std::thread::sleep(after);
    let stopped_at = Instant::now();
    stop.stop("the workflow was stopped");
    let outcome = outcome
        .recv_timeout(Duration::from_secs(10))
        .expect("the step did not end after its stop");
    (outcome, stopped_at.elapsed())
}

const BUSY_LOOP: &str = r#"(module (func (export "_start") (loop $forever (br $forever))))"#;

#[test]
fn a_busy_loop_is_stopped_from_another_thread() {
    // With a deadline far off too: the stop is seen on the tick, not at the deadline.
    for timeout in [None, Some(Duration::from_secs(60))] {
        let (outcome, lag) = stopped_after(
            BUSY_LOOP,
            Sandbox {
                timeout,
                stop: Some(StopSignal::new()),
                ..Sandbox::default()
            },
            Duration::from_millis(100),
        );
        assert_eq!(outcome.exit_code, 137, "timeout {timeout:?}");
        assert_eq!(
            outcome.error.as_deref(),
            Some("step stopped: the workflow was stopped")
        );
        assert!(lag < Duration::from_secs(1), "ended {lag:?} after the stop");
    }
}

#[test]
fn a_sleep_is_cut_short_by_a_stop() {
    for timeout in [None, Some(Duration::from_secs(60))] {
        let (outcome, lag) = stopped_after(
            &sleeper(30_000_000_000, false),
            Sandbox {
                timeout,
                stop: Some(StopSignal::new()),
                ..Sandbox::default()
            },
            Duration::from_millis(100),
        );
        assert_eq!(outcome.exit_code, 137, "timeout {timeout:?}");
        assert_eq!(
            outcome.error.as_deref(),
            Some("step stopped: the workflow was stopped")
        );
        assert!(lag < Duration::from_secs(1), "ended {lag:?} after the stop");
    }
}

#[test]
fn a_deadline_still_applies_to_a_step_with_a_stop_signal() {
    for wat in [BUSY_LOOP.to_owned(), sleeper(30_000_000_000, false)] {
        let outcome = run_wat(
            &wat,
            &Sandbox {
                timeout: Some(Duration::from_millis(200)),
                stop: Some(StopSignal::new()),
                ..Sandbox::default()
            },
        );
        assert_eq!(outcome.exit_code, 137);
        assert_eq!(
            outcome.error.as_deref(),
            Some("step exceeded its deadline of 200ms")
        );
        assert!(outcome.duration < Duration::from_secs(2));
    }
}

#[test]
fn a_step_whose_signal_is_never_set_runs_normally() {
    let stop = StopSignal::new();
    for timeout in [None, Some(Duration::from_secs(10))] {
        let sandbox = Sandbox {
            timeout,
            stop: Some(stop.clone()),
            ..Sandbox::default()
        };
        let outcome = run_wat(&sleeper(50_000_000, false), &sandbox);
        assert_eq!((outcome.exit_code, outcome.error), (41, None));
        assert!(outcome.duration >= Duration::from_millis(50));
        // A poll that is not a plain sleep still goes to wasmtime-wasi.
        let outcome = run_wat(&sleeper(5_000_000_000, true), &sandbox);
        assert_eq!(outcome.error, None);
        assert!((41..=42).contains(&outcome.exit_code));
        let outcome = run_wat(
            &guest(
                b"hi",
                "(call $write (i32.const 1) (i32.const 1024) (i32.const 2))",
            ),
            &sandbox,
        );
        assert_eq!((outcome.exit_code, text(&outcome.stdout)), (0, "hi"));
    }
    assert!(!stop.is_stopped());
}

#[test]
fn a_step_stopped_before_it_starts_does_not_run() {
    let stop = StopSignal::new();
    stop.stop("interrupted");
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("tmp")).unwrap();
    let outcome = run_wat(
        &write_file("tmp/x"),
        &Sandbox {
            stop: Some(stop),
            ..in_root(root.path())
        },
    );
    assert_eq!(outcome.exit_code, 137);
    assert_eq!(outcome.error.as_deref(), Some("step stopped: interrupted"));
    assert!(!root.path().join("tmp/x").exists(), "the step ran");
}

#[test]
fn a_step_waiting_for_a_pool_slot_can_be_stopped() {
    let runtime = WasmRuntime::new(WasmConfig {
        pool_instances: 1,
        ..WasmConfig::default()
    })
    .unwrap();
    let busy = runtime.module(BUSY_LOOP.as_bytes()).unwrap();
    let holder_stop = StopSignal::new();
    let waiter_stop = StopSignal::new();
    std::thread::scope(|scope| {
        let holder = scope.spawn(|| {
            let sandbox = Sandbox {
                stop: Some(holder_stop.clone()),
                // Ends the test, rather than hang it, if stops are broken.
                timeout: Some(Duration::from_secs(20)),
                ..Sandbox::default()
            };
            runtime.run(&busy, &sandbox).unwrap()
        });
        std::thread::sleep(Duration::from_millis(100));
        let waiter = scope.spawn(|| {
            let sandbox = Sandbox {
                stop: Some(waiter_stop.clone()),
                ..Sandbox::default()
            };
            runtime.run(&busy, &sandbox).unwrap()
        });
        std::thread::sleep(Duration::from_millis(100));
        waiter_stop.stop("no longer wanted");
        let outcome = waiter.join().unwrap();
        assert_eq!(
            (outcome.exit_code, outcome.error.as_deref()),
            (137, Some("step stopped: no longer wanted"))
        );
        assert!(!holder.is_finished(), "the waiter did not take the slot");
        holder_stop.stop("done");
        let outcome = holder.join().unwrap();
        assert_eq!(outcome.error.as_deref(), Some("step stopped: done"));
    });
}

#[test]
fn the_log_sink_gets_the_log_in_write_order() {
    let wat = guest(
        b"out1\nerr1\nout2\n",
        "(call $write (i32.const 1) (i32.const 1024) (i32.const 5))
         (call $write (i32.const 2) (i32.const 1029) (i32.const 5))
         (call $write (i32.const 1) (i32.const 1034) (i32.const 5))
         (call $write (i32.const 1) (i32.const 1024) (i32.const 15))",
    );
    let chunks = Arc::new(Mutex::new(Vec::<Vec<u8>>::new()));
    let sink = {
        let chunks = Arc::clone(&chunks);
        LogSink::new(move |chunk| chunks.lock().unwrap().push(chunk.to_vec()))
    };
    let outcome = run_wat(
        &wat,
        &Sandbox {
            stdout_limit: Some(12),
            log_sink: Some(sink),
            ..Sandbox::default()
        },
    );
    assert_eq!(outcome.exit_code, 0);
    let chunks = chunks.lock().unwrap().clone();
    let as_text: Vec<&str> = chunks.iter().map(|c| text(c)).collect();
    assert_eq!(
        as_text,
        [
            "out1\n",
            "err1\n",
            "out2\n",
            "ou",
            "\n[skiff: stdout truncated at 12 bytes]\n"
        ]
    );
    assert_eq!(chunks.concat(), outcome.log);
}

/// A guest that makes the symlink `link` → `target` itself (`path_symlink`), then reads through
/// it: whether making it is refused or following it is, nothing outside the root is read.
#[test]
fn a_symlink_the_guest_makes_cannot_be_followed_out() {
    let parent = tempfile::tempdir().unwrap();
    let root = parent.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(parent.path().join("secret.txt"), "secret").unwrap();
    let secret_abs = parent.path().join("secret.txt");
    for target in [
        "../secret.txt",
        "tmp/../../secret.txt",
        secret_abs.to_str().unwrap(),
    ] {
        let link = "link";
        let data = format!("{target}{link}");
        let (t, l) = (target.len(), link.len());
        let at = 1024 + t;
        let body = format!(
            "(drop (call $path_symlink (i32.const 1024) (i32.const {t}) (i32.const 3) \
             (i32.const {at}) (i32.const {l})))
             (call $check (call $path_open (i32.const 3) (i32.const 1) (i32.const {at}) \
             (i32.const {l}) (i32.const 0) (i64.const 0x1fffffff) (i64.const 0x1fffffff) \
             (i32.const 0) (i32.const 32)))
             (call $cat (i32.load (i32.const 32)))"
        );
        let wat = guest(data.as_bytes(), &body).replacen(
            "  (memory (export",
            "  (import \"wasi_snapshot_preview1\" \"path_symlink\" \
             (func $path_symlink (param i32 i32 i32 i32 i32) (result i32)))\n  (memory (export",
            1,
        );
        let outcome = run_wat(&wat, &in_root(&root));
        assert_ne!(outcome.exit_code, 0, "{target}: read through the link");
        assert!(outcome.stdout.is_empty(), "{target}: {:?}", outcome.stdout);
        assert_eq!(outcome.error, None, "{target}: a refusal is an errno");
        let _ = std::fs::remove_file(root.join(link));
    }
    assert_eq!(
        std::fs::read_to_string(parent.path().join("secret.txt")).unwrap(),
        "secret"
    );
}

#[test]
fn recursion_without_end_traps_on_the_stack_limit() {
    let outcome = run_wat(
        r#"(module
             (func $f (param i32) (result i32) (i32.add (call $f (local.get 0)) (i32.const 1)))
             (func (export "_start") (drop (call $f (i32.const 0)))))"#,
        &Sandbox::default(),
    );
    assert_eq!(outcome.exit_code, -1);
    let error = outcome.error.unwrap();
    assert!(
        error.starts_with("wasm trap: call stack exhausted"),
        "{error}"
    );
}
