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
    /// Also report fields skiff does not read (misspelt keys), as errors.
    #[arg(long)]
    pub strict: bool,
}

/// Checks every file; prints each problem with its file:line:column, or `FILE is valid`.
///
/// # Errors
/// [`CliError::BadInput`] when any file has a problem.
pub fn run(args: LintArgs) -> Result<(), CliError> {
    let mut problems = Vec::new();
    for file in &args.files {
        match super::submit::load(file) {
            Ok(doc) => {
                let mut errors = if args.strict {
                    doc.strict()
                } else {
                    Vec::new()
                };
                match preflight_for(&doc, &RunOptions::default(), true) {
                    Err(more) => errors.extend(more),
                    // Components are checked against a workflow that is valid otherwise.
                    Ok(()) => {
                        if let Err(more) = crate::component::check(&doc) {
                            errors.extend(more);
                        }
                    }
                }
                if errors.is_empty() {
                    println!("{} is valid", file.display());
                }
                problems.extend(errors.iter().map(ToString::to_string));
            }
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
