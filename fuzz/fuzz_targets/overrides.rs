//! Fuzz target `overrides`: see `opsfloor_fuzzing::overrides`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| opsfloor_fuzzing::overrides(data));
