//! The local step runner: prepares a step's sandbox root, runs its program in wasm, and reads back its outputs.
//!
//! Every local step gets the world an Argo container sees (DESIGN.md, "The step sandbox"): a fresh directory
//! mounted as `/` (on tmpfs when `/dev/shm` exists) with a writable `/tmp`, input artifacts placed at their
//! paths, a script template's source at [`SCRIPT_PATH`](super::route::SCRIPT_PATH), declared args and env only.
//! Afterwards its stdout becomes `outputs.result` (one trailing newline trimmed, as Argo does), output
//! parameters are read from their `valueFrom.path` (one trailing newline trimmed, as Argo's executor does),
//! output artifacts are saved to the [`ArtifactStore`], and the directory is removed.
//!
//! A step that fails is data ([`StepOutcome`] with a failed phase), never an `Err`.
//!
//! Every step runs under the executor's [`StepLimits`] (see [`crate::executor::limits`] and
//! `docs/limits.md`): it first reserves its memory limit from the host's [`MemoryBudget`] (waiting
//! while running steps hold it all); its stdout and stderr are kept up to the log cap; its sandbox
//! directory is measured every [`StepLimits::sandbox_check_interval`] while it runs (by one thread
//! for all the executor's steps) and once when it ends, and a step over the disk cap is stopped; an
//! output parameter or `outputs.result` over the output cap fails the step with a message that
//! names the cap.
//!
//! A request may carry a [`StopSignal`]: a step whose signal is set before it starts is not run (nor its
//! program loaded), and one stopped while it runs ends as the sandbox ends it; both are `Failed` with the
//! message `step stopped: <reason>`. A request's [`LogSink`] sees the step's log as it is written.

use std::fs;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::artifact::{ArtifactStore, copy_tree};
use crate::engine::state::NodeOutputs;
use crate::executor::disk_watch::{DiskWatch, disk_cap_reason};
use crate::executor::guests;
use crate::executor::limits::{MemoryBudget, StepLimits, dir_size};
use crate::executor::python::{Invocation, PythonRuntime, PythonSetup, PythonStep};
use crate::executor::wasm::{
    LogSink, RunOutcome, Sandbox, StepStopped, StopSignal, WasmError, WasmModule, WasmRuntime,
};
use crate::spec::NodePhase;

/// What program a step runs.
#[derive(Debug, Clone)]
pub enum Program {
    /// A toolbox tool: `argv[0]` names it.
    Toolbox {
        /// The argv, tool name first.
        argv: Vec<String>,
    },
    /// A user's module from a `wasm:` template.
    Module {
        /// Where the module file is on the host.
        path: PathBuf,
        /// The argv, module name first.
        argv: Vec<String>,
    },
    /// `python ARGS` in the python executor.
    Python {
        /// The argv, the interpreter first.
        argv: Vec<String>,
        /// Files to write into the sandbox first, beside the request's: (path inside the sandbox,
        /// content). A shell wrapper that saves its program to a temporary file leaves it here.
        files: Vec<(String, Vec<u8>)>,
        /// Packages the step asked `pip` for; each must already be in the runtime.
        packages: Vec<String>,
    },
    /// Nothing here can run it: the step fails with this message.
    Unavailable {
        /// Why, and what to do.
        message: String,
    },
}

/// An output parameter to read back from a file.
#[derive(Debug, Clone)]
pub struct OutputParameter {
    /// Its name.
    pub name: String,
    /// The file it is read from, inside the sandbox.
    pub path: String,
    /// The value when the file is missing.
    pub default: Option<String>,
}

/// An output artifact to save.
#[derive(Debug, Clone)]
pub struct OutputArtifact {
    /// Its name.
    pub name: String,
    /// The file or directory it is read from, inside the sandbox.
    pub path: String,
    /// Whether a missing path is fine.
    pub optional: bool,
}

