//! Remote mode: with `--server URL` (or `ARGO_SERVER`) the commands talk to a `skiff server` (or any
//! Argo Server) over its REST API instead of running here and reading the local store.
//!
//! - **Address.** A URL is used as is. `host:port` without a scheme means `http://` for a loopback host
//!   (`localhost`, `127.*`, `[::1]`) or when `ARGO_SECURE=false`, and `https://` otherwise, as the argo
//!   CLI reads `ARGO_SERVER`.
//! - **Token.** `--token` or `ARGO_TOKEN`, given as `x` or `Bearer x`; sent as `Authorization: Bearer x`.
//! - **Namespace.** `ARGO_NAMESPACE`, else `default`; `submit`, `retry` and `resubmit` take `-n` too.
//! - **Commands.** `submit`, `lint`, `list`, `get`, `logs`, `delete`, `retry`, `resubmit`, `stop`,
//!   `terminate`, `wait` and `watch` go through the API and print what the local commands print: the
//!   workflow objects the server answers are read back into the state the local display code draws
//!   ([`convert`]). `cp` is local-only, and so are the flags that only mean something here
//!   (`--executor`, `--kubeconfig`, `--context`, `--parallelism`, `--entrypoint`, `--dry-run`,
//!   `logs --timestamps`); they are refused with a message that says so.
//! - **Errors.** A 4xx answer prints the server's message and exits 2 (bad input, as locally); a 5xx
//!   answer, or no server at the address, exits 1 with the message.
//!
//! `submit` sends the workflow file as YAML (`Content-Type: application/yaml`, parameters as
//! `parameters=name=value` query pairs, a skiff extension of the API), so the server's errors point at
//! the file's own lines; a Kubeflow pipeline is translated here first and its translation sent.

pub mod client;
pub mod convert;

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use clap::Args;
use regex::Regex;
use serde::Deserialize as _;
use serde_json::{Value, json};

use crate::cli::submit::{DisplayArgs, ExecutorArg, OutputFormat};
use crate::cli::tree::{header, tree};
use crate::cli::{CliError, Command, parse_age, parse_phases};
use crate::engine::{NodeType, RunState};
use crate::spec::NodePhase;
use client::{Body, Client, RemoteError};

/// How often a waiting command asks the server again.
const POLL: Duration = Duration::from_millis(200);

/// The global options that choose remote mode.
#[derive(Debug, Clone, Default, Args)]
pub struct RemoteArgs {
    /// Talk to this skiff server (or Argo Server) instead of running here: a URL, or `host:port`
    /// (http for localhost, https otherwise unless ARGO_SECURE=false).
    #[arg(long, global = true, env = "ARGO_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// The server's bearer token (`x` or `Bearer x`).
    #[arg(
        long,
        global = true,
        env = "ARGO_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
}

impl From<RemoteError> for CliError {
    fn from(e: RemoteError) -> Self {
        match &e {
            RemoteError::Status { code: 401, message } => CliError::BadInput(format!(
                "the server refused the request: {message} (HTTP 401; pass --token or set ARGO_TOKEN)"
            )),
            RemoteError::Status { code, .. } if *code < 500 => CliError::BadInput(e.to_string()),
            RemoteError::Status { code, message } => {
                CliError::RunFailed(format!("the server failed (HTTP {code}): {message}"))
            }
            RemoteError::Unreachable { .. } | RemoteError::Protocol { .. } => {
                CliError::RunFailed(e.to_string())
            }
        }
    }
}

/// The client `args` ask for, if they name a server.
pub fn client(args: &RemoteArgs) -> Option<Client> {
    let server = args.server.as_deref().filter(|s| !s.trim().is_empty())?;
    let namespace = std::env::var("ARGO_NAMESPACE")
        .ok()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "default".to_string());
    Some(Client::new(server, args.token.as_deref(), namespace))
}

fn local_only(what: &str) -> CliError {
    CliError::BadInput(format!(
        "{what} is local-only: it cannot be used with --server (or ARGO_SERVER); unset it to work on this machine's runs"
    ))
}

