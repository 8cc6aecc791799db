//! The driver of one run: templates, steps, dags, loops, retries and exit handlers, as Argo runs them.
//!
//! Each template invocation is an async function that creates its node, runs its children and returns a
//! [`NodeResult`]. Leaf steps wait for a slot of the run's parallelism, then run on a blocking thread through
//! the [`LocalExecutor`]. A dag template is driven by the pure [`DependencyQueue`]. A failed step is data: it
//! ends its node `Failed` or `Error` with a message, and the run goes on to its exit handler.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use futures::future::{BoxFuture, FutureExt, join_all};
use futures::stream::{FuturesUnordered, StreamExt};
use serde_json::Value;
use tokio::sync::{Semaphore, watch};

use crate::dag::DependencyQueue;
use crate::engine::recorder::Recorder;
use crate::engine::scope::{Frame, Scope};
use crate::engine::state::{Memoization, NodeOutputs, NodeStatus, NodeType, RunState, node_id};
use crate::executor::kube::s3::url_expiry;
use crate::executor::kube::{
    ArtifactRepository, ClusterConfig, Credentials, DEFAULT_TRANSFER_IMAGE, DEFAULT_WAIT_IMAGE,
    KubeExecutor, PodGc, PodInput, PodPlan, PodRun, pod_manifests,
};
use crate::executor::limits::parse_memory;
use crate::executor::python::PACKAGES_ANNOTATION;
use crate::executor::route::{
    ExecutorChoice, ImageKind, Placement, SCRIPT_PATH, image_kind, place, toolbox_argv,
};
use crate::executor::{
    LocalExecutor, LogSink, OutputArtifact, OutputParameter, Program, StepOutcome, StepRequest,
    StopSignal,
};
use crate::expr::depends::{TaskOutcome, dependencies_to_depends, depends_names, eval_depends};
use crate::expr::items::{loop_node_suffix, param_items, sequence_items};
use crate::expr::{eval_when, substitute, substitute_lenient};
use crate::spec::{
    Arguments, Container, ContinueOn, DagTask, LifecycleHook, NodePhase, Sequence, Template,
    TemplateKind, WorkflowSpec, WorkflowStep, parse_duration,
};
use crate::store::{Memo, StopRequest, Store};

/// What a finished node hands back to its caller.
#[derive(Debug, Clone)]
pub(crate) struct NodeResult {
    pub(crate) id: String,
    pub(crate) phase: NodePhase,
    pub(crate) message: Option<String>,
    pub(crate) outputs: NodeOutputs,
}

/// Everything a run's tasks share.
pub(crate) struct Ctx {
    pub(crate) run_name: String,
    pub(crate) templates: HashMap<String, Arc<Template>>,
    pub(crate) base_dir: PathBuf,
    pub(crate) state: Arc<Mutex<RunState>>,
    pub(crate) notify: watch::Sender<u64>,
    pub(crate) executor: Arc<LocalExecutor>,
    pub(crate) slots: Arc<Semaphore>,
    pub(crate) globals: Mutex<HashMap<String, String>>,
    pub(crate) deadline: Option<Instant>,
    /// Writes the run to the store, when there is one.
    pub(crate) recorder: Option<Recorder>,
    /// The store's file, for memoization lookups.
    pub(crate) store: Option<PathBuf>,
    /// A connection for memoization lookups, opened on first use.
    pub(crate) memo_store: OnceLock<Option<Mutex<Store>>>,
    /// The signal handed to steps that start now; replaced when the run is stopped, so that the exit
    /// handler's steps get one of their own.
    pub(crate) signal: Mutex<StopSignal>,
    /// Stop requests for the run.
    pub(crate) stop: Arc<watch::Sender<Option<(StopRequest, String)>>>,
    /// Nodes of a recorded run to put back instead of running them, by node name.
    pub(crate) prior: HashMap<String, Vec<NodeStatus>>,
    /// `--executor`: where steps go.
    pub(crate) executor_choice: ExecutorChoice,
    /// The cluster pod steps go to, when one is configured.
    pub(crate) cluster: Option<ClusterConfig>,
    /// The kubernetes executor, made for the first pod step.
    pub(crate) kube: tokio::sync::OnceCell<Result<KubeExecutor, String>>,
    /// The workflow's spec: the pod-level settings of pod steps.
    pub(crate) spec: Arc<WorkflowSpec>,
    /// skiff's home, where the artifact repository's file may be.
    pub(crate) home: PathBuf,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("run_name", &self.run_name)
            .finish()
    }
}

/// One call of a template: who calls it, under what name, with which inputs.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) node_name: String,
    pub(crate) display: String,
    pub(crate) parent: Option<String>,
    pub(crate) template: Arc<Template>,
    pub(crate) params: Vec<(String, String)>,
    pub(crate) artifacts: Vec<(String, PathBuf)>,
}

/// The parts of a step or a dag task the driver needs, whichever it is.
#[derive(Debug, Clone)]
struct Invocation {
    name: String,
    template: Option<String>,
    inline: Option<Box<Template>>,
    arguments: Arguments,
    when: Option<String>,
    with_items: Option<Vec<Value>>,
    with_param: Option<String>,
    with_sequence: Option<Sequence>,
    exit_hook: Option<LifecycleHook>,
    continue_on: Option<ContinueOn>,
}

fn exit_hook(
    hooks: &std::collections::BTreeMap<String, LifecycleHook>,
    on_exit: &Option<String>,
) -> Option<LifecycleHook> {
    hooks.get("exit").cloned().or_else(|| {
        on_exit.as_ref().map(|t| LifecycleHook {
            template: Some(t.clone()),
            ..LifecycleHook::default()
        })
    })
}

impl From<&WorkflowStep> for Invocation {
    fn from(s: &WorkflowStep) -> Self {
        Self {
            name: s.name.clone(),
            template: s.template.clone(),
            inline: s.inline.clone(),
            arguments: s.arguments.clone(),
            when: s.when.clone(),
            with_items: s.with_items.clone(),
            with_param: s.with_param.clone(),
            with_sequence: s.with_sequence.clone(),
            exit_hook: exit_hook(&s.hooks, &s.on_exit),
            continue_on: s.continue_on.clone(),
        }
    }
}

impl From<&DagTask> for Invocation {
    fn from(t: &DagTask) -> Self {
        Self {
            name: t.name.clone(),
            template: t.template.clone(),
            inline: t.inline.clone(),
            arguments: t.arguments.clone(),
            when: t.when.clone(),
            with_items: t.with_items.clone(),
            with_param: t.with_param.clone(),
            with_sequence: t.with_sequence.clone(),
            exit_hook: exit_hook(&t.hooks, &t.on_exit),
            continue_on: t.continue_on.clone(),
        }
    }
}

impl Invocation {
    fn is_loop(&self) -> bool {
        self.with_items.is_some() || self.with_param.is_some() || self.with_sequence.is_some()
    }

    fn continues_on(&self, phase: NodePhase) -> bool {
        match (&self.continue_on, phase) {
            (Some(c), NodePhase::Failed) => c.failed,
            (Some(c), NodePhase::Error) => c.error,
            _ => false,
        }
    }
}

impl Ctx {
    /// The kubernetes executor, connected on first use.
    async fn kube_executor(&self) -> Result<KubeExecutor, String> {
        self.kube
            .get_or_init(|| async {
                let cluster = self.cluster.clone().ok_or_else(|| {
                    "this step runs as a pod, and no cluster is configured: point KUBECONFIG (or --kubeconfig) at a cluster, or run it here with --executor local".to_string()
                })?;
                let (client, namespace) = cluster.client().await.map_err(|e| e.to_string())?;
                let kube = KubeExecutor::new(client, namespace, self.executor.artifacts().clone());
                with_artifact_repository(kube, &self.home)
            })
            .await
            .clone()
    }

    fn changed(&self) {
        self.notify.send_modify(|v| *v += 1);
    }

    /// Creates a node (or returns the existing one of that name) under `parent`.
    fn add_node(
        &self,
        name: &str,
        display: &str,
        node_type: NodeType,
        template: Option<&str>,
        parent: Option<&str>,
        phase: NodePhase,
    ) -> String {
        let id = node_id(&self.run_name, name);
        {
            let mut state = self.state.lock().expect("run state lock");
            let now = SystemTime::now();
            let node = NodeStatus {
                id: id.clone(),
                name: name.to_string(),
                display_name: display.to_string(),
                node_type,
                template_name: template.map(str::to_string),
                phase,
                message: None,
                started_at: Some(now),
                finished_at: phase.is_completed().then_some(now),
                children: Vec::new(),
                executor: None,
                inputs: Vec::new(),
                outputs: NodeOutputs::default(),
                retry_attempt: None,
                memoization: None,
            };
            self.record(&node);
            let new = state.nodes.insert(id.clone(), node).is_none();
            if new {
                state.order.push(id.clone());
            }
            if let Some(p) = parent.and_then(|p| state.nodes.get_mut(p))
                && (new || !p.children.contains(&id))
            {
                p.children.push(id.clone());
                self.record(p);
            }
        }
        self.changed();
        id
    }

    fn update(&self, id: &str, f: impl FnOnce(&mut NodeStatus)) {
        {
            let mut state = self.state.lock().expect("run state lock");
            if let Some(node) = state.nodes.get_mut(id) {
                f(node);
                self.record(node);
            }
        }
        self.changed();
    }

    /// Hands a node's new state to the recorder (called with the state locked, so that the recorder sees
    /// changes in the order they were made).
    fn record(&self, node: &NodeStatus) {
        if let Some(recorder) = &self.recorder {
            recorder.node(node);
        }
    }