/// Everything needed to run one leaf step.
#[derive(Debug, Clone)]
pub struct StepRequest {
    /// The run's name (artifacts are stored under it).
    pub run: String,
    /// The node's id (artifacts are stored under it).
    pub node_id: String,
    /// What to run.
    pub program: Program,
    /// The environment, exactly.
    pub env: Vec<(String, String)>,
    /// Files to write into the sandbox before the step: (path inside the sandbox, content).
    pub files: Vec<(String, Vec<u8>)>,
    /// Input artifacts: (where they are stored on the host, path inside the sandbox).
    pub input_artifacts: Vec<(PathBuf, String)>,
    /// Output parameters read from files.
    pub output_parameters: Vec<OutputParameter>,
    /// Output artifacts saved after the step.
    pub output_artifacts: Vec<OutputArtifact>,
    /// Wall-time limit.
    pub timeout: Option<Duration>,
    /// Memory limit in bytes.
    pub memory_limit: Option<u64>,
    /// Stops the step when set: before it starts (it does not run) or while it runs (it is killed,
    /// exit code 137). `None`: only its timeout stops it.
    pub stop: Option<StopSignal>,
    /// Called with each chunk of the step's interleaved log as the program writes it (the final log
    /// is still in [`StepOutcome::log`]).
    pub log_sink: Option<LogSink>,
}

/// How a step ended.
#[derive(Debug, Clone)]
pub struct StepOutcome {
    /// `Succeeded`, `Failed` (the program failed) or `Error` (skiff could not run it or read its outputs).
    pub phase: NodePhase,
    /// Why it did not succeed.
    pub message: Option<String>,
    /// Its stdout and stderr, interleaved.
    pub log: Vec<u8>,
    /// Its outputs (result, exit code, parameters, artifacts).
    pub outputs: NodeOutputs,
    /// Which executor ran it.
    pub executor: &'static str,
}

impl Program {
    /// The name of the executor that runs it, as [`StepOutcome::executor`] reports it.
    fn executor(&self) -> &'static str {
        match self {
            Program::Toolbox { .. } => "toolbox",
            Program::Module { .. } => "wasm",
            Program::Python { .. } => "python",
            Program::Unavailable { .. } => "none",
        }
    }
}

impl StepOutcome {
    /// A step that its stop signal stopped before it ran.
    fn stopped(reason: String, executor: &'static str) -> Self {
        Self {
            phase: NodePhase::Failed,
            message: Some(StepStopped(reason).to_string()),
            log: Vec::new(),
            outputs: NodeOutputs::default(),
            executor,
        }
    }

    fn error(message: String, executor: &'static str) -> Self {
        Self {
            phase: NodePhase::Error,
            message: Some(message),
            log: Vec::new(),
            outputs: NodeOutputs::default(),
            executor,
        }
    }
}

/// Runs leaf steps in wasm on this machine.
#[derive(Debug)]
pub struct LocalExecutor {
    wasm: WasmRuntime,
    toolbox: OnceLock<Result<WasmModule, String>>,
    python_setup: Option<PythonSetup>,
    python: OnceLock<Result<Arc<PythonRuntime>, String>>,
    artifacts: ArtifactStore,
    scratch: PathBuf,
    counter: AtomicU64,
    limits: StepLimits,
    budget: MemoryBudget,
    disk_watch: DiskWatch,
}

impl LocalExecutor {
    /// An executor that runs steps with `wasm`, keeps artifacts in `artifacts`, and makes sandbox roots under
    /// `scratch`.
    pub fn new(wasm: WasmRuntime, artifacts: ArtifactStore, scratch: PathBuf) -> Self {
        let limits = StepLimits::default();
        Self {
            wasm,
            toolbox: OnceLock::new(),
            python_setup: None,
            python: OnceLock::new(),
            artifacts,
            scratch,
            counter: AtomicU64::new(0),
            budget: MemoryBudget::new(limits.host_memory),
            disk_watch: DiskWatch::new(limits.sandbox_check_interval),
            limits,
        }
    }

    /// Runs steps under `limits` (the default: [`StepLimits::default`]).
    #[must_use]
    pub fn with_limits(mut self, limits: StepLimits) -> Self {
        self.budget = MemoryBudget::new(limits.host_memory);
        self.disk_watch = DiskWatch::new(limits.sandbox_check_interval);
        self.limits = limits;
        self
    }

