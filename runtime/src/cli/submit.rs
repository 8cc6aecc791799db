//! `skiff submit FILE`: check a workflow, run it here, and report it as `argo submit` would.
//!
//! skiff has no controller to hand the workflow to: the run happens in this process. Without `--wait` or
//! `--watch` the command still runs the workflow to its end, prints the summary, and exits 0 (argo's
//! `submit` exits 0 once the workflow is accepted); with `--wait` or `--watch` it exits 1 when the run
//! ends Failed or Error.
//!
//! Before the run starts, every step must have somewhere to run ([`crate::engine::plan`]): steps go
//! here or to the Kubernetes cluster `--executor`, `--kubeconfig`, `--context` and `-n` choose, and a
//! run with a step that can go nowhere is refused (exit 2, nothing recorded). `--dry-run` prints that
//! plan and the pods a run would create instead of running ([`crate::cli::dry_run`]).

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use crate::cli::CliError;
use crate::cli::output::WithStatus;
use crate::cli::tree::{header, icon, tree};
use crate::engine::{Engine, EngineConfig, EngineError, NodeType, RunOptions, RunState, plan};
use crate::executor::kube::ClusterConfig;
use crate::executor::limits::{StepLimits, parse_memory};
use crate::executor::route::ExecutorChoice;
use crate::store::{StopRequest, Store, StoreError};

/// The message of a run stopped with Ctrl-C.
pub const INTERRUPTED: &str = "Stopped with strategy 'Stop': interrupted (Ctrl-C)";
use crate::kfp;
use crate::spec::{Document, NodePhase, parse_workflow};
use serde::Deserialize as _;

/// Output formats of `-o`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// The run's name only.
    Name,
    /// The workflow with its status, as JSON.
    Json,
    /// The workflow with its status, as YAML.
    Yaml,
}

/// Arguments of `skiff submit`.
#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The workflow file (Argo `Workflow` YAML).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// A workflow parameter, `name=value` (repeatable).
    #[arg(short = 'p', long = "parameter", value_name = "NAME=VALUE")]
    pub parameters: Vec<String>,
    /// A YAML or JSON file of parameters (`name: value` pairs).
    #[arg(short = 'f', long = "parameter-file", value_name = "FILE")]
    pub parameter_file: Option<PathBuf>,
    /// Run this template instead of `spec.entrypoint`.
    #[arg(long, value_name = "TEMPLATE")]
    pub entrypoint: Option<String>,
    /// Check the workflow and print where each step would run, and the pods it would create, instead of
    /// running it (`-o yaml`, the default, or `-o json`); nothing is recorded and no cluster is contacted.
    #[arg(long, conflicts_with_all = ["watch", "wait", "log"])]
    pub dry_run: bool,
    /// Refuse fields skiff does not read (a misspelt key is otherwise ignored, as Argo's own
    /// controller ignores it).
    #[arg(long)]
    pub strict: bool,
    /// How the run is shown.
    #[command(flatten)]
    pub display: DisplayArgs,
}

/// How a command that runs a workflow here (`submit`, `retry`, `resubmit`) shows it.
#[derive(Debug, Clone, Args)]
pub struct DisplayArgs {
    /// Draw the run's tree while it runs (in place on a terminal; plain lines when piped).
    #[arg(long, conflicts_with = "wait")]
    pub watch: bool,
    /// Wait for the end; exit 1 if the run failed.
    #[arg(long)]
    pub wait: bool,
    /// Print the steps' logs.
    #[arg(long)]
    pub log: bool,
    /// Print the result as `name`, `json` or `yaml`.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<OutputFormat>,
    /// Leaf steps running at once, at most (default: the CPU count).
    #[arg(long, value_name = "N")]
    pub parallelism: Option<usize>,
    /// Memory of a local step whose template sets no `resources.limits.memory`, as a quantity
    /// (`512Mi`, `2Gi`; default: $SKIFF_DEFAULT_MEMORY, else 2Gi). See docs/limits.md.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub default_memory: Option<u64>,
    /// Where the steps run.
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// Where a run's steps go: here, or to a Kubernetes cluster (found as kubectl finds it).
#[derive(Debug, Clone, Default, Args)]
pub struct ClusterArgs {
    /// Where steps run: `auto` sends steps that ask for a GPU (or other extended resources) to the
    /// cluster, and steps with a nodeSelector or tolerations and images skiff cannot run here too when a
    /// cluster is configured; `local` runs every step here; `kubernetes` runs every container and script step as a
    /// pod. The template annotation `skiff.dev/executor: wasm|kubernetes` wins over all three.
    #[arg(long, value_enum, default_value_t = ExecutorArg::Auto, value_name = "WHERE")]
    pub executor: ExecutorArg,
    /// The kubeconfig of the cluster (default: $KUBECONFIG, else ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: its current context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// The namespace pods are created in (default: the context's, else `default`).
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,
}

impl ClusterArgs {
    /// The cluster the flags name; `None` when none is given (kubectl's defaults).
    pub fn cluster(&self) -> Option<ClusterConfig> {
        let config = ClusterConfig {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            namespace: self.namespace.clone(),
        };
        (config != ClusterConfig::default()).then_some(config)
    }

