//! Fuzz target `workflow`: see `skiff::fuzzing::workflow` for what it drives.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| skiff::fuzzing::workflow(data));