    /// The limits steps run under.
    pub fn limits(&self) -> &StepLimits {
        &self.limits
    }

    /// The host's memory budget steps reserve from.
    pub fn budget(&self) -> &MemoryBudget {
        &self.budget
    }

    /// Lets python steps run, with the runtime found (or downloaded) and compiled as `setup` says, on
    /// the first python step.
    #[must_use]
    pub fn with_python(mut self, setup: PythonSetup) -> Self {
        self.python_setup = Some(setup);
        self
    }

    /// The python runtime, loaded on first use.
    ///
    /// # Errors
    /// Why it cannot be loaded.
    pub fn python(&self) -> Result<Arc<PythonRuntime>, String> {
        self.python
            .get_or_init(|| match &self.python_setup {
                Some(setup) => PythonRuntime::load(setup).map(Arc::new),
                None => Err("this executor was made without a python runtime".to_string()),
            })
            .clone()
    }

    /// The artifact store steps write to.
    pub fn artifacts(&self) -> &ArtifactStore {
        &self.artifacts
    }

    /// Compiles (or loads from cache) the toolbox now, so the first step does not pay for it.
    ///
    /// # Errors
    /// The compile error's message.
    pub fn warm_up(&self) -> Result<(), String> {
        self.toolbox().map(|_| ())
    }

    fn toolbox(&self) -> Result<WasmModule, String> {
        self.toolbox
            .get_or_init(|| {
                self.wasm
                    .module(guests::TOOLBOX_WASM)
                    .map_err(|e| format!("cannot load skiff's toolbox module: {e}"))
            })
            .clone()
    }

    /// Runs one step to its end. Blocking: call it from a blocking thread.
    pub fn run(&self, req: &StepRequest) -> StepOutcome {
        if let Some(reason) = req.stop.as_ref().and_then(StopSignal::reason) {
            return StepOutcome::stopped(reason, req.program.executor());
        }
        let (launch, executor) = match &req.program {
            Program::Toolbox { argv } => match self.toolbox() {
                Ok(m) => (Launch::Wasm(m, argv.clone()), "toolbox"),
                Err(e) => return StepOutcome::error(e, "toolbox"),
            },
            Program::Module { path, argv } => match self.wasm.module_from_file(path) {
                Ok(m) => (Launch::Wasm(m, argv.clone()), "wasm"),
                Err(e) => return StepOutcome::error(module_error(path, &e), "wasm"),
            },
            Program::Python {
                argv,
                files,
                packages,
            } => {
                let invocation = match Invocation::parse(argv) {
                    Ok(i) => i,
                    Err(e) => return StepOutcome::error(e, "python"),
                };
                let runtime = match self.python() {
                    Ok(rt) => rt,
                    Err(e) => return StepOutcome::error(e, "python"),
                };
                if let Err(e) = runtime.check_packages(packages) {
                    return StepOutcome::error(e, "python");
                }
                (Launch::Python(runtime, invocation, files.clone()), "python")
            }
            Program::Unavailable { message } => {
                return StepOutcome::error(message.clone(), "none");
            }
        };
        let memory = req.memory_limit.unwrap_or(self.limits.default_memory);
        let stopped = || req.stop.as_ref().is_some_and(StopSignal::is_stopped);
        let Some(_share) = self
            .budget
            .reserve(memory, Duration::from_millis(20), stopped)
        else {
            let reason = req.stop.as_ref().and_then(StopSignal::reason);
            return StepOutcome::stopped(reason.unwrap_or_default(), executor);
        };
        let root = match self.make_root() {
            Ok(root) => root,
            Err(e) => {
                return StepOutcome::error(
                    format!("cannot create the step's sandbox directory: {e}"),
                    executor,
                );
            }
        };
        let outcome = self.run_in(&root, req, &launch, executor);
        let _ = fs::remove_dir_all(&root);
        outcome
    }

