//! The engine: owns a run's state and drives it from the entrypoint to the exit handler.
//!
//! [`Engine::start`] checks a parsed workflow ([`preflight`]: the spec's validation plus "can every step run
//! here"), names the run, and spawns its driver on the current tokio runtime. The caller gets a
//! [`RunHandle`]: the shared [`RunState`] and a channel that ticks on every change (the CLI's `--watch` redraws
//! on it), and [`RunHandle::wait`] for the end.
//!
//! Phases follow Argo: a steps template fails when a step of a group fails (unless it `continueOn` that);
//! a dag as `assessDAGPhase` decides; the run takes its entrypoint's phase, then runs `spec.onExit` with
//! `workflow.status` and `workflow.failures` set, and fails if the exit handler fails.

pub mod state;

mod run;
mod scope;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use rand::Rng;
use thiserror::Error;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

pub use run::METRICS_PREFIX;

use crate::artifact::ArtifactStore;
use crate::executor::LocalExecutor;
use crate::executor::python::PythonSetup;
use crate::executor::route::{ImageKind, image_kind};
use crate::executor::wasm::{WasmConfig, WasmError, WasmRuntime};
use crate::spec::{
    Document, LifecycleHook, NodePhase, SpecError, TemplateKind, ValidateOptions, YamlPath,
};

pub use run::input_env_name;
use run::{Call, Ctx, execute, run_hook};
use scope::Scope;
pub use state::{NodeOutputs, NodeStatus, NodeType, RunState};

/// An error of skiff itself, or a workflow it refuses to start.
#[derive(Debug, Error)]
pub enum EngineError {
    /// The workflow is not valid; nothing ran.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<SpecError>),
    /// The wasm runtime could not start.
    #[error("cannot start the wasm runtime: {0}")]
    Wasm(#[from] WasmError),
    /// A directory skiff needs could not be made.
    #[error("cannot create {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
}

/// How an [`Engine`] is set up.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// skiff's data directory (`$SKIFF_HOME`): artifacts under `artifacts/`, the module cache under `cache/`.
    pub home: PathBuf,
    /// Leaf steps running at once, at most (default: the CPU count).
    pub parallelism: usize,
    /// Where step sandboxes are made (default: `/dev/shm` when it exists, else the temp dir).
    pub scratch: Option<PathBuf>,
}

impl EngineConfig {
    /// The defaults for `home`.
    pub fn new(home: PathBuf) -> Self {
        Self {
            home,
            parallelism: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            scratch: None,
        }
    }
}

/// What a run is started with, beyond its workflow.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Workflow parameters given on the command line (`-p name=value`, `-f params.yaml`).
    pub parameters: Vec<(String, String)>,
    /// Overrides `spec.entrypoint`.
    pub entrypoint: Option<String>,
    /// Overrides the engine's parallelism for this run.
    pub parallelism: Option<usize>,
}

/// Runs workflows. One engine serves many runs; its wasm runtime and compiled modules are shared.
#[derive(Debug, Clone)]
pub struct Engine {
    executor: Arc<LocalExecutor>,
    config: EngineConfig,
}

/// A started run.
#[derive(Debug)]
pub struct RunHandle {
    /// The run's name.
    pub name: String,
    /// The live state.
    pub state: Arc<Mutex<RunState>>,
    /// Ticks on every change of the state.
    pub changes: watch::Receiver<u64>,
    task: JoinHandle<()>,
}

impl RunHandle {
    /// Waits for the run to end and returns its final state.
    pub async fn wait(self) -> RunState {
        if let Err(e) = self.task.await {
            let mut state = self.state.lock().expect("run state lock");
            state.phase = NodePhase::Error;
            state.message = Some(format!("the run's driver stopped: {e}"));
            state.finished_at = Some(SystemTime::now());
        }
        self.state.lock().expect("run state lock").clone()
    }

    /// A copy of the state now.
    pub fn snapshot(&self) -> RunState {
        self.state.lock().expect("run state lock").clone()
    }
}