    /// Whether a cluster is configured: the flags', else kubectl's defaults.
    pub fn cluster_configured(&self) -> bool {
        self.cluster().unwrap_or_default().is_configured()
    }
}

/// The values of `--executor`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ExecutorArg {
    /// GPU, node and unknown-image steps to the cluster, the others here.
    #[default]
    Auto,
    /// Every step here.
    Local,
    /// Every container and script step as a pod.
    Kubernetes,
}

impl ExecutorArg {
    /// The name, as written on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutorArg::Auto => "auto",
            ExecutorArg::Local => "local",
            ExecutorArg::Kubernetes => "kubernetes",
        }
    }
}

impl From<ExecutorArg> for ExecutorChoice {
    fn from(arg: ExecutorArg) -> Self {
        match arg {
            ExecutorArg::Auto => ExecutorChoice::Auto,
            ExecutorArg::Local => ExecutorChoice::Local,
            ExecutorArg::Kubernetes => ExecutorChoice::Kubernetes,
        }
    }
}

/// Reads and parses a workflow file.
///
/// # Errors
/// [`CliError::BadInput`] naming the file (and line and column for YAML errors).
pub fn load(file: &Path) -> Result<Document, CliError> {
    load_any(file).map(|(doc, _)| doc)
}

/// Reads a workflow file: Argo YAML, or a compiled Kubeflow pipeline (KFP v2 IR YAML, recognised by its
/// keys), which is translated to a workflow first; the translation comes back with it.
///
/// # Errors
/// [`CliError::BadInput`] naming the file (and line and column where there is one).
pub fn load_any(file: &Path) -> Result<(Document, Option<kfp::Translation>), CliError> {
    let bytes = std::fs::read(file).map_err(|e| {
        CliError::BadInput(format!("{}: cannot read the workflow: {e}", file.display()))
    })?;
    let src = String::from_utf8(bytes).map_err(|e| {
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = good.iter().filter(|b| **b == b'\n').count() + 1;
        let column = good.iter().rev().take_while(|b| **b != b'\n').count() + 1;
        CliError::BadInput(format!(
            "{}:{line}:{column}: not UTF-8 text (byte 0x{:02x}): a workflow is YAML text\n  help: \
             is this the right file? Save it as UTF-8 if it is text in another encoding",
            file.display(),
            e.as_bytes()[good.len()]
        ))
    })?;
    load_text(&src, file)
}

/// [`load_any`] for a workflow's text already read; `file` names it in messages (and `wasm:` modules
/// resolve beside it).
///
/// # Errors
/// [`CliError::BadInput`] naming the file (and line and column where there is one).
pub fn load_text(src: &str, file: &Path) -> Result<(Document, Option<kfp::Translation>), CliError> {
    let src = src.to_string();
    crate::spec::check_flow_depth(&src, file).map_err(|e| CliError::BadInput(e.to_string()))?;
    let first = serde_yaml::Deserializer::from_str(&src)
        .next()
        .and_then(|d| serde_yaml::Value::deserialize(d).ok());
    if first.as_ref().is_some_and(kfp::is_pipeline_spec) {
        let translation =
            kfp::to_argo(&src, file).map_err(|e| CliError::BadInput(e.to_string()))?;
        let doc = parse_workflow(&translation.yaml, file).map_err(|e| {
            CliError::Internal(anyhow::anyhow!(
                "{}: the pipeline's translation to a workflow does not parse, which is a bug in skiff: {e}",
                file.display()
            ))
        })?;
        return Ok((doc, Some(translation)));
    }
    let doc = parse_workflow(&src, file).map_err(|e| CliError::BadInput(e.to_string()))?;
    Ok((doc, None))
}

