//! Fuzz target `since`: see `opsfloor_fuzzing::since`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| opsfloor_fuzzing::since(data));
