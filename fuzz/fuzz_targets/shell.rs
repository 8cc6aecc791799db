//! Fuzz target `shell`: see `skiff::fuzzing::shell` for what it drives.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| skiff::fuzzing::shell(data));