/// The run's parameters from `-f` and `-p`, in that order (later ones win).
///
/// # Errors
/// [`CliError::BadInput`] for an unreadable parameter file or a `-p` without `=`.
pub fn parameters(args: &SubmitArgs) -> Result<Vec<(String, String)>, CliError> {
    let mut out = Vec::new();
    if let Some(file) = &args.parameter_file {
        let text = std::fs::read_to_string(file).map_err(|e| {
            CliError::BadInput(format!(
                "{}: cannot read the parameter file: {e}",
                file.display()
            ))
        })?;
        let map: serde_yaml::Mapping = serde_yaml::from_str(&text).map_err(|e| {
            let at = e
                .location()
                .map(|l| format!(":{}:{}", l.line(), l.column()))
                .unwrap_or_default();
            CliError::BadInput(format!(
                "{}{at}: the parameter file must be a map of name: value ({e})",
                file.display()
            ))
        })?;
        for (k, v) in map {
            let key = match k {
                serde_yaml::Value::String(s) => s,
                other => serde_yaml::to_string(&other)
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            };
            let value = match v {
                serde_yaml::Value::String(s) => s,
                serde_yaml::Value::Sequence(_) | serde_yaml::Value::Mapping(_) => {
                    serde_json::to_string(&v).unwrap_or_default()
                }
                other => serde_yaml::to_string(&other)
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            };
            out.push((key, value));
        }
    }
    for p in &args.parameters {
        let Some((name, value)) = p.split_once('=') else {
            return Err(CliError::BadInput(format!(
                "parameter '{p}' must be given as name=value"
            )));
        };
        out.push((name.trim().to_string(), value.to_string()));
    }
    Ok(out)
}

/// Runs `skiff submit`.
///
/// # Errors
/// [`CliError::BadInput`] for a bad file or parameters, [`CliError::RunFailed`] when waiting on a run that
/// failed, [`CliError::Internal`] when skiff broke.
pub fn run(args: SubmitArgs, home: PathBuf) -> Result<(), CliError> {
    let (doc, pipeline) = load_any(&args.file)?;
    if args.strict {
        refuse_unknown_fields(&doc)?;
    }
    let options = RunOptions {
        parameters: parameters(&args)?,
        entrypoint: args.entrypoint.clone(),
        parallelism: args.display.parallelism,
        resume: None,
        ..RunOptions::default()
    };
    if args.dry_run {
        return crate::cli::dry_run::run(&doc, &options, &args.display);
    }
    run_here(&home, &doc, pipeline.as_ref(), options, &args.display)
}

/// `--strict`: every field of the file that skiff does not read is an error.
///
/// # Errors
/// [`CliError::BadInput`] with one line per unknown field, each with its `file:line:column`.
pub fn refuse_unknown_fields(doc: &Document) -> Result<(), CliError> {
    let errors = doc.strict();
    if errors.is_empty() {
        return Ok(());
    }
    Err(CliError::BadInput(crate::spec::one_per_line(&errors)))
}

/// Checks a workflow as a run would before it starts: the spec's validation, that every `wasm:` template
/// fits the component it runs ([`crate::component::check()`]), then that every step has somewhere to run
/// ([`plan::preflight`]).
///
/// # Errors
/// [`CliError::BadInput`] with every problem found, one per line.
pub fn check(
    doc: &Document,
    options: &RunOptions,
    cluster_configured: bool,
) -> Result<(), CliError> {
    crate::engine::preflight(doc, options)
        .and_then(|()| crate::component::check(doc))
        .map_err(|errors| CliError::BadInput(crate::spec::one_per_line(&errors)))?;
    let placements = plan::plan(
        &doc.workflow,
        options.entrypoint.as_deref(),
        options.executor,
        cluster_configured,
    );
    plan::preflight(&placements, cluster_configured)
        .map_err(|message| CliError::BadInput(format!("{}: {message}", doc.file.display())))
}

/// A size flag: bytes or a Kubernetes quantity.
fn parse_size(text: &str) -> Result<u64, String> {
    parse_memory(text).ok_or_else(|| {
        format!("'{text}' is not a size: write bytes or a quantity such as 512Mi or 2Gi")
    })
}

