//! Drawing a run the way `argo get` and `argo watch` draw it: a header, then the node tree with phase icons.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use crate::engine::{NodeStatus, NodeType, RunState, rfc3339};
use crate::spec::NodePhase;

/// The icon argo shows for a phase.
pub fn icon(phase: NodePhase) -> &'static str {
    match phase {
        NodePhase::Succeeded => "✔",
        NodePhase::Failed => "✖",
        NodePhase::Error => "⚠",
        NodePhase::Skipped | NodePhase::Omitted => "○",
        NodePhase::Running => "●",
        NodePhase::Pending => "◷",
    }
}

/// A duration the way a person reads it: `310µs`, `12ms`, `3s`, `2m5s`, `1h2m`.
pub fn human_duration(d: Duration) -> String {
    let us = d.as_micros();
    if us < 1000 {
        return format!("{us}µs");
    }
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{}s", s / 60, s % 60),
        _ => format!("{}h{}m", s / 3600, (s % 3600) / 60),
    }
}

/// The header `argo get` prints above the tree.
pub fn header(state: &RunState) -> String {
    let mut out = String::new();
    let row = |out: &mut String, k: &str, v: &str| {
        let _ = writeln!(out, "{:<20} {v}", format!("{k}:"));
    };
    row(&mut out, "Name", &state.name);
    row(&mut out, "Namespace", &state.namespace);
    row(&mut out, "Status", state.phase.as_str());
    if let Some(m) = &state.message {
        row(&mut out, "Message", m);
    }
    row(&mut out, "Created", &rfc3339(state.started_at));
    row(&mut out, "Started", &rfc3339(state.started_at));
    if let Some(f) = state.finished_at {
        row(&mut out, "Finished", &rfc3339(f));
    }
    row(&mut out, "Duration", &human_duration(state.duration()));
    let (done, all) = state.progress();
    row(&mut out, "Progress", &format!("{done}/{all}"));
    out
}

struct Line {
    step: String,
    template: String,
    pod: String,
    duration: String,
    message: String,
}

/// The node tree under the header: STEP, TEMPLATE, PODNAME, DURATION, MESSAGE columns.
pub fn tree(state: &RunState) -> String {
    let now = SystemTime::now();
    let mut lines = Vec::new();
    let roots: Vec<&NodeStatus> = [state.name.clone(), format!("{}.onExit", state.name)]
        .iter()
        .filter_map(|name| {
            state
                .nodes
                .get(&crate::engine::state::node_id(&state.name, name))
        })
        .collect();
    for root in roots {
        push_line(&mut lines, state, root, " ".to_string(), now);
        draw_children(&mut lines, state, root, " ", now);
    }
    let width = |f: &dyn Fn(&Line) -> &str, title: &str| {
        lines
            .iter()
            .map(|l| f(l).chars().count())
            .chain([title.len()])
            .max()
            .unwrap_or(0)
    };
    let ws = width(&|l| &l.step, "STEP");
    let wt = width(&|l| &l.template, "TEMPLATE");
    let wp = width(&|l| &l.pod, "PODNAME");
    let wd = width(&|l| &l.duration, "DURATION");
    let mut out = String::new();
    let mut row = |a: &str, b: &str, c: &str, d: &str, e: &str| {
        let pad =
            |s: &str, w: usize| format!("{s}{}", " ".repeat(w.saturating_sub(s.chars().count())));
        let line = format!(
            "{}  {}  {}  {}  {e}",
            pad(a, ws),
            pad(b, wt),
            pad(c, wp),
            pad(d, wd)
        );
        let _ = writeln!(out, "{}", line.trim_end());
    };
    row("STEP", "TEMPLATE", "PODNAME", "DURATION", "MESSAGE");
    for l in &lines {
        row(&l.step, &l.template, &l.pod, &l.duration, &l.message);
    }
    out
}

fn push_line(
    lines: &mut Vec<Line>,
    _state: &RunState,
    node: &NodeStatus,
    prefix: String,
    now: SystemTime,
) {
    let is_leafish = matches!(
        node.node_type,
        NodeType::Pod | NodeType::Retry | NodeType::Suspend
    );
    lines.push(Line {
        step: format!("{prefix}{} {}", icon(node.phase), node.display_name),
        template: node.template_name.clone().unwrap_or_default(),
        pod: if node.node_type == NodeType::Pod {
            node.id.clone()
        } else {
            String::new()
        },
        duration: if is_leafish && (node.phase.is_completed() || node.phase == NodePhase::Running) {
            node.duration(now).map(human_duration).unwrap_or_default()
        } else {
            String::new()
        },
        message: match (&node.message, &node.memoization) {
            (Some(m), _) => m.clone(),
            (None, Some(memo)) if memo.hit => {
                format!("memoized (cache {}, key {})", memo.cache_name, memo.key)
            }
            _ => String::new(),
        },
    });
}

/// Children to draw under `node`, each with whether it opens a parallel group: a steps node draws its groups'
/// children (a group of several as a `┬` fork), anything else its own children.
fn draw_children(
    lines: &mut Vec<Line>,
    state: &RunState,
    node: &NodeStatus,
    prefix: &str,
    now: SystemTime,
) {
    let children: Vec<&NodeStatus> = node
        .children
        .iter()
        .filter_map(|id| state.nodes.get(id))
        .collect();
    if node.node_type == NodeType::Steps {
        let groups: Vec<Vec<&NodeStatus>> = children
            .iter()
            .map(|g| {
                g.children
                    .iter()
                    .filter_map(|id| state.nodes.get(id))
                    .collect::<Vec<_>>()
            })
            .filter(|g| !g.is_empty())
            .collect();
        for (gi, group) in groups.iter().enumerate() {
            let last_group = gi + 1 == groups.len();
            if group.len() == 1 {
                let branch = if last_group {
                    "└───"
                } else {
                    "├───"
                };
                let child = group[0];
                push_line(lines, state, child, format!("{prefix}{branch}"), now);
                let next = format!("{prefix}{}", if last_group { "    " } else { "│   " });
                draw_children(lines, state, child, &next, now);
                continue;
            }
            for (ci, child) in group.iter().enumerate() {
                let (branch, next) = match (ci, ci + 1 == group.len(), last_group) {
                    (0, _, true) => ("└─┬─", "  │ "),
                    (0, _, false) => ("├─┬─", "│ │ "),
                    (_, false, true) => ("  ├─", "  │ "),
                    (_, false, false) => ("│ ├─", "│ │ "),
                    (_, true, true) => ("  └─", "    "),
                    (_, true, false) => ("│ └─", "│   "),
                };
                push_line(lines, state, child, format!("{prefix}{branch}"), now);
                draw_children(lines, state, child, &format!("{prefix}{next}"), now);
            }
        }
        return;
    }
    for (i, child) in children.iter().enumerate() {
        let last = i + 1 == children.len();
        let branch = if last { "└─" } else { "├─" };
        push_line(lines, state, child, format!("{prefix}{branch}"), now);
        let next = format!("{prefix}{}", if last { "  " } else { "│ " });
        draw_children(lines, state, child, &next, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_argo_with_finer_units() {
        assert_eq!(human_duration(Duration::from_micros(310)), "310µs");
        assert_eq!(human_duration(Duration::from_millis(12)), "12ms");
        assert_eq!(human_duration(Duration::from_secs(3)), "3s");
        assert_eq!(human_duration(Duration::from_secs(125)), "2m5s");
        assert_eq!(human_duration(Duration::from_secs(3720)), "1h2m");
    }
}
