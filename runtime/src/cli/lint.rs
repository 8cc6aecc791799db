//! `skiff lint FILE...`: parse and validate workflows without running them, as `argo lint` does.

use std::path::PathBuf;

use clap::Args;

use crate::cli::CliError;
use crate::engine::{RunOptions, preflight_for};

/// Arguments of `skiff lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// Workflow files to check.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// Checks every file; prints each problem with its file:line:column, or `FILE is valid`.
///
/// # Errors
/// [`CliError::BadInput`] when any file has a problem.
pub fn run(args: LintArgs) -> Result<(), CliError> {
    let mut problems = Vec::new();
    for file in &args.files {
        match super::submit::load(file) {
            Ok(doc) => match preflight_for(&doc, &RunOptions::default(), true) {
                Ok(()) => println!("{} is valid", file.display()),
                Err(errors) => problems.extend(errors.iter().map(|e| e.to_string())),
            },
            Err(CliError::BadInput(m)) => problems.push(m),
            Err(e) => return Err(e),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(CliError::BadInput(problems.join("\n")))
    }
}
