//! `skiff wait` and `skiff watch`: follow recorded runs, which another `skiff` process may be running,
//! until they end. Both read the store only; a run whose process dies is reported as interrupted.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use clap::Args;

use crate::cli::tree::{header, tree};
use crate::cli::{CliError, load_run, open_store, resolve_name};
use crate::engine::rfc3339;
use crate::spec::NodePhase;

/// How often the store is read.
const POLL: Duration = Duration::from_millis(150);

/// Arguments of `skiff wait`.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// The runs (`@latest` for the newest).
    #[arg(value_name = "NAME", required = true)]
    pub names: Vec<String>,
    /// Say nothing about a run that does not exist.
    #[arg(long)]
    pub ignore_not_found: bool,
}

/// Arguments of `skiff watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The run (`@latest` for the newest).
    #[arg(value_name = "NAME")]
    pub name: String,
}

/// Runs `skiff wait`: prints `NAME PHASE at TIME` as each run ends; exits 1 when one did not succeed.
///
/// # Errors
/// [`CliError::RunFailed`] when a run ended Failed or Error, [`CliError::BadInput`] for an unknown run.
pub fn wait(args: WaitArgs, home: &Path) -> Result<(), CliError> {
    let mut store = open_store(home)?;
    let mut failed = Vec::new();
    for name in &args.names {
        let name = resolve_name(&store, name)?;
        let summary = loop {
            let run = match store.run(&name) {
                Ok(run) => run,
                Err(crate::store::StoreError::NotFound(_)) if args.ignore_not_found => break None,
                Err(e) => return Err(e.into()),
            };
            if run.summary.phase.is_completed() {
                break Some(run.summary);
            }
            std::thread::sleep(POLL);
            store.reap_interrupted()?;
        };
        let Some(summary) = summary else { continue };
        report_end(&name, summary, &mut failed);
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::RunFailed(failed.join("\n")))
    }
}

/// Runs `skiff watch`: redraws the run's header and tree in place until it ends (when piped, prints the
/// final picture once).
///
/// # Errors
/// [`CliError::RunFailed`] when the run ended Failed or Error, [`CliError::BadInput`] for an unknown run.
pub fn watch(args: WatchArgs, home: &Path) -> Result<(), CliError> {
    let mut store = open_store(home)?;
    let name = resolve_name(&store, &args.name)?;
    let state = redraw_until_done(
        || {
            store.reap_interrupted()?;
            Ok(load_run(&store, &name)?.1)
        },
        |state| state.phase.is_completed(),
        POLL,
    )?;
    if state.phase == NodePhase::Succeeded {
        Ok(())
    } else {
        Err(crate::cli::submit::run_failed(&state))
    }
}

/// Prints how run `name` ended, as `skiff wait` does, and adds it to `failed` unless it succeeded.
pub(crate) fn report_end(name: &str, summary: crate::store::RunSummary, failed: &mut Vec<String>) {
    let at = summary.finished_at.map(rfc3339).unwrap_or_default();
    println!("{name} {} at {at}", summary.phase);
    if summary.phase != NodePhase::Succeeded {
        failed.push(format!(
            "{name} {}{}",
            summary.phase,
            summary
                .message
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        ));
    }
}

/// `skiff watch`'s loop, local or remote: reads the run with `next` every poll and redraws its header and
/// tree in place on a terminal (once, at the end, when piped) until `done` says it ended, `poll` apart.
pub(crate) fn redraw_until_done(
    mut next: impl FnMut() -> Result<crate::engine::RunState, CliError>,
    done: impl Fn(&crate::engine::RunState) -> bool,
    poll: Duration,
) -> Result<crate::engine::RunState, CliError> {
    let tty = std::io::stdout().is_terminal();
    let mut drawn = 0usize;
    loop {
        let state = next()?;
        let ended = done(&state);
        if tty || ended {
            let text = format!("{}\n{}", header(&state), tree(&state));
            let mut out = std::io::stdout().lock();
            if drawn > 0 {
                let _ = write!(out, "\x1b[{drawn}A\x1b[J");
            }
            let _ = write!(out, "{text}");
            let _ = out.flush();
            drawn = text.lines().count();
        }
        if ended {
            return Ok(state);
        }
        std::thread::sleep(poll);
    }
}
