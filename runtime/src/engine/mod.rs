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

pub mod plan;
pub mod state;

mod recorder;
mod resume;
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

pub use resume::{NodeSelector, Resume, retry_plan};
pub use run::METRICS_PREFIX;

use crate::artifact::ArtifactStore;
use crate::executor::LocalExecutor;
use crate::executor::StopSignal;
use crate::executor::kube::{ClusterConfig, KubeExecutor};
use crate::executor::limits::StepLimits;
use crate::executor::python::PythonSetup;
use crate::executor::route::{ExecutorChoice, ImageKind, Placement, image_kind, place};
use crate::executor::wasm::{WasmConfig, WasmError, WasmRuntime};
use crate::spec::{
    Document, LifecycleHook, NodePhase, SpecError, TemplateKind, ValidateOptions, YamlPath,
};
use crate::store::{NewRun, Owner, RunUpdate, StopRequest, Store, StoreError};
use recorder::Recorder;

use run::{Call, Ctx, NodeResult, execute, run_hook};
pub use run::{input_env_name, wasm_module_path};
use scope::Scope;
pub use state::{NodeOutputs, NodeStatus, NodeType, RunState};

/// Where step roots go by default: `/dev/shm` (tmpfs: file I/O measured 3x faster than on disk) when
/// there is one, else the temp dir.
pub fn scratch_base() -> PathBuf {
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() {
        shm
    } else {
        std::env::temp_dir()
    }
}

/// An error of skiff itself, or a workflow it refuses to start.
#[derive(Debug, Error)]
pub enum EngineError {
    /// The workflow is not valid; nothing ran.
    #[error("{}", crate::spec::one_per_line(.0))]
    Invalid(Vec<SpecError>),
    /// The wasm runtime could not start.
    #[error("cannot start the wasm runtime: {0}")]
    Wasm(#[from] WasmError),
    /// The run could not be recorded in the run database.
    #[error(transparent)]
    Store(#[from] StoreError),
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
    /// The limits local steps run under (default: [`StepLimits::default`]; the CLI reads them
    /// from the `SKIFF_*` variables of `docs/limits.md`).
    pub limits: StepLimits,
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
            limits: StepLimits::default(),
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
    /// Takes up a recorded run again (`skiff retry`, `skiff resubmit --memoized`).
    pub resume: Option<Resume>,
    /// `--executor`: where steps run.
    pub executor: ExecutorChoice,
    /// The cluster pod steps go to (`--kubeconfig`, `--context`, `-n`); `None`: kubectl's defaults.
    pub cluster: Option<ClusterConfig>,
}

/// Runs workflows. One engine serves many runs; its wasm runtime and compiled modules are shared.
#[derive(Debug, Clone)]
pub struct Engine {
    executor: Arc<LocalExecutor>,
    config: EngineConfig,
    store: Option<PathBuf>,
    /// A client for pod steps, given by the caller.
    kube: Option<KubeExecutor>,
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
    stop: Arc<watch::Sender<Option<(StopRequest, String)>>>,
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

    /// Stops the run: running steps are stopped and pending ones never start; with
    /// [`StopRequest::Stop`] the exit handler still runs, with [`StopRequest::Terminate`] it does not
    /// (and a running one is stopped too). The run ends `Failed` with `message`.
    pub fn stop(&self, request: StopRequest, message: impl Into<String>) {
        request_stop(&self.stop, request, message.into());
    }
}

/// Records a stop request unless one at least as strong is already there.
fn request_stop(
    stop: &watch::Sender<Option<(StopRequest, String)>>,
    request: StopRequest,
    message: String,
) {
    stop.send_if_modified(|current| match current {
        Some((StopRequest::Terminate, _)) => false,
        Some((StopRequest::Stop, _)) if request == StopRequest::Stop => false,
        _ => {
            *current = Some((request, message));
            true
        }
    });
}

/// The message a run stopped by `skiff stop` or `skiff terminate` ends with, as Argo words it.
pub fn stop_message(request: StopRequest) -> String {
    match request {
        StopRequest::Stop => "Stopped with strategy 'Stop'".to_string(),
        StopRequest::Terminate => "Stopped with strategy 'Terminate'".to_string(),
    }
}

/// Checks a workflow before anything runs: the spec's validation, then that every container and script step
/// has somewhere to run (see [`crate::executor::route::place`]): here, or on the cluster when one is
/// configured (`options.cluster`, or kubectl's defaults). Errors point at the file, line and column.
///
/// # Errors
/// Every problem found.
pub fn preflight(doc: &Document, options: &RunOptions) -> Result<(), Vec<SpecError>> {
    let cluster = options.cluster.clone().unwrap_or_default().is_configured();
    preflight_for(doc, options, cluster)
}

/// [`preflight`], with whether a cluster is there said by the caller (`skiff lint` checks a file as if
/// there were one).
///
/// # Errors
/// Every problem found.
pub fn preflight_for(
    doc: &Document,
    options: &RunOptions,
    cluster: bool,
) -> Result<(), Vec<SpecError>> {
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
        let path = YamlPath::root()
            .key("spec")
            .key("templates")
            .index(i)
            .key(field)
            .key("image");
        match place(t, options.executor, cluster) {
            Placement::Local if image_kind(image) == ImageKind::Unknown => errors.push(
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
            ),
            Placement::Local => {}
            Placement::Kubernetes { reason } if !cluster => errors.push(
                SpecError::new(
                    doc.locate(&path),
                    format!(
                        "template '{}' runs as a pod ({reason}), and no cluster is configured",
                        t.name
                    ),
                )
                .with_help(
                    "point KUBECONFIG (or --kubeconfig) at a cluster, or run it here with --executor local (or the annotation skiff.dev/executor: wasm)",
                ),
            ),
            Placement::Kubernetes { .. } => {}
            Placement::Nowhere { message } => {
                errors.push(SpecError::new(doc.locate(&path), message));
            }
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
        let base = config.scratch.clone().unwrap_or_else(scratch_base);
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
            executor: Arc::new(
                LocalExecutor::new(wasm, artifacts, scratch)
                    .with_limits(config.limits.clone())
                    .with_python(PythonSetup {
                        cache_dir: config.home.join("cache"),
                        allow_download: true,
                    }),
            ),
            config,
            store: None,
            kube: None,
        })
    }