/// Runs a checked workflow in this process, recording it in the store under `home`, and reports it as
/// `display` asks. Ctrl-C stops the run (its exit handler still runs); a second Ctrl-C terminates it.
/// The executor and the cluster come from `display.cluster`.
///
/// # Errors
/// [`CliError::BadInput`] when the workflow does not pass preflight (nothing runs, nothing is recorded),
/// [`CliError::RunFailed`] when waiting on a run that failed, [`CliError::Internal`] when skiff broke.
pub fn run_here(
    home: &Path,
    doc: &Document,
    pipeline: Option<&kfp::Translation>,
    mut options: RunOptions,
    display: &DisplayArgs,
) -> Result<(), CliError> {
    let args = display;
    options.executor = args.cluster.executor.into();
    options.cluster = args.cluster.cluster();
    check(doc, &options, args.cluster.cluster_configured())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let mut config = EngineConfig::new(home.to_path_buf());
    if let Some(p) = args.parallelism {
        config.parallelism = p;
    }
    config.limits = StepLimits::from_env().map_err(|e| CliError::BadInput(e.to_string()))?;
    if let Some(bytes) = args.default_memory {
        config.limits.default_memory = bytes;
    }
    let engine = Engine::new(config)
        .context("cannot start the engine")?
        .with_store(Store::path_in(home));
    let state = runtime.block_on(async {
        let handle = engine.start(doc, options).map_err(|e| match e {
            EngineError::Invalid(_) => CliError::BadInput(e.to_string()),
            EngineError::Store(StoreError::Exists(_)) => CliError::BadInput(e.to_string()),
            EngineError::Store(store) => CliError::from(store),
            other => CliError::Internal(other.into()),
        })?;
        Ok::<_, CliError>(follow(handle, args).await)
    })?;
    report(args, doc, &state)?;
    if args.output.is_none() {
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "{}", results(&state, pipeline));
    }
    let waited = args.wait || args.watch;
    if waited && state.phase != NodePhase::Succeeded {
        return Err(run_failed(&state));
    }
    Ok(())
}