    fn make_root(&self) -> std::io::Result<PathBuf> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let root = self.scratch.join(format!("step-{n}"));
        fs::create_dir_all(root.join("tmp"))?;
        Ok(root)
    }

    fn run_in(
        &self,
        root: &Path,
        req: &StepRequest,
        launch: &Launch,
        executor: &'static str,
    ) -> StepOutcome {
        let extra: &[(String, Vec<u8>)] = match launch {
            Launch::Python(_, _, files) => files,
            Launch::Wasm(..) => &[],
        };
        for (path, content) in req.files.iter().chain(extra) {
            if let Err(e) = host_path(root, path).and_then(|p| write_file(&p, content)) {
                return StepOutcome::error(
                    format!("cannot write {path} into the sandbox: {e}"),
                    executor,
                );
            }
        }
        for (stored, path) in &req.input_artifacts {
            let placed = host_path(root, path)
                .and_then(|to| copy_tree(stored, &to, false).map_err(|e| e.to_string()));
            if let Err(e) = placed {
                return StepOutcome::error(
                    format!("cannot place input artifact at {path}: {e}"),
                    executor,
                );
            }
        }
        let run = match self.launch_watched(launch, root, req) {
            Ok(run) => run,
            Err(e) => return StepOutcome::error(format!("the sandbox failed: {e}"), executor),
        };
        let cap = self.limits.max_output_bytes;
        let stdout_len = run.stdout.len() as u64;
        let result_over = stdout_len > cap || stdout_len >= self.limits.max_log_bytes;
        let mut outputs = NodeOutputs {
            result: (!result_over).then(|| trim_one_newline(&String::from_utf8_lossy(&run.stdout))),
            exit_code: Some(run.exit_code),
            ..NodeOutputs::default()
        };
        let mut outcome = StepOutcome {
            phase: NodePhase::Succeeded,
            message: None,
            log: run.log,
            outputs: NodeOutputs::default(),
            executor,
        };
        if let Some(error) = run.error {
            outcome.phase = NodePhase::Failed;
            outcome.message = Some(error);
            outcome.outputs = outputs;
            return outcome;
        }
        let used = self.over_disk_cap(root);
        if let Some(used) = used {
            outcome.phase = NodePhase::Failed;
            outcome.message =
                Some(StepStopped(disk_cap_reason(used, self.limits.max_sandbox_bytes)).to_string());
            outcome.outputs = outputs;
            return outcome;
        }
        if result_over {
            outcome.phase = NodePhase::Failed;
            outcome.message = Some(format!(
                "outputs.result (the step's stdout) is {}{stdout_len} bytes; the cap is {cap} (SKIFF_MAX_OUTPUT_BYTES): write large data to a file and pass it as an artifact",
                if stdout_len >= self.limits.max_log_bytes {
                    "at least "
                } else {
                    ""
                },
            ));
        }
        if run.exit_code != 0 {
            outcome.phase = NodePhase::Failed;
            // A `wasm:` module is the user's own program (a component ends with its error on
            // stderr); a container keeps Argo's message.
            let said = match executor {
                "wasm" => last_stderr_line(&run.stderr),
                _ => python_error(&run.stderr),
            };
            outcome.message = Some(match said {
                Some(error) => format!("{error} (exit code {})", run.exit_code),
                None => format!("Error (exit code {})", run.exit_code),
            });
            // Argo still collects outputs of a failed step where it can; parameters with defaults matter most.
        }
        for param in &req.output_parameters {
            if let Err(e) = host_path(root, &param.path).and_then(|p| inside(root, &p)) {
                if outcome.phase != NodePhase::Failed {
                    outcome.phase = NodePhase::Failed;
                    outcome.message = Some(format!("output parameter '{}': {e}", param.name));
                }
                continue;
            }
            let size = host_path(root, &param.path)
                .ok()
                .and_then(|p| fs::metadata(p).ok())
                .map_or(0, |m| m.len());
            if size > cap {
                if outcome.phase == NodePhase::Succeeded {
                    outcome.phase = NodePhase::Failed;
                    outcome.message = Some(format!(
                        "output parameter '{}' is {size} bytes; the cap is {cap} (SKIFF_MAX_OUTPUT_BYTES): pass large data as an artifact",
                        param.name
                    ));
                }
                continue;
            }
            let read =
                host_path(root, &param.path).and_then(|p| fs::read(&p).map_err(|e| e.to_string()));
            match (read, &param.default) {
                (Ok(bytes), _) => outputs.parameters.push((
                    param.name.clone(),
                    trim_one_newline(&String::from_utf8_lossy(&bytes)),
                )),
                (Err(_), Some(default)) => {
                    outputs
                        .parameters
                        .push((param.name.clone(), default.clone()));
                }
                (Err(e), None) => {
                    if outcome.phase == NodePhase::Succeeded {
                        outcome.phase = NodePhase::Error;
                        outcome.message = Some(format!(
                            "output parameter '{}' not found: cannot read {}: {e} (give it a valueFrom.default, or write the file)",
                            param.name, param.path
                        ));
                    }
                }
            }
        }
        for art in &req.output_artifacts {
            let from = match host_path(root, &art.path) {
                Ok(p) => p,
                Err(e) => {
                    outcome.phase = NodePhase::Error;
                    outcome.message = Some(format!("output artifact '{}': {e}", art.name));
                    continue;
                }
            };
            if let Err(e) = inside(root, &from) {
                outcome.phase = NodePhase::Failed;
                outcome.message = Some(format!("output artifact '{}': {e}", art.name));
                continue;
            }
            if fs::symlink_metadata(&from).is_err() {
                if !art.optional && outcome.phase == NodePhase::Succeeded {
                    outcome.phase = NodePhase::Error;
                    outcome.message = Some(format!(
                        "output artifact '{}' not found: nothing at {} (mark it optional: true, or write it)",
                        art.name, art.path
                    ));
                }
                continue;
            }
            match self
                .artifacts
                .save(&req.run, &req.node_id, &art.name, &from)
            {
                Ok(stored) => outputs.artifacts.push((art.name.clone(), stored)),
                Err(e) => {
                    outcome.phase = NodePhase::Error;
                    outcome.message =
                        Some(format!("cannot save output artifact '{}': {e}", art.name));
                }
            }
        }
        outcome.outputs = outputs;
        outcome
    }
}

