//! `skiff delete`: removes recorded runs with their nodes, logs and artifacts. A run that is still
//! running is left alone unless `--force` says otherwise (its process would go on writing to it).

use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

use clap::Args;

use crate::cli::{CliError, open_store, parse_age, parse_phases, resolve_name};
use crate::store::{ListFilter, Store, StoreError};

/// Arguments of `skiff delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The runs to delete (`@latest` for the newest).
    #[arg(value_name = "NAME", required_unless_present_any = ["all", "older", "status", "prefix"])]
    pub names: Vec<String>,
    /// Delete every run.
    #[arg(long, conflicts_with = "names")]
    pub all: bool,
    /// Delete runs created longer ago than this (e.g. 7d, 12h).
    #[arg(long, value_name = "DURATION", conflicts_with = "names")]
    pub older: Option<String>,
    /// Delete runs in these phases (comma-separated).
    #[arg(long, value_name = "PHASES", conflicts_with = "names")]
    pub status: Option<String>,
    /// Delete runs whose name starts with this.
    #[arg(long, value_name = "PREFIX", conflicts_with = "names")]
    pub prefix: Option<String>,
    /// Delete runs that are still running too.
    #[arg(long)]
    pub force: bool,
}

/// Runs `skiff delete`.
///
/// # Errors
/// [`CliError::BadInput`] for an unknown run or a run still running, [`CliError::Internal`] when the
/// store cannot be written.
pub fn run(args: DeleteArgs, home: &Path) -> Result<(), CliError> {
    let store = open_store(home)?;
    let mut targets = Vec::new();
    let by_name = !args.names.is_empty();
    if by_name {
        for name in &args.names {
            let name = resolve_name(&store, name)?;
            let run = store.run(&name)?;
            targets.push(run.summary);
        }
    } else {
        let mut filter = ListFilter::default();
        if let Some(older) = &args.older {
            filter.older_than = Some(SystemTime::now() - parse_age(older)?);
        }
        if let Some(s) = &args.status {
            filter.phases = parse_phases(s)?;
        }
        filter.prefix = args.prefix.clone();
        targets = store.list(&filter)?;
    }
    let mut out = std::io::stdout().lock();
    let mut refused = Vec::new();
    for run in targets {
        if !run.phase.is_completed() && !args.force {
            refused.push(run.name);
            continue;
        }
        remove_run(&store, home, &run.name)?;
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

/// Deletes run `name`'s record (nodes and logs with it) and its artifacts under `home`. The run must
/// have ended: a running one's process would go on writing to it.
///
/// # Errors
/// [`CliError::BadInput`] for an unknown run, [`CliError::Internal`] when the store or the artifacts
/// folder cannot be written.
pub fn remove_run(store: &Store, home: &Path, name: &str) -> Result<(), CliError> {
    if !store.delete(name)? {
        return Err(StoreError::NotFound(name.to_string()).into());
    }
    let artifacts = home.join("artifacts").join(name);
    if artifacts.exists() {
        std::fs::remove_dir_all(&artifacts).map_err(|e| {
            CliError::Internal(anyhow::anyhow!(
                "deleted run {name} but not its artifacts at {}: {e}",
                artifacts.display()
            ))
        })?;
    }
    Ok(())
}
