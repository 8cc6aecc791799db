//! Executors: what runs one step.
//!
//! - [`wasm`]: the wasmtime sandbox every local step runs in;
//! - [`guests`]: the wasm programs skiff ships (the toolbox), built by `build.rs` and embedded;
//! - [`python`]: python steps, in CPython compiled to wasm;
//! - [`route`]: which executor runs a template, and the argv an image would start with;
//! - [`limits`]: the host-level limits local steps run under (memory, log, output and disk caps);
//! - `disk_watch`: the one thread that measures running local steps' sandboxes against the disk cap;
//! - [`local`]: a leaf step from sandbox root to collected outputs;
//! - [`kube`]: a leaf step as a pod on a cluster.

mod disk_watch;
pub mod guests;
pub mod kube;
pub mod limits;
pub mod local;
pub mod python;
pub mod route;
pub mod wasm;

pub use local::{
    LocalExecutor, OutputArtifact, OutputParameter, Program, StepOutcome, StepRequest,
};
pub use wasm::{LogSink, StopSignal};