    /// The signal for a step starting now.
    fn stop_signal(&self) -> StopSignal {
        self.signal.lock().expect("stop signal lock").clone()
    }

    /// Puts a recorded node and its subtree back into the run, under `parent`, instead of running it.
    fn restore(&self, nodes: &[NodeStatus], parent: Option<&str>) -> NodeResult {
        let top = &nodes[0];
        {
            let mut state = self.state.lock().expect("run state lock");
            for node in nodes {
                self.record(node);
                if state.nodes.insert(node.id.clone(), node.clone()).is_none() {
                    state.order.push(node.id.clone());
                }
            }
            if let Some(p) = parent.and_then(|p| state.nodes.get_mut(p))
                && !p.children.contains(&top.id)
            {
                p.children.push(top.id.clone());
                self.record(p);
            }
        }
        self.changed();
        NodeResult {
            id: top.id.clone(),
            phase: top.phase,
            message: top.message.clone(),
            outputs: top.outputs.clone(),
        }
    }

    /// The store connection for memoization, if the run is recorded.
    fn memo_store(&self) -> Option<&Mutex<Store>> {
        self.memo_store
            .get_or_init(|| {
                let path = self.store.as_ref()?;
                match Store::open(path) {
                    Ok(store) => Some(Mutex::new(store)),
                    Err(e) => {
                        eprintln!("skiff: memoization is off for this run: {e}");
                        None
                    }
                }
            })
            .as_ref()
    }

    fn finish_node(&self, id: &str, phase: NodePhase, message: Option<String>) {
        self.update(id, |n| {
            n.phase = phase;
            n.message = message;
            n.finished_at = Some(SystemTime::now());
        });
    }

    /// Ends a node with an error found before it could run.
    fn error_node(&self, id: &str, message: String) -> NodeResult {
        self.finish_node(id, NodePhase::Error, Some(message.clone()));
        NodeResult {
            id: id.to_string(),
            phase: NodePhase::Error,
            message: Some(message),
            outputs: NodeOutputs::default(),
        }
    }

    fn global(&self, name: &str) -> Option<String> {
        match name {
            "workflow.duration" => {
                let state = self.state.lock().expect("run state lock");
                Some(format!("{:.6}", state.duration().as_secs_f64()))
            }
            _ => self
                .globals
                .lock()
                .expect("globals lock")
                .get(name)
                .cloned(),
        }
    }

    fn lookup(&self, frame: Frame<'_>, name: &str) -> Option<String> {
        frame.lookup(name).or_else(|| self.global(name))
    }

    fn template(&self, inv: &Invocation) -> Result<Arc<Template>, String> {
        if let Some(inline) = &inv.inline {
            return Ok(Arc::new((**inline).clone()));
        }
        let name = inv.template.as_deref().unwrap_or_default();
        self.templates
            .get(name)
            .cloned()
            .ok_or_else(|| format!("template '{name}' not found"))
    }

    fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }
}

/// Runs a template call: its inputs, its retries, its body.
pub(crate) fn execute(ctx: Arc<Ctx>, call: Call) -> BoxFuture<'static, NodeResult> {
    async move {
        // A retried run puts back what already succeeded instead of running it again.
        if let Some(nodes) = ctx.prior.get(&call.node_name) {
            return ctx.restore(nodes, call.parent.as_deref());
        }
        let template = call.template.clone();
        let scope = match resolve_inputs(&ctx, &template, &call) {
            Ok(scope) => scope,
            Err(message) => {
                let id = ctx.add_node(
                    &call.node_name,
                    &call.display,
                    NodeType::Pod,
                    Some(&template.name),
                    call.parent.as_deref(),
                    NodePhase::Error,
                );
                return ctx.error_node(&id, message);
            }
        };
        let hook_scope = scope.clone();
        let memo = match memoize(&ctx, &template, &scope) {
            Ok(memo) => memo,
            Err(message) => {
                let id = ctx.add_node(
                    &call.node_name,
                    &call.display,
                    node_type_of(&template),
                    Some(&template.name),
                    call.parent.as_deref(),
                    NodePhase::Error,
                );
                return ctx.error_node(&id, message);
            }
        };
        let result = match &memo {
            Some(m) if m.hit.is_some() => memo_hit(&ctx, &call, &template, m),
            _ => match &template.retry_strategy {
                Some(_) => execute_with_retries(ctx.clone(), call.clone(), scope).await,
                None => execute_once(ctx.clone(), call.clone(), scope, None).await,
            },
        };
        if let Some(m) = memo.filter(|m| m.hit.is_none()) {
            memo_save(&ctx, &result, m);
        }
        // A template's own exit hook runs after every call of it, whatever the outcome.
        if let Some(hook) = template.hooks.get("exit") {
            let parent = call.parent.clone().unwrap_or_else(|| result.id.clone());
            run_hook(
                &ctx,
                hook,
                &format!("{}.onExit", call.node_name),
                &format!("{}.onExit", call.display),
                Some(&parent),
                &hook_scope,
                None,
            )
            .await;
        }
        result
    }
    .boxed()
}

/// A template's `memoize`, evaluated for one call.
struct MemoCall {
    cache: String,
    key: String,
    /// The saved result, when the cache has one young enough.
    hit: Option<Memo>,
}

/// The node type a template's node gets.
fn node_type_of(template: &Template) -> NodeType {
    match template.kind() {
        TemplateKind::Steps(_) => NodeType::Steps,
        TemplateKind::Dag(_) => NodeType::Dag,
        TemplateKind::Suspend => NodeType::Suspend,
        _ => NodeType::Pod,
    }
}

