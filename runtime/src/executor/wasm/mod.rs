//! The wasmtime sandbox (in progress).
