//! Fuzz target `component`: see `skiff::fuzzing::component` for what it drives.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| skiff::fuzzing::component(data));