/// Whether `command` works on runs, and so goes to the server in remote mode (`skiff server` itself,
/// for one, runs here whatever `ARGO_SERVER` says).
pub fn handles(command: &Command) -> bool {
    matches!(
        command,
        Command::Submit(_)
            | Command::Lint(_)
            | Command::List(_)
            | Command::Get(_)
            | Command::Logs(_)
            | Command::Delete(_)
            | Command::Retry(_)
            | Command::Resubmit(_)
            | Command::Stop(_)
            | Command::Terminate(_)
            | Command::Wait(_)
            | Command::Watch(_)
            | Command::Cp(_)
    )
}

/// Runs `command` against the server `client` talks to.
///
/// # Errors
/// As the local command, plus [`CliError::BadInput`] for a 4xx answer or a local-only command or flag,
/// [`CliError::RunFailed`] for a 5xx answer or a server that cannot be reached.
pub fn run(command: Command, client: &Client) -> Result<(), CliError> {
    match command {
        Command::Submit(args) => submit(args, client),
        Command::Lint(args) => lint(args, client),
        Command::List(args) => list(args, client),
        Command::Get(args) => get(args, client),
        Command::Logs(args) => logs(args, client),
        Command::Delete(args) => delete(args, client),
        Command::Retry(args) => retry(args, client),
        Command::Resubmit(args) => resubmit(args, client),
        Command::Stop(args) => stop(args, client, "stop", "stopped"),
        Command::Terminate(args) => stop(args, client, "terminate", "terminated"),
        Command::Wait(args) => wait(args, client),
        Command::Watch(args) => watch(args, client),
        Command::Cp(_) => Err(local_only("`skiff cp`")),
        // Commands [`handles`] leaves out run here and never reach this.
        _ => Err(local_only("this command")),
    }
}

/// The namespace a command with cluster flags (`-n`) works in.
fn with_namespace(client: &Client, display: &DisplayArgs) -> Result<Client, CliError> {
    let c = &display.cluster;
    if c.executor != ExecutorArg::Auto {
        return Err(local_only("--executor"));
    }
    if c.kubeconfig.is_some() {
        return Err(local_only("--kubeconfig"));
    }
    if c.context.is_some() {
        return Err(local_only("--context"));
    }
    if display.parallelism.is_some() {
        return Err(local_only("--parallelism"));
    }
    let mut client = client.clone();
    if let Some(ns) = &c.namespace {
        client.namespace = ns.clone();
    }
    Ok(client)
}

/// All workflows in the namespace, without their nodes.
fn list_all(client: &Client, phases: &[NodePhase]) -> Result<Vec<Value>, CliError> {
    let mut query = vec![(
        "fields",
        "items.metadata,items.spec.priority,items.status.phase,items.status.message,items.status.startedAt,items.status.finishedAt,items.status.progress".to_string(),
    )];
    if !phases.is_empty() {
        let names: Vec<&str> = phases.iter().map(|p| p.as_str()).collect();
        query.push((
            "listOptions.labelSelector",
            format!("workflows.argoproj.io/phase in ({})", names.join(",")),
        ));
    }
    let v = client.json("GET", &client.workflows_path(""), &query, Body::Empty)?;
    Ok(v.get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default())
}

/// The run a name names: `@latest` is the newest run on the server.
fn resolve(client: &Client, name: &str) -> Result<String, CliError> {
    if name != "@latest" {
        return Ok(name.to_string());
    }
    list_all(client, &[])?
        .iter()
        .map(convert::summary)
        .max_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then(a.started_at.cmp(&b.started_at))
        })
        .map(|s| s.name)
        .ok_or_else(|| CliError::BadInput("the server has no runs yet".to_string()))
}

fn fetch(client: &Client, name: &str) -> Result<Value, CliError> {
    Ok(client.json(
        "GET",
        &client.workflows_path(&format!("/{name}")),
        &[],
        Body::Empty,
    )?)
}

fn print_json(v: &Value) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(v).context("cannot write JSON")?;
    println!("{text}");
    Ok(())
}

fn print_yaml(v: &Value) -> Result<(), CliError> {
    let text = serde_yaml::to_string(v).context("cannot write YAML")?;
    print!("{text}");
    Ok(())
}

/// Whether a run has ended: its phase is final and it has a finish time (its exit handler is done).
fn finished(state: &RunState) -> bool {
    state.phase.is_completed() && state.finished_at.is_some()
}

