//! [`WasmError`]: what can go wrong in skiff's own wasm machinery.
//!
//! A step that traps, runs out of time or memory, or exits non-zero is *not* an error here: it is a
//! [`RunOutcome`](super::RunOutcome) with `error` set. These variants mean a module could not be
//! prepared at all, or skiff itself could not set up a sandbox.

use std::path::PathBuf;

/// An error from the host side: something wasmtime or the filesystem failed at, boxed so that the
/// source chain survives (`wasmtime::Error` itself does not implement `std::error::Error`).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What can go wrong while preparing a module or a sandbox.
#[derive(Debug, thiserror::Error)]
pub enum WasmError {
    /// The engine (and its instance pool) could not be created.
    #[error("could not create the wasm engine")]
    Engine(#[source] BoxError),

    /// The bytes are not a WebAssembly module (wrong magic number, truncated, or failing
    /// validation).
    #[error("not a valid WebAssembly module: {reason}")]
    NotWasm {
        /// Why, in one line.
        reason: String,
        /// The validator's error, when there is one.
        #[source]
        source: Option<BoxError>,
    },

    /// The bytes are a WebAssembly *component* (what `wasm32-wasip2` builds), not a core module.
    #[error(
        "this is a WebAssembly component (wasm32-wasip2?), not a core module: skiff runs \
         wasm32-wasip1 command modules; build with `cargo build --target wasm32-wasip1`"
    )]
    Component,

    /// The module is valid but cranelift failed to compile it.
    #[error("could not compile the wasm module")]
    Compile(#[source] BoxError),

    /// Reading or writing the compiled-module cache (or a module file) failed.
    #[error("{action} {}", path.display())]
    Io {
        /// What skiff was doing, e.g. "could not write the module cache entry".
        action: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying IO error.
        #[source]
        source: std::io::Error,
    },

    /// The module exports no `_start` function, so it is not a WASI command.
    #[error(
        "the module exports no `_start` function: skiff runs wasm32-wasip1 command modules \
         (a program with `fn main`), not libraries or reactors"
    )]
    MissingStart,

    /// The module imports something skiff does not provide.
    #[error(
        "the module imports `{module}::{name}`, which skiff does not provide: skiff runs \
         wasm32-wasip1 command modules, which import only `wasi_snapshot_preview1` \
         (no wasip2 interfaces, no wasi:sockets, no threads)"
    )]
    Link {
        /// The import's module name, e.g. `wasi:sockets/tcp@0.2.0` or `env`.
        module: String,
        /// The import's field name.
        name: String,
        /// wasmtime's link error.
        #[source]
        source: BoxError,
    },

    /// The sandbox's root directory could not be opened (it must exist and be a directory).
    #[error("could not open the sandbox root {}", path.display())]
    Root {
        /// The host directory that was to be mounted at `/`.
        path: PathBuf,
        /// wasmtime-wasi's error.
        #[source]
        source: BoxError,
    },

    /// Instantiating the module failed for a reason that is skiff's, not the step's (for
    /// example the instance pool refused an allocation).
    #[error("could not instantiate the wasm module")]
    Instantiate(#[source] BoxError),
}

impl WasmError {
    /// Boxes a `wasmtime::Error` so it can be kept as a `#[source]`.
    pub(crate) fn boxed(err: wasmtime::Error) -> BoxError {
        err.into_boxed_dyn_error()
    }
}
