//! The wasm programs skiff ships, built by build.rs and embedded (in progress).

/// Placeholder until build.rs embeds the toolbox (lead: replaced by the toolbox work).
pub static TOOLBOX_WASM: &[u8] = &[];
