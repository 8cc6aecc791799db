//! `skiff retry` and `skiff resubmit`: run a recorded run's workflow again, in this process.
//!
//! `retry NAME` continues the run under its own name: the nodes that succeeded are kept as recorded (with
//! their outputs, artifacts and logs) and only the rest runs again, then the exit handler (see
//! [`crate::engine::retry_plan`]). It takes up runs that failed, errored, or were interrupted because
//! their process died. `resubmit NAME` starts a new run of the same workflow and parameters;
//! `--memoized` reuses the old run's succeeded nodes in it.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::cli::submit::{DisplayArgs, run_here};
use crate::cli::{CliError, open_store, resolve_name};
use crate::engine::{NodeSelector, Resume, RunOptions, generate_name, retry_plan};
use crate::spec::{Document, NodePhase, parse_workflow};
use crate::store::{RunRecord, Store};

/// Arguments of `skiff retry`.
#[derive(Debug, Args)]
pub struct RetryArgs {
    /// The run (`@latest` for the newest).
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Also run again the succeeded steps that `--node-field-selector` selects.
    #[arg(long)]
    pub restart_successful: bool,
    /// Which succeeded nodes `--restart-successful` runs again: `field=value` or `field!=value` terms,
    /// comma-separated (fields: id, name, displayName, templateName, phase, type).
    #[arg(long, value_name = "SELECTOR", requires = "restart_successful")]
    pub node_field_selector: Option<String>,
    /// How the run is shown.
    #[command(flatten)]
    pub display: DisplayArgs,
}

/// Arguments of `skiff resubmit`.
#[derive(Debug, Args)]
pub struct ResubmitArgs {
    /// The run (`@latest` for the newest).
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Reuse the steps that succeeded in the old run instead of running them again.
    #[arg(long)]
    pub memoized: bool,
    /// A workflow parameter for the new run, `name=value` (repeatable; overrides the old run's).
    #[arg(short = 'p', long = "parameter", value_name = "NAME=VALUE")]
    pub parameters: Vec<String>,
    /// How the run is shown.
    #[command(flatten)]
    pub display: DisplayArgs,
}

/// The recorded workflow of a run, parsed again (relative `wasm:` modules resolve beside its file).
fn recorded_document(record: &RunRecord) -> Result<Document, CliError> {
    let file = record
        .source
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}.yaml", record.summary.name)));
    parse_workflow(&record.spec, &file).map_err(|e| {
        CliError::Internal(anyhow::anyhow!(
            "the recorded workflow of run {} does not parse: {e}",
            record.summary.name
        ))
    })
}

/// What `skiff retry` runs: the recorded workflow of run `name` and the options that take it up again
/// (see [`retry`]); the server's retry uses it too.
///
/// # Errors
/// [`CliError::BadInput`] for an unknown run, one still running, one that succeeded (without
/// `restart_successful`) or a bad selector.
pub fn retry_options(
    store: &Store,
    name: &str,
    restart_successful: bool,
    node_field_selector: Option<&str>,
    parallelism: Option<usize>,
) -> Result<(Document, RunOptions), CliError> {
    let name = resolve_name(store, name)?;
    let (record, state) = store.state(&name)?;
    match record.summary.phase {
        NodePhase::Running | NodePhase::Pending => {
            return Err(CliError::BadInput(format!(
                "run {name} is still running; stop it first (`skiff stop {name}`)"
            )));
        }
        NodePhase::Succeeded if !restart_successful => {
            return Err(CliError::BadInput(format!(
                "run {name} succeeded: there is nothing to retry (to run steps again, pass --restart-successful with --node-field-selector, or `skiff resubmit {name}`)"
            )));
        }
        _ => {}
    }
    let selector = match (node_field_selector, restart_successful) {
        (Some(s), true) => Some(NodeSelector::parse(s).map_err(CliError::BadInput)?),
        (None, true) => Some(NodeSelector::default()),
        _ => None,
    };
    let keep = retry_plan(&state, selector.as_ref());
    let doc = recorded_document(&record)?;
    let options = RunOptions {
        parameters: record.parameters.clone(),
        entrypoint: record.entrypoint.clone(),
        parallelism,
        resume: Some(Resume {
            from_run: name,
            retry: true,
            uid: Some(record.uid.clone()),
            keep,
        }),
        ..RunOptions::default()
    };
    Ok((doc, options))
}

/// Runs `skiff retry`.
///
/// # Errors
/// [`CliError::BadInput`] for an unknown run, one still running, or one that succeeded (without
/// `--restart-successful`); otherwise as `submit`.
pub fn retry(args: RetryArgs, home: &Path) -> Result<(), CliError> {
    let (doc, options) = {
        let store = open_store(home)?;
        retry_options(
            &store,
            &args.name,
            args.restart_successful,
            args.node_field_selector.as_deref(),
            args.display.parallelism,
        )?
    };
    run_here(home, &doc, None, options, &args.display)
}

/// What `skiff resubmit` runs: run `name`'s recorded workflow as a new run (named from its
/// `generateName`, else the old name and a suffix), with the old parameters overridden by `parameters`
/// (`name=value`); `memoized` reuses the old run's succeeded nodes. The server's resubmit uses it too.
///
/// # Errors
/// [`CliError::BadInput`] for an unknown run or a bad parameter.
pub fn resubmit_options(
    store: &Store,
    name: &str,
    memoized: bool,
    parameters: &[String],
    parallelism: Option<usize>,
) -> Result<(Document, RunOptions), CliError> {
    let name = resolve_name(store, name)?;
    let (record, state) = store.state(&name)?;
    let mut doc = recorded_document(&record)?;
    // The new run's name: from generateName when the workflow has one, else the old name and a suffix.
    let meta = &mut doc.workflow.metadata;
    if meta.generate_name.as_deref().is_none_or(str::is_empty) {
        meta.name = Some(generate_name(&format!("{name}-")));
    } else {
        meta.name = None;
    }
    let mut merged = record.parameters.clone();
    for p in parameters {
        let Some((k, v)) = p.split_once('=') else {
            return Err(CliError::BadInput(format!(
                "parameter '{p}' must be given as name=value"
            )));
        };
        merged.push((k.trim().to_string(), v.to_string()));
    }
    let resume = memoized.then(|| Resume {
        from_run: name.clone(),
        retry: false,
        uid: None,
        keep: retry_plan(&state, None),
    });
    // The document's source is the old run's text; the new name lives in the typed workflow only, so the
    // store records the workflow as serialized again.
    doc.source = String::new();
    let options = RunOptions {
        parameters: merged,
        entrypoint: record.entrypoint.clone(),
        parallelism,
        resume,
        ..RunOptions::default()
    };
    Ok((doc, options))
}

/// Runs `skiff resubmit`.
///
/// # Errors
/// [`CliError::BadInput`] for an unknown run or a bad parameter; otherwise as `submit`.
pub fn resubmit(args: ResubmitArgs, home: &Path) -> Result<(), CliError> {
    let (doc, options) = {
        let store = open_store(home)?;
        resubmit_options(
            &store,
            &args.name,
            args.memoized,
            &args.parameters,
            args.display.parallelism,
        )?
    };
    run_here(home, &doc, None, options, &args.display)
}
