//! Fuzz target `query`: see `opsfloor_fuzzing::query`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| opsfloor_fuzzing::query(data));
