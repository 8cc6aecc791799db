//! The `skiff` command line: one file per subcommand, each with its arguments and one `run` function that
//! calls into the library. Errors map to exit codes in one place ([`exit_code`]): 0 done, 1 the run failed
//! (with `--wait`/`--watch`), 2 bad input (nothing ran), 3 skiff itself failed.

pub mod component;
pub mod cp;
pub mod delete;
pub mod dry_run;
pub mod get;
pub mod lint;
pub mod list;
pub mod logs;
pub mod output;
pub mod remote;
pub mod retry;
pub mod server;
pub mod stop;
pub mod submit;
pub mod tree;
pub mod wait;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::engine::RunState;
use crate::spec::{NodePhase, Workflow, parse_duration, parse_workflow};
use crate::store::{Store, StoreError, parse_phase};

use clap::{Parser, Subcommand};

/// Run Argo workflows on this machine, every step in its own wasm sandbox.
#[derive(Debug, Parser)]
#[command(name = "skiff", version, about, long_about = None)]
pub struct Cli {
    /// skiff's data directory: artifacts, compiled-module cache (default: $XDG_DATA_HOME/skiff).
    #[arg(long, global = true, env = "SKIFF_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// Remote mode: `--server` and `--token` ([`remote`]).
    #[command(flatten)]
    pub server: remote::RemoteArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Submit a workflow and run it here.
    Submit(submit::SubmitArgs),
    /// Check workflows without running them.
    Lint(lint::LintArgs),
    /// List the recorded runs.
    List(list::ListArgs),
    /// Show a run: its header and node tree.
    Get(get::GetArgs),
    /// Print a run's logs.
    Logs(logs::LogsArgs),
    /// Delete recorded runs, their logs and artifacts.
    Delete(delete::DeleteArgs),
    /// Run a failed run again from where it failed, keeping the steps that succeeded.
    Retry(retry::RetryArgs),
    /// Run a recorded run's workflow again, as a new run.
    Resubmit(retry::ResubmitArgs),
    /// Stop a run: stop its steps, then run its exit handler.
    Stop(stop::StopArgs),
    /// Terminate a run: stop its steps; no exit handler.
    Terminate(stop::StopArgs),
    /// Wait for runs to end.
    Wait(wait::WaitArgs),
    /// Follow a run's tree until it ends.
    Watch(wait::WatchArgs),
    /// Copy a run's output artifacts to a folder.
    Cp(cp::CpArgs),
    /// Serve the Argo Server REST API and the web UI; submitted workflows run here.
    Server(server::ServerArgs),
    /// Typed components: describe a module, print its template, create and build a component crate.
    Component(component::ComponentArgs),
}

/// How a command ended, beyond success.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The user's input is wrong; nothing ran.
    #[error("{0}")]
    BadInput(String),
    /// The run ended Failed or Error.
    #[error("{0}")]
    RunFailed(String),
    /// skiff itself broke.
    #[error("{0}")]
    Internal(#[from] anyhow::Error),
}

/// The process exit code for a command's result.
pub fn exit_code(result: &Result<(), CliError>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(CliError::RunFailed(_)) => 1,
        Err(CliError::BadInput(_)) => 2,
        Err(CliError::Internal(_)) => 3,
    }
}

/// skiff's data directory: `--home`/`SKIFF_HOME`, else the XDG data dir.
pub fn home(cli_home: Option<PathBuf>) -> PathBuf {
    cli_home
        .or_else(|| dirs::data_dir().map(|d| d.join("skiff")))
        .unwrap_or_else(|| PathBuf::from(".skiff"))
}

