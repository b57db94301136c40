//! A drop-in `GET /ops/status` for any Rust service.
//!
//! Configure from the environment (the same variables the Python services use, see
//! [`config`]), update a cheap handle from your hot paths, and mount the router. The
//! one line that adds `/ops/status` and `/health` to an axum app:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let probe = opsfloor_probe::Probe::from_env()?;
//! let app = axum::Router::new()
//!     // ... your routes ...
//!     .merge(probe.router()); // <- the one line
//!
//! // From the hot paths:
//! probe.heartbeat();
//! probe.record_tick(jiff::Timestamp::now());
//! # let _ = app; Ok(()) }
//! ```
//!
//! Under a prefix: `Router::new().nest("/marketdata", probe.router())`. On another
//! HTTP stack: serve [`Probe::document_bytes`] with `Content-Type: application/json`.
//!
//! For cron-style jobs, which are not servers: run the `opsfloor probe` sidecar
//! with `OPS_HEARTBEAT_FILE` set, and end the job with `touch` on that file (see the
//! README's "Ingest jobs").

pub mod calendar_file;
pub mod clock;
pub mod config;
mod http;
pub mod kill_switch;
mod probe;

pub use calendar_file::CalendarFile;
pub use clock::Clock;
pub use config::{ConfigError, ProbeConfig};
pub use kill_switch::KillSwitchSource;
pub use probe::Probe;