fn submit(args: crate::cli::submit::SubmitArgs, client: &Client) -> Result<(), CliError> {
    if args.dry_run {
        return Err(local_only("--dry-run"));
    }
    if args.entrypoint.is_some() {
        return Err(local_only("--entrypoint"));
    }
    let client = with_namespace(client, &args.display)?;
    let parameters = crate::cli::submit::parameters(&args)?;
    let src = std::fs::read_to_string(&args.file).map_err(|e| {
        CliError::BadInput(format!(
            "{}: cannot read the workflow: {e}",
            args.file.display()
        ))
    })?;
    if args.strict {
        // The server does not know `--strict`: the file is checked here first.
        let (doc, _) = crate::cli::submit::load_text(&src, &args.file)?;
        crate::cli::submit::refuse_unknown_fields(&doc)?;
    }
    let first = serde_yaml::Deserializer::from_str(&src)
        .next()
        .and_then(|d| serde_yaml::Value::deserialize(d).ok());
    let (yaml, pipeline) = if first.as_ref().is_some_and(crate::kfp::is_pipeline_spec) {
        let translation =
            crate::kfp::to_argo(&src, &args.file).map_err(|e| CliError::BadInput(e.to_string()))?;
        (translation.yaml.clone(), Some(translation))
    } else {
        (src, None)
    };
    let query: Vec<(&str, String)> = parameters
        .iter()
        .map(|(k, v)| ("parameters", format!("{k}={v}")))
        .collect();
    let created = client
        .json("POST", &client.workflows_path(""), &query, Body::Yaml(yaml))
        .map_err(|e| match e {
            // The server names the file it was given as best it can; say which file that was.
            RemoteError::Status { code, message } if code < 500 && code != 401 => {
                CliError::BadInput(with_file(&message, &args.file))
            }
            other => other.into(),
        })?;
    show(&client, created, &args.display, pipeline.as_ref())
}

/// The server's message about a submitted file, with the local file's name where the server wrote the
/// name it gives every submitted workflow ([`crate::server::api::SUBMITTED_FILE`]), so that it reads as
/// the local command's: `FILE:LINE:COLUMN: ...`.
fn with_file(message: &str, file: &std::path::Path) -> String {
    let shown = file.display().to_string();
    let placeholder = format!("{}:", crate::server::api::SUBMITTED_FILE);
    if message.contains(&placeholder) {
        return message.replace(&placeholder, &format!("{shown}:"));
    }
    if message.contains(&shown) {
        return message.to_string();
    }
    format!("{shown}: {message}")
}

/// Reports a run the server started, as the local `submit`/`retry`/`resubmit` do: follows it with
/// `--wait`/`--watch`, prints it as `-o` asks, and fails when a waited-on run did not succeed.
fn show(
    client: &Client,
    created: Value,
    display: &DisplayArgs,
    pipeline: Option<&crate::kfp::Translation>,
) -> Result<(), CliError> {
    let name = convert::state(&created).name;
    let waited = display.wait || display.watch;
    let doc = if waited {
        follow(client, &name, display)?
    } else {
        created
    };
    let state = convert::state(&doc);
    match display.output {
        Some(OutputFormat::Name) => println!("{}", state.name),
        Some(OutputFormat::Json) => print_json(&doc)?,
        Some(OutputFormat::Yaml) => print_yaml(&doc)?,
        None if display.watch => {
            print!("{}\n{}", header(&state), tree(&state));
        }
        None => print!("{}", header(&state)),
    }
    if display.log && waited {
        print_all_logs(client, &state)?;
    }
    if display.output.is_none() {
        print!("{}", crate::cli::submit::results(&state, pipeline));
    }
    let _ = std::io::stdout().flush();
    if waited && state.phase != NodePhase::Succeeded {
        return Err(crate::cli::submit::run_failed(&state));
    }
    Ok(())
}

