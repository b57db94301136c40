//! The Trading Floor aggregator behind `opsfloor serve`.
//!
//! It polls every service in the inventory ([`poll`]), keeps a calm, deterministic
//! view of each ([`tracker`]), rolls them up into the floor's state with the
//! contract's rollup table ([`floor`]), and serves an API, a live stream and
//! metrics ([`api`], [`metrics`]). Transitions go to an SQLite history
//! ([`server`]). The floor is itself a contract service: its `/ops/status` is a
//! document of kind `floor`, so floors nest.

pub mod api;
pub mod floor;
pub mod metrics;
pub mod poll;
pub mod redact;
pub mod report;
pub mod server;
pub mod tracker;
pub mod view;

pub use floor::{Event, Floor, FloorState, Now};
