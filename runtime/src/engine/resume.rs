//! Taking a recorded run up again: which nodes `skiff retry` keeps, and how kept nodes are found again
//! when the run is driven a second time.
//!
//! Argo's `retry` resets the nodes that did not succeed, and their ancestors, and keeps the rest: the
//! controller then walks the workflow again and skips what is already done. skiff does the same with
//! the node *names*, which are the same on every walk (`run[0].step(1)`): when the engine is about to
//! call a template under a name whose recorded node is kept, it puts that node and everything under it
//! back into the run instead of running it ([`Resume::restorable`]).
//!
//! A node is reset (runs again) when its phase is not `Succeeded` or `Skipped`, when one of its
//! descendants is reset, or, with `--restart-successful`, when it matches the node field selector. The
//! exit handler always runs again, as in Argo.

use std::collections::{HashMap, HashSet};

use crate::engine::state::{NodeStatus, RunState, node_id};
use crate::spec::NodePhase;

/// A recorded run taken up again.
#[derive(Debug, Clone, Default)]
pub struct Resume {
    /// The recorded run the kept nodes come from.
    pub from_run: String,
    /// Whether this continues that run under its own name (`skiff retry`), rather than starting a new
    /// run that reuses its nodes (`skiff resubmit --memoized`).
    pub retry: bool,
    /// For a retry: the run's uid, kept.
    pub uid: Option<String>,
    /// The nodes kept, as recorded (see [`retry_plan`]).
    pub keep: Vec<NodeStatus>,
}

/// Argo's `--node-field-selector`: `field=value` or `field!=value` terms, comma-separated, all of which
/// must hold. Fields: `id`, `name`, `displayName`, `templateName`, `phase`, `type`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeSelector {
    terms: Vec<(String, bool, String)>,
}

impl NodeSelector {
    /// Parses a selector.
    ///
    /// # Errors
    /// A message naming the term that is not `field=value` or names an unknown field.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut terms = Vec::new();
        for term in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (field, equal, value) = if let Some((f, v)) = term.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = term.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = term.split_once('=') {
                (f, true, v)
            } else {
                return Err(format!(
                    "node field selector term '{term}' is not field=value or field!=value"
                ));
            };
            let field = field.trim();
            if !matches!(
                field,
                "id" | "name" | "displayName" | "templateName" | "phase" | "type"
            ) {
                return Err(format!(
                    "node field selector: unknown field '{field}' (known: id, name, displayName, templateName, phase, type)"
                ));
            }
            terms.push((field.to_string(), equal, value.trim().to_string()));
        }
        Ok(Self { terms })
    }

    /// Whether `node` matches every term (an empty selector matches every node).
    pub fn matches(&self, node: &NodeStatus) -> bool {
        self.terms.iter().all(|(field, equal, value)| {
            let actual = match field.as_str() {
                "id" => node.id.clone(),
                "name" => node.name.clone(),
                "displayName" => node.display_name.clone(),
                "templateName" => node.template_name.clone().unwrap_or_default(),
                "phase" => node.phase.as_str().to_string(),
                _ => serde_json::to_value(node.node_type)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
            };
            (actual == *value) == *equal
        })
    }
}

/// The nodes of a recorded run that a retry keeps (see the module doc), in the run's order.
/// `restart` is `Some(selector)` for `--restart-successful`.
pub fn retry_plan(state: &RunState, restart: Option<&NodeSelector>) -> Vec<NodeStatus> {
    fn reset(
        state: &RunState,
        id: &str,
        restart: Option<&NodeSelector>,
        memo: &mut HashMap<String, bool>,
    ) -> bool {
        if let Some(r) = memo.get(id) {
            return *r;
        }
        let Some(node) = state.node(id) else {
            return true;
        };
        // Insert first: a malformed record with a cycle must not recurse forever.
        memo.insert(id.to_string(), true);
        let mut r = !matches!(node.phase, NodePhase::Succeeded | NodePhase::Skipped)
            || restart.is_some_and(|s| s.matches(node));
        for child in &node.children {
            r |= reset(state, child, restart, memo);
        }
        memo.insert(id.to_string(), r);
        r
    }
    let mut memo = HashMap::new();
    let root = state.name.clone();
    reset(state, &root, restart, &mut memo);
    // Only the entrypoint's tree: the exit handler runs again.
    let mut kept = HashSet::new();
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        let Some(node) = state.node(&id) else {
            continue;
        };
        if memo.get(&id) == Some(&false) {
            kept.insert(id);
        }
        stack.extend(node.children.iter().cloned());
    }
    state
        .nodes_in_order()
        .filter(|n| kept.contains(&n.id))
        .cloned()
        .collect()
}

