//! `skiff cp NAME DIR`: copies a run's output artifacts out of the store into a folder, laid out as
//! `argo cp` lays them out (`--path`, default `{namespace}/{workflowName}/{nodeId}/outputs/{artifactName}`).

use std::io::Write;
use std::path::Path;

use clap::Args;

use crate::artifact::copy_tree;
use crate::cli::{CliError, load_run, open_store};
use crate::engine::NodeType;

/// Arguments of `skiff cp`.
#[derive(Debug, Args)]
pub struct CpArgs {
    /// The run (`@latest` for the newest).
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The folder to copy into (created if needed).
    #[arg(value_name = "DIR")]
    pub dir: std::path::PathBuf,
    /// Only artifacts of this name.
    #[arg(long, value_name = "NAME")]
    pub artifact_name: Option<String>,
    /// Only artifacts of steps that ran this template.
    #[arg(long, value_name = "TEMPLATE")]
    pub template_name: Option<String>,
    /// Only artifacts of this node (its id, as `skiff get` shows in PODNAME).
    #[arg(long, value_name = "ID")]
    pub node_id: Option<String>,
    /// Where each artifact goes under DIR: `{namespace}`, `{workflowName}`, `{nodeId}`, `{templateName}`,
    /// `{artifactName}` and `{podName}` are replaced.
    #[arg(
        long,
        value_name = "PATTERN",
        default_value = "{namespace}/{workflowName}/{nodeId}/outputs/{artifactName}"
    )]
    pub path: String,
}

/// Runs `skiff cp`.
///
/// # Errors
/// [`CliError::BadInput`] for an unknown run or a pattern that leaves DIR, [`CliError::Internal`] when
/// copying fails.
pub fn run(args: CpArgs, home: &Path) -> Result<(), CliError> {
    let store = open_store(home)?;
    let (_, state) = load_run(&store, &args.name)?;
    let mut out = std::io::stdout().lock();
    let mut copied = 0;
    for node in state.nodes_in_order() {
        // A step's artifacts are listed again on the templates that pass them on: copy them once.
        if node.node_type != NodeType::Pod {
            continue;
        }
        if args.node_id.as_deref().is_some_and(|id| id != node.id)
            || args
                .template_name
                .as_deref()
                .is_some_and(|t| Some(t) != node.template_name.as_deref())
        {
            continue;
        }
        for (name, stored) in &node.outputs.artifacts {
            if args.artifact_name.as_deref().is_some_and(|a| a != name) {
                continue;
            }
            let relative = args
                .path
                .replace("{namespace}", &state.namespace)
                .replace("{workflowName}", &state.name)
                .replace("{nodeId}", &node.id)
                .replace("{podName}", &node.id)
                .replace(
                    "{templateName}",
                    node.template_name.as_deref().unwrap_or(""),
                )
                .replace("{artifactName}", name);
            let relative = Path::new(&relative);
            if relative.is_absolute()
                || relative
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                return Err(CliError::BadInput(format!(
                    "--path '{}' must stay inside {}",
                    args.path,
                    args.dir.display()
                )));
            }
            let to = args.dir.join(relative);
            if !stored.exists() {
                let _ = writeln!(
                    out,
                    "skipped {name} of {}: it is no longer stored at {}",
                    node.id,
                    stored.display()
                );
                continue;
            }
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|e| {
                    CliError::Internal(anyhow::anyhow!("cannot create {}: {e}", parent.display()))
                })?;
            }
            copy_tree(stored, &to, false).map_err(|e| {
                CliError::Internal(anyhow::anyhow!(
                    "cannot copy {} to {}: {e}",
                    stored.display(),
                    to.display()
                ))
            })?;
            let _ = writeln!(
                out,
                "Stored artifact {name} of {} in {}",
                node.id,
                to.display()
            );
            copied += 1;
        }
    }
    if copied == 0 {
        let _ = writeln!(out, "run {} has no output artifacts to copy", state.name);
    }
    Ok(())
}
