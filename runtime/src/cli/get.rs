//! `skiff get NAME`: one recorded run, as `argo get` prints it: the header and the node tree, or the
//! workflow with its `status` (`status.nodes` keyed by node id) as JSON or YAML.

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use crate::cli::output::WithStatus;
use crate::cli::tree::{header, tree};
use crate::cli::{CliError, load_run, open_store};

/// Output formats of `skiff get -o`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GetFormat {
    /// The workflow with its status, as JSON.
    Json,
    /// The workflow with its status, as YAML.
    Yaml,
    /// The header and the tree (the default).
    Wide,
    /// The run's name.
    Name,
}

/// Arguments of `skiff get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The run (`@latest` for the newest).
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<GetFormat>,
    /// Only nodes in these phases in the tree, e.g. `Failed,Error` (argo's `--status`).
    #[arg(long, value_name = "PHASES")]
    pub status: Option<String>,
}

/// Runs `skiff get`.
///
/// # Errors
/// [`CliError::BadInput`] for an unknown run, [`CliError::Internal`] when the store cannot be read.
pub fn run(args: GetArgs, home: &Path) -> Result<(), CliError> {
    let store = open_store(home)?;
    let (workflow, mut state) = load_run(&store, &args.name)?;
    let mut out = std::io::stdout().lock();
    match args.output {
        Some(GetFormat::Json) => {
            let v = WithStatus::new(&workflow, &state);
            let text = serde_json::to_string_pretty(&v).context("cannot write JSON")?;
            let _ = writeln!(out, "{text}");
        }
        Some(GetFormat::Yaml) => {
            let v = WithStatus::new(&workflow, &state);
            let text = serde_yaml::to_string(&v).context("cannot write YAML")?;
            let _ = write!(out, "{text}");
        }
        Some(GetFormat::Name) => {
            let _ = writeln!(out, "{}", state.name);
        }
        Some(GetFormat::Wide) | None => {
            if let Some(phases) = &args.status {
                let keep = crate::cli::parse_phases(phases)?;
                // Keep the structure: hide leaf steps in other phases only.
                state.nodes.retain(|_, n| {
                    n.node_type != crate::engine::NodeType::Pod || keep.contains(&n.phase)
                });
            }
            let _ = write!(out, "{}\n{}", header(&state), tree(&state));
        }
    }
    Ok(())
}