/// A step's program, ready to start.
enum Launch {
    Wasm(WasmModule, Vec<String>),
    Python(Arc<PythonRuntime>, Invocation, Vec<(String, Vec<u8>)>),
}

impl LocalExecutor {
    /// Bytes in the sandbox when they are over the disk cap.
    fn over_disk_cap(&self, root: &Path) -> Option<u64> {
        let cap = self.limits.max_sandbox_bytes;
        if cap == 0 {
            return None;
        }
        let used = dir_size(root);
        (used > cap).then_some(used)
    }

    /// [`launch`](Self::launch) under the executor's [`DiskWatch`], which measures the sandbox
    /// directory every [`StepLimits::sandbox_check_interval`] and stops the step when it holds
    /// more than the disk cap. The step runs with a signal of its own, a child of the request's,
    /// so that the watch stops this step only while a stop of the request's still reaches it.
    fn launch_watched(
        &self,
        launch: &Launch,
        root: &Path,
        req: &StepRequest,
    ) -> Result<RunOutcome, WasmError> {
        let cap = self.limits.max_sandbox_bytes;
        if cap == 0 {
            return self.launch(launch, root, req, req.stop.as_ref());
        }
        let own = req
            .stop
            .as_ref()
            .map_or_else(StopSignal::new, StopSignal::child);
        let _watched = self.disk_watch.watch(root, cap, &own);
        self.launch(launch, root, req, Some(&own))
    }

    fn launch(
        &self,
        launch: &Launch,
        root: &Path,
        req: &StepRequest,
        stop: Option<&StopSignal>,
    ) -> Result<RunOutcome, WasmError> {
        let memory_limit = Some(req.memory_limit.unwrap_or(self.limits.default_memory));
        let stdout_limit = Some(usize::try_from(self.limits.max_log_bytes).unwrap_or(usize::MAX));
        match launch {
            Launch::Wasm(module, argv) => self.wasm.run(
                module,
                &Sandbox {
                    args: argv.clone(),
                    env: req.env.clone(),
                    root: root.to_path_buf(),
                    timeout: req.timeout,
                    memory_limit,
                    stdout_limit,
                    stop: stop.cloned(),
                    log_sink: req.log_sink.clone(),
                    ..Default::default()
                },
            ),
            Launch::Python(runtime, invocation, _) => runtime.run(
                invocation,
                &PythonStep {
                    root: root.to_path_buf(),
                    env: req.env.clone(),
                    timeout: req.timeout,
                    memory_limit,
                    stdout_limit,
                    stop: stop.cloned(),
                    log_sink: req.log_sink.clone(),
                },
            ),
        }
    }
}