    /// Creates pod steps through `client` in `namespace` instead of the cluster of the run's
    /// [`RunOptions::cluster`] (an API server of the caller's, or a mocked one in tests).
    pub fn with_kube_client(mut self, client: kube::Client, namespace: &str) -> Self {
        self.kube = Some(KubeExecutor::new(
            client,
            namespace.to_string(),
            self.executor.artifacts().clone(),
        ));
        self
    }

    /// Records every run in the database at `path` (see [`crate::store`]): the run, its nodes as they
    /// change, its logs as they are written; memoized templates look up and save their outputs there,
    /// and stop requests left there by other processes stop the run.
    pub fn with_store(mut self, path: PathBuf) -> Self {
        self.store = Some(path);
        self
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
        let cluster =
            self.kube.is_some() || options.cluster.clone().unwrap_or_default().is_configured();
        preflight_for(doc, &options, cluster).map_err(EngineError::Invalid)?;
        let wf = &doc.workflow;
        let retry = options.resume.as_ref().filter(|r| r.retry);
        let name = match (retry, &wf.metadata.name, &wf.metadata.generate_name) {
            (Some(r), _, _) => r.from_run.clone(),
            (None, Some(n), _) if !n.is_empty() => n.clone(),
            (None, _, Some(g)) => generate_name(g),
            _ => generate_name("workflow-"),
        };
        let uid = retry.and_then(|r| r.uid.clone()).unwrap_or_else(uuid_like);
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
        let (stop_tx, _) = watch::channel(None);
        let stop = Arc::new(stop_tx);
        let recorder = match &self.store {
            Some(path) => {
                Some(self.record_start(path, doc, &options, &name, &uid, &namespace, &stop)?)
            }
            None => None,
        };
        let prior = options
            .resume
            .as_ref()
            .map(|r| r.restorable(&name))
            .unwrap_or_default();

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
        let cluster = options.cluster.clone().unwrap_or_default();
        let kube = match &self.kube {
            Some(kube) => tokio::sync::OnceCell::new_with(Some(run::with_artifact_repository(
                kube.clone(),
                &self.config.home,
            ))),
            None => tokio::sync::OnceCell::new(),
        };
        let cluster = (cluster.is_configured() || self.kube.is_some()).then_some(cluster);
        let ctx = Arc::new(Ctx {
            executor_choice: options.executor,
            cluster,
            kube,
            spec: Arc::new(wf.spec.clone()),
            home: self.config.home.clone(),
            run_name: name.clone(),
            templates,
            base_dir,
            state: state.clone(),
            notify,
            executor: self.executor.clone(),
            slots: Arc::new(Semaphore::new(parallelism)),
            globals: Mutex::new(globals),
            deadline,
            recorder,
            store: self.store.clone(),
            memo_store: std::sync::OnceLock::new(),
            signal: Mutex::new(StopSignal::new()),
            stop: stop.clone(),
            prior,
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
            stop,
            task,
        })
    }

