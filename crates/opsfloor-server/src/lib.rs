//! The Trading Floor aggregator behind `opsfloor serve`: the shell around the pure
//! engine (`opsfloor-engine`).
//!
//! It schedules every service's polls on its own task ([`scheduler`], polling through
//! `opsfloor-poller`), applies the results to the engine by identity and rolls the
//! floor up ([`floor`]), records transitions in history before anyone sees them, and
//! serves the API, the live stream and metrics ([`api`], [`metrics`]) through an
//! accept loop that bounds every connection in time and number ([`listener`]), over
//! HTTPS when given a certificate ([`tls`]);
//! [`server`] starts it all and reloads the inventory and the calendar overrides
//! ([`overrides`]). The floor is itself a contract service:
//! its `/ops/status` is a document of kind `floor`, so floors nest.

pub mod alerting;
pub mod api;
pub mod cluster;
pub mod floor;
pub mod listener;
pub mod maintenance;
pub mod metrics;
pub mod overrides;
pub mod query;
pub mod recorder;
pub mod scheduler;
pub mod server;
pub mod services;
pub mod tls;

pub use alerting::{Alerting, AlertingError};
pub use floor::{Floor, Now, PollResult};
pub use opsfloor_engine::FloorState;
pub use recorder::{HistoryHealth, Recorder, Subscriber};
