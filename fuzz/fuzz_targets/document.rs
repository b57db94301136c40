//! Fuzz target `document`: see `opsfloor_fuzzing::document`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| opsfloor_fuzzing::document(data));