/// Runs the parsed command line.
///
/// # Errors
/// A [`CliError`] that [`exit_code`] maps to the process's exit code.
pub fn run(cli: Cli) -> Result<(), CliError> {
    if let Some(client) = remote::client(&cli.server)
        && remote::handles(&cli.command)
    {
        return remote::run(cli.command, &client);
    }
    let home = home(cli.home);
    match cli.command {
        Command::Submit(args) => submit::run(args, home),
        Command::Lint(args) => lint::run(args),
        Command::List(args) => list::run(args, &home),
        Command::Get(args) => get::run(args, &home),
        Command::Logs(args) => logs::run(args, &home),
        Command::Delete(args) => delete::run(args, &home),
        Command::Retry(args) => retry::retry(args, &home),
        Command::Resubmit(args) => retry::resubmit(args, &home),
        Command::Stop(args) => stop::run(args, &home, crate::store::StopRequest::Stop),
        Command::Terminate(args) => stop::run(args, &home, crate::store::StopRequest::Terminate),
        Command::Wait(args) => wait::wait(args, &home),
        Command::Watch(args) => wait::watch(args, &home),
        Command::Cp(args) => cp::run(args, &home),
        Command::Server(args) => server::run(args, home),
        Command::Component(args) => component::run(args, &home),
    }
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) | StoreError::Exists(_) => CliError::BadInput(e.to_string()),
            StoreError::Sqlite {
                ref path,
                ref source,
            } if is_damaged(source) => CliError::Internal(anyhow::anyhow!(
                "{e}\n  help: {} is damaged or is not a skiff database: move it aside (with its -wal and \
                 -shm files) and skiff starts a new, empty one, or point SKIFF_HOME elsewhere",
                path.display()
            )),
            other => CliError::Internal(other.into()),
        }
    }
}

/// Whether SQLite says the database file is not one it can use: not a database, damaged, or not a file.
fn is_damaged(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(
            rusqlite::ErrorCode::NotADatabase
                | rusqlite::ErrorCode::DatabaseCorrupt
                | rusqlite::ErrorCode::CannotOpen
        )
    )
}

/// Opens the run store under `home`, first recording runs whose process is gone as interrupted.
///
/// # Errors
/// [`CliError::Internal`] naming the database when it cannot be opened.
pub fn open_store(home: &Path) -> Result<Store, CliError> {
    let mut store = Store::open(&Store::path_in(home))?;
    store.reap_interrupted()?;
    Ok(store)
}

/// The run a command names: `@latest` is the newest run.
///
/// # Errors
/// [`CliError::BadInput`] when there is no run yet.
pub fn resolve_name(store: &Store, name: &str) -> Result<String, CliError> {
    if name == "@latest" {
        return store
            .latest()?
            .ok_or_else(|| CliError::BadInput("no runs are recorded yet".to_string()));
    }
    Ok(name.to_string())
}

/// A recorded run's workflow and state (nodes, no logs).
///
/// # Errors
/// [`CliError::BadInput`] for an unknown run, [`CliError::Internal`] when its record does not read back.
pub fn load_run(store: &Store, name: &str) -> Result<(Workflow, RunState), CliError> {
    let name = resolve_name(store, name)?;
    let (record, state) = store.state(&name)?;
    let file = record
        .source
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{name}.yaml")));
    let doc = parse_workflow(&record.spec, &file).map_err(|e| {
        CliError::Internal(anyhow::anyhow!(
            "the recorded workflow of run {name} does not parse: {e}"
        ))
    })?;
    Ok((doc.workflow, state))
}

/// Phases from a comma-separated list, spelled as Argo spells them (any case).
///
/// # Errors
/// [`CliError::BadInput`] naming an unknown phase.
pub fn parse_phases(text: &str) -> Result<Vec<NodePhase>, CliError> {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut chars = p.chars();
            let cased: String = chars
                .next()
                .map(|c| {
                    c.to_uppercase()
                        .chain(chars.flat_map(char::to_lowercase))
                        .collect()
                })
                .unwrap_or_default();
            parse_phase(&cased).ok_or_else(|| {
                CliError::BadInput(format!(
                    "unknown phase '{p}' (phases: Pending, Running, Succeeded, Failed, Error)"
                ))
            })
        })
        .collect()
}

/// A duration such as `90s`, `30m`, `2h` or `7d` (days as well as Go's units).
///
/// # Errors
/// [`CliError::BadInput`] when it does not read.
pub fn parse_age(text: &str) -> Result<Duration, CliError> {
    let t = text.trim();
    if let Some(days) = t.strip_suffix('d')
        && let Ok(n) = days.parse::<u64>()
    {
        return Ok(Duration::from_secs(n * 86_400));
    }
    parse_duration(t).map_err(|e| {
        CliError::BadInput(format!(
            "'{text}' is not a duration such as 90s, 30m, 2h or 7d ({e})"
        ))
    })
}

/// A duration as `argo list` shows ages: `12s`, `5m`, `3h`, `2d`.
pub fn short_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}