/// Polls a run until it ends; `--watch` redraws its tree on a terminal, or prints leaf steps' changes
/// when piped. Returns the final workflow object.
fn follow(client: &Client, name: &str, display: &DisplayArgs) -> Result<Value, CliError> {
    let tty = std::io::stdout().is_terminal();
    let live = display.watch && tty && display.output.is_none();
    let lines = display.watch && !tty && display.output.is_none();
    let mut drawn = 0usize;
    let mut seen: HashSet<(String, &'static str)> = HashSet::new();
    loop {
        let doc = fetch(client, name)?;
        let state = convert::state(&doc);
        let done = finished(&state);
        let mut out = std::io::stdout().lock();
        if live {
            let text = format!("{}\n{}", header(&state), tree(&state));
            if drawn > 0 {
                let _ = write!(out, "\x1b[{drawn}A\x1b[J");
            }
            let _ = write!(out, "{text}");
            drawn = text.lines().count();
            if done {
                let _ = write!(out, "\x1b[{drawn}A\x1b[J");
            }
        } else if lines {
            for node in state.nodes_in_order() {
                if !matches!(node.node_type, NodeType::Pod | NodeType::Skipped) {
                    continue;
                }
                if seen.insert((node.id.clone(), node.phase.as_str())) {
                    let _ = writeln!(out, "{}", crate::cli::submit::node_line(node));
                }
            }
        }
        let _ = out.flush();
        if done {
            return Ok(doc);
        }
        drop(out);
        std::thread::sleep(POLL);
    }
}

/// Every leaf step's log, each line prefixed with the step's display name (as `submit --log` prints).
fn print_all_logs(client: &Client, state: &RunState) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    for node in state.nodes_in_order() {
        if node.node_type != NodeType::Pod {
            continue;
        }
        let query = [
            ("podName", node.id.clone()),
            ("logOptions.container", "main".to_string()),
        ];
        client.stream(
            &client.workflows_path(&format!("/{}/log", state.name)),
            &query,
            |v| {
                if let Some(content) = v["result"]["content"].as_str() {
                    let _ = writeln!(out, "{}: {content}", node.display_name);
                }
                true
            },
        )?;
    }
    Ok(())
}

fn lint(args: crate::cli::lint::LintArgs, client: &Client) -> Result<(), CliError> {
    let mut problems = Vec::new();
    for file in &args.files {
        let src = std::fs::read_to_string(file).map_err(|e| {
            CliError::BadInput(format!("{}: cannot read the workflow: {e}", file.display()))
        })?;
        if args.strict
            && let Ok((doc, _)) = crate::cli::submit::load_text(&src, file)
        {
            // Checked here: the server does not know `--strict`.
            let unknown = doc.strict();
            if !unknown.is_empty() {
                problems.extend(unknown.iter().map(ToString::to_string));
                continue;
            }
        }
        match client.json(
            "POST",
            &client.workflows_path("/lint"),
            &[],
            Body::Yaml(src),
        ) {
            Ok(_) => println!("{} is valid", file.display()),
            Err(RemoteError::Status { code, message }) if code < 500 && code != 401 => {
                problems.push(with_file(&message, file));
            }
            Err(e) => return Err(e.into()),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(CliError::BadInput(problems.join("\n")))
    }
}

fn list(args: crate::cli::list::ListArgs, client: &Client) -> Result<(), CliError> {
    use crate::cli::list::ListFormat;
    let mut phases = Vec::new();
    if let Some(s) = &args.status {
        phases = parse_phases(s)?;
    }
    if args.completed {
        phases = parse_phases("Succeeded,Failed,Error")?;
    }
    if args.running {
        phases = parse_phases("Running,Pending")?;
    }
    let since = match &args.since {
        Some(s) => Some(SystemTime::now() - parse_age(s)?),
        None => None,
    };
    let items = list_all(client, &phases)?;
    // The server filters by phase too; filtering here as well keeps the answer right for a server that
    // ignores the selector.
    let mut runs: Vec<_> = items
        .iter()
        .map(convert::summary)
        .filter(|r| phases.is_empty() || phases.contains(&r.phase))
        .filter(|r| since.is_none_or(|s| r.created_at >= s))
        .filter(|r| args.prefix.as_deref().is_none_or(|p| r.name.starts_with(p)))
        .collect();
    runs.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| b.name.cmp(&a.name))
    });
    let text = match args.output {
        Some(ListFormat::Name) => runs.iter().map(|r| format!("{}\n", r.name)).collect(),
        Some(ListFormat::Json) => {
            let list: Vec<Value> = runs.iter().map(crate::cli::list::summary_json).collect();
            let mut text = serde_json::to_string_pretty(&list).context("cannot write JSON")?;
            text.push('\n');
            text
        }
        Some(ListFormat::Yaml) => {
            let list: Vec<Value> = runs.iter().map(crate::cli::list::summary_json).collect();
            serde_yaml::to_string(&list).context("cannot write YAML")?
        }
        Some(ListFormat::Wide) => crate::cli::list::table(&runs, true, SystemTime::now()),
        None => crate::cli::list::table(&runs, false, SystemTime::now()),
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(())
}