fn module_error(path: &Path, e: &WasmError) -> String {
    format!("cannot load wasm module {}: {e}", path.display())
}

fn write_file(path: &Path, content: &[u8]) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    fs::write(path, content).map_err(|e| e.to_string())
}

/// Maps a path inside the sandbox (absolute, or relative to `/`) to the host, refusing `..`.
fn host_path(root: &Path, path: &str) -> Result<PathBuf, String> {
    let mut out = root.to_path_buf();
    for part in Path::new(path).components() {
        match part {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(p) => out.push(p),
            Component::ParentDir | Component::Prefix(_) => {
                return Err(format!("path {path} leaves the sandbox"));
            }
        }
    }
    Ok(out)
}

/// Refuses a host path under `root` that a symlink the step made leads out of the sandbox: the
/// host reads outputs with the host's view of the filesystem, so it must not follow a link the
/// sandbox would have refused. A path that does not exist is fine (it is reported as missing).
fn inside(root: &Path, path: &Path) -> Result<(), String> {
    let (Ok(real_root), Ok(real)) = (root.canonicalize(), path.canonicalize()) else {
        return Ok(());
    };
    if real.starts_with(&real_root) {
        Ok(())
    } else {
        let shown = path.strip_prefix(root).map_or(path, |p| p);
        Err(format!(
            "/{} leads outside the sandbox through a symlink; skiff does not follow it",
            shown.display()
        ))
    }
}

/// The last line of a Python traceback on stderr (`ValueError: boom`), for a one-line message: the
/// whole traceback is in the log.
fn python_error(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let at = text.rfind("Traceback (most recent call last):")?;
    let last = text[at..].lines().rev().find(|l| !l.trim().is_empty())?;
    let last = last.trim();
    (!last.starts_with("File ") && !last.starts_with("Traceback")).then(|| {
        let mut line: String = last.chars().take(300).collect();
        if line.len() < last.len() {
            line.push('…');
        }
        line
    })
}

/// The last line a program wrote to stderr, cut to 300 characters; Rust's hint after a panic
/// message (`note: run with RUST_BACKTRACE=1 ...`) is passed over, so the panic's own text is used.
fn last_stderr_line(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let last = text
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("note: run with `RUST_BACKTRACE"))?;
    let mut line: String = last.chars().take(300).collect();
    if line.len() < last.len() {
        line.push('…');
    }
    Some(line)
}

