//! A run as an Argo `Workflow` object with its `status`, for `-o json|yaml`.

use serde_json::{Map, Value, json};

use crate::engine::{RunState, rfc3339};
use crate::spec::Workflow;

/// The workflow with `metadata.name` set and a `status` shaped like Argo's (`phase`, `startedAt`,
/// `finishedAt`, `progress`, `message`, and `nodes` keyed by node id).
pub fn workflow_with_status(workflow: &Workflow, state: &RunState) -> Value {
    let mut wf = serde_json::to_value(workflow).unwrap_or(Value::Null);
    if let Some(meta) = wf.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("name".into(), Value::String(state.name.clone()));
        meta.insert("namespace".into(), Value::String(state.namespace.clone()));
        meta.insert("uid".into(), Value::String(state.uid.clone()));
    }
    let mut nodes = Map::new();
    for n in state.nodes_in_order() {
        let mut node = json!({
            "id": n.id,
            "name": n.name,
            "displayName": n.display_name,
            "type": n.node_type,
            "phase": n.phase.as_str(),
            "startedAt": n.started_at.map(rfc3339),
            "finishedAt": n.finished_at.map(rfc3339),
        });
        let obj = node.as_object_mut().expect("object");
        if let Some(t) = &n.template_name {
            obj.insert("templateName".into(), json!(t));
        }
        if let Some(m) = &n.message {
            obj.insert("message".into(), json!(m));
        }
        if !n.children.is_empty() {
            obj.insert("children".into(), json!(n.children));
        }
        if !n.inputs.is_empty() {
            let params: Vec<Value> = n
                .inputs
                .iter()
                .map(|(k, v)| json!({"name": k, "value": v}))
                .collect();
            obj.insert("inputs".into(), json!({"parameters": params}));
        }
        let mut outputs = Map::new();
        if let Some(r) = &n.outputs.result {
            outputs.insert("result".into(), json!(r));
        }
        if let Some(c) = n.outputs.exit_code {
            outputs.insert("exitCode".into(), json!(c.to_string()));
        }
        if !n.outputs.parameters.is_empty() {
            let params: Vec<Value> = n
                .outputs
                .parameters
                .iter()
                .map(|(k, v)| json!({"name": k, "value": v}))
                .collect();
            outputs.insert("parameters".into(), json!(params));
        }
        if !n.outputs.artifacts.is_empty() {
            let arts: Vec<Value> = n
                .outputs
                .artifacts
                .iter()
                .map(|(k, p)| json!({"name": k, "path": p}))
                .collect();
            outputs.insert("artifacts".into(), json!(arts));
        }
        if !outputs.is_empty() {
            obj.insert("outputs".into(), Value::Object(outputs));
        }
        nodes.insert(n.id.clone(), node);
    }
    let (done, all) = state.progress();
    let mut status = json!({
        "phase": state.phase.as_str(),
        "startedAt": rfc3339(state.started_at),
        "finishedAt": state.finished_at.map(rfc3339),
        "progress": format!("{done}/{all}"),
        "nodes": nodes,
    });
    if let Some(m) = &state.message {
        status["message"] = json!(m);
    }
    if let Some(obj) = wf.as_object_mut() {
        obj.insert("status".into(), status);
    }
    wf
}
