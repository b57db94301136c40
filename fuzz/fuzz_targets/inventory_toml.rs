//! Fuzz target `inventory_toml`: see `opsfloor_fuzzing::inventory_toml`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| opsfloor_fuzzing::inventory_toml(data));
