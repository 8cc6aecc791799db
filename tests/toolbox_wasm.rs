//! The toolbox as skiff runs it: the embedded wasm module in the real sandbox, one fresh sandbox per run.
//! The native unit tests in `guests/toolbox` cover the language and each tool in detail; these check what
//! only the sandbox can show: files land in the step's root, sleeps go through the host, devices and
//! randomness work under WASI, and nothing of the host leaks in.

use std::path::Path;
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use skiff::executor::guests::TOOLBOX_WASM;
use skiff::executor::wasm::{
    LogSink, RunOutcome, Sandbox, StopSignal, WasmConfig, WasmModule, WasmRuntime,
};

fn runtime() -> &'static (WasmRuntime, WasmModule) {
    static RT: OnceLock<(WasmRuntime, WasmModule)> = OnceLock::new();
    RT.get_or_init(|| {
        let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("toolbox-wasm-cache");
        let rt = WasmRuntime::new(WasmConfig {
            cache_dir: Some(cache),
            ..WasmConfig::default()
        })
        .expect("engine");
        let module = rt.module(TOOLBOX_WASM).expect("toolbox compiles");
        (rt, module)
    })
}

/// Runs `argv` in a fresh sandbox rooted at `root` (with `/tmp` made).
fn run_in(root: &Path, argv: &[&str], env: &[(&str, &str)]) -> RunOutcome {
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    let (rt, module) = runtime();
    rt.run(
        module,
        &Sandbox {
            args: argv.iter().map(|s| s.to_string()).collect(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            root: root.to_path_buf(),
            timeout: Some(Duration::from_secs(30)),
            ..Sandbox::default()
        },
    )
    .expect("sandbox runs")
}

fn sh(script: &str) -> (RunOutcome, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["sh", "-c", script], &[]);
    (out, dir)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn files_written_in_the_sandbox_land_in_its_root() {
    let (out, dir) =
        sh("echo hello world | tee /tmp/hello_world.txt; echo -n x >> /tmp/hello_world.txt");
    assert_eq!(out.exit_code, 0, "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hello world\n");
    let written = std::fs::read_to_string(dir.path().join("tmp/hello_world.txt")).unwrap();
    assert_eq!(written, "hello world\nx");
}

#[test]
fn coinflip_random_pipeline_ends_with_a_number_between_1_and_100() {
    // Argo's `retry-script` and `loops-param-result`-style random step, exactly as the example writes it.
    for _ in 0..5 {
        let (out, _dir) = sh(
            "cat /dev/urandom | od -N2 -An -i | awk -v f=1 -v r=100 '{printf \"%i\\n\", f + r * $1 / 65536}'",
        );
        assert_eq!(out.exit_code, 0, "{}", text(&out.stderr));
        let n: i64 = text(&out.stdout).trim().parse().expect("a number");
        assert!((1..=100).contains(&n), "{n}");
    }
}

#[test]
fn sleep_waits_through_the_host() {
    let (rt, module) = runtime();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("tmp")).unwrap();
    let started = Instant::now();
    let out = rt
        .run(
            module,
            &Sandbox {
                args: vec!["sh".into(), "-c".into(), "sleep 0.2; echo done".into()],
                root: dir.path().to_path_buf(),
                ..Sandbox::default()
            },
        )
        .unwrap();
    assert_eq!(text(&out.stdout), "done\n");
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[test]
fn a_deadline_stops_a_sleeping_step() {
    let (rt, module) = runtime();
    let dir = tempfile::tempdir().unwrap();
    let out = rt
        .run(
            module,
            &Sandbox {
                args: vec!["sh".into(), "-c".into(), "echo 123; sleep 1d".into()],
                root: dir.path().to_path_buf(),
                timeout: Some(Duration::from_millis(300)),
                ..Sandbox::default()
            },
        )
        .unwrap();
    assert_eq!(out.exit_code, 137);
    assert_eq!(text(&out.stdout), "123\n");
}

#[test]
fn a_missing_tool_fails_with_a_message_naming_it() {
    let (out, _dir) = sh("echo before; kubectl get pods");
    assert_eq!(out.exit_code, 127);
    assert_eq!(text(&out.stdout), "before\n");
    let err = text(&out.stderr);
    assert!(err.contains("kubectl") && err.contains("toolbox"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["jq", "."], &[]);
    assert_eq!(out.exit_code, 127);
    assert!(text(&out.stderr).contains("jq"));
}

#[test]
fn unsupported_shell_syntax_fails_the_step_before_running_anything() {
    let (out, _dir) = sh("echo should-not-print; if true; then echo x");
    assert_eq!(out.exit_code, 2);
    assert_eq!(text(&out.stdout), "");
    assert!(!text(&out.stderr).is_empty());
}

#[test]
fn script_files_run_as_argo_runs_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("argo/staging")).unwrap();
    std::fs::write(
        dir.path().join("argo/staging/script"),
        "A=1\nB=2\necho \"$A$B\"\necho $((7/2))\n",
    )
    .unwrap();
    let out = run_in(dir.path(), &["sh", "/argo/staging/script"], &[]);
    assert_eq!(text(&out.stdout), "12\n3\n", "{}", text(&out.stderr));
    // `command: [sh, -c]` with a script: the path is run as a command.
    let out = run_in(dir.path(), &["sh", "-c", "/argo/staging/script"], &[]);
    assert_eq!(text(&out.stdout), "12\n3\n", "{}", text(&out.stderr));
}

