//! Fuzz target `expr`: see `skiff::fuzzing::expr` for what it drives.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| skiff::fuzzing::expr(data));
