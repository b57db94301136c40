//! Test support for opsfloor's integration tests: real servers (PostgreSQL,
//! Prometheus Alertmanager), started on loopback
//! in temporary directories and cleaned up on drop, and throwaway certificate
//! authorities for the TLS tests ([`pki`]). Never a dependency of shipped
//! code (`publish = false`; use it under `[dev-dependencies]`).
//!
//! Each harness fails, never skips, when its server is not installed: the message
//! says to run `./scripts/test`, which installs what the tests need.

mod alertmanager;
pub mod pki;
mod postgres;
mod ready;

pub use alertmanager::{Alertmanager, MINIMAL_CONFIG};
pub use postgres::{HarnessError, Postgres};