#[test]
fn the_environment_is_only_what_the_step_declares() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        &["sh", "-c", "env; echo ${HOME:-unset}"],
        &[("GREETING", "hi")],
    );
    assert_eq!(text(&out.stdout), "GREETING=hi\nunset\n");
}

#[test]
fn the_host_filesystem_is_out_of_reach() {
    let (out, _dir) = sh("cat /etc/passwd");
    assert_eq!(out.exit_code, 1);
    assert!(text(&out.stderr).contains("/etc/passwd"));
    let (out, _dir) = sh("cd /tmp && cat ../../../etc/hostname");
    assert_ne!(out.exit_code, 0);
}

#[test]
fn file_tools_work_against_the_sandbox() {
    let (out, dir) = sh(
        "mkdir -p /tmp/a/b && cd /tmp/a && echo one > b/f && cp b/f g && mv g h && ls && pwd && wc -l < h && rm -r b && ls",
    );
    assert_eq!(out.exit_code, 0, "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "b\nh\n/tmp/a\n1\nh\n");
    assert!(dir.path().join("tmp/a/h").is_file());
}

#[test]
fn whalesay_and_argosay_images_programs() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["cowsay", "hello world"], &[]);
    let said = text(&out.stdout);
    assert!(said.contains("< hello world >"), "{said}");
    assert!(
        said.lines().count() > 5,
        "a whale follows the bubble: {said}"
    );

    let out = run_in(dir.path(), &["argosay"], &[]);
    assert_eq!(text(&out.stdout), "hello argo\n");
    let out = run_in(
        dir.path(),
        &["argosay", "echo", "real-value", "/tmp/out.txt"],
        &[],
    );
    assert_eq!(out.exit_code, 0, "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("tmp/out.txt")).unwrap(),
        "real-value"
    );
    let out = run_in(dir.path(), &["argosay", "exit", "3"], &[]);
    assert_eq!(out.exit_code, 3);
}

#[test]
fn set_x_traces_to_stderr_and_set_e_stops() {
    let (out, _dir) = sh("set -ex; echo a; false; echo never");
    assert_eq!(out.exit_code, 1);
    assert_eq!(text(&out.stdout), "a\n");
    let err = text(&out.stderr);
    assert!(err.contains("+ echo a"), "{err}");
}

#[test]
fn a_stop_ends_a_sleeping_step_promptly() {
    let (rt, module) = runtime();
    let dir = tempfile::tempdir().unwrap();
    let stop = StopSignal::new();
    let sandbox = Sandbox {
        args: vec!["sleep".into(), "30".into()],
        root: dir.path().to_path_buf(),
        stop: Some(stop.clone()),
        ..Sandbox::default()
    };
    let (done, outcome) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(rt.run(module, &sandbox).unwrap());
    });
    std::thread::sleep(Duration::from_millis(100));
    let stopped_at = Instant::now();
    stop.stop("Ctrl-C");
    // A step that ignores the stop fails the test instead of hanging it.
    let out = outcome
        .recv_timeout(Duration::from_secs(10))
        .expect("the step did not end after its stop");
    let lag = stopped_at.elapsed();
    assert_eq!(out.exit_code, 137);
    assert_eq!(out.error.as_deref(), Some("step stopped: Ctrl-C"));
    assert!(lag < Duration::from_secs(1), "ended {lag:?} after the stop");
}

#[test]
fn the_log_sink_streams_output_while_the_step_runs() {
    let (rt, module) = runtime();
    let dir = tempfile::tempdir().unwrap();
    let (chunks, received) = mpsc::channel::<(Instant, Vec<u8>)>();
    let sink = LogSink::new(move |chunk| {
        let _ = chunks.send((Instant::now(), chunk.to_vec()));
    });
    let out = rt
        .run(
            module,
            &Sandbox {
                args: vec![
                    "sh".into(),
                    "-c".into(),
                    "echo first; sleep 1; echo second >&2".into(),
                ],
                root: dir.path().to_path_buf(),
                log_sink: Some(sink),
                ..Sandbox::default()
            },
        )
        .unwrap();
    let ended = Instant::now();
    assert_eq!(out.exit_code, 0, "{}", text(&out.stderr));
    let chunks: Vec<(Instant, Vec<u8>)> = received.try_iter().collect();
    let streamed: Vec<u8> = chunks.iter().flat_map(|(_, c)| c.clone()).collect();
    assert_eq!(text(&streamed), text(&out.log));
    assert_eq!(text(&out.log), "first\nsecond\n");
    let (first_at, _) = chunks
        .iter()
        .find(|(_, c)| text(c).contains("first"))
        .expect("a chunk with `first`");
    assert!(
        ended.duration_since(*first_at) >= Duration::from_millis(500),
        "`first` reached the sink only {:?} before the step ended",
        ended.duration_since(*first_at)
    );
}