fn get(args: crate::cli::get::GetArgs, client: &Client) -> Result<(), CliError> {
    use crate::cli::get::GetFormat;
    let name = resolve(client, &args.name)?;
    let doc = fetch(client, &name)?;
    match args.output {
        Some(GetFormat::Json) => print_json(&doc)?,
        Some(GetFormat::Yaml) => print_yaml(&doc)?,
        Some(GetFormat::Name) => println!("{}", convert::state(&doc).name),
        Some(GetFormat::Wide) | None => {
            let mut state = convert::state(&doc);
            if let Some(phases) = &args.status {
                let keep = parse_phases(phases)?;
                state
                    .nodes
                    .retain(|_, n| n.node_type != NodeType::Pod || keep.contains(&n.phase));
            }
            print!("{}\n{}", header(&state), tree(&state));
        }
    }
    Ok(())
}

fn logs(args: crate::cli::logs::LogsArgs, client: &Client) -> Result<(), CliError> {
    if args.timestamps {
        return Err(local_only("`logs --timestamps`"));
    }
    let name = resolve(client, &args.name)?;
    let grep = match &args.grep {
        Some(g) => Some(Regex::new(g).map_err(|e| {
            CliError::BadInput(format!("--grep '{g}' is not a regular expression: {e}"))
        })?),
        None => None,
    };
    let state = convert::state(&fetch(client, &name)?);
    let mut query = vec![("logOptions.container", "main".to_string())];
    if let Some(wanted) = &args.node {
        let nodes: Vec<_> = state.nodes.values().collect();
        let node = nodes
            .iter()
            .find(|n| &n.id == wanted)
            .or_else(|| nodes.iter().find(|n| &n.name == wanted))
            .or_else(|| nodes.iter().find(|n| &n.display_name == wanted))
            .ok_or_else(|| {
                CliError::BadInput(format!(
                    "run {name} has no step '{wanted}'; `skiff get {name}` lists its steps (PODNAME column)"
                ))
            })?;
        query.push(("podName", node.id.clone()));
    }
    if args.follow {
        query.push(("logOptions.follow", "true".to_string()));
    }
    if let Some(since) = &args.since {
        query.push((
            "logOptions.sinceSeconds",
            parse_age(since)?.as_secs().to_string(),
        ));
    }
    let mut out = std::io::stdout().lock();
    client.stream(
        &client.workflows_path(&format!("/{name}/log")),
        &query,
        |v| {
            let result = &v["result"];
            let Some(content) = result["content"].as_str() else {
                return true;
            };
            if grep.as_ref().is_some_and(|g| !g.is_match(content)) {
                return true;
            }
            let _ = if args.no_prefix {
                writeln!(out, "{content}")
            } else {
                let pod = result["podName"].as_str().unwrap_or_default();
                writeln!(out, "{pod}: {content}")
            };
            let _ = out.flush();
            true
        },
    )?;
    Ok(())
}

fn delete(args: crate::cli::delete::DeleteArgs, client: &Client) -> Result<(), CliError> {
    let by_name = !args.names.is_empty();
    let mut targets = Vec::new();
    if by_name {
        for name in &args.names {
            let name = resolve(client, name)?;
            targets.push(convert::summary(&fetch(client, &name)?));
        }
    } else {
        let phases = match &args.status {
            Some(s) => parse_phases(s)?,
            None => Vec::new(),
        };
        let older = match &args.older {
            Some(o) => Some(SystemTime::now() - parse_age(o)?),
            None => None,
        };
        targets = list_all(client, &phases)?
            .iter()
            .map(convert::summary)
            .filter(|r| phases.is_empty() || phases.contains(&r.phase))
            .filter(|r| older.is_none_or(|o| r.created_at < o))
            .filter(|r| args.prefix.as_deref().is_none_or(|p| r.name.starts_with(p)))
            .collect();
    }
    let mut out = std::io::stdout().lock();
    let mut refused = Vec::new();
    for run in targets {
        if !run.phase.is_completed() && !args.force {
            refused.push(run.name);
            continue;
        }
        client.json(
            "DELETE",
            &client.workflows_path(&format!("/{}", run.name)),
            &[],
            Body::Empty,
        )?;
        let _ = writeln!(out, "Workflow '{}' deleted", run.name);
    }
    if !refused.is_empty() && by_name {
        return Err(CliError::BadInput(format!(
            "{} still running; stop it first (`skiff stop {}`) or pass --force",
            refused.join(", "),
            refused[0]
        )));
    }
    Ok(())
}