/// Checks a workflow before anything runs: the spec's validation, then that every container and script step
/// has an executor here. Errors point at the file, line and column.
///
/// # Errors
/// Every problem found.
pub fn preflight(doc: &Document, options: &RunOptions) -> Result<(), Vec<SpecError>> {
    let opts = ValidateOptions {
        entrypoint: options.entrypoint.clone(),
        supplied_parameters: options.parameters.iter().map(|(n, _)| n.clone()).collect(),
        workflow_templates: Vec::new(),
    };
    crate::spec::validate(doc, &opts)?;
    let mut errors = Vec::new();
    for (i, t) in doc.workflow.spec.templates.iter().enumerate() {
        let (image, field) = match t.kind() {
            TemplateKind::Container(c) => (&c.image, "container"),
            TemplateKind::Script(s) => (&s.container.image, "script"),
            _ => continue,
        };
        if image_kind(image) == ImageKind::Unknown {
            let path = YamlPath::root()
                .key("spec")
                .key("templates")
                .index(i)
                .key(field)
                .key("image");
            errors.push(
                SpecError::new(
                    doc.locate(&path),
                    format!(
                        "template '{}' runs image '{image}', which skiff cannot run locally",
                        t.name
                    ),
                )
                .with_help(
                    "locally skiff runs busybox, alpine, argoproj/argosay, docker/whalesay and python images, and `wasm:` templates; for another image, run the step on a cluster (annotation skiff.dev/executor: kubernetes, with a kubeconfig)",
                ),
            );
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// A run name from `generateName`: the prefix and five random lowercase letters and digits, as Argo makes it.
pub fn generate_name(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    let suffix: String = (0..5)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{prefix}{suffix}")
}

impl Engine {
    /// An engine with its own wasm runtime (compiled modules cached under `home/cache/modules`).
    ///
    /// # Errors
    /// [`EngineError::Wasm`] when the runtime cannot start, [`EngineError::Io`] for directories.
    pub fn new(config: EngineConfig) -> Result<Self, EngineError> {
        let cache = config.home.join("cache").join("modules");
        let wasm = WasmRuntime::new(WasmConfig {
            cache_dir: Some(cache),
            ..WasmConfig::default()
        })?;
        Self::with_runtime(config, wasm)
    }

    /// An engine over an existing wasm runtime.
    ///
    /// # Errors
    /// [`EngineError::Io`] when the scratch directory cannot be made.
    pub fn with_runtime(config: EngineConfig, wasm: WasmRuntime) -> Result<Self, EngineError> {
        let base = config.scratch.clone().unwrap_or_else(|| {
            let shm = PathBuf::from("/dev/shm");
            if shm.is_dir() {
                shm
            } else {
                std::env::temp_dir()
            }
        });
        let scratch = base.join(format!(
            "skiff-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&scratch).map_err(|source| EngineError::Io {
            path: scratch.clone(),
            source,
        })?;
        let artifacts = ArtifactStore::new(config.home.join("artifacts"));
        Ok(Self {
            executor: Arc::new(LocalExecutor::new(wasm, artifacts, scratch).with_python(
                PythonSetup {
                    cache_dir: config.home.join("cache"),
                    allow_download: true,
                },
            )),
            config,
        })
    }

    /// Compiles (or loads from the cache) the toolbox now.
    ///
    /// # Errors
    /// Why it could not be loaded.
    pub fn warm_up(&self) -> Result<(), String> {
        self.executor.warm_up()
    }

    /// Checks `doc` and starts running it on the current tokio runtime.
    ///
    /// # Errors
    /// [`EngineError::Invalid`] when [`preflight`] finds problems: nothing ran.
    pub fn start(&self, doc: &Document, options: RunOptions) -> Result<RunHandle, EngineError> {
        preflight(doc, &options).map_err(EngineError::Invalid)?;
        let wf = &doc.workflow;
        let name = match (&wf.metadata.name, &wf.metadata.generate_name) {
            (Some(n), _) if !n.is_empty() => n.clone(),
            (_, Some(g)) => generate_name(g),
            _ => generate_name("workflow-"),
        };
        let uid = uuid_like();
        let namespace = wf
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_string());
        let state = Arc::new(Mutex::new(RunState::new(
            name.clone(),
            uid.clone(),
            namespace.clone(),
        )));
        let (notify, changes) = watch::channel(0u64);

        // Workflow parameters: the spec's, overridden by the caller's.
        let mut params: Vec<(String, String)> = Vec::new();
        for p in &wf.spec.arguments.parameters {
            let given = options
                .parameters
                .iter()
                .rev()
                .find(|(n, _)| *n == p.name)
                .map(|(_, v)| v.clone());
            if let Some(v) = given
                .or_else(|| p.value.clone())
                .or_else(|| p.default.clone())
            {
                params.push((p.name.clone(), v));
            }
        }
        let mut globals = HashMap::new();
        globals.insert("workflow.name".to_string(), name.clone());
        globals.insert("workflow.namespace".to_string(), namespace);
        globals.insert("workflow.uid".to_string(), uid);
        globals.insert("workflow.status".to_string(), "Running".to_string());
        globals.insert("workflow.failures".to_string(), "[]".to_string());
        let created = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        globals.insert("workflow.creationTimestamp".to_string(), created);
        globals.insert(
            "workflow.serviceAccountName".to_string(),
            wf.spec.service_account_name.clone().unwrap_or_default(),
        );
        let entrypoint = options
            .entrypoint
            .clone()
            .or_else(|| wf.spec.entrypoint.clone())
            .unwrap_or_default();
        globals.insert("workflow.mainEntrypoint".to_string(), entrypoint.clone());
        let mut listed = Vec::new();
        for (n, v) in &params {
            globals.insert(format!("workflow.parameters.{n}"), v.clone());
            listed.push(serde_json::json!({"name": n, "value": v}));
        }
        globals.insert(
            "workflow.parameters".to_string(),
            serde_json::Value::Array(listed).to_string(),
        );
        for (k, v) in &wf.metadata.labels {
            globals.insert(format!("workflow.labels.{k}"), v.clone());
        }
        for (k, v) in &wf.metadata.annotations {
            globals.insert(format!("workflow.annotations.{k}"), v.clone());
        }

        let parallelism = options
            .parallelism
            .unwrap_or(self.config.parallelism)
            .max(1);
        let parallelism = match wf.spec.parallelism {
            Some(p) if p > 0 => parallelism.min(p as usize),
            _ => parallelism,
        };
        let deadline = wf
            .spec
            .active_deadline_seconds
            .filter(|s| *s > 0)
            .map(|s| Instant::now() + Duration::from_secs(s as u64));
        let templates = wf
            .spec
            .templates
            .iter()
            .map(|t| (t.name.clone(), Arc::new(t.clone())))
            .collect();
        let base_dir = doc
            .file
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_default();
        let ctx = Arc::new(Ctx {
            run_name: name.clone(),
            templates,
            base_dir,
            state: state.clone(),
            notify,
            executor: self.executor.clone(),
            slots: Arc::new(Semaphore::new(parallelism)),
            globals: Mutex::new(globals),
            deadline,
        });
        let artifacts: Vec<(String, PathBuf)> = Vec::new();
        // `spec.onExit`, or its newer spelling `spec.hooks.exit`.
        let on_exit = wf.spec.on_exit.clone().map(|t| LifecycleHook {
            template: Some(t),
            ..LifecycleHook::default()
        });
        let on_exit = on_exit.or_else(|| wf.spec.hooks.get("exit").cloned());
        let task = tokio::spawn(drive(ctx, entrypoint, params, artifacts, on_exit));
        Ok(RunHandle {
            name,
            state,
            changes,
            task,
        })
    }
}

/// Runs the entrypoint, then the exit handler, and settles the run's phase.
async fn drive(
    ctx: Arc<Ctx>,
    entrypoint: String,
    params: Vec<(String, String)>,
    artifacts: Vec<(String, PathBuf)>,
    on_exit: Option<LifecycleHook>,
) {
    let run_name = ctx.run_name.clone();
    let Some(template) = ctx.templates.get(&entrypoint).cloned() else {
        let mut state = ctx.state.lock().expect("run state lock");
        state.phase = NodePhase::Error;
        state.message = Some(format!("entrypoint template '{entrypoint}' not found"));
        state.finished_at = Some(SystemTime::now());
        return;
    };
    let main = execute(
        ctx.clone(),
        Call {
            node_name: run_name.clone(),
            display: run_name.clone(),
            parent: None,
            template,
            params,
            artifacts,
        },
    );
    let (mut phase, mut message) = match ctx.deadline {
        Some(deadline) => match tokio::time::timeout_at(deadline.into(), main).await {
            Ok(r) => (r.phase, r.message),
            Err(_) => {
                let message = "Max duration limit exceeded".to_string();
                mark_unfinished(&ctx, &message);
                (NodePhase::Failed, Some(message))
            }
        },
        None => {
            let r = main.await;
            (r.phase, r.message)
        }
    };
    if phase == NodePhase::Skipped || phase == NodePhase::Omitted {
        phase = NodePhase::Succeeded;
    }
    if let Some(exit) = on_exit {
        let failures = failures_json(&ctx);
        {
            let mut g = ctx.globals.lock().expect("globals lock");
            g.insert("workflow.status".to_string(), phase.as_str().to_string());
            g.insert("workflow.failures".to_string(), failures);
        }
        let hook = run_hook(
            &ctx,
            &exit,
            &format!("{run_name}.onExit"),
            &format!("{run_name}.onExit"),
            None,
            &Scope::default(),
            None,
        )
        .await;
        if let Some(r) = hook
            && r.phase.is_failed_or_error()
            && phase == NodePhase::Succeeded
        {
            phase = r.phase;
            message = Some(format!(
                "exit handler failed: {}",
                r.message.unwrap_or_default()
            ));
        }
    }
    {
        let mut state = ctx.state.lock().expect("run state lock");
        state.phase = phase;
        state.message = if phase == NodePhase::Succeeded {
            None
        } else {
            message
        };
        state.finished_at = Some(SystemTime::now());
    }
    ctx.notify.send_modify(|v| *v += 1);
}

/// Marks every node still pending or running as failed with `message` (the run's deadline passed).
fn mark_unfinished(ctx: &Ctx, message: &str) {
    let mut state = ctx.state.lock().expect("run state lock");
    let now = SystemTime::now();
    for node in state.nodes.values_mut() {
        if !node.phase.is_completed() {
            node.phase = NodePhase::Failed;
            node.message = Some(message.to_string());
            node.finished_at = Some(now);
        }
    }
}

/// `workflow.failures`: the failed leaf steps as a JSON list, shaped as Argo shapes it.
fn failures_json(ctx: &Ctx) -> String {
    let state = ctx.state.lock().expect("run state lock");
    let failures: Vec<serde_json::Value> = state
        .nodes_in_order()
        .filter(|n| n.node_type == NodeType::Pod && n.phase.is_failed_or_error())
        .map(|n| {
            serde_json::json!({
                "displayName": n.display_name,
                "message": n.message.clone().unwrap_or_default(),
                "templateName": n.template_name.clone().unwrap_or_default(),
                "phase": n.phase.as_str(),
                "podName": n.id,
                "finishedAt": n.finished_at.map(rfc3339).unwrap_or_default(),
            })
        })
        .collect();
    serde_json::Value::Array(failures).to_string()
}

/// Formats a time as RFC 3339 in UTC, seconds precision, as Kubernetes does.
pub fn rfc3339(t: SystemTime) -> String {
    let t: time::OffsetDateTime = t.into();
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn uuid_like() -> String {
    let b: [u8; 16] = rand::random();
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