/// Removes one trailing newline (and a carriage return before it), as Argo does for results and parameters.
pub fn trim_one_newline(text: &str) -> String {
    let text = text.strip_suffix('\n').unwrap_or(text);
    text.strip_suffix('\r').unwrap_or(text).to_string()
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Instant;

    use super::*;
    use crate::executor::wasm::WasmConfig;

    /// An executor with an on-demand engine, and the directory its scratch and artifacts are in.
    fn executor() -> (LocalExecutor, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let wasm = WasmRuntime::new(WasmConfig {
            pool_instances: 0,
            ..WasmConfig::default()
        })
        .unwrap();
        let executor = LocalExecutor::new(
            wasm,
            ArtifactStore::new(dir.path().join("artifacts")),
            dir.path().join("scratch"),
        );
        (executor, dir)
    }

    /// A request to run the module in `wat` (written beside the executor's scratch).
    fn module_request(dir: &Path, wat: &str) -> StepRequest {
        let path = dir.join("step.wat");
        fs::write(&path, wat).unwrap();
        StepRequest {
            run: "run".into(),
            node_id: "node".into(),
            program: Program::Module {
                path,
                argv: vec!["step".into()],
            },
            env: Vec::new(),
            files: Vec::new(),
            input_artifacts: Vec::new(),
            output_parameters: Vec::new(),
            output_artifacts: Vec::new(),
            timeout: None,
            memory_limit: None,
            stop: None,
            log_sink: None,
        }
    }

    /// Writes `hi` to stdout, then loops for ever.
    const HI_THEN_LOOP: &str = r#"(module
        (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
        (memory (export "memory") 1)
        (data (i32.const 16) "\20\00\00\00\02\00\00\00")
        (data (i32.const 32) "hi")
        (func (export "_start")
          (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))
          (loop $forever (br $forever))))"#;

    /// Grows its memory to 1 MiB, touches it, then sleeps a little so that steps overlap.
    const TAKE_A_MEGABYTE: &str = r#"(module
        (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
        (memory (export "memory") 1)
        ;; a subscription at 64: a relative 5 ms timeout (at 88) on the monotonic clock (at 80)
        (data (i32.const 80) "\01\00\00\00\00\00\00\00\40\4b\4c\00\00\00\00\00")
        (func (export "_start")
          (drop (memory.grow (i32.const 15)))
          (i32.store8 (i32.const 0xfffff) (i32.const 1))
          (drop (call $poll (i32.const 64) (i32.const 256) (i32.const 1) (i32.const 512)))))"#;

    #[test]
    fn steps_past_the_host_memory_budget_queue_and_all_succeed() {
        let (executor, dir) = executor();
        let executor = Arc::new(executor.with_limits(StepLimits {
            host_memory: 8 << 20,
            ..StepLimits::default()
        }));
        let mut req = module_request(dir.path(), TAKE_A_MEGABYTE);
        req.memory_limit = Some(1 << 20);
        let threads: Vec<_> = (0..200)
            .map(|_| {
                let (executor, req) = (Arc::clone(&executor), req.clone());
                std::thread::spawn(move || executor.run(&req))
            })
            .collect();
        for t in threads {
            let outcome = t.join().unwrap();
            assert_eq!(outcome.phase, NodePhase::Succeeded, "{:?}", outcome.message);
        }
        let peak = executor.budget().peak_running();
        assert!((2..=8).contains(&peak), "{peak} steps ran at once");
    }

    #[test]
    fn a_step_queued_for_memory_can_be_stopped() {
        let (executor, dir) = executor();
        let executor = executor.with_limits(StepLimits {
            host_memory: 1 << 20,
            ..StepLimits::default()
        });
        let held = executor
            .budget()
            .reserve(1 << 20, Duration::from_millis(1), || false)
            .unwrap();
        let stop = StopSignal::new();
        let mut req = module_request(dir.path(), HI_THEN_LOOP);
        req.stop = Some(stop.clone());
        std::thread::scope(|scope| {
            let waiting = scope.spawn(|| executor.run(&req));
            std::thread::sleep(Duration::from_millis(50));
            stop.stop("the workflow was stopped");
            let outcome = waiting.join().unwrap();
            assert_eq!(
                outcome.message.as_deref(),
                Some("step stopped: the workflow was stopped")
            );
            assert_eq!(outcome.outputs.exit_code, None, "it never started");
        });
        drop(held);
    }

    #[test]
    fn a_file_past_the_disk_cap_fails_the_step_even_when_it_ends_between_checks() {
        let (executor, dir) = executor();
        let executor = executor.with_limits(StepLimits {
            max_sandbox_bytes: 1000,
            sandbox_check_interval: Duration::from_secs(3600),
            ..StepLimits::default()
        });
        let mut req = module_request(
            dir.path(),
            "(module (memory (export \"memory\") 1) (func (export \"_start\")))",
        );
        req.files = vec![("/tmp/big".into(), vec![0; 4096])];
        let outcome = executor.run(&req);
        assert_eq!(outcome.phase, NodePhase::Failed);
        let message = outcome.message.unwrap();
        assert!(
            message.starts_with("step stopped: its sandbox holds ")
                && message.ends_with("over the disk cap of 1000 (SKIFF_MAX_SANDBOX_BYTES)"),
            "{message}"
        );
    }

    #[test]
    fn an_already_stopped_request_does_not_run() {
        let (executor, dir) = executor();
        let stop = StopSignal::new();
        stop.stop("the workflow was stopped");
        let mut req = module_request(dir.path(), HI_THEN_LOOP);
        req.stop = Some(stop);
        req.files = vec![("/tmp/marker".into(), b"x".to_vec())];
        let outcome = executor.run(&req);
        assert_eq!(outcome.phase, NodePhase::Failed);
        assert_eq!(
            outcome.message.as_deref(),
            Some("step stopped: the workflow was stopped")
        );
        assert_eq!(outcome.executor, "wasm");
        assert!(outcome.log.is_empty());
        assert_eq!(outcome.outputs.exit_code, None, "it never started");
        assert!(
            !dir.path().join("scratch").exists(),
            "no sandbox root was made"
        );
    }

    #[test]
    fn a_running_step_is_stopped_and_its_log_streamed() {
        let (executor, dir) = executor();
        let stop = StopSignal::new();
        let streamed = Arc::new(Mutex::new(Vec::new()));
        let mut req = module_request(dir.path(), HI_THEN_LOOP);
        req.stop = Some(stop.clone());
        req.log_sink = Some({
            let streamed = Arc::clone(&streamed);
            LogSink::new(move |chunk| streamed.lock().unwrap().extend_from_slice(chunk))
        });
        let executor = Arc::new(executor);
        let (done, finished) = std::sync::mpsc::channel();
        {
            let executor = Arc::clone(&executor);
            std::thread::spawn(move || {
                let _ = done.send(executor.run(&req));
            });
        }
        // The step is running once its output has been streamed.
        let started = Instant::now();
        while streamed.lock().unwrap().is_empty() {
            assert!(started.elapsed() < Duration::from_secs(30), "no output");
            std::thread::sleep(Duration::from_millis(5));
        }
        stop.stop("deadline of the workflow");
        let outcome = finished
            .recv_timeout(Duration::from_secs(10))
            .expect("the step did not end after its stop");
        assert_eq!(outcome.phase, NodePhase::Failed);
        assert_eq!(
            outcome.message.as_deref(),
            Some("step stopped: deadline of the workflow")
        );
        assert_eq!(outcome.outputs.exit_code, Some(137));
        assert_eq!(outcome.log, b"hi");
        assert_eq!(*streamed.lock().unwrap(), b"hi");
    }

    #[test]
    fn host_paths_stay_inside_root() {
        let root = Path::new("/r");
        assert_eq!(
            host_path(root, "/tmp/x").unwrap(),
            PathBuf::from("/r/tmp/x")
        );
        assert_eq!(
            host_path(root, "tmp/./x").unwrap(),
            PathBuf::from("/r/tmp/x")
        );
        assert!(host_path(root, "/tmp/../../etc/passwd").is_err());
    }

    #[test]
    fn python_errors_are_the_tracebacks_last_line() {
        let tb = b"log line\nTraceback (most recent call last):\n  File \"/argo/staging/script\", line 1, in <module>\n    import torch\nModuleNotFoundError: No module named 'torch'\n";
        assert_eq!(
            python_error(tb).as_deref(),
            Some("ModuleNotFoundError: No module named 'torch'")
        );
        assert_eq!(python_error(b"plain failure\n"), None);
    }

    #[test]
    fn a_modules_message_is_its_last_stderr_line() {
        assert_eq!(
            last_stderr_line(b"reading\nno column `x` in the header\n\n").as_deref(),
            Some("no column `x` in the header")
        );
        let panic = b"thread 'main' panicked at src/main.rs:3:5:\nboom\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
        assert_eq!(last_stderr_line(panic).as_deref(), Some("boom"));
        assert_eq!(last_stderr_line(b" \n"), None);
        let long = "x".repeat(400);
        assert_eq!(
            last_stderr_line(long.as_bytes()).unwrap().chars().count(),
            301
        );
    }

    #[test]
    fn trims_exactly_one_newline() {
        assert_eq!(trim_one_newline("a\n\n"), "a\n");
        assert_eq!(trim_one_newline("a\r\n"), "a");
        assert_eq!(trim_one_newline("a"), "a");
    }
}
