//! The wasm programs skiff ships, built for wasm32-wasip1 by `build.rs` and embedded in the binary.
//!
//! - [`TOOLBOX_WASM`]: the toolbox, the shell and tools that `container` and `script` steps on busybox,
//!   alpine, argoproj/argosay and docker/whalesay run with (`guests/toolbox`);
//! - [`EXAMPLE_ADD_WASM`]: the example component of `examples/components/add`, used by tests.
//!
//! The other example components (`examples/components/*`) are built too, for tests and benches,
//! but not embedded: [`paths`] has where they are.

/// Paths of the built modules (`TOOLBOX`, `EXAMPLE_ADD`, `EXAMPLE_ADD_MACRO`, `EXAMPLE_CSV_STATS`,
/// `EXAMPLE_WORD_COUNT`, `EXAMPLE_THUMBNAIL`) and the list of them all (`ALL`).
pub mod paths {
    include!(concat!(env!("OUT_DIR"), "/guests.rs"));
}

/// The toolbox module.
pub static TOOLBOX_WASM: &[u8] = include_bytes!(concat!(
    env!("OUT_DIR"),
    "/guests/wasm32-wasip1/release/skiff-toolbox.wasm"
));

/// The example `add` component.
pub static EXAMPLE_ADD_WASM: &[u8] = include_bytes!(concat!(
    env!("OUT_DIR"),
    "/guests/wasm32-wasip1/release/skiff-example-add.wasm"
));

/// A shipped module by package name.
pub fn by_name(package: &str) -> Option<&'static [u8]> {
    match package {
        "skiff-toolbox" => Some(TOOLBOX_WASM),
        "skiff-example-add" => Some(EXAMPLE_ADD_WASM),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_guest_is_built_and_embedded() {
        assert_eq!(paths::ALL.len(), 6);
        for (name, path) in paths::ALL {
            assert!(std::path::Path::new(path).is_file(), "{name}: {path}");
        }
        assert!(TOOLBOX_WASM.starts_with(b"\0asm"));
        assert!(by_name("skiff-example-add").is_some_and(|m| m.starts_with(b"\0asm")));
        assert!(by_name("nope").is_none());
    }
}
