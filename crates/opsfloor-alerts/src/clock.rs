//! [`WallClock`]: where the sinks read the wall clock, so that tests control it.
//!
//! Alertmanager's `startsAt` and `endsAt` and the webhook signature's timestamp are
//! wall-clock instants even when the floor runs on a simulated `--now` clock: a
//! real Alertmanager compares them with its own clock.

use jiff::Timestamp;

/// A source of wall-clock instants.
pub trait WallClock: Send + Sync + std::fmt::Debug {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl WallClock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}
