//! The wasm programs skiff ships, built by build.rs and embedded (in progress).
