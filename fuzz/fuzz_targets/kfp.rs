//! Fuzz target `kfp`: see `skiff::fuzzing::kfp` for what it drives.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| skiff::fuzzing::kfp(data));
