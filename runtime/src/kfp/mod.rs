//! Kubeflow Pipelines: translating a compiled KFP v2 pipeline (the IR YAML, a `PipelineSpec`) into an Argo
//! `Workflow` that skiff's engine runs, and the Python shim that runs KFP lightweight python components.
//!
//! This module owns the translation and nothing else: it reads text and returns text, with no IO. The
//! caller parses the result with [`crate::spec::parse_workflow`] and runs it like any workflow; after the
//! run, the entrypoint node's output parameters named in [`Translation::outputs`](crate::kfp::Translation::outputs) are the pipeline's
//! outputs, and every node output parameter whose name starts with [`METRICS_PREFIX`](crate::kfp::METRICS_PREFIX) holds metrics (a
//! JSON object, name to number).
//!
//! # How a pipeline maps to Argo
//!
//! | KFP (IR) | Argo |
//! |---|---|
//! | `root` | the entrypoint: a `dag` template named after the pipeline; its inputs come from `spec.arguments.parameters`, one per pipeline input, with the default as `value` (a required input without a default gets its type's zero value, so that every pipeline runs without arguments) |
//! | a component with a `dag` | a `dag` template; its `inputDefinitions` are the template's inputs, its `dag.outputs` its outputs (`valueFrom.parameter`, artifact `from`) |
//! | a component with an `executorLabel`, lightweight python (`kfp.dsl.executor_main`) | a `script` template on `python:3.11`, `command: [python3]`, whose source is the [shim](crate::kfp::SHIM_SOURCE), the component's source, and a call with a JSON configuration |
//! | any other container component | a `container` template: the image, `command` and `args` with KFP's placeholders resolved |
//! | a task | a dag task: `componentInputParameter` → `{{inputs.parameters.X}}`, `taskOutputParameter` → `{{tasks.T.outputs.parameters.K}}`, `runtimeValue.constant` → the constant, `taskOutputArtifact` → `from: "{{tasks.T.outputs.artifacts.K}}"`, `componentInputArtifact` → `from: "{{inputs.artifacts.X}}"`, `taskFinalStatus` → a JSON object holding `{{tasks.T.status}}` |
//! | `dependentTasks` | `dependencies`; with `triggerPolicy.strategy: ALL_UPSTREAM_TASKS_COMPLETED`, a `depends` that accepts any end of each upstream task, and the dag keeps scheduling after a failure (`failFast: false`) with every task a `target`, so the run still fails |
//! | `triggerPolicy.condition` (CEL) | `when` (see the `cel` submodule for the subset understood) |
//! | `parameterIterator` | `withItems` (`items.raw`) or `withParam` (`items.inputParameter`), the item passed as `{{item}}`; with `iteratorPolicy.parallelismLimit`, the loop runs inside a wrapper dag template whose `parallelism` is the limit |
//! | outputs collected from a loop (`dsl.Collected`) | Argo's aggregated loop outputs (a JSON list of each iteration's value); the consuming python component decodes each element by the producer's type |
//! | `retryPolicy` | `retryStrategy` (`limit`, `backoff.duration`, `backoff.factor`, `backoff.maxDuration`) on the task's template |
//! | `cachingOptions` | ignored: skiff has no cache for `memoize` yet |
//!
//! # Values
//! Argo parameters are strings, so KFP's typed values are encoded: a `STRING` is its raw text; every other
//! type (`NUMBER_INTEGER`, `NUMBER_DOUBLE`, `BOOLEAN`, `LIST`, `STRUCT`, `TASK_FINAL_STATUS`) is its JSON
//! text, integers as integers (the IR writes an integer default `7` as `7.0`; it is passed as `7`). An
//! optional input with no default is passed as [`ABSENT`](crate::kfp::ABSENT), and the shim leaves that argument out.
//!
//! # Files inside a step
//! - input parameter `n` (the n-th input of the component, counting parameters then input artifacts'
//!   metadata): environment variable `SKIFF_KFP_IN_<n>` (python components only; container components get
//!   them in their argv);
//! - input artifact `a`: placed at `/kfp/in/a`; its metadata (a JSON object) in the input parameter
//!   `skiff-meta-a`;
//! - output parameter `p`: written to `/tmp/kfp-param-p` (read back as the output parameter `p`);
//! - output artifact `b`: written to `/tmp/kfp-artifact-b` (a file or a directory); its metadata to
//!   `/tmp/kfp-metadata-b` (the output parameter `skiff-meta-b`);
//! - metrics of a `system.Metrics` output artifact `m`: `/tmp/kfp-metrics-m` (the output parameter
//!   `skiff-metrics-m`).
//!
//! What is not supported (each refused with an error naming the line): loops over artifacts, artifacts
//! collected from a loop, `dsl.OneOf`, `parameterExpressionSelector` (fields of loop items), importers and
//! other non-container executors, pipeline-level input artifacts, and CEL outside the subset above.
//! `docs/kfp.md` is the user's version of this page.