fn retry(args: crate::cli::retry::RetryArgs, client: &Client) -> Result<(), CliError> {
    let client = with_namespace(client, &args.display)?;
    let name = resolve(&client, &args.name)?;
    let mut body = json!({"name": name, "namespace": client.namespace});
    if args.restart_successful {
        body["restartSuccessful"] = json!(true);
    }
    if let Some(s) = &args.node_field_selector {
        body["nodeFieldSelector"] = json!(s);
    }
    let path = client.workflows_path(&format!("/{name}/retry"));
    let doc = client.json("PUT", &path, &[], Body::Json(body))?;
    show(&client, doc, &args.display, None)
}

fn resubmit(args: crate::cli::retry::ResubmitArgs, client: &Client) -> Result<(), CliError> {
    let client = with_namespace(client, &args.display)?;
    let name = resolve(&client, &args.name)?;
    for p in &args.parameters {
        if !p.contains('=') {
            return Err(CliError::BadInput(format!(
                "parameter '{p}' must be given as name=value"
            )));
        }
    }
    let mut body = json!({"name": name, "namespace": client.namespace, "memoized": args.memoized});
    if !args.parameters.is_empty() {
        body["parameters"] = json!(args.parameters);
    }
    let doc = client.json(
        "PUT",
        &client.workflows_path(&format!("/{name}/resubmit")),
        &[],
        Body::Json(body),
    )?;
    show(&client, doc, &args.display, None)
}

fn stop(
    args: crate::cli::stop::StopArgs,
    client: &Client,
    verb: &str,
    done: &str,
) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    for name in &args.names {
        let name = resolve(client, name)?;
        let before = convert::summary(&fetch(client, &name)?);
        if before.phase.is_completed() {
            let _ = writeln!(out, "workflow {name} has already ended ({})", before.phase);
            continue;
        }
        client.json(
            "PUT",
            &client.workflows_path(&format!("/{name}/{verb}")),
            &[],
            Body::Json(json!({"name": name, "namespace": client.namespace})),
        )?;
        let _ = writeln!(out, "workflow {name} {done}");
    }
    Ok(())
}

fn wait(args: crate::cli::wait::WaitArgs, client: &Client) -> Result<(), CliError> {
    let mut failures = Vec::new();
    for name in &args.names {
        let name = resolve(client, name)?;
        let summary = loop {
            let doc = match client.json(
                "GET",
                &client.workflows_path(&format!("/{name}")),
                &[],
                Body::Empty,
            ) {
                Ok(doc) => doc,
                Err(RemoteError::Status { code: 404, .. }) if args.ignore_not_found => break None,
                Err(e) => return Err(e.into()),
            };
            let summary = convert::summary(&doc);
            if summary.phase.is_completed() && summary.finished_at.is_some() {
                break Some(summary);
            }
            std::thread::sleep(POLL);
        };
        let Some(summary) = summary else { continue };
        crate::cli::wait::report_end(&name, summary, &mut failures);
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(CliError::RunFailed(failures.join("\n")))
    }
}

fn watch(args: crate::cli::wait::WatchArgs, client: &Client) -> Result<(), CliError> {
    let name = resolve(client, &args.name)?;
    let state = crate::cli::wait::redraw_until_done(
        || Ok(convert::state(&fetch(client, &name)?)),
        finished,
        POLL,
    )?;
    if state.phase == NodePhase::Succeeded {
        Ok(())
    } else {
        Err(crate::cli::submit::run_failed(&state))
    }
}