impl Resume {
    /// The kept nodes by node name (renamed into run `run` when it is a new run), each with the subtree
    /// under it: what the engine puts back instead of running a call of that name.
    pub(crate) fn restorable(&self, run: &str) -> HashMap<String, Vec<NodeStatus>> {
        let rename = |name: &str| -> String {
            if run == self.from_run {
                return name.to_string();
            }
            match name.strip_prefix(&self.from_run) {
                Some(rest) => format!("{run}{rest}"),
                None => name.to_string(),
            }
        };
        // New ids for a new run, children relinked.
        let ids: HashMap<String, String> = self
            .keep
            .iter()
            .map(|n| (n.id.clone(), node_id(run, &rename(&n.name))))
            .collect();
        let by_id: HashMap<&str, &NodeStatus> =
            self.keep.iter().map(|n| (n.id.as_str(), n)).collect();
        // Every kept node, not only the tops of kept subtrees: a step group or a dag is not a call of its
        // own, so the engine looks up the steps under it by their names.
        let mut out = HashMap::new();
        for top in &self.keep {
            let mut subtree = Vec::new();
            let mut stack = vec![top.id.as_str()];
            while let Some(id) = stack.pop() {
                let Some(&recorded) = by_id.get(id) else {
                    continue;
                };
                stack.extend(recorded.children.iter().rev().map(String::as_str));
                let mut node = recorded.clone();
                node.name = rename(&node.name);
                node.id = ids.get(&node.id).cloned().unwrap_or(node.id);
                node.children = node
                    .children
                    .iter()
                    .map(|c| ids.get(c).cloned().unwrap_or_else(|| c.clone()))
                    .collect();
                subtree.push(node);
            }
            out.insert(rename(&top.name), subtree);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::state::{NodeOutputs, NodeType};

    fn add(state: &mut RunState, name: &str, parent: Option<&str>, phase: NodePhase) -> String {
        let id = node_id(&state.name, name);
        state.nodes.insert(
            id.clone(),
            NodeStatus {
                id: id.clone(),
                name: name.to_string(),
                display_name: name.rsplit('.').next().unwrap_or(name).to_string(),
                node_type: if parent.is_some() {
                    NodeType::Pod
                } else {
                    NodeType::Steps
                },
                template_name: Some(format!("t-{name}")),
                phase,
                message: None,
                started_at: None,
                finished_at: None,
                children: vec![],
                executor: None,
                inputs: vec![],
                outputs: NodeOutputs::default(),
                retry_attempt: None,
                memoization: None,
            },
        );
        state.order.push(id.clone());
        if let Some(p) = parent {
            let pid = node_id(&state.name, p);
            state.nodes.get_mut(&pid).unwrap().children.push(id.clone());
        }
        id
    }

    fn run() -> RunState {
        let mut s = RunState::new("wf".into(), "u".into(), "default".into());
        add(&mut s, "wf", None, NodePhase::Failed);
        add(&mut s, "wf.a", Some("wf"), NodePhase::Succeeded);
        add(&mut s, "wf.skip", Some("wf"), NodePhase::Skipped);
        add(&mut s, "wf.b", Some("wf"), NodePhase::Failed);
        add(&mut s, "wf.onExit", None, NodePhase::Succeeded);
        s
    }

    fn names(nodes: &[NodeStatus]) -> Vec<&str> {
        nodes.iter().map(|n| n.name.as_str()).collect()
    }

    #[test]
    fn retry_keeps_what_succeeded_or_was_skipped_but_not_the_exit_handler() {
        assert_eq!(names(&retry_plan(&run(), None)), ["wf.a", "wf.skip"]);
    }

    #[test]
    fn restart_successful_resets_the_selected_nodes() {
        let sel = NodeSelector::parse("displayName=a").unwrap();
        assert_eq!(names(&retry_plan(&run(), Some(&sel))), ["wf.skip"]);
        let none = NodeSelector::parse("templateName!=t-wf.a").unwrap();
        assert_eq!(names(&retry_plan(&run(), Some(&none))), ["wf.a"]);
    }

    #[test]
    fn a_succeeded_parent_with_a_failed_child_runs_again() {
        let mut s = RunState::new("wf".into(), "u".into(), "default".into());
        add(&mut s, "wf", None, NodePhase::Succeeded);
        add(&mut s, "wf.a", Some("wf"), NodePhase::Succeeded);
        add(&mut s, "wf.b", Some("wf"), NodePhase::Failed);
        assert_eq!(names(&retry_plan(&s, None)), ["wf.a"]);
    }

    #[test]
    fn selectors_reject_what_they_cannot_read() {
        assert!(
            NodeSelector::parse("colour=red")
                .unwrap_err()
                .contains("unknown field")
        );
        assert!(
            NodeSelector::parse("phase")
                .unwrap_err()
                .contains("field=value")
        );
        assert_eq!(NodeSelector::parse("").unwrap(), NodeSelector::default());
    }

    #[test]
    fn a_new_run_gets_the_kept_nodes_renamed() {
        let s = run();
        let resume = Resume {
            from_run: "wf".into(),
            retry: false,
            uid: None,
            keep: retry_plan(&s, None),
        };
        let map = resume.restorable("wf-2");
        let a = &map["wf-2.a"][0];
        assert_eq!(a.name, "wf-2.a");
        assert_eq!(a.id, node_id("wf-2", "wf-2.a"));
        let same = Resume {
            retry: true,
            ..resume
        }
        .restorable("wf");
        assert_eq!(same["wf.a"][0].id, node_id("wf", "wf.a"));
    }
}