/// Follows a run to its end: redraws the tree (`--watch`), prints node changes when piped, streams logs
/// (`--log`).
async fn follow(mut handle: crate::engine::RunHandle, args: &DisplayArgs) -> RunState {
    let tty = std::io::stdout().is_terminal();
    let mut interrupts = 0u32;
    let live_tree = args.watch && tty && args.output.is_none();
    let mut drawn_lines = 0usize;
    let mut seen: HashSet<(String, &'static str)> = HashSet::new();
    let mut logged: HashSet<String> = HashSet::new();
    loop {
        let finished = {
            let state = handle.snapshot();
            let mut out = std::io::stdout().lock();
            if live_tree {
                let text = format!("{}\n{}", header(&state), tree(&state));
                if drawn_lines > 0 {
                    let _ = write!(out, "\x1b[{drawn_lines}A\x1b[J");
                }
                let _ = write!(out, "{text}");
                drawn_lines = text.lines().count();
            } else if args.watch && args.output.is_none() {
                for node in state.nodes_in_order() {
                    if !matches!(node.node_type, NodeType::Pod | NodeType::Skipped) {
                        continue;
                    }
                    if seen.insert((node.id.clone(), node.phase.as_str())) {
                        let _ = writeln!(out, "{}", node_line(node));
                    }
                }
            }
            if args.log && !live_tree {
                print_new_logs(&mut out, &state, &mut logged);
            }
            let _ = out.flush();
            state.finished_at.is_some()
        };
        if finished {
            break;
        }
        // Redraw at most every 50 ms, on the next change; Ctrl-C stops the run, a second one terminates it.
        tokio::select! {
            changed = handle.changes.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            signal = tokio::signal::ctrl_c() => {
                if signal.is_ok() {
                    interrupts += 1;
                    if interrupts == 1 {
                        eprintln!("skiff: stopping {} (Ctrl-C again to skip the exit handler)", handle.name);
                        handle.stop(StopRequest::Stop, INTERRUPTED);
                    } else {
                        handle.stop(StopRequest::Terminate, INTERRUPTED);
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(if live_tree { 50 } else { 5 })).await;
    }
    let state = handle.wait().await;
    if live_tree && drawn_lines > 0 {
        let _ = write!(std::io::stdout(), "\x1b[{drawn_lines}A\x1b[J");
    }
    if args.log {
        let mut out = std::io::stdout().lock();
        print_new_logs(&mut out, &state, &mut logged);
    }
    state
}

/// Prints the logs of leaf steps that finished since last time, each line prefixed with the step's name.
fn print_new_logs(out: &mut dyn Write, state: &RunState, logged: &mut HashSet<String>) {
    for node in state.nodes_in_order() {
        if node.node_type != NodeType::Pod || !node.phase.is_completed() {
            continue;
        }
        if !logged.insert(node.id.clone()) {
            continue;
        }
        if let Some(log) = state.logs.get(&node.id) {
            for line in String::from_utf8_lossy(log).lines() {
                let _ = writeln!(out, "{}: {line}", node.display_name);
            }
        }
    }
}

/// The pipeline's outputs (for a Kubeflow pipeline) and the metrics steps reported, as text to print after
/// the run: an `Outputs:` block of `name: value` lines and a `METRICS` table (step, metric, value).
pub fn results(state: &RunState, pipeline: Option<&kfp::Translation>) -> String {
    let mut text = String::new();
    if let Some(pipeline) = pipeline
        && let Some(root) = state.nodes.get(&state.name)
    {
        let outputs: Vec<&(String, String)> = root
            .outputs
            .parameters
            .iter()
            .filter(|(name, _)| pipeline.outputs.contains(name))
            .collect();
        if !outputs.is_empty() {
            text.push_str("\nOutputs:\n");
            for (name, value) in outputs {
                text.push_str(&format!("  {name}: {value}\n"));
            }
        }
    }
    let mut rows = Vec::new();
    for node in state.nodes_in_order() {
        for (name, value) in &node.outputs.parameters {
            let Some(artifact) = name.strip_prefix(crate::engine::METRICS_PREFIX) else {
                continue;
            };
            let Ok(serde_json::Value::Object(metrics)) = serde_json::from_str(value) else {
                continue;
            };
            for (metric, v) in metrics {
                rows.push((
                    node.display_name.clone(),
                    format!("{artifact}.{metric}"),
                    v.to_string(),
                ));
            }
        }
    }
    if !rows.is_empty() {
        let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(4);
        let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(0).max(6);
        text.push_str(&format!("\n{:<w0$}  {:<w1$}  VALUE\n", "STEP", "METRIC"));
        for (step, metric, value) in rows {
            text.push_str(&format!("{step:<w0$}  {metric:<w1$}  {value}\n"));
        }
    }
    text
}

/// The log of a run whose only node is one leaf step, if that is the run's shape.
fn single_step_log(state: &RunState) -> Option<String> {
    let mut nodes = state.nodes_in_order();
    let only = nodes.next()?;
    if nodes.next().is_some() || only.node_type != NodeType::Pod {
        return None;
    }
    let log = state.logs.get(&only.id)?;
    (!log.is_empty()).then(|| String::from_utf8_lossy(log).into_owned())
}

fn report(args: &DisplayArgs, doc: &Document, state: &RunState) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match args.output {
        Some(OutputFormat::Name) => {
            let _ = writeln!(out, "{}", state.name);
        }
        Some(OutputFormat::Json) => {
            let v = WithStatus::new(&doc.workflow, state);
            let text = serde_json::to_string_pretty(&v).context("cannot write JSON")?;
            let _ = writeln!(out, "{text}");
        }
        Some(OutputFormat::Yaml) => {
            let v = WithStatus::new(&doc.workflow, state);
            let text = serde_yaml::to_string(&v).context("cannot write YAML")?;
            let _ = write!(out, "{text}");
        }
        None if args.watch => {
            let drawn = tree(state);
            let _ = write!(out, "{}\n{drawn}", header(state));
            if !drawn.ends_with('\n') {
                let _ = writeln!(out);
            }
            // A workflow that is one step (hello-world's shape) has nothing in its tree but that step: its
            // output is what the user came to see, so `--watch` shows it (`--log` already did).
            if !args.log
                && let Some(log) = single_step_log(state)
            {
                let _ = writeln!(out);
                let _ = write!(out, "{log}");
                if !log.ends_with('\n') {
                    let _ = writeln!(out);
                }
            }
        }
        None => {
            let _ = write!(out, "{}", header(state));
        }
    }
    Ok(())
}

/// One line of `--watch`'s plain output for a step: icon, name, phase and message.
pub(crate) fn node_line(node: &crate::engine::NodeStatus) -> String {
    format!(
        "{} {} {}{}",
        icon(node.phase),
        node.name,
        node.phase,
        node.message
            .as_ref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default()
    )
}

/// The error a waited-for run that did not succeed ends the command with: `workflow NAME PHASE: MESSAGE`.
pub(crate) fn run_failed(state: &crate::engine::RunState) -> CliError {
    CliError::RunFailed(format!(
        "workflow {} {}{}",
        state.name,
        state.phase,
        state
            .message
            .as_ref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default()
    ))
}
