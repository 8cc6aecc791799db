//! A `Workflow` object as the API answers it (`skiff get -o json`'s shape, see
//! [`crate::cli::output::workflow_with_status`]) read back into the data the local display code draws:
//! a [`RunState`] for `get`, `watch` and `submit`, a [`RunSummary`] for `list`.
//!
//! Times in the API are RFC 3339, to the second: durations drawn from them are whole seconds. Missing
//! fields take harmless defaults, so a list item without nodes (`fields=...`) reads too.

use std::path::PathBuf;
use std::time::SystemTime;

use serde_json::Value;

use crate::engine::{NodeOutputs, NodeStatus, NodeType, RunState};
use crate::spec::NodePhase;
use crate::store::{RunSummary, parse_phase};

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// An RFC 3339 time.
pub fn parse_time(v: Option<&Value>) -> Option<SystemTime> {
    let s = v?.as_str()?;
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(SystemTime::from)
}

fn phase(v: Option<&Value>) -> NodePhase {
    v.and_then(Value::as_str)
        .and_then(parse_phase)
        .unwrap_or(NodePhase::Pending)
}

/// `[{"name": n, "value": v}]` as pairs.
fn pairs(v: Option<&Value>, value_key: &str) -> Vec<(String, String)> {
    v.and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|p| {
                    let name = text(p, "name")?;
                    let value = match p.get(value_key) {
                        Some(Value::String(s)) => s.clone(),
                        Some(Value::Null) | None => String::new(),
                        Some(other) => other.to_string(),
                    };
                    Some((name, value))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// One entry of `status.nodes`.
fn node(id: &str, n: &Value) -> NodeStatus {
    let outputs = n.get("outputs");
    let out = |k: &str| outputs.and_then(|o| o.get(k));
    NodeStatus {
        id: text(n, "id").unwrap_or_else(|| id.to_string()),
        name: text(n, "name").unwrap_or_else(|| id.to_string()),
        display_name: text(n, "displayName")
            .or_else(|| text(n, "name"))
            .unwrap_or_else(|| id.to_string()),
        node_type: n
            .get("type")
            .cloned()
            .and_then(|t| serde_json::from_value(t).ok())
            .unwrap_or(NodeType::Pod),
        template_name: text(n, "templateName"),
        phase: phase(n.get("phase")),
        message: text(n, "message").filter(|m| !m.is_empty()),
        started_at: parse_time(n.get("startedAt")),
        finished_at: parse_time(n.get("finishedAt")),
        children: n
            .get("children")
            .and_then(Value::as_array)
            .map(|c| {
                c.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        executor: None,
        inputs: pairs(n.get("inputs").and_then(|i| i.get("parameters")), "value"),
        outputs: NodeOutputs {
            result: out("result").and_then(Value::as_str).map(str::to_string),
            exit_code: out("exitCode").and_then(|c| match c {
                Value::String(s) => s.parse().ok(),
                other => other.as_i64().and_then(|i| i32::try_from(i).ok()),
            }),
            parameters: pairs(out("parameters"), "value"),
            artifacts: pairs(out("artifacts"), "path")
                .into_iter()
                .map(|(k, p)| (k, PathBuf::from(p)))
                .collect(),
        },
        retry_attempt: None,
        memoization: None,
    }
}

/// A workflow object as the run state the tree and header draw.
pub fn state(wf: &Value) -> RunState {
    let meta = wf.get("metadata").cloned().unwrap_or(Value::Null);
    let status = wf.get("status").cloned().unwrap_or(Value::Null);
    let mut state = RunState::new(
        text(&meta, "name").unwrap_or_default(),
        text(&meta, "uid").unwrap_or_default(),
        text(&meta, "namespace").unwrap_or_else(|| "default".to_string()),
    );
    state.phase = phase(status.get("phase"));
    state.message = text(&status, "message").filter(|m| !m.is_empty());
    state.started_at = parse_time(status.get("startedAt"))
        .or_else(|| parse_time(meta.get("creationTimestamp")))
        .unwrap_or_else(SystemTime::now);
    state.finished_at = parse_time(status.get("finishedAt"));
    if let Some(nodes) = status.get("nodes").and_then(Value::as_object) {
        for (id, n) in nodes {
            let n = node(id, n);
            state.nodes.insert(n.id.clone(), n);
        }
    }
    // The API's map has no order; creation order is start order, ties by id.
    let mut order: Vec<(Option<SystemTime>, String)> = state
        .nodes
        .values()
        .map(|n| (n.started_at, n.id.clone()))
        .collect();
    order.sort();
    state.order = order.into_iter().map(|(_, id)| id).collect();
    state
}

/// A workflow object as the row `list` draws.
pub fn summary(wf: &Value) -> RunSummary {
    let meta = wf.get("metadata").cloned().unwrap_or(Value::Null);
    let status = wf.get("status").cloned().unwrap_or(Value::Null);
    let started = parse_time(status.get("startedAt"));
    let created = parse_time(meta.get("creationTimestamp"));
    let progress = text(&status, "progress")
        .and_then(|p| {
            let (a, b) = p.split_once('/')?;
            Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
        })
        .unwrap_or((0, 0));
    RunSummary {
        name: text(&meta, "name").unwrap_or_default(),
        namespace: text(&meta, "namespace").unwrap_or_else(|| "default".to_string()),
        phase: phase(status.get("phase")),
        message: text(&status, "message").filter(|m| !m.is_empty()),
        created_at: created.or(started).unwrap_or_else(SystemTime::now),
        started_at: started.or(created).unwrap_or_else(SystemTime::now),
        finished_at: parse_time(status.get("finishedAt")),
        progress,
        priority: wf
            .get("spec")
            .and_then(|s| s.get("priority"))
            .and_then(Value::as_i64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::output::workflow_with_status;
    use crate::cli::tree::{header, tree};
    use crate::engine::rfc3339;
    use crate::engine::state::{from_millis as at, node_id};

    #[test]
    fn a_run_reads_back_into_the_same_tree() {
        let name = "wf-abc";
        let mut state = RunState::new(name.into(), "u-1".into(), "default".into());
        state.phase = NodePhase::Failed;
        state.message = Some("child failed".into());
        state.started_at = at(1_000_000);
        state.finished_at = Some(at(1_005_000));
        let root = node_id(name, name);
        let a = node_id(name, "wf-abc.a");
        let b = node_id(name, "wf-abc.b");
        let mk = |id: &str, nm: &str, disp: &str, t: NodeType, p: NodePhase, kids: Vec<String>| {
            NodeStatus {
                id: id.into(),
                name: nm.into(),
                display_name: disp.into(),
                node_type: t,
                template_name: Some(disp.into()),
                phase: p,
                message: None,
                started_at: Some(at(1_000_000)),
                finished_at: Some(at(1_003_000)),
                children: kids,
                executor: None,
                inputs: vec![("x".into(), "1".into())],
                outputs: NodeOutputs {
                    result: Some("hi".into()),
                    exit_code: Some(0),
                    parameters: vec![("p".into(), "v".into())],
                    artifacts: vec![],
                },
                retry_attempt: None,
                memoization: None,
            }
        };
        for n in [
            mk(
                &root,
                name,
                name,
                NodeType::Dag,
                NodePhase::Failed,
                vec![a.clone(), b.clone()],
            ),
            mk(
                &a,
                "wf-abc.a",
                "a",
                NodeType::Pod,
                NodePhase::Succeeded,
                vec![],
            ),
            mk(
                &b,
                "wf-abc.b",
                "b",
                NodeType::Pod,
                NodePhase::Failed,
                vec![],
            ),
        ] {
            state.order.push(n.id.clone());
            state.nodes.insert(n.id.clone(), n);
        }
        let wf: crate::spec::Workflow = serde_yaml::from_str(
            "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: wf-abc}\nspec: {entrypoint: main, templates: []}\n",
        )
        .unwrap();
        let json = workflow_with_status(&wf, &state);
        let back = super::state(&json);
        assert_eq!(header(&back), header(&state));
        assert_eq!(tree(&back), tree(&state));
        let b_back = back.node(&b).unwrap();
        assert_eq!(b_back.outputs, state.node(&b).unwrap().outputs);
        assert_eq!(b_back.inputs, state.node(&b).unwrap().inputs);
        assert_eq!(rfc3339(back.started_at), rfc3339(state.started_at));
    }

    #[test]
    fn a_list_item_without_nodes_reads_as_a_row() {
        let v = serde_json::json!({
            "metadata": {"name": "r1", "namespace": "ns", "creationTimestamp": "2026-01-02T03:04:05Z"},
            "status": {"phase": "Running", "startedAt": "2026-01-02T03:04:06Z", "progress": "1/3"},
        });
        let s = summary(&v);
        assert_eq!(s.name, "r1");
        assert_eq!(s.namespace, "ns");
        assert_eq!(s.phase, NodePhase::Running);
        assert_eq!(s.progress, (1, 3));
        assert!(s.finished_at.is_none());
        assert_eq!(rfc3339(s.created_at), "2026-01-02T03:04:05Z");
    }
}
