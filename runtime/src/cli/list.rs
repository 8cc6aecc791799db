//! `skiff list`: the recorded runs, newest first, as `argo list` prints them.

use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use crate::cli::{CliError, open_store, parse_age, parse_phases, short_duration};
use crate::engine::rfc3339;
use crate::store::{ListFilter, RunSummary};

/// Output formats of `skiff list -o`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// More columns: progress and parameters.
    Wide,
    /// Names only.
    Name,
    /// A JSON list of workflows with their status.
    Json,
    /// A YAML list of workflows with their status.
    Yaml,
}

/// Arguments of `skiff list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only runs in these phases (comma-separated: Running, Succeeded, Failed, Error).
    #[arg(long, value_name = "PHASES")]
    pub status: Option<String>,
    /// Only runs created this recently (e.g. 30m, 2h, 7d).
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
    /// Only runs whose name starts with this.
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<String>,
    /// Only runs that are done (Succeeded, Failed, Error).
    #[arg(long, conflicts_with = "running")]
    pub completed: bool,
    /// Only runs still running.
    #[arg(long)]
    pub running: bool,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<ListFormat>,
}

/// Runs `skiff list`.
///
/// # Errors
/// [`CliError::BadInput`] for a bad filter, [`CliError::Internal`] when the store cannot be read.
pub fn run(args: ListArgs, home: &Path) -> Result<(), CliError> {
    let store = open_store(home)?;
    let mut filter = ListFilter::default();
    if let Some(s) = &args.status {
        filter.phases = parse_phases(s)?;
    }
    if args.completed {
        filter.phases = parse_phases("Succeeded,Failed,Error")?;
    }
    if args.running {
        filter.phases = parse_phases("Running,Pending")?;
    }
    if let Some(since) = &args.since {
        filter.since = Some(SystemTime::now() - parse_age(since)?);
    }
    filter.prefix = args.prefix.clone();
    let runs = store
        .list(&filter)
        .map_err(|e| CliError::Internal(e.into()))?;
    let mut out = std::io::stdout().lock();
    let text = match args.output {
        Some(ListFormat::Name) => runs.iter().map(|r| format!("{}\n", r.name)).collect(),
        Some(ListFormat::Json) => {
            let list: Vec<Value> = runs.iter().map(summary_json).collect();
            let mut text = serde_json::to_string_pretty(&list).context("cannot write JSON")?;
            text.push('\n');
            text
        }
        Some(ListFormat::Yaml) => {
            let list: Vec<Value> = runs.iter().map(summary_json).collect();
            serde_yaml::to_string(&list).context("cannot write YAML")?
        }
        Some(ListFormat::Wide) => table(&runs, true, SystemTime::now()),
        None => table(&runs, false, SystemTime::now()),
    };
    let _ = out.write_all(text.as_bytes());
    Ok(())
}

/// A run as a `Workflow` object with the status `list` knows (no nodes).
pub fn summary_json(r: &RunSummary) -> Value {
    let mut status = json!({
        "phase": r.phase.as_str(),
        "startedAt": rfc3339(r.started_at),
        "finishedAt": r.finished_at.map(rfc3339),
        "progress": format!("{}/{}", r.progress.0, r.progress.1),
    });
    if let Some(m) = &r.message {
        status["message"] = json!(m);
    }
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "name": r.name,
            "namespace": r.namespace,
            "creationTimestamp": rfc3339(r.created_at),
        },
        "status": status,
    })
}

/// The `argo list` table: NAME STATUS AGE DURATION PRIORITY MESSAGE (`wide` adds P/R/C).
pub fn table(runs: &[RunSummary], wide: bool, now: SystemTime) -> String {
    let mut rows: Vec<Vec<String>> = Vec::with_capacity(runs.len() + 1);
    let mut head = vec!["NAME", "STATUS", "AGE", "DURATION", "PRIORITY"];
    if wide {
        head.push("P/R/C");
    }
    head.push("MESSAGE");
    rows.push(head.into_iter().map(str::to_string).collect());
    for r in runs {
        let age = now.duration_since(r.created_at).unwrap_or_default();
        let mut row = vec![
            r.name.clone(),
            r.phase.as_str().to_string(),
            short_duration(age),
            short_duration(r.duration(now)),
            r.priority.unwrap_or(0).to_string(),
        ];
        if wide {
            let (done, all) = r.progress;
            let running = if r.phase.is_completed() {
                0
            } else {
                all - done
            };
            row.push(format!("{}/{running}/{done}", all - done - running));
        }
        row.push(r.message.clone().unwrap_or_default());
        rows.push(row);
    }
    let columns = rows[0].len();
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut text = String::with_capacity(rows.len() * 80);
    for row in &rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if c + 1 < columns {
                let pad = widths[c] - cell.chars().count() + 3;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}
