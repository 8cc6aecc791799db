//! `skiff stop` and `skiff terminate`: ask the process running a run to stop it. The request goes
//! through the store, so it reaches a run started by another `skiff` process; that process stops the
//! running steps within a moment, runs the exit handler (stop only), and records the run as Failed.

use std::io::Write;
use std::path::Path;

use clap::Args;

use crate::cli::{CliError, open_store, resolve_name};
use crate::store::StopRequest;

/// Arguments of `skiff stop` and `skiff terminate`.
#[derive(Debug, Args)]
pub struct StopArgs {
    /// The runs (`@latest` for the newest).
    #[arg(value_name = "NAME", required = true)]
    pub names: Vec<String>,
}

/// Runs `skiff stop` (`request` Stop) or `skiff terminate` (Terminate).
///
/// # Errors
/// [`CliError::BadInput`] for an unknown run, [`CliError::Internal`] when the store cannot be written.
pub fn run(args: StopArgs, home: &Path, request: StopRequest) -> Result<(), CliError> {
    let store = open_store(home)?;
    let mut out = std::io::stdout().lock();
    for name in &args.names {
        let name = resolve_name(&store, name)?;
        let verb = match request {
            StopRequest::Stop => "stopped",
            StopRequest::Terminate => "terminated",
        };
        if store.request_stop(&name, request)? {
            let _ = writeln!(out, "workflow {name} {verb}");
        } else {
            let phase = store.run(&name)?.summary.phase;
            let _ = writeln!(out, "workflow {name} has already ended ({phase})");
        }
    }
    Ok(())
}
