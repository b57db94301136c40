//! The `opsfloor` binary.
fn main() {}