    /// Records the run's start (or takes a recorded run up again for a retry) and starts its recorder.
    #[expect(
        clippy::too_many_arguments,
        reason = "one call site, each argument a different fact"
    )]
    fn record_start(
        &self,
        path: &std::path::Path,
        doc: &Document,
        options: &RunOptions,
        name: &str,
        uid: &str,
        namespace: &str,
        stop: &Arc<watch::Sender<Option<(StopRequest, String)>>>,
    ) -> Result<Recorder, EngineError> {
        let mut store = Store::open(path)?;
        let owner = Owner::current();
        match options.resume.as_ref().filter(|r| r.retry) {
            Some(resume) => {
                let keep: Vec<String> = resume.keep.iter().map(|n| n.id.clone()).collect();
                store.begin_retry(name, &owner, &keep)?;
            }
            None => {
                let spec = if doc.source.trim().is_empty() {
                    serde_yaml::to_string(&doc.workflow).unwrap_or_default()
                } else {
                    doc.source.clone()
                };
                store.create_run(
                    &NewRun {
                        name: name.to_string(),
                        uid: uid.to_string(),
                        namespace: namespace.to_string(),
                        created_at: SystemTime::now(),
                        priority: doc
                            .workflow
                            .spec
                            .priority
                            .as_ref()
                            .and_then(serde_yaml::Value::as_i64),
                        spec,
                        source: Some(doc.file.clone()).filter(|f| !f.as_os_str().is_empty()),
                        parameters: options.parameters.clone(),
                        entrypoint: options.entrypoint.clone(),
                    },
                    &owner,
                )?;
            }
        }
        let stop = stop.clone();
        let on_stop = Box::new(move |request: StopRequest| {
            request_stop(&stop, request, stop_message(request));
        });
        Ok(Recorder::start(
            path.to_path_buf(),
            name.to_string(),
            on_stop,
        )?)
    }
}

