//! The variables a template sees: its inputs, the outputs of steps and tasks before it, loop items.
//!
//! Values are strings, as Argo's are; artifacts are kept apart as paths in the artifact store, reached by the
//! same names (`steps.gen.outputs.artifacts.out`) from an argument's `from`.

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::Value;

use crate::engine::state::NodeOutputs;
use crate::expr::items::{item_field, item_text};
use crate::spec::NodePhase;

/// Variables visible at one point of a run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    vars: HashMap<String, String>,
    artifacts: HashMap<String, PathBuf>,
}

impl Scope {
    /// Sets a variable.
    pub(crate) fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.vars.insert(name.into(), value.into());
    }

    /// Sets an artifact reference.
    pub(crate) fn set_artifact(&mut self, name: impl Into<String>, path: PathBuf) {
        self.artifacts.insert(name.into(), path);
    }

    /// A variable's value.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// An artifact's stored path.
    pub(crate) fn artifact(&self, name: &str) -> Option<&PathBuf> {
        self.artifacts.get(name)
    }

    /// Records what a finished step or task left, under `prefix` (`steps.NAME` or `tasks.NAME`).
    pub(crate) fn add_node_outputs(
        &mut self,
        prefix: &str,
        id: &str,
        phase: NodePhase,
        outputs: &NodeOutputs,
    ) {
        self.set(format!("{prefix}.id"), id);
        self.set(format!("{prefix}.status"), phase.as_str());
        if let Some(code) = outputs.exit_code {
            self.set(format!("{prefix}.exitCode"), code.to_string());
        }
        if let Some(result) = &outputs.result {
            self.set(format!("{prefix}.outputs.result"), result.clone());
        }
        for (name, value) in &outputs.parameters {
            self.set(format!("{prefix}.outputs.parameters.{name}"), value.clone());
        }
        for (name, path) in &outputs.artifacts {
            self.set_artifact(format!("{prefix}.outputs.artifacts.{name}"), path.clone());
        }
    }

    /// Records the outputs of a step or task expanded by a loop, aggregated as Argo aggregates them:
    /// `outputs.result` is a JSON list of the results (each parsed as JSON when it is JSON),
    /// `outputs.parameters` a JSON list of maps, `outputs.parameters.P` a JSON list of P's values.
    pub(crate) fn add_loop_outputs(
        &mut self,
        prefix: &str,
        id: &str,
        phase: NodePhase,
        children: &[&NodeOutputs],
    ) {
        self.set(format!("{prefix}.id"), id);
        self.set(format!("{prefix}.status"), phase.as_str());
        let mut results = Vec::new();
        let mut maps = Vec::new();
        let mut by_name: Vec<(String, Vec<Value>)> = Vec::new();
        for out in children {
            if let Some(result) = &out.result {
                results.push(
                    serde_json::from_str::<Value>(result)
                        .unwrap_or_else(|_| Value::String(result.clone())),
                );
            }
            if !out.parameters.is_empty() {
                let mut map = serde_json::Map::new();
                for (name, value) in &out.parameters {
                    map.insert(name.clone(), Value::String(value.clone()));
                    match by_name.iter_mut().find(|(n, _)| n == name) {
                        Some((_, values)) => values.push(Value::String(value.clone())),
                        None => by_name.push((name.clone(), vec![Value::String(value.clone())])),
                    }
                }
                maps.push(Value::Object(map));
            }
        }
        self.set(
            format!("{prefix}.outputs.result"),
            Value::Array(results).to_string(),
        );
        if !maps.is_empty() {
            self.set(
                format!("{prefix}.outputs.parameters"),
                Value::Array(maps).to_string(),
            );
        }
        for (name, values) in by_name {
            self.set(
                format!("{prefix}.outputs.parameters.{name}"),
                Value::Array(values).to_string(),
            );
        }
    }
}

/// A scope with a loop item on top.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame<'a> {
    /// The scope of the template.
    pub(crate) scope: &'a Scope,
    /// The current loop item, if any.
    pub(crate) item: Option<&'a Value>,
}

impl Frame<'_> {
    /// Looks a variable up: the loop item, then the scope.
    pub(crate) fn lookup(&self, name: &str) -> Option<String> {
        if let Some(item) = self.item {
            if name == "item" {
                return Some(item_text(item));
            }
            if let Some(path) = name.strip_prefix("item.") {
                return item_field(item, path);
            }
        }
        self.scope.get(name).map(str::to_string)
    }
}
