//! `skiff logs NAME [NODE]`: the logs of a run's steps, from the store, as `argo logs` prints them: each
//! line prefixed with the step's pod name (its node id). Logs are stored as the steps write them, so `-f`
//! follows a run that another process is running, and the logs of a run whose process died are all there.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

use clap::Args;
use regex::Regex;

use crate::cli::{CliError, open_store, parse_age, resolve_name};
use crate::store::Store;

/// How often `-f` looks for new lines.
const POLL: Duration = Duration::from_millis(150);

/// Arguments of `skiff logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The run (`@latest` for the newest).
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Only this step: its pod name (node id), full node name, or display name.
    #[arg(value_name = "NODE")]
    pub node: Option<String>,
    /// Keep printing new lines until the run ends.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Only lines written this recently (e.g. 30s, 5m).
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
    /// Only lines matching this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub grep: Option<String>,
    /// Print each line with the time it was written.
    #[arg(long)]
    pub timestamps: bool,
    /// Print lines without the pod name in front.
    #[arg(long)]
    pub no_prefix: bool,
}

/// Runs `skiff logs`.
///
/// # Errors
/// [`CliError::BadInput`] for an unknown run or node or a bad filter, [`CliError::Internal`] when the store
/// cannot be read.
pub fn run(args: LogsArgs, home: &Path) -> Result<(), CliError> {
    let mut store = open_store(home)?;
    let name = resolve_name(&store, &args.name)?;
    let node = match &args.node {
        Some(wanted) => Some(find_node(&store, &name, wanted)?),
        None => {
            store.run(&name)?;
            None
        }
    };
    let grep = match &args.grep {
        Some(g) => Some(Regex::new(g).map_err(|e| {
            CliError::BadInput(format!("--grep '{g}' is not a regular expression: {e}"))
        })?),
        None => None,
    };
    let since = match &args.since {
        Some(s) => Some(SystemTime::now() - parse_age(s)?),
        None => None,
    };
    let mut printer = Printer {
        grep,
        since,
        timestamps: args.timestamps,
        prefix: !args.no_prefix,
        partial: HashMap::new(),
    };
    let mut after = 0;
    loop {
        // Read the run's phase before its logs: once it is seen done, one more read has every line.
        let done = !args.follow || store.run(&name)?.summary.phase.is_completed();
        let chunks = store.logs(&name, node.as_deref(), after)?;
        let mut out = std::io::stdout().lock();
        for chunk in &chunks {
            after = chunk.seq;
            printer.chunk(&mut out, &chunk.node, chunk.at, &chunk.data);
        }
        let _ = out.flush();
        if done {
            printer.finish(&mut out);
            break;
        }
        drop(out);
        std::thread::sleep(POLL);
        store.reap_interrupted()?;
    }
    Ok(())
}

/// The id of the node `wanted` names in run `run`.
fn find_node(store: &Store, run: &str, wanted: &str) -> Result<String, CliError> {
    let nodes = store.nodes(run)?;
    if nodes.is_empty() {
        store.run(run)?;
    }
    nodes
        .iter()
        .find(|n| n.id == wanted)
        .or_else(|| nodes.iter().find(|n| n.name == wanted))
        .or_else(|| nodes.iter().find(|n| n.display_name == wanted))
        .map(|n| n.id.clone())
        .ok_or_else(|| {
            CliError::BadInput(format!(
                "run {run} has no step '{wanted}'; `skiff get {run}` lists its steps (PODNAME column)"
            ))
        })
}

/// Turns chunks into whole lines per node and prints the ones the filters let through.
struct Printer {
    grep: Option<Regex>,
    since: Option<SystemTime>,
    timestamps: bool,
    prefix: bool,
    /// The unfinished last line of each node.
    partial: HashMap<String, (SystemTime, Vec<u8>)>,
}

impl Printer {
    fn chunk(&mut self, out: &mut dyn Write, node: &str, at: SystemTime, data: &[u8]) {
        let (first_at, buf) = self
            .partial
            .entry(node.to_string())
            .or_insert_with(|| (at, Vec::new()));
        if buf.is_empty() {
            *first_at = at;
        }
        buf.extend_from_slice(data);
        let mut lines = Vec::new();
        while let Some(end) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=end).collect();
            lines.push((*first_at, line));
            *first_at = at;
        }
        for (when, line) in lines {
            self.line(out, node, when, &line);
        }
    }

    fn finish(&mut self, out: &mut dyn Write) {
        let mut rest: Vec<(String, (SystemTime, Vec<u8>))> = self.partial.drain().collect();
        rest.sort_by(|a, b| a.0.cmp(&b.0));
        for (node, (when, line)) in rest {
            if !line.is_empty() {
                self.line(out, &node, when, &line);
            }
        }
    }

    fn line(&self, out: &mut dyn Write, node: &str, when: SystemTime, line: &[u8]) {
        if self.since.is_some_and(|since| when < since) {
            return;
        }
        let text = String::from_utf8_lossy(line);
        let text = text.strip_suffix('\n').unwrap_or(&text);
        if self.grep.as_ref().is_some_and(|g| !g.is_match(text)) {
            return;
        }
        let mut lead = String::new();
        if self.prefix {
            lead.push_str(node);
            lead.push_str(": ");
        }
        if self.timestamps {
            lead.push_str(&crate::engine::rfc3339(when));
            lead.push(' ');
        }
        let _ = writeln!(out, "{lead}{text}");
    }
}