/// Runs the entrypoint, then the exit handler, and settles the run's phase.
///
/// Three things end the entrypoint early: the workflow's `activeDeadlineSeconds`, and a stop or terminate
/// request ([`RunHandle::stop`], or one another process left in the store). Each stops the steps that run
/// (through the [`StopSignal`] they were given) and fails every unfinished node; then the exit handler
/// runs with a fresh signal, unless the request was to terminate.
async fn drive(
    ctx: Arc<Ctx>,
    entrypoint: String,
    params: Vec<(String, String)>,
    artifacts: Vec<(String, PathBuf)>,
    on_exit: Option<LifecycleHook>,
) {
    let run_name = ctx.run_name.clone();
    let Some(template) = ctx.templates.get(&entrypoint).cloned() else {
        let message = format!("entrypoint template '{entrypoint}' not found");
        settle(&ctx, NodePhase::Error, Some(message)).await;
        return;
    };
    // The entrypoint runs as a task of its own: a step blocks the task that runs it (`block_in_place`), and
    // this one must stay free to see a deadline or a stop request.
    let mut main = tokio::spawn(execute(
        ctx.clone(),
        Call {
            node_name: run_name.clone(),
            display: run_name.clone(),
            parent: None,
            template,
            params,
            artifacts,
        },
    ));
    let deadline = async {
        match ctx.deadline {
            Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
            None => std::future::pending().await,
        }
    };
    let mut stops = ctx.stop.subscribe();
    let stopped = async {
        let request = stops.wait_for(Option::is_some).await.map(|r| r.clone());
        match request {
            Ok(request) => request,
            Err(_) => std::future::pending().await,
        }
    };
    enum End {
        Done(Result<NodeResult, tokio::task::JoinError>),
        Halt(String, bool),
    }
    let end = tokio::select! {
        r = &mut main => End::Done(r),
        () = deadline => End::Halt("Max duration limit exceeded".to_string(), false),
        request = stopped => {
            let (request, message) = request.unwrap_or((StopRequest::Stop, stop_message(StopRequest::Stop)));
            End::Halt(message, request == StopRequest::Terminate)
        }
    };
    let mut terminated = false;
    let (mut phase, mut message) = match end {
        End::Done(Ok(r)) => (r.phase, r.message),
        End::Done(Err(e)) => (
            NodePhase::Error,
            Some(format!("the run's scheduler failed: {e}")),
        ),
        End::Halt(message, terminate) => {
            halt(&ctx, &message, main).await;
            terminated = terminate;
            (NodePhase::Failed, Some(message))
        }
    };
    if phase == NodePhase::Skipped || phase == NodePhase::Omitted {
        phase = NodePhase::Succeeded;
    }
    if let Some(exit) = on_exit.filter(|_| !terminated) {
        let failures = failures_json(&ctx);
        {
            let mut g = ctx.globals.lock().expect("globals lock");
            g.insert("workflow.status".to_string(), phase.as_str().to_string());
            g.insert("workflow.failures".to_string(), failures);
        }
        let exit_id = format!("{run_name}.onExit");
        let hook_ctx = ctx.clone();
        // A task of its own, as the entrypoint's, so that a terminate request is seen while it runs.
        let mut hook_task = tokio::spawn(async move {
            let scope = Scope::default();
            run_hook(&hook_ctx, &exit, &exit_id, &exit_id, None, &scope, None).await
        });
        let mut stops = ctx.stop.subscribe();
        let terminate = async {
            let _ = stops
                .wait_for(|r| matches!(r, Some((StopRequest::Terminate, _))))
                .await;
        };
        let hook = tokio::select! {
            r = &mut hook_task => match r {
                Ok(r) => r,
                Err(e) => Some(NodeResult {
                    id: format!("{run_name}.onExit"),
                    phase: NodePhase::Error,
                    message: Some(e.to_string()),
                    outputs: NodeOutputs::default(),
                }),
            },
            () = terminate => None,
        };
        let hook = match hook {
            Some(r) => Some(r),
            None => {
                let text = stop_message(StopRequest::Terminate);
                halt(&ctx, &text, hook_task).await;
                message = Some(text);
                phase = NodePhase::Failed;
                None
            }
        };
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
    let message = if phase == NodePhase::Succeeded {
        None
    } else {
        message
    };
    settle(&ctx, phase, message).await;
}

/// Sets the run's end and waits until the recorder has written everything.
async fn settle(ctx: &Ctx, phase: NodePhase, message: Option<String>) {
    let finished_at = SystemTime::now();
    {
        let mut state = ctx.state.lock().expect("run state lock");
        state.phase = phase;
        state.message = message.clone();
        state.finished_at = Some(finished_at);
    }
    if let Some(recorder) = &ctx.recorder {
        recorder.run(RunUpdate {
            phase,
            message,
            finished_at: Some(finished_at),
        });
        recorder.flush().await;
    }
    ctx.notify.send_modify(|v| *v += 1);
}

/// Ends what runs now: stops the running steps, fails every unfinished node with `message`, and gives the
/// steps that start from now on (the exit handler's) a fresh signal.
/// How long the steps of a halted run have to end (a pod step deletes its pod) before they are dropped.
const HALT_GRACE: Duration = Duration::from_secs(15);

/// Stops a run's steps: the signal every step holds (and every step that would start now gets) is set, the
/// steps get [`HALT_GRACE`] to end as stopped steps do, then every unfinished node is failed with `message`
/// and a fresh signal is made for the exit handler.
async fn halt<T>(ctx: &Ctx, message: &str, mut task: tokio::task::JoinHandle<T>) {
    ctx.signal
        .lock()
        .expect("stop signal lock")
        .stop(message.to_string());
    if tokio::time::timeout(HALT_GRACE, &mut task).await.is_err() {
        task.abort();
    }
    *ctx.signal.lock().expect("stop signal lock") = StopSignal::new();
    mark_unfinished(ctx, message);
}

/// Marks every node still pending or running as failed with `message`.
fn mark_unfinished(ctx: &Ctx, message: &str) {
    let mut state = ctx.state.lock().expect("run state lock");
    let now = SystemTime::now();
    for node in state.nodes.values_mut() {
        if !node.phase.is_completed() {
            node.phase = NodePhase::Failed;
            node.message = Some(message.to_string());
            node.finished_at = Some(now);
            if let Some(recorder) = &ctx.recorder {
                recorder.node(node);
            }
        }
    }
    drop(state);
    ctx.notify.send_modify(|v| *v += 1);
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
