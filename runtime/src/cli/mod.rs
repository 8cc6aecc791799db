//! The `skiff` command line: one file per subcommand, each with its arguments and one `run` function that
//! calls into the library. Errors map to exit codes in one place ([`exit_code`]): 0 done, 1 the run failed
//! (with `--wait`/`--watch`), 2 bad input (nothing ran), 3 skiff itself failed.

pub mod lint;
pub mod output;
pub mod submit;
pub mod tree;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Run Argo workflows on this machine, every step in its own wasm sandbox.
#[derive(Debug, Parser)]
#[command(name = "skiff", version, about, long_about = None)]
pub struct Cli {
    /// skiff's data directory: artifacts, compiled-module cache (default: $XDG_DATA_HOME/skiff).
    #[arg(long, global = true, env = "SKIFF_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,
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
    let home = home(cli.home);
    match cli.command {
        Command::Submit(args) => submit::run(args, home),
        Command::Lint(args) => lint::run(args),
    }
}