/// Reads a template's `memoize` (`key`, `maxAge`, `cache.configMap.name`), substitutes its key and looks
/// it up. `None` when the template has no `memoize` or the run has no store to keep results in.
fn memoize(ctx: &Ctx, template: &Template, scope: &Scope) -> Result<Option<MemoCall>, String> {
    let Some(spec) = &template.memoize else {
        return Ok(None);
    };
    let field = |path: &[&str]| -> Option<String> {
        let mut v = spec;
        for key in path {
            v = v.get(*key)?;
        }
        match v {
            serde_yaml::Value::String(s) => Some(s.clone()),
            serde_yaml::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let what = |m: &str| format!("template '{}': memoize: {m}", template.name);
    let key = field(&["key"]).ok_or_else(|| what("`key` is required"))?;
    let cache = field(&["cache", "configMap", "name"])
        .ok_or_else(|| what("`cache.configMap.name` is required"))?;
    let max_age = match field(&["maxAge"]).filter(|a| !a.trim().is_empty()) {
        Some(age) => Some(parse_duration(&age).map_err(|e| what(&format!("maxAge: {e}")))?),
        None => None,
    };
    let frame = Frame { scope, item: None };
    let lookup = |tag: &crate::expr::Tag| {
        if tag.expression {
            None
        } else {
            ctx.lookup(frame, &tag.name)
        }
    };
    let key = substitute(&key, &lookup).map_err(|e| what(&format!("key: {e}")))?;
    let cache = substitute(&cache, &lookup).map_err(|e| what(&format!("cache: {e}")))?;
    let Some(store) = ctx.memo_store() else {
        return Ok(None);
    };
    let found = store
        .lock()
        .expect("memo store lock")
        .memo(&cache, &key)
        .unwrap_or_else(|e| {
            eprintln!("skiff: memoization lookup failed, the step runs: {e}");
            None
        });
    let hit = found.filter(|m| {
        max_age.is_none_or(|age| {
            SystemTime::now()
                .duration_since(m.created_at)
                .unwrap_or_default()
                <= age
        })
    });
    Ok(Some(MemoCall { cache, key, hit }))
}

/// Answers a call from the memoization cache: a succeeded node with the saved outputs; nothing runs.
fn memo_hit(ctx: &Ctx, call: &Call, template: &Template, memo: &MemoCall) -> NodeResult {
    let saved = memo.hit.clone().unwrap_or_else(|| Memo {
        outputs: NodeOutputs::default(),
        run: String::new(),
        node: String::new(),
        created_at: SystemTime::now(),
    });
    let id = ctx.add_node(
        &call.node_name,
        &call.display,
        node_type_of(template),
        Some(&template.name),
        call.parent.as_deref(),
        NodePhase::Succeeded,
    );
    ctx.update(&id, |n| {
        n.outputs = saved.outputs.clone();
        n.memoization = Some(Memoization {
            hit: true,
            key: memo.key.clone(),
            cache_name: memo.cache.clone(),
        });
    });
    NodeResult {
        id,
        phase: NodePhase::Succeeded,
        message: None,
        outputs: saved.outputs,
    }
}

/// Saves a call's outputs to its memoization cache when it succeeded.
fn memo_save(ctx: &Ctx, result: &NodeResult, memo: MemoCall) {
    ctx.update(&result.id, |n| {
        n.memoization = Some(Memoization {
            hit: false,
            key: memo.key.clone(),
            cache_name: memo.cache.clone(),
        });
    });
    if result.phase != NodePhase::Succeeded {
        return;
    }
    if let Some(recorder) = &ctx.recorder {
        recorder.memo(
            memo.cache,
            memo.key,
            Memo {
                outputs: result.outputs.clone(),
                run: ctx.run_name.clone(),
                node: result.id.clone(),
                created_at: SystemTime::now(),
            },
        );
    }
}

async fn execute_with_retries(ctx: Arc<Ctx>, call: Call, scope: Scope) -> NodeResult {
    let template = call.template.clone();
    let strategy = template.retry_strategy.clone().unwrap_or_default();
    let id = ctx.add_node(
        &call.node_name,
        &call.display,
        NodeType::Retry,
        Some(&template.name),
        call.parent.as_deref(),
        NodePhase::Running,
    );
    let limit = match &strategy.limit {
        None => None,
        Some(l) => match l.as_i64() {
            Some(n) => Some(n.max(0) as u32),
            None => {
                return ctx.error_node(
                    &id,
                    format!("retryStrategy.limit '{}' is not an integer", l),
                );
            }
        },
    };
    let policy = strategy
        .retry_policy
        .clone()
        .unwrap_or_else(|| "OnFailure".to_string());
    let backoff = strategy.backoff.clone();
    let started = Instant::now();
    let mut attempt: u32 = 0;
    loop {
        let child = Call {
            node_name: format!("{}({attempt})", call.node_name),
            display: format!("{}({attempt})", call.display),
            parent: Some(id.clone()),
            ..call.clone()
        };
        let mut attempt_scope = scope.clone();
        attempt_scope.set("retries", attempt.to_string());
        let result = execute_once(ctx.clone(), child, attempt_scope, Some(attempt)).await;
        let retry = match (result.phase, policy.as_str()) {
            (NodePhase::Succeeded, _) => false,
            (NodePhase::Failed, "OnFailure" | "Always") => true,
            (NodePhase::Error, "OnError" | "Always" | "OnTransientError") => true,
            _ => false,
        };
        let exhausted = limit.is_some_and(|l| attempt >= l);
        let mut wait = Duration::ZERO;
        let mut out_of_time = false;
        if retry
            && !exhausted
            && let Some(b) = &backoff
        {
            let base = b
                .duration
                .as_deref()
                .and_then(|d| parse_duration(d).ok())
                .unwrap_or_default();
            let factor = b
                .factor
                .as_ref()
                .and_then(|f| f.text().trim().parse::<f64>().ok())
                .unwrap_or(1.0_f64)
                .max(1.0);
            wait = base.mul_f64(factor.powi(attempt as i32));
            if let Some(cap) = b.cap.as_deref().and_then(|c| parse_duration(c).ok()) {
                wait = wait.min(cap);
            }
            if let Some(max) = b
                .max_duration
                .as_deref()
                .and_then(|m| parse_duration(m).ok())
            {
                out_of_time = started.elapsed() + wait > max;
            }
        }
        if !retry || exhausted || out_of_time {
            let message = match (result.phase, exhausted || out_of_time) {
                (NodePhase::Succeeded, _) => None,
                (_, true) if retry => Some(format!(
                    "{} (no more retries left)",
                    result.message.clone().unwrap_or_else(|| "failed".into())
                )),
                _ => result.message.clone(),
            };
            ctx.update(&id, |n| {
                n.phase = result.phase;
                n.message = message.clone();
                n.finished_at = Some(SystemTime::now());
                n.outputs = result.outputs.clone();
            });
            return NodeResult {
                id,
                phase: result.phase,
                message,
                outputs: result.outputs,
            };
        }
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        attempt += 1;
    }
}

/// Runs a template's body once.
async fn execute_once(ctx: Arc<Ctx>, call: Call, scope: Scope, attempt: Option<u32>) -> NodeResult {
    let template = call.template.clone();
    match template.kind() {
        TemplateKind::Container(_) | TemplateKind::Script(_) | TemplateKind::Wasm(_) => {
            execute_leaf(ctx, call, scope, attempt).await
        }
        TemplateKind::Steps(_) => execute_steps(ctx, call, scope).await,
        TemplateKind::Dag(_) => execute_dag(ctx, call, scope).await,
        TemplateKind::Suspend => execute_suspend(ctx, call).await,
        TemplateKind::Unsupported(kind) => {
            let id = ctx.add_node(
                &call.node_name,
                &call.display,
                NodeType::Pod,
                Some(&template.name),
                call.parent.as_deref(),
                NodePhase::Error,
            );
            ctx.error_node(
                &id,
                format!(
                    "template '{}' is a {kind} template, which skiff does not run locally",
                    template.name
                ),
            )
        }
        TemplateKind::Missing => {
            let id = ctx.add_node(
                &call.node_name,
                &call.display,
                NodeType::Pod,
                Some(&template.name),
                call.parent.as_deref(),
                NodePhase::Error,
            );
            ctx.error_node(
                &id,
                format!("template '{}' has nothing to run", template.name),
            )
        }
    }
}

/// Builds a template's input scope from what its caller passed.
fn resolve_inputs(ctx: &Ctx, template: &Template, call: &Call) -> Result<Scope, String> {
    let mut scope = Scope::default();
    let mut listed = Vec::new();
    for p in &template.inputs.parameters {
        let supplied = call
            .params
            .iter()
            .find(|(n, _)| *n == p.name)
            .map(|(_, v)| v.clone());
        let value = supplied
            .or_else(|| p.value.clone())
            .or_else(|| p.default.clone())
            .ok_or_else(|| {
                format!(
                    "input parameter '{}' of template '{}' was not supplied",
                    p.name, template.name
                )
            })?;
        if !p.enum_.is_empty() && !p.enum_.contains(&value) {
            return Err(format!(
                "input parameter '{}' is '{}', not one of its enum values {:?}",
                p.name, value, p.enum_
            ));
        }
        scope.set(format!("inputs.parameters.{}", p.name), value.clone());
        listed.push(serde_json::json!({"name": p.name, "value": value}));
    }
    scope.set("inputs.parameters", Value::Array(listed).to_string());
    for a in &template.inputs.artifacts {
        if let Some(path) = &a.path {
            scope.set(format!("inputs.artifacts.{}.path", a.name), path.clone());
        }
        let supplied = call
            .artifacts
            .iter()
            .find(|(n, _)| *n == a.name)
            .map(|(_, p)| p.clone());
        let stored = match (supplied, &a.raw) {
            (Some(p), _) => Some(p),
            (None, Some(raw)) => Some(
                ctx.executor
                    .artifacts()
                    .save_bytes(
                        &ctx.run_name,
                        &node_id(&ctx.run_name, &call.node_name),
                        &format!("inputs-{}", a.name),
                        raw.data.as_bytes(),
                    )
                    .map_err(|e| e.to_string())?,
            ),
            (None, None) if a.optional => None,
            (None, None) => {
                return Err(format!(
                    "input artifact '{}' of template '{}' was not supplied",
                    a.name, template.name
                ));
            }
        };
        if let Some(stored) = stored {
            scope.set_artifact(format!("inputs.artifacts.{}", a.name), stored);
        }
    }
    for p in &template.outputs.parameters {
        if let Some(path) = p.value_from.as_ref().and_then(|v| v.path.as_ref()) {
            scope.set(format!("outputs.parameters.{}.path", p.name), path.clone());
        }
    }
    for a in &template.outputs.artifacts {
        if let Some(path) = &a.path {
            scope.set(format!("outputs.artifacts.{}.path", a.name), path.clone());
        }
    }
    Ok(scope)
}

/// Substitutes every `{{...}}` tag in a leaf template's fields.
fn substitute_leaf(ctx: &Ctx, template: &Template, scope: &Scope) -> Result<Template, String> {
    let mut value = serde_json::to_value(template).map_err(|e| e.to_string())?;
    // Metrics speak of the step's end (`{{outputs.result}}`, `{{status}}`, `{{duration}}`): they are
    // substituted after it ([`leaf_metrics`]), not before.
    let metrics = value.as_object_mut().and_then(|t| t.remove("metrics"));
    let frame = Frame { scope, item: None };
    let mut failure = None;
    walk_strings(&mut value, &mut |s: &mut String| {
        if failure.is_some() || !s.contains("{{") {
            return;
        }
        match substitute(s, &|tag| {
            if tag.expression {
                None
            } else {
                ctx.lookup(frame, &tag.name)
            }
        }) {
            Ok(done) => *s = done,
            Err(e) => failure = Some(e.to_string()),
        }
    });
    if let Some(e) = failure {
        return Err(format!("template '{}': {e}", template.name));
    }
    if let (Some(metrics), Some(t)) = (metrics, value.as_object_mut()) {
        t.insert("metrics".to_string(), metrics);
    }
    serde_json::from_value(value).map_err(|e| e.to_string())
}

/// The prefix of the output parameter that records a step's metrics, as a JSON object of name → number
/// (the CLI prints them after the run).
pub const METRICS_PREFIX: &str = "skiff-metrics-";

/// Evaluates a leaf template's Argo `metrics.prometheus` once the step has ended: each metric's `when`
/// and `value` (gauge, counter or histogram observation) with `{{status}}`, `{{duration}}`,
/// `{{exitCode}}`, `{{outputs.result}}`, `{{outputs.exitCode}}`, `{{outputs.parameters.X}}` and the
/// step's scope. Returns the metrics recorded, as a JSON object; a metric whose value is not a number,
/// or whose `when` is false, is not recorded. (skiff exports nothing to Prometheus: the values are kept
/// with the run and printed by the CLI.)
fn leaf_metrics(
    ctx: &Ctx,
    template: &Template,
    scope: &Scope,
    outcome: &StepOutcome,
    duration: Duration,
) -> Option<String> {
    let list = template
        .metrics
        .as_ref()?
        .get("prometheus")?
        .as_sequence()?;
    let frame = Frame { scope, item: None };
    let lookup = |tag: &crate::expr::Tag| -> Option<String> {
        let outputs = &outcome.outputs;
        match tag.name.as_str() {
            "status" => Some(outcome.phase.as_str().to_string()),
            "duration" => Some(format!("{:.6}", duration.as_secs_f64())),
            "exitCode" | "outputs.exitCode" => outputs.exit_code.map(|c| c.to_string()),
            "outputs.result" => outputs.result.clone(),
            name => match name.strip_prefix("outputs.parameters.") {
                Some(p) => outputs.parameter(p).map(str::to_string),
                None => ctx.lookup(frame, name),
            },
        }
    };
    let mut recorded = serde_json::Map::new();
    for metric in list {
        let Some(name) = metric.get("name").and_then(|n| n.as_str()) else {
            continue;
        };
        if let Some(when) = metric.get("when").and_then(|w| w.as_str())
            && !eval_when(&substitute_lenient(when, &lookup)).unwrap_or(false)
        {
            continue;
        }
        let value = ["gauge", "counter", "histogram"]
            .iter()
            .find_map(|kind| metric.get(*kind)?.get("value")?.as_str());
        let number = value
            .map(|v| substitute_lenient(v, &lookup))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .and_then(|v| {
                // Whole numbers stay integers (`42`, not `42.0`).
                if v.fract() == 0.0 && v.abs() < 1e15 {
                    Some(serde_json::Number::from(v as i64))
                } else {
                    serde_json::Number::from_f64(v)
                }
            });
        if let Some(number) = number {
            recorded.insert(name.to_string(), Value::Number(number));
        }
    }
    (!recorded.is_empty()).then(|| Value::Object(recorded).to_string())
}

fn walk_strings(value: &mut Value, f: &mut dyn FnMut(&mut String)) {
    match value {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter_mut().for_each(|v| walk_strings(v, f)),
        Value::Object(map) => map.values_mut().for_each(|v| walk_strings(v, f)),
        _ => {}
    }
}

fn container_env(c: &Container) -> Result<Vec<(String, String)>, String> {
    c.env
        .iter()
        .map(|e| match (&e.value, &e.value_from) {
            (_, Some(_)) => Err(format!(
                "env var '{}' takes its value from a secret or config map, which needs a cluster",
                e.name
            )),
            (value, None) => Ok((e.name.clone(), value.clone().unwrap_or_default())),
        })
        .collect()
}

fn program_for_container(template: &Template, c: &Container, script: Option<&str>) -> Program {
    let kind = image_kind(&c.image);
    match kind {
        k if k.is_toolbox() => Program::Toolbox {
            argv: toolbox_argv(k, &c.command, &c.args, script.map(|_| SCRIPT_PATH)),
        },
        // A python image also has a shell: `sh -c ...` on it runs in the toolbox, unless it is the
        // wrapper that saves a program to a temporary file and runs python on it (KFP v1's).
        ImageKind::Python if runs_shell_on_python(c) => {
            let argv = toolbox_argv(
                ImageKind::Shell,
                &c.command,
                &c.args,
                script.map(|_| SCRIPT_PATH),
            );
            python_program_wrapper(&argv, Vec::new()).unwrap_or(Program::Toolbox { argv })
        }
        ImageKind::Python => {
            // The python image has no entrypoint and `python3` as its default command; `args` replace
            // that command, and a script template's file follows.
            let mut argv: Vec<String> = if c.command.is_empty() && c.args.is_empty() {
                vec!["python3".to_string()]
            } else {
                c.command.iter().chain(&c.args).cloned().collect()
            };
            if script.is_some() {
                argv.push(SCRIPT_PATH.to_string());
            }
            Program::Python {
                argv,
                files: Vec::new(),
                packages: template
                    .metadata
                    .annotations
                    .get(PACKAGES_ANNOTATION)
                    .map(|p| p.split_whitespace().map(str::to_string).collect())
                    .unwrap_or_default(),
            }
        }
        _ => Program::Unavailable {
            message: format!(
                "template '{}' runs on image '{}', which has no local executor: give it the annotation skiff.dev/executor: kubernetes and a cluster, or use one of the images skiff runs locally",
                template.name, c.image
            ),
        },
    }
}

/// Where a shell wrapper's program is saved in the sandbox.
const WRAPPED_PROGRAM: &str = "/tmp/skiff-program.py";

/// Recognises `sh -ec 'program_path=$(mktemp); printf "%s" "$0" > "$program_path"; python3 -u
/// "$program_path" "$@"' SOURCE ARGS...` (what kfp 1.8 compiles a python function to) and runs the
/// program in the python executor directly: there is no process to start python from inside the
/// toolbox's shell.
///
/// kfp 1.8's `packages_to_install` puts `sh -c '(pip install P...) && "$0" "$@"'` in front: the packages
/// are noted (the runtime must already have them) and the rest of the command line is read again.
fn python_program_wrapper(argv: &[String], mut packages: Vec<String>) -> Option<Program> {
    let [sh, flags, script, rest @ ..] = argv else {
        return None;
    };
    if sh != "sh" || !flags.starts_with('-') || !flags.contains('c') {
        return None;
    }
    if script.contains("pip install") && script.trim_end().ends_with(r#"&& "$0" "$@""#) {
        packages.extend(crate::executor::python::pip_packages(script));
        return python_program_wrapper(rest, packages);
    }
    let [source, args @ ..] = rest else {
        return None;
    };
    let lines: Vec<&str> = script
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let [assign, save, run] = lines.as_slice() else {
        return None;
    };
    if *assign != "program_path=$(mktemp)" || *save != r#"printf "%s" "$0" > "$program_path""# {
        return None;
    }
    let words: Vec<&str> = run.split_whitespace().collect();
    let [python, options @ .., program, all] = words.as_slice() else {
        return None;
    };
    if !crate::executor::python::is_python_program(python)
        || *program != r#""$program_path""#
        || *all != r#""$@""#
        || options.iter().any(|o| !o.starts_with('-'))
    {
        return None;
    }
    let argv = std::iter::once(python.to_string())
        .chain(options.iter().map(|o| o.to_string()))
        .chain(std::iter::once(WRAPPED_PROGRAM.to_string()))
        .chain(args.iter().cloned())
        .collect();
    packages.dedup();
    Some(Program::Python {
        argv,
        files: vec![(WRAPPED_PROGRAM.to_string(), source.clone().into_bytes())],
        packages,
    })
}

/// Whether a container on a python image runs something else than python (its shell, say).
fn runs_shell_on_python(c: &Container) -> bool {
    let argv = toolbox_argv(ImageKind::Shell, &c.command, &c.args, None);
    let python = argv.first().is_some_and(|t| t.starts_with("python"));
    let default_command = c.command.is_empty() && c.args.is_empty();
    !python && !default_command
}

/// Builds the executor's request for a substituted leaf template.
fn step_request(
    ctx: &Ctx,
    id: &str,
    template: &Template,
    scope: &Scope,
) -> Result<StepRequest, String> {
    let mut files = Vec::new();
    let mut env = Vec::new();
    let resources;
    let program = match template.kind() {
        TemplateKind::Container(c) => {
            env = container_env(c)?;
            resources = c.resources.as_ref();
            program_for_container(template, c, None)
        }
        TemplateKind::Script(s) => {
            env = container_env(&s.container)?;
            resources = s.container.resources.as_ref();
            files.push((SCRIPT_PATH.to_string(), s.source.clone().into_bytes()));
            program_for_container(template, &s.container, Some(&s.source))
        }
        TemplateKind::Wasm(w) => {
            let path = wasm_module_path(&ctx.base_dir, &w.module);
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("module.wasm")
                .to_string();
            for e in &w.env {
                env.push((e.name.clone(), e.value.clone().unwrap_or_default()));
            }
            for p in &template.inputs.parameters {
                if let Some(v) = scope.get(&format!("inputs.parameters.{}", p.name)) {
                    env.push((input_env_name(&p.name), v.to_string()));
                }
            }
            resources = w.resources.as_ref();
            Program::Module {
                path,
                argv: std::iter::once(name)
                    .chain(w.args.iter().cloned())
                    .collect(),
            }
        }
        _ => return Err("not a leaf template".to_string()),
    };
    let timeout = step_timeout(ctx, template)?;
    let memory_limit = resources
        .and_then(|r| r.limits.get("memory"))
        .and_then(|m| parse_memory(m));
    Ok(StepRequest {
        run: ctx.run_name.clone(),
        node_id: id.to_string(),
        program,
        env,
        files,
        input_artifacts: input_artifacts(template, scope),
        output_parameters: output_parameters(template),
        output_artifacts: output_artifacts(template),
        timeout,
        memory_limit,
        stop: None,
        log_sink: None,
    })
}

/// `kube`, moving artifacts through the repository of `$SKIFF_ARTIFACT_REPOSITORY` or
/// `home/artifact-repository.yaml` when there is one, signing with `AWS_ACCESS_KEY_ID` and
/// `AWS_SECRET_ACCESS_KEY` when they are set (else with the Secrets the file names).
///
/// # Errors
/// A message naming the file and the field when the repository's file is not right.
pub(crate) fn with_artifact_repository(
    kube: KubeExecutor,
    home: &Path,
) -> Result<KubeExecutor, String> {
    Ok(
        match ArtifactRepository::discover(home).map_err(|e| e.to_string())? {
            Some(repository) => kube.with_artifact_repository(repository, Credentials::from_env()),
            None => kube,
        },
    )
}

/// The pod a leaf placed on the cluster becomes. With an artifact repository, its input artifacts go
/// through it (uploaded by the executor, fetched by the pod's init container) and so do its output
/// artifacts.
async fn pod_run(
    ctx: &Ctx,
    id: &str,
    node_name: &str,
    template: &Template,
    scope: &Scope,
    kube: &KubeExecutor,
) -> Result<PodRun, String> {
    let repository = kube.artifact_repository().await?;
    let mut inputs = Vec::new();
    if let Some(script) = &template.script {
        inputs.push(PodInput {
            path: SCRIPT_PATH.to_string(),
            data: script.source.clone().into_bytes(),
            is_dir: false,
            url: None,
        });
    }
    let output_parameters = output_parameters(template);
    let output_artifacts = output_artifacts(template);
    let timeout = step_timeout(ctx, template)?;
    let (output_artifact_urls, transfer) = match &repository {
        Some(repository) => {
            let planned = repository.pod_transfer(
                &ctx.run_name,
                id,
                inputs.len(),
                &input_artifacts(template, scope),
                &output_artifacts,
                url_expiry(timeout, kube.pending_timeout),
            );
            inputs.extend(planned.inputs);
            (planned.output_urls, Some(planned.transfer))
        }
        None => {
            for (stored, path) in input_artifacts(template, scope) {
                let read = |e: std::io::Error| {
                    format!(
                        "cannot read input artifact for {path} from {}: {e}",
                        stored.display()
                    )
                };
                let (data, is_dir) = if stored.is_dir() {
                    let mut tar = tar::Builder::new(Vec::new());
                    tar.follow_symlinks(false);
                    tar.append_dir_all(".", &stored).map_err(read)?;
                    (tar.into_inner().map_err(read)?, true)
                } else {
                    (std::fs::read(&stored).map_err(read)?, false)
                };
                inputs.push(PodInput {
                    path,
                    data,
                    is_dir,
                    url: None,
                });
            }
            (Vec::new(), None)
        }
    };
    let default_image = if repository.is_some() {
        DEFAULT_TRANSFER_IMAGE
    } else {
        DEFAULT_WAIT_IMAGE
    };
    let wait_image =
        std::env::var("SKIFF_WAIT_IMAGE").unwrap_or_else(|_| default_image.to_string());
    let manifests = pod_manifests(&PodPlan {
        run: &ctx.run_name,
        node_id: id,
        node_name,
        namespace: kube.namespace(),
        template,
        workflow: &ctx.spec,
        inputs: &inputs,
        output_parameters: &output_parameters,
        output_artifacts: &output_artifacts,
        active_deadline_seconds: timeout.map(|t| t.as_secs().max(1) as i64),
        wait_image: &wait_image,
        output_artifact_urls: &output_artifact_urls,
    })?;
    Ok(PodRun {
        run: ctx.run_name.clone(),
        node_id: id.to_string(),
        manifests,
        output_parameters,
        output_artifacts,
        timeout,
        stop: None,
        log_sink: None,
        gc: PodGc::from_spec(ctx.spec.pod_gc.as_ref()),
        transfer,
    })
}

/// A leaf's wall-time limit: its `timeout`, its `activeDeadlineSeconds`, and what is left of the run's.
fn step_timeout(ctx: &Ctx, template: &Template) -> Result<Option<Duration>, String> {
    let mut timeout = None;
    if let Some(t) = &template.timeout {
        timeout = Some(parse_duration(t).map_err(|e| format!("timeout '{t}': {e}"))?);
    }
    if let Some(secs) = template
        .active_deadline_seconds
        .as_ref()
        .and_then(|d| d.as_i64())
    {
        let d = Duration::from_secs(secs.max(0) as u64);
        timeout = Some(timeout.map_or(d, |t: Duration| t.min(d)));
    }
    if let Some(left) = ctx.remaining() {
        timeout = Some(timeout.map_or(left, |t| t.min(left)));
    }
    Ok(timeout)
}

/// A leaf's input artifacts: (where they are stored, path inside the step).
fn input_artifacts(template: &Template, scope: &Scope) -> Vec<(PathBuf, String)> {
    let mut input_artifacts = Vec::new();
    for a in &template.inputs.artifacts {
        if let (Some(stored), Some(path)) = (
            scope.artifact(&format!("inputs.artifacts.{}", a.name)),
            &a.path,
        ) {
            input_artifacts.push((stored.clone(), path.clone()));
        }
    }
    input_artifacts
}

/// A leaf's output parameters read from files.
fn output_parameters(template: &Template) -> Vec<OutputParameter> {
    template
        .outputs
        .parameters
        .iter()
        .filter_map(|p| {
            let vf = p.value_from.as_ref()?;
            Some(OutputParameter {
                name: p.name.clone(),
                path: vf.path.clone()?,
                default: vf.default.clone(),
            })
        })
        .collect()
}

/// A leaf's output artifacts.
fn output_artifacts(template: &Template) -> Vec<OutputArtifact> {
    template
        .outputs
        .artifacts
        .iter()
        .filter_map(|a| {
            Some(OutputArtifact {
                name: a.name.clone(),
                path: a.path.clone()?,
                optional: a.optional,
            })
        })
        .collect()
}

/// A `wasm:` template's module file: `module` as written when absolute, else relative to the workflow
/// file's folder `base`.
pub fn wasm_module_path(base: &Path, module: &str) -> PathBuf {
    let path = Path::new(module);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

/// The environment variable a wasm template's input parameter reaches the module through:
/// `SKIFF_INPUT_` and the name upper-cased, with every other character than letters and digits as `_`.
pub fn input_env_name(name: &str) -> String {
    let mut out = String::from("SKIFF_INPUT_");
    out.extend(name.chars().map(|c| {
        if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        }
    }));
    out
}

async fn execute_leaf(ctx: Arc<Ctx>, call: Call, scope: Scope, attempt: Option<u32>) -> NodeResult {
    let template = call.template.clone();
    let id = ctx.add_node(
        &call.node_name,
        &call.display,
        NodeType::Pod,
        Some(&template.name),
        call.parent.as_deref(),
        NodePhase::Pending,
    );
    let inputs: Vec<(String, String)> = template
        .inputs
        .parameters
        .iter()
        .filter_map(|p| {
            scope
                .get(&format!("inputs.parameters.{}", p.name))
                .map(|v| (p.name.clone(), v.to_string()))
        })
        .collect();
    ctx.update(&id, |n| {
        n.inputs = inputs;
        n.retry_attempt = attempt;
    });
    let mut scope = scope;
    scope.set("pod.name", id.clone());
    scope.set("node.name", call.node_name.clone());
    let resolved = match substitute_leaf(&ctx, &template, &scope) {
        Ok(t) => t,
        Err(message) => return ctx.error_node(&id, message),
    };
    let sink = ctx.recorder.clone().map(|recorder| {
        let node = id.clone();
        LogSink::new(move |bytes: &[u8]| recorder.log(&node, bytes))
    });
    let placement = place(&resolved, ctx.executor_choice, ctx.cluster.is_some());
    let request = if matches!(placement, Placement::Kubernetes { .. }) {
        None
    } else {
        let mut request = match step_request(&ctx, &id, &resolved, &scope) {
            Ok(r) => r,
            Err(message) => return ctx.error_node(&id, message),
        };
        request.stop = Some(ctx.stop_signal());
        request.log_sink = sink.clone();
        Some(request)
    };
    let Ok(_permit) = ctx.slots.clone().acquire_owned().await else {
        return ctx.error_node(&id, "the run was stopped".into());
    };
    ctx.update(&id, |n| {
        n.phase = NodePhase::Running;
        n.started_at = Some(SystemTime::now());
    });
    let started = Instant::now();
    let mut outcome = match request {
        Some(request) => {
            let executor = ctx.executor.clone();
            run_blocking(move || executor.run(&request))
                .await
                .unwrap_or_else(|panic| StepOutcome {
                    phase: NodePhase::Error,
                    message: Some(format!("the step's executor panicked: {panic}")),
                    log: Vec::new(),
                    outputs: NodeOutputs::default(),
                    executor: "none",
                })
        }
        None => {
            let pod = match ctx.kube_executor().await {
                Ok(kube) => pod_run(&ctx, &id, &call.node_name, &resolved, &scope, &kube)
                    .await
                    .map(|run| (kube, run)),
                Err(message) => Err(message),
            };
            match pod {
                Ok((kube, mut run)) => {
                    run.stop = Some(ctx.stop_signal());
                    run.log_sink = sink;
                    kube.run(run).await
                }
                Err(message) => return ctx.error_node(&id, message),
            }
        }
    };
    if let Some(metrics) = leaf_metrics(&ctx, &template, &scope, &outcome, started.elapsed()) {
        outcome
            .outputs
            .parameters
            .push((format!("{METRICS_PREFIX}prometheus"), metrics));
    }
    {
        let mut state = ctx.state.lock().expect("run state lock");
        state
            .logs
            .insert(id.clone(), std::mem::take(&mut outcome.log));
    }
    ctx.update(&id, |n| {
        n.phase = outcome.phase;
        n.message = outcome.message.clone();
        n.finished_at = Some(SystemTime::now());
        n.executor = Some(outcome.executor.to_string());
        n.outputs = outcome.outputs.clone();
    });
    NodeResult {
        id,
        phase: outcome.phase,
        message: outcome.message,
        outputs: outcome.outputs,
    }
}

async fn execute_suspend(ctx: Arc<Ctx>, call: Call) -> NodeResult {
    let template = call.template.clone();
    let id = ctx.add_node(
        &call.node_name,
        &call.display,
        NodeType::Suspend,
        Some(&template.name),
        call.parent.as_deref(),
        NodePhase::Running,
    );
    let duration = template
        .suspend
        .as_ref()
        .and_then(|s| s.get("duration"))
        .and_then(|d| match d {
            serde_yaml::Value::String(s) => Some(s.clone()),
            serde_yaml::Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
    match duration.map(|d| parse_duration(&d)) {
        Some(Ok(d)) => {
            tokio::time::sleep(d).await;
            ctx.finish_node(&id, NodePhase::Succeeded, None);
            NodeResult {
                id,
                phase: NodePhase::Succeeded,
                message: None,
                outputs: NodeOutputs::default(),
            }
        }
        Some(Err(e)) => ctx.error_node(&id, format!("suspend duration: {e}")),
        None => ctx.error_node(
            &id,
            "a suspend template without a duration waits for `argo resume`, which skiff does not have yet"
                .into(),
        ),
    }
}

/// One expanded iteration of a step or task.
struct Expanded {
    node_name: String,
    display: String,
    item: Option<Value>,
}

/// Expands a step or task's loop into its iterations (one, without a loop).
fn expand(
    ctx: &Ctx,
    inv: &Invocation,
    base_name: &str,
    scope: &Scope,
) -> Result<Vec<Expanded>, String> {
    let items: Vec<Value> = if let Some(items) = &inv.with_items {
        items.clone()
    } else if let Some(param) = &inv.with_param {
        let frame = Frame { scope, item: None };
        let text = substitute(param, &|tag| ctx.lookup(frame, &tag.name))
            .map_err(|e| format!("withParam of '{}': {e}", inv.name))?;
        param_items(&text).map_err(|e| format!("withParam of '{}': {e}", inv.name))?
    } else if let Some(seq) = &inv.with_sequence {
        let frame = Frame { scope, item: None };
        let sub = |v: &Option<crate::spec::IntOrString>| -> Result<Option<String>, String> {
            v.as_ref()
                .map(|v| {
                    substitute(&v.to_string(), &|tag| ctx.lookup(frame, &tag.name))
                        .map_err(|e| e.to_string())
                })
                .transpose()
        };
        let count = sub(&seq.count)?;
        let start = sub(&seq.start)?;
        let end = sub(&seq.end)?;
        sequence_items(
            count.as_deref(),
            start.as_deref(),
            end.as_deref(),
            seq.format.as_deref(),
        )
        .map_err(|e| format!("withSequence of '{}': {e}", inv.name))?
        .into_iter()
        .map(Value::String)
        .collect()
    } else {
        return Ok(vec![Expanded {
            node_name: base_name.to_string(),
            display: inv.name.clone(),
            item: None,
        }]);
    };
    Ok(items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let suffix = loop_node_suffix(i, &item);
            Expanded {
                node_name: format!("{base_name}{suffix}"),
                display: format!("{}{suffix}", inv.name),
                item: Some(item),
            }
        })
        .collect())
}

/// Parameters (name, value) and artifacts (name, stored path) passed to a template.
type ResolvedArguments = (Vec<(String, String)>, Vec<(String, PathBuf)>);

/// Resolves a step's or task's arguments in the caller's scope.
fn resolve_arguments(
    ctx: &Ctx,
    args: &Arguments,
    frame: Frame<'_>,
) -> Result<ResolvedArguments, String> {
    let mut params = Vec::new();
    for p in &args.parameters {
        let Some(value) = &p.value else { continue };
        let value = substitute(value, &|tag| ctx.lookup(frame, &tag.name))
            .map_err(|e| format!("argument '{}': {e}", p.name))?;
        params.push((p.name.clone(), value));
    }
    let mut artifacts = Vec::new();
    for a in &args.artifacts {
        if let Some(from) = &a.from {
            let tags = crate::expr::tags(from);
            let Some(tag) = tags.first() else {
                return Err(format!(
                    "artifact argument '{}': from '{from}' is not a {{{{...}}}} reference",
                    a.name
                ));
            };
            let path = frame.scope.artifact(&tag.name).cloned().ok_or_else(|| {
                format!(
                    "artifact argument '{}': {from} names no artifact produced so far",
                    a.name
                )
            })?;
            artifacts.push((a.name.clone(), path));
        } else if let Some(raw) = &a.raw {
            let path = ctx
                .executor
                .artifacts()
                .save_bytes(
                    &ctx.run_name,
                    "arguments",
                    &format!("{}-{}", a.name, rand::random::<u32>()),
                    raw.data.as_bytes(),
                )
                .map_err(|e| e.to_string())?;
            artifacts.push((a.name.clone(), path));
        }
    }
    Ok((params, artifacts))
}

/// What one step or task (with all its iterations) ended as.
#[derive(Debug, Clone)]
struct InvocationResult {
    name: String,
    id: String,
    phase: NodePhase,
    looped: bool,
    children: Vec<NodeResult>,
    outputs: NodeOutputs,
}

impl InvocationResult {
    fn add_to_scope(&self, scope: &mut Scope, prefix: &str) {
        if self.looped {
            let outs: Vec<&NodeOutputs> = self.children.iter().map(|c| &c.outputs).collect();
            scope.add_loop_outputs(prefix, &self.id, self.phase, &outs);
        } else {
            scope.add_node_outputs(prefix, &self.id, self.phase, &self.outputs);
        }
    }

    fn outcome(&self, inv: &Invocation) -> TaskOutcome {
        TaskOutcome {
            phase: self.phase,
            children: self.children.iter().map(|c| c.phase).collect(),
            continue_on_failed: inv.continue_on.as_ref().is_some_and(|c| c.failed),
            continue_on_error: inv.continue_on.as_ref().is_some_and(|c| c.error),
        }
    }
}

/// The outputs a skipped or omitted node shows: its template's output parameters that have defaults.
fn default_outputs(ctx: &Ctx, inv: &Invocation) -> NodeOutputs {
    let mut outputs = NodeOutputs::default();
    if let Ok(t) = ctx.template(inv) {
        for p in &t.outputs.parameters {
            if let Some(d) = p.value_from.as_ref().and_then(|v| v.default.clone()) {
                outputs.parameters.push((p.name.clone(), d));
            }
        }
    }
    outputs
}

/// Records a step or task that did not run (`Skipped` by `when`, `Omitted` by `depends`, or `Error` when its
/// expressions could not be evaluated).
fn not_run(
    ctx: &Ctx,
    inv: &Invocation,
    node_name: &str,
    display: &str,
    parent: &str,
    phase: NodePhase,
    message: String,
) -> NodeResult {
    let template = inv.template.clone();
    let id = ctx.add_node(
        node_name,
        display,
        NodeType::Skipped,
        template.as_deref(),
        Some(parent),
        phase,
    );
    let outputs = default_outputs(ctx, inv);
    ctx.update(&id, |n| {
        n.message = Some(message.clone());
        n.outputs = outputs.clone();
    });
    NodeResult {
        id,
        phase,
        message: Some(message),
        outputs,
    }
}

/// One iteration of a step or task, settled as far as it can be without running anything.
enum Prepared {
    /// It did not run (`when` false, or an error in its expressions or arguments).
    Settled(NodeResult),
    /// It runs this call.
    Run(Call),
}

/// Prepares a step or task: expands its loop, evaluates each iteration's `when` and resolves its arguments
/// in `scope`, all synchronously, so the caller's scope is not held (nor copied) while the steps run. Only a
/// step with an exit hook keeps a copy of the scope, for the hook's arguments.
fn prepare_invocation(
    ctx: &Arc<Ctx>,
    inv: Invocation,
    base_name: String,
    parent: String,
    scope: &Scope,
    prefix: &'static str,
) -> PreparedInvocation {
    let looped = inv.is_loop();
    let expanded = match expand(ctx, &inv, &base_name, scope) {
        Ok(e) => e,
        Err(message) => {
            let r = not_run(
                ctx,
                &inv,
                &base_name,
                &inv.name,
                &parent,
                NodePhase::Error,
                message,
            );
            return PreparedInvocation {
                inv,
                base_name,
                prefix,
                looped: false,
                group_id: None,
                iterations: vec![(Prepared::Settled(r), None)],
                hook_scope: None,
            };
        }
    };
    // A dag task with a loop gets a TaskGroup node holding its iterations; a looped step's iterations sit in
    // its step group directly, as Argo lays them out.
    let (iteration_parent, group_id) = if looped && prefix == "tasks" {
        let id = ctx.add_node(
            &base_name,
            &inv.name,
            NodeType::TaskGroup,
            inv.template.as_deref(),
            Some(&parent),
            NodePhase::Running,
        );
        (id.clone(), Some(id))
    } else {
        (parent.clone(), None)
    };
    let template = ctx.template(&inv);
    let mut iterations = Vec::new();
    for e in expanded {
        let frame = Frame {
            scope,
            item: e.item.as_ref(),
        };
        let settle = |phase, message| {
            Prepared::Settled(not_run(
                ctx,
                &inv,
                &e.node_name,
                &e.display,
                &iteration_parent,
                phase,
                message,
            ))
        };
        let prepared = (|| {
            if let Some(when) = &inv.when {
                let text = substitute_lenient(when, &|tag| ctx.lookup(frame, &tag.name));
                match eval_when(&text) {
                    Ok(true) => {}
                    Ok(false) => {
                        return settle(
                            NodePhase::Skipped,
                            format!("when '{text}' evaluated false"),
                        );
                    }
                    Err(err) => return settle(NodePhase::Error, err.to_string()),
                }
            }
            let template = match &template {
                Ok(t) => t.clone(),
                Err(message) => return settle(NodePhase::Error, message.clone()),
            };
            match resolve_arguments(ctx, &inv.arguments, frame) {
                Ok((params, artifacts)) => Prepared::Run(Call {
                    node_name: e.node_name.clone(),
                    display: e.display.clone(),
                    parent: Some(iteration_parent.clone()),
                    template,
                    params,
                    artifacts,
                }),
                Err(message) => settle(NodePhase::Error, message),
            }
        })();
        iterations.push((prepared, e.item));
    }
    let hook_scope = inv.exit_hook.is_some().then(|| scope.clone());
    PreparedInvocation {
        inv,
        base_name,
        prefix,
        looped,
        group_id,
        iterations,
        hook_scope,
    }
}

/// A step or task ready to run.
struct PreparedInvocation {
    inv: Invocation,
    base_name: String,
    prefix: &'static str,
    looped: bool,
    group_id: Option<String>,
    iterations: Vec<(Prepared, Option<Value>)>,
    hook_scope: Option<Scope>,
}

/// Runs a prepared step or task: its iterations, each followed by its exit hook.
async fn run_invocation(
    ctx: Arc<Ctx>,
    prepared: PreparedInvocation,
    group_limit: Option<Arc<Semaphore>>,
) -> InvocationResult {
    let PreparedInvocation {
        inv,
        base_name,
        prefix,
        looped,
        group_id,
        iterations,
        hook_scope,
    } = prepared;
    let hook_scope = hook_scope.as_ref();
    let futures = iterations.into_iter().map(|(prepared, item)| {
        let ctx = ctx.clone();
        let limit = group_limit.clone();
        let inv = &inv;
        async move {
            let call = match prepared {
                Prepared::Settled(r) => return r,
                Prepared::Run(call) => call,
            };
            let permit = match &limit {
                Some(l) => l.clone().acquire_owned().await.ok(),
                None => None,
            };
            let (node_name, display, parent) = (
                call.node_name.clone(),
                call.display.clone(),
                call.parent.clone(),
            );
            let result = execute(ctx.clone(), call).await;
            drop(permit);
            if let (Some(hook), Some(scope)) = (&inv.exit_hook, hook_scope) {
                let mut hook_scope = scope.clone();
                hook_scope.add_node_outputs(
                    &format!("{prefix}.{}", inv.name),
                    &result.id,
                    result.phase,
                    &result.outputs,
                );
                run_hook(
                    &ctx,
                    hook,
                    &format!("{node_name}.onExit"),
                    &format!("{display}.onExit"),
                    parent.as_deref(),
                    &hook_scope,
                    item.as_ref(),
                )
                .await;
            }
            result
        }
    });
    let children = join_all(futures).await;
    if looped {
        let phase = children
            .iter()
            .map(|c| c.phase)
            .find(|p| p.is_failed_or_error())
            .unwrap_or(NodePhase::Succeeded);
        let message = children
            .iter()
            .find(|c| c.phase.is_failed_or_error())
            .and_then(|c| c.message.clone());
        let id = group_id.unwrap_or_else(|| node_id(&ctx.run_name, &base_name));
        if prefix == "tasks" {
            ctx.finish_node(&id, phase, message);
        }
        InvocationResult {
            name: inv.name.clone(),
            id,
            phase,
            looped: true,
            outputs: NodeOutputs::default(),
            children,
        }
    } else {
        let only = children.into_iter().next().expect("one iteration");
        InvocationResult {
            name: inv.name.clone(),
            id: only.id.clone(),
            phase: only.phase,
            looped: false,
            outputs: only.outputs.clone(),
            children: vec![only],
        }
    }
}

/// Runs an exit hook's template; its phase is recorded on its own node and does not change its owner's.
pub(crate) async fn run_hook(
    ctx: &Arc<Ctx>,
    hook: &LifecycleHook,
    node_name: &str,
    display: &str,
    parent: Option<&str>,
    scope: &Scope,
    item: Option<&Value>,
) -> Option<NodeResult> {
    let name = hook.template.clone()?;
    let frame = Frame { scope, item };
    let template = ctx.templates.get(&name).cloned();
    let Some(template) = template else {
        let id = ctx.add_node(
            node_name,
            display,
            NodeType::Pod,
            Some(&name),
            parent,
            NodePhase::Error,
        );
        return Some(ctx.error_node(&id, format!("exit hook template '{name}' not found")));
    };
    let (params, artifacts) = match resolve_arguments(ctx, &hook.arguments, frame) {
        Ok(a) => a,
        Err(message) => {
            let id = ctx.add_node(
                node_name,
                display,
                NodeType::Pod,
                Some(&name),
                parent,
                NodePhase::Error,
            );
            return Some(ctx.error_node(&id, message));
        }
    };
    Some(
        execute(
            ctx.clone(),
            Call {
                node_name: node_name.to_string(),
                display: display.to_string(),
                parent: parent.map(str::to_string),
                template,
                params,
                artifacts,
            },
        )
        .await,
    )
}

/// Resolves a steps or dag template's own output parameters (`valueFrom.parameter`) from its scope.
fn template_outputs(ctx: &Ctx, template: &Template, scope: &Scope) -> Result<NodeOutputs, String> {
    let mut outputs = NodeOutputs::default();
    let frame = Frame { scope, item: None };
    for p in &template.outputs.parameters {
        let Some(vf) = &p.value_from else { continue };
        let Some(from) = &vf.parameter else { continue };
        match substitute(from, &|tag| ctx.lookup(frame, &tag.name)) {
            Ok(v) => outputs.parameters.push((p.name.clone(), v)),
            Err(e) => match &vf.default {
                Some(d) => outputs.parameters.push((p.name.clone(), d.clone())),
                None => return Err(format!("output parameter '{}': {e}", p.name)),
            },
        }
    }
    for a in &template.outputs.artifacts {
        if let Some(from) = &a.from
            && let Some(tag) = crate::expr::tags(from).first()
            && let Some(path) = scope.artifact(&tag.name)
        {
            outputs.artifacts.push((a.name.clone(), path.clone()));
        }
    }
    Ok(outputs)
}

async fn execute_steps(ctx: Arc<Ctx>, call: Call, scope: Scope) -> NodeResult {
    let template = call.template.clone();
    let TemplateKind::Steps(groups) = template.kind() else {
        unreachable!("execute_steps is called for steps templates")
    };
    let id = ctx.add_node(
        &call.node_name,
        &call.display,
        NodeType::Steps,
        Some(&template.name),
        call.parent.as_deref(),
        NodePhase::Running,
    );
    let limit = template
        .parallelism
        .map(|n| Arc::new(Semaphore::new(n.max(1) as usize)));
    let mut scope = scope;
    for (i, group) in groups.iter().enumerate() {
        let group_name = format!("{}[{i}]", call.node_name);
        let group_id = ctx.add_node(
            &group_name,
            &format!("[{i}]"),
            NodeType::StepGroup,
            None,
            Some(&id),
            NodePhase::Running,
        );
        let invocations: Vec<Invocation> = group.iter().map(Invocation::from).collect();
        let prepared: Vec<PreparedInvocation> = invocations
            .iter()
            .map(|inv| {
                prepare_invocation(
                    &ctx,
                    inv.clone(),
                    format!("{group_name}.{}", inv.name),
                    group_id.clone(),
                    &scope,
                    "steps",
                )
            })
            .collect();
        let runs = prepared
            .into_iter()
            .map(|p| run_invocation(ctx.clone(), p, limit.clone()));
        let results = join_all(runs).await;
        let mut failure = None;
        for (inv, r) in invocations.iter().zip(&results) {
            r.add_to_scope(&mut scope, &format!("steps.{}", r.name));
            if r.phase.is_failed_or_error() && !inv.continues_on(r.phase) && failure.is_none() {
                let failed_child = r
                    .children
                    .iter()
                    .find(|c| c.phase.is_failed_or_error())
                    .map(|c| c.id.clone())
                    .unwrap_or_else(|| r.id.clone());
                let name = ctx
                    .state
                    .lock()
                    .expect("run state lock")
                    .node(&failed_child)
                    .map(|n| n.name.clone())
                    .unwrap_or_default();
                failure = Some((r.phase, format!("child '{name}' failed")));
            }
        }
        match failure {
            Some((phase, message)) => {
                ctx.finish_node(&group_id, phase, Some(message.clone()));
                ctx.finish_node(&id, phase, Some(message.clone()));
                return NodeResult {
                    id,
                    phase,
                    message: Some(message),
                    outputs: NodeOutputs::default(),
                };
            }
            None => ctx.finish_node(&group_id, NodePhase::Succeeded, None),
        }
    }
    finish_with_outputs(&ctx, id, &template, &scope)
}

fn finish_with_outputs(ctx: &Ctx, id: String, template: &Template, scope: &Scope) -> NodeResult {
    match template_outputs(ctx, template, scope) {
        Ok(outputs) => {
            ctx.update(&id, |n| {
                n.phase = NodePhase::Succeeded;
                n.finished_at = Some(SystemTime::now());
                n.outputs = outputs.clone();
            });
            NodeResult {
                id,
                phase: NodePhase::Succeeded,
                message: None,
                outputs,
            }
        }
        Err(message) => ctx.error_node(&id, message),
    }
}

/// Decides a dag's phase from its tasks' phases, as Argo's `assessDAGPhase` does: a task that did not run
/// (skipped or omitted) takes the phase of the branch it is on (failed if any of its parents' branches
/// failed), and the dag fails if one of its target tasks (by default, the tasks nothing depends on) is on a
/// failed branch and does not continue on that failure.
fn assess_dag(
    order: &[String],
    phases: &HashMap<String, NodePhase>,
    deps: &HashMap<String, Vec<String>>,
    targets: &[String],
    continues: &dyn Fn(&str, NodePhase) -> bool,
) -> Option<NodePhase> {
    let mut branch: HashMap<&str, NodePhase> = HashMap::new();
    for name in order {
        let phase = phases[name];
        let b = match phase {
            NodePhase::Succeeded | NodePhase::Failed | NodePhase::Error => phase,
            _ => deps
                .get(name)
                .into_iter()
                .flatten()
                .filter_map(|d| branch.get(d.as_str()).copied())
                .find(|p| p.is_failed_or_error())
                .unwrap_or(NodePhase::Succeeded),
        };
        branch.insert(name, b);
    }
    targets
        .iter()
        .filter_map(|t| branch.get(t.as_str()).map(|p| (t, *p)))
        .find(|(t, p)| p.is_failed_or_error() && !continues(t, *p))
        .map(|(_, p)| p)
}

async fn execute_dag(ctx: Arc<Ctx>, call: Call, scope: Scope) -> NodeResult {
    let template = call.template.clone();
    let TemplateKind::Dag(dag) = template.kind() else {
        unreachable!("execute_dag is called for dag templates")
    };
    let id = ctx.add_node(
        &call.node_name,
        &call.display,
        NodeType::Dag,
        Some(&template.name),
        call.parent.as_deref(),
        NodePhase::Running,
    );
    let fail_fast = dag.fail_fast.or(template.fail_fast).unwrap_or(true);
    let limit = template
        .parallelism
        .map(|n| Arc::new(Semaphore::new(n.max(1) as usize)));
    let mut invocations: HashMap<String, Invocation> = HashMap::new();
    let mut deps: HashMap<String, Vec<String>> = HashMap::new();
    let mut logic: HashMap<String, Option<String>> = HashMap::new();
    for task in &dag.tasks {
        let (names, expr) = match &task.depends {
            Some(d) => match depends_names(d) {
                Ok(n) => (n, Some(d.clone())),
                Err(e) => {
                    return ctx.error_node(&id, format!("task '{}': {e}", task.name));
                }
            },
            None if !task.dependencies.is_empty() => (
                task.dependencies.clone(),
                Some(dependencies_to_depends(&task.dependencies)),
            ),
            None => (Vec::new(), None),
        };
        deps.insert(task.name.clone(), names);
        logic.insert(task.name.clone(), expr);
        invocations.insert(task.name.clone(), Invocation::from(task));
    }
    let depended_on: std::collections::HashSet<&String> = deps.values().flatten().collect();
    // Target tasks: `dag.target`, or every task no other task depends on.
    let targets: Vec<String> = match &dag.target {
        Some(t) if !t.trim().is_empty() => t.split_whitespace().map(str::to_string).collect(),
        _ => dag
            .tasks
            .iter()
            .filter(|t| !depended_on.contains(&t.name))
            .map(|t| t.name.clone())
            .collect(),
    };
    // With a target, only the targets and what they need are run.
    let mut wanted: std::collections::HashSet<String> = targets.iter().cloned().collect();
    let mut stack: Vec<String> = targets.clone();
    while let Some(t) = stack.pop() {
        for d in deps.get(&t).into_iter().flatten() {
            if wanted.insert(d.clone()) {
                stack.push(d.clone());
            }
        }
    }
    let mut queue = DependencyQueue::new();
    for task in &dag.tasks {
        if wanted.contains(&task.name) {
            queue.queue(task.name.clone(), deps[&task.name].clone());
        }
    }
    let mut scope = scope;
    let mut results: HashMap<String, InvocationResult> = HashMap::new();
    let mut phases: HashMap<String, NodePhase> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut running = FuturesUnordered::new();
    let mut stopped = false;
    let continues = |name: &str, phase: NodePhase| {
        invocations
            .get(name)
            .is_some_and(|inv| inv.continues_on(phase))
    };
    loop {
        // Start (or settle without running) every task that is ready.
        while let Some(name) = (!stopped).then(|| queue.dequeue()).flatten() {
            let inv = invocations[&name].clone();
            let node_name = format!("{}.{name}", call.node_name);
            if let Some(expr) = &logic[&name] {
                let lookup = |n: &str| results.get(n).map(|r| r.outcome(&invocations[n]));
                let verdict = eval_depends(expr, &lookup);
                let skip = match verdict {
                    Ok(true) => None,
                    Ok(false) => Some((
                        NodePhase::Omitted,
                        "omitted: depends condition not met".to_string(),
                    )),
                    Err(e) => Some((NodePhase::Error, e.to_string())),
                };
                if let Some((phase, message)) = skip {
                    let r = not_run(&ctx, &inv, &node_name, &name, &id, phase, message);
                    let ir = InvocationResult {
                        name: name.clone(),
                        id: r.id.clone(),
                        phase,
                        looped: false,
                        outputs: r.outputs.clone(),
                        children: vec![r],
                    };
                    ir.add_to_scope(&mut scope, &format!("tasks.{name}"));
                    phases.insert(name.clone(), phase);
                    order.push(name.clone());
                    results.insert(name.clone(), ir);
                    queue.finish(&name);
                    continue;
                }
            }
            let prepared = prepare_invocation(&ctx, inv, node_name, id.clone(), &scope, "tasks");
            running.push(run_invocation(ctx.clone(), prepared, limit.clone()).boxed());
        }
        let Some(done) = running.next().await else {
            break;
        };
        let name = done.name.clone();
        done.add_to_scope(&mut scope, &format!("tasks.{name}"));
        phases.insert(name.clone(), done.phase);
        order.push(name.clone());
        results.insert(name.clone(), done);
        queue.finish(&name);
        if fail_fast
            && !stopped
            && phases[&name].is_failed_or_error()
            && assess_dag(&order, &phases, &deps, &targets, &continues).is_some()
        {
            // Argo's failFast: once the dag is known to fail, no new task starts; running ones finish.
            stopped = true;
        }
    }
    match assess_dag(&order, &phases, &deps, &targets, &continues) {
        Some(phase) => {
            let failed = order
                .iter()
                .find(|n| phases[*n].is_failed_or_error() && !continues(n, phases[*n]))
                .or_else(|| order.iter().find(|n| phases[*n].is_failed_or_error()));
            let message = failed
                .map(|n| format!("task '{}.{n}' failed", call.node_name))
                .unwrap_or_else(|| "a target task failed".into());
            ctx.finish_node(&id, phase, Some(message.clone()));
            NodeResult {
                id,
                phase,
                message: Some(message),
                outputs: NodeOutputs::default(),
            }
        }
        None if queue.is_stuck() => ctx.error_node(
            &id,
            "the dag's dependencies cannot be met (a cycle?)".to_string(),
        ),
        None => finish_with_outputs(&ctx, id, &template, &scope),
    }
}

/// Runs a blocking step. On a multi-threaded runtime it runs right here, with `block_in_place` handing this
/// worker's other tasks to another thread: a step that takes microseconds then costs no thread hand-off
/// (two futex wake-ups with `spawn_blocking`, tens of microseconds each on a loaded machine). On a
/// current-thread runtime, where that is not allowed, it goes to the blocking pool. A panic becomes an
/// error message either way.
async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    use tokio::runtime::{Handle, RuntimeFlavor};
    if Handle::current().runtime_flavor() == RuntimeFlavor::MultiThread {
        tokio::task::block_in_place(|| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
                .map_err(|payload| panic_message(payload.as_ref()))
        })
    } else {
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| e.to_string())
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_step_runs_in_place_and_its_panic_is_a_message() {
        assert_eq!(run_blocking(|| 7).await, Ok(7));
        let panicked = run_blocking(|| -> i32 { panic!("boom") }).await;
        assert_eq!(panicked, Err("boom".to_string()));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn on_one_thread_a_step_goes_to_the_blocking_pool() {
        assert_eq!(run_blocking(|| 7).await, Ok(7));
        let panicked = run_blocking(|| -> i32 { panic!("boom") }).await;
        assert!(panicked.unwrap_err().contains("panicked"));
    }

    #[test]
    fn memory_quantities() {
        assert_eq!(parse_memory("32Mi"), Some(32 * 1024 * 1024));
        assert_eq!(parse_memory("1G"), Some(1_000_000_000));
        assert_eq!(parse_memory("1000"), Some(1000));
        assert_eq!(parse_memory("lots"), None);
    }

    #[test]
    fn input_env_names() {
        assert_eq!(input_env_name("a"), "SKIFF_INPUT_A");
        assert_eq!(input_env_name("max-rows.v2"), "SKIFF_INPUT_MAX_ROWS_V2");
    }

    #[test]
    fn dag_phase_follows_branches() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let deps: HashMap<String, Vec<String>> = [
            ("A", s(&[])),
            ("B", s(&["A"])),
            ("C", s(&["A"])),
            ("D", s(&["B", "C"])),
            ("E", s(&["A"])),
            ("F", s(&["A"])),
            ("G", s(&["E", "F"])),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        use NodePhase::*;
        let phases: HashMap<String, NodePhase> = [
            ("A", Succeeded),
            ("B", Failed),
            ("C", Succeeded),
            ("D", Succeeded),
            ("E", Failed),
            ("F", Succeeded),
            ("G", Omitted),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let order = s(&["A", "B", "C", "E", "F", "D", "G"]);
        let never = |_: &str, _: NodePhase| false;
        // dag-continue-on-fail: G is omitted under the failed E, so the dag fails.
        assert_eq!(
            assess_dag(&order, &phases, &deps, &s(&["D", "G"]), &never),
            Some(Failed)
        );
        // Only D as target: B's failure was handled by D's depends.
        assert_eq!(assess_dag(&order, &phases, &deps, &s(&["D"]), &never), None);
        // continueOn on the target lets its failure pass.
        let cont = |n: &str, _: NodePhase| n == "E";
        assert_eq!(assess_dag(&order, &phases, &deps, &s(&["E"]), &cont), None);
    }
}
