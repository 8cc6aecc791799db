//! The state of one run: its nodes, their phases, outputs and logs, shaped like Argo's `status.nodes`.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::spec::NodePhase;

/// What kind of node this is, with Argo's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeType {
    /// A leaf step that ran a program (Argo's pod).
    Pod,
    /// A `steps` template invocation.
    Steps,
    /// One group (inner list) of a `steps` template.
    StepGroup,
    /// A `dag` template invocation.
    #[serde(rename = "DAG")]
    Dag,
    /// A dag task expanded by a loop: the parent of its iterations.
    TaskGroup,
    /// The parent of a template's attempts when it has a `retryStrategy`.
    Retry,
    /// A step or task that did not run (`when` false, `depends` false).
    Skipped,
    /// A `suspend` template.
    Suspend,
}

/// The outputs a node produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeOutputs {
    /// `outputs.result`: the step's stdout, one trailing newline trimmed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// `outputs.exitCode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Output parameters by name, in declaration order.
    #[serde(default)]
    pub parameters: Vec<(String, String)>,
    /// Output artifacts by name: where they are stored on the host.
    #[serde(default)]
    pub artifacts: Vec<(String, PathBuf)>,
}

impl NodeOutputs {
    /// The value of output parameter `name`.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Where output artifact `name` is stored.
    pub fn artifact(&self, name: &str) -> Option<&PathBuf> {
        self.artifacts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p)
    }
}

/// One node of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatus {
    /// Argo-style id: `<run>-<fnv32a of the name>`, or the run name for the root.
    pub id: String,
    /// Full name, e.g. `steps-x7k2p[0].hello1`.
    pub name: String,
    /// The name shown in trees, e.g. `hello1`.
    pub display_name: String,
    /// The kind of node.
    #[serde(rename = "type")]
    pub node_type: NodeType,
    /// The template it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_name: Option<String>,
    /// Where it stands.
    pub phase: NodePhase,
    /// Why it failed or was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When it started.
    #[serde(default, with = "millis")]
    pub started_at: Option<SystemTime>,
    /// When it finished.
    #[serde(default, with = "millis")]
    pub finished_at: Option<SystemTime>,
    /// Ids of its children, in creation order.
    pub children: Vec<String>,
    /// The executor that ran a leaf step (`toolbox`, `wasm`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executor: Option<String>,
    /// Input parameters it was called with.
    pub inputs: Vec<(String, String)>,
    /// What it produced.
    pub outputs: NodeOutputs,
    /// For a retry node's attempts: which attempt this is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_attempt: Option<u32>,
    /// Set when the template's `memoize` cache was consulted: whether it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memoization: Option<Memoization>,
}

/// What a node's `memoize` cache did, shaped as Argo's `memoizationStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Memoization {
    /// Whether the outputs came from the cache (the step did not run).
    pub hit: bool,
    /// The cache key.
    pub key: String,
    /// The cache's name (`memoize.cache.configMap.name`).
    pub cache_name: String,
}

/// Times as milliseconds since the Unix epoch, for the store.
mod millis {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        t: &Option<SystemTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&super::to_millis(*t)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<SystemTime>, D::Error> {
        let ms = Option::<i64>::deserialize(d)?;
        Ok(ms.map(|ms| UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64)))
    }
}

/// A time as milliseconds since the Unix epoch (0 before it).
pub fn to_millis(t: SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The time `ms` milliseconds after the Unix epoch.
pub fn from_millis(ms: i64) -> SystemTime {
    std::time::UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64)
}

impl NodeStatus {
    /// How long it ran, up to `now` while running.
    pub fn duration(&self, now: SystemTime) -> Option<Duration> {
        let start = self.started_at?;
        let end = self.finished_at.unwrap_or(now);
        end.duration_since(start).ok()
    }
}

/// Argo's node id: the run name, a dash, and the 32-bit FNV-1a hash of the node name.
pub fn node_id(run_name: &str, node_name: &str) -> String {
    if run_name == node_name {
        return run_name.to_string();
    }
    let mut hash: u32 = 0x811c_9dc5;
    for byte in node_name.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    format!("{run_name}-{hash}")
}

/// Everything known about one run.
#[derive(Debug, Clone)]
pub struct RunState {
    /// The run's name (`metadata.name`, or `generateName` plus a suffix).
    pub name: String,
    /// A unique id.
    pub uid: String,
    /// The namespace reported to templates (`default` locally).
    pub namespace: String,
    /// The run's phase.
    pub phase: NodePhase,
    /// Why the run failed.
    pub message: Option<String>,
    /// When it started.
    pub started_at: SystemTime,
    /// When it finished.
    pub finished_at: Option<SystemTime>,
    /// Nodes by id.
    pub nodes: HashMap<String, NodeStatus>,
    /// Ids in creation order.
    pub order: Vec<String>,
    /// Logs by node id (stdout and stderr of leaf steps, interleaved).
    pub logs: BTreeMap<String, Vec<u8>>,
}

impl RunState {
    /// A new run with no nodes.
    pub fn new(name: String, uid: String, namespace: String) -> Self {
        Self {
            name,
            uid,
            namespace,
            phase: NodePhase::Running,
            message: None,
            started_at: SystemTime::now(),
            finished_at: None,
            nodes: HashMap::new(),
            order: Vec::new(),
            logs: BTreeMap::new(),
        }
    }

    /// The root node (the entrypoint's), if it exists yet.
    pub fn root(&self) -> Option<&NodeStatus> {
        self.nodes.get(&self.name)
    }

    /// The node with this id.
    pub fn node(&self, id: &str) -> Option<&NodeStatus> {
        self.nodes.get(id)
    }

    /// Nodes in creation order.
    pub fn nodes_in_order(&self) -> impl Iterator<Item = &NodeStatus> {
        self.order.iter().filter_map(|id| self.nodes.get(id))
    }

    /// Leaf nodes that ran, and how many of them finished: argo's `Progress: n/m`.
    pub fn progress(&self) -> (usize, usize) {
        let pods = self.nodes.values().filter(|n| n.node_type == NodeType::Pod);
        let (mut done, mut all) = (0, 0);
        for node in pods {
            all += 1;
            if node.phase.is_completed() {
                done += 1;
            }
        }
        (done, all)
    }

    /// How long the run took, up to now while running.
    pub fn duration(&self) -> Duration {
        let end = self.finished_at.unwrap_or_else(SystemTime::now);
        end.duration_since(self.started_at).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ids_hash_like_argo() {
        assert_eq!(node_id("wf", "wf"), "wf");
        // FNV-1a of the empty string is the offset basis.
        assert_eq!(node_id("wf", ""), "wf-2166136261");
        assert_eq!(node_id("wf", "a"), "wf-3826002220");
    }
}
