//! Fuzz target `inventory_yaml`: see `opsfloor_fuzzing::inventory_yaml`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| opsfloor_fuzzing::inventory_yaml(data));
