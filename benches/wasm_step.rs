//! Per-step cost of the wasm sandbox (in progress).

fn main() {}
