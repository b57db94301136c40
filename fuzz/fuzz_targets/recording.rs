//! Fuzz target `recording`: see `opsfloor_fuzzing::recording`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| opsfloor_fuzzing::recording(data));