mod cel;
mod container;
mod ir;
mod locate;
mod python;
mod translate;

use std::path::Path;

use thiserror::Error;

use crate::spec::{Location, SpecError};

/// The Python source that runs a lightweight component: it stands in for `kfp.dsl.executor_main`.
/// Every python template's `source` starts with it.
pub const SHIM_SOURCE: &str = include_str!("shim.py");

/// The prefix of the output parameters that hold a step's metrics (`skiff-metrics-<artifact name>`): the
/// engine's own convention, which Argo template metrics use too.
pub use crate::engine::METRICS_PREFIX;

/// The prefix of the parameters that carry an artifact's metadata (`skiff-meta-<artifact name>`).
pub const METADATA_PREFIX: &str = "skiff-meta-";

/// The value an optional input without a default gets when a task leaves it out: the shim then leaves
/// the argument out of the call, so the function's own default applies.
pub const ABSENT: &str = "__skiff_kfp_absent__";

/// A compiled pipeline translated into an Argo workflow.
#[derive(Debug, Clone, PartialEq)]
pub struct Translation {
    /// An Argo `Workflow` document that [`crate::spec::parse_workflow`] accepts.
    pub yaml: String,
    /// The pipeline's name (`pipelineInfo.name`).
    pub pipeline_name: String,
    /// The pipeline's output parameters: output parameters of the entrypoint template, in name order
    /// (the `skiff-meta-*` parameters that carry output artifacts' metadata left out).
    pub outputs: Vec<String>,
}

/// A compiled pipeline that cannot be translated: a user error, never a bug of skiff's.
///
/// Displayed as `{file}:{line}:{column}: {message}`, followed by `\n  help: {help}` when there is help,
/// as a [`SpecError`] is.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct KfpError(SpecError);

impl KfpError {
    /// An error at `file`:`line`:`column`.
    pub(crate) fn new(
        file: &Path,
        (line, column): (usize, usize),
        message: impl Into<String>,
    ) -> Self {
        KfpError(SpecError::new(Location::new(file, line, column), message))
    }

    /// The same error with `help` (what to do).
    #[must_use]
    pub(crate) fn with_help(self, help: impl Into<String>) -> Self {
        KfpError(self.0.with_help(help))
    }

    /// Where the problem is.
    pub fn location(&self) -> &Location {
        &self.0.location
    }

    /// The error as a [`SpecError`], for callers that report both kinds alike.
    pub fn into_spec_error(self) -> SpecError {
        self.0
    }
}

impl From<KfpError> for SpecError {
    fn from(e: KfpError) -> Self {
        e.0
    }
}

/// Whether a parsed YAML document is a KFP v2 IR pipeline: a mapping with `root` and at least one of
/// `pipelineInfo`, `deploymentSpec`, `components` or `schemaVersion`, and neither `apiVersion` nor `kind`.
pub fn is_pipeline_spec(doc: &serde_yaml::Value) -> bool {
    let Some(map) = doc.as_mapping() else {
        return false;
    };
    let has = |key: &str| map.contains_key(key);
    !has("apiVersion")
        && !has("kind")
        && has("root")
        && (has("pipelineInfo")
            || has("deploymentSpec")
            || has("components")
            || has("schemaVersion"))
}

/// Translates the compiled pipeline in `src` into an Argo workflow. `file` is only used in error messages.
///
/// A file may hold several YAML documents (KFP writes a second one for platform settings): the first
/// pipeline among them is translated; the others are ignored.
///
/// # Errors
/// A [`KfpError`] naming `file:line:column`, what is wrong and what to do: malformed YAML, a document that
/// is not a pipeline, a task that refers to a missing component, task or input, an input with no source,
/// CEL outside the subset skiff translates, and the constructs listed as unsupported in the
/// [module documentation](self).
pub fn to_argo(src: &str, file: &Path) -> Result<Translation, KfpError> {
    translate::translate(src, file)
}

#[cfg(test)]
mod tests;
