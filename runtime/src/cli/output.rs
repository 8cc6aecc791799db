//! A run as an Argo `Workflow` object with its `status`, for `-o json|yaml` and the server.
//!
//! [`WithStatus`] serializes straight from the run's state, borrowing it: a run of 10,000 nodes is
//! written without first building a `serde_json::Value` per node. Its keys come out sorted, as they
//! did from a `Value` (serde_json's maps are sorted): the fields are declared in that order.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::engine::{NodeStatus, NodeType, RunState, rfc3339};
use crate::spec::Workflow;

/// The workflow with `metadata.name` set and a `status` shaped like Argo's (`phase`, `startedAt`,
/// `finishedAt`, `progress`, `message`, and `nodes` keyed by node id), as a JSON value (for callers
/// that change it; printing goes through [`WithStatus`] directly).
pub fn workflow_with_status(workflow: &Workflow, state: &RunState) -> Value {
    serde_json::to_value(WithStatus::new(workflow, state)).unwrap_or(Value::Null)
}

/// The workflow and its status, ready to serialize (see the module's docs).
#[derive(Debug, Serialize)]
pub struct WithStatus<'a> {
    #[serde(flatten)]
    workflow: Map<String, Value>,
    status: Status<'a>,
}

impl<'a> WithStatus<'a> {
    /// `workflow` named as the run is, with the run's status.
    pub fn new(workflow: &Workflow, state: &'a RunState) -> Self {
        let mut wf = match serde_json::to_value(workflow) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        if let Some(meta) = wf.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("name".into(), Value::String(state.name.clone()));
            meta.insert("namespace".into(), Value::String(state.namespace.clone()));
            meta.insert("uid".into(), Value::String(state.uid.clone()));
        }
        let (done, all) = state.progress();
        let status = Status {
            finished_at: state.finished_at.map(rfc3339),
            message: state.message.as_deref(),
            nodes: state
                .nodes_in_order()
                .map(|n| (n.id.as_str(), Node::new(n)))
                .collect(),
            phase: state.phase.as_str(),
            progress: format!("{done}/{all}"),
            started_at: rfc3339(state.started_at),
        };
        WithStatus {
            workflow: wf,
            status,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Status<'a> {
    finished_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    nodes: BTreeMap<&'a str, Node<'a>>,
    phase: &'a str,
    progress: String,
    started_at: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Node<'a> {
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    children: &'a [String],
    display_name: &'a str,
    finished_at: Option<String>,
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    inputs: Option<Inputs<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    name: &'a str,
    #[serde(skip_serializing_if = "Outputs::is_empty")]
    outputs: Outputs<'a>,
    phase: &'a str,
    started_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    template_name: Option<&'a str>,
    #[serde(rename = "type")]
    node_type: &'a NodeType,
}

impl<'a> Node<'a> {
    fn new(n: &'a NodeStatus) -> Self {
        Node {
            children: &n.children,
            display_name: &n.display_name,
            finished_at: n.finished_at.map(rfc3339),
            id: &n.id,
            inputs: (!n.inputs.is_empty()).then(|| Inputs {
                parameters: params(&n.inputs),
            }),
            message: n.message.as_deref(),
            name: &n.name,
            outputs: Outputs {
                artifacts: n
                    .outputs
                    .artifacts
                    .iter()
                    .map(|(name, path)| Artifact { name, path })
                    .collect(),
                exit_code: n.outputs.exit_code.map(|c| c.to_string()),
                parameters: params(&n.outputs.parameters),
                result: n.outputs.result.as_deref(),
            },
            phase: n.phase.as_str(),
            started_at: n.started_at.map(rfc3339),
            template_name: n.template_name.as_deref(),
            node_type: &n.node_type,
        }
    }
}

fn params(list: &[(String, String)]) -> Vec<Param<'_>> {
    list.iter()
        .map(|(name, value)| Param { name, value })
        .collect()
}

#[derive(Debug, Serialize)]
struct Inputs<'a> {
    parameters: Vec<Param<'a>>,
}

#[derive(Debug, Serialize)]
struct Param<'a> {
    name: &'a str,
    value: &'a str,
}

#[derive(Debug, Serialize)]
struct Artifact<'a> {
    name: &'a str,
    path: &'a PathBuf,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Outputs<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    artifacts: Vec<Artifact<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exit_code: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    parameters: Vec<Param<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<&'a str>,
}

impl Outputs<'_> {
    fn is_empty(&self) -> bool {
        self.artifacts.is_empty()
            && self.exit_code.is_none()
            && self.parameters.is_empty()
            && self.result.is_none()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::engine::NodeOutputs;
    use crate::spec::NodePhase;

    fn node(id: &str, full: bool) -> NodeStatus {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        NodeStatus {
            id: id.to_string(),
            name: format!("wf.{id}"),
            display_name: id.to_string(),
            node_type: if full { NodeType::Pod } else { NodeType::Steps },
            template_name: full.then(|| "t".to_string()),
            phase: NodePhase::Succeeded,
            message: full.then(|| "said \"so\"".to_string()),
            started_at: full.then_some(at),
            finished_at: full.then_some(at + Duration::from_secs(2)),
            children: if full { vec![] } else { vec!["a".into()] },
            executor: None,
            inputs: if full {
                vec![("x".into(), "1".into())]
            } else {
                vec![]
            },
            outputs: if full {
                NodeOutputs {
                    result: Some("r".into()),
                    exit_code: Some(0),
                    parameters: vec![("p".into(), "v".into())],
                    artifacts: vec![("art".into(), PathBuf::from("/store/art"))],
                }
            } else {
                NodeOutputs::default()
            },
            retry_attempt: None,
            memoization: None,
        }
    }

    #[test]
    fn the_status_is_written_with_sorted_keys_and_argos_shape() {
        let mut state = RunState::new("wf".into(), "u".into(), "default".into());
        for (id, full) in [("z", false), ("a", true)] {
            state.nodes.insert(id.into(), node(id, full));
            state.order.push(id.into());
        }
        state.message = Some("done".into());
        let workflow: Workflow = crate::spec::parse_workflow(
            "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {generateName: wf-}\nspec:\n  entrypoint: t\n  templates:\n  - name: t\n    container: {image: alpine}\n",
            std::path::Path::new("wf.yaml"),
        )
        .unwrap()
        .workflow;
        let typed = serde_json::to_string(&WithStatus::new(&workflow, &state)).unwrap();
        // A `Value` sorts its keys: the typed writer must already have written them sorted.
        let value = workflow_with_status(&workflow, &state);
        assert_eq!(typed, serde_json::to_string(&value).unwrap());

        let a = &value["status"]["nodes"]["a"];
        assert_eq!(a["type"], "Pod");
        assert_eq!(
            a["inputs"]["parameters"][0],
            serde_json::json!({"name": "x", "value": "1"})
        );
        assert_eq!(a["outputs"]["exitCode"], "0");
        assert_eq!(a["outputs"]["artifacts"][0]["path"], "/store/art");
        assert_eq!(a["message"], "said \"so\"");
        let z = value["status"]["nodes"]["z"].as_object().unwrap();
        // Absent fields are left out, except the times, which Argo writes as null.
        let keys: Vec<&str> = z.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "children",
                "displayName",
                "finishedAt",
                "id",
                "name",
                "phase",
                "startedAt",
                "type"
            ]
        );
        assert_eq!(value["status"]["progress"], "1/1");
        assert_eq!(value["status"]["message"], "done");
        assert_eq!(value["metadata"]["name"], "wf");
    }
}
