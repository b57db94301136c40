//! The probe's clock: the real one, or a simulated one that advances in real time
//! from a chosen instant (so market hours can be shown at any time of day).

use std::time::{Instant, SystemTime};

use jiff::{SignedDuration, Timestamp};

/// Where "now" comes from. Read once per document, at the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The system clock.
    System,
    /// Simulated time: `start` at the moment the clock was made, advancing in real time.
    Simulated {
        /// The simulated instant at `origin`.
        start: Timestamp,
        /// The real monotonic instant the simulation started.
        origin: Instant,
        /// Simulated minus real wall-clock time, to map file times into simulated time.
        offset: SignedDuration,
    },
}

impl Clock {
    /// A simulated clock that reads `start` now and advances from there.
    pub fn simulated_from(start: Timestamp) -> Clock {
        let offset = start.duration_since(Timestamp::now());
        Clock::Simulated {
            start,
            origin: Instant::now(),
            offset,
        }
    }

    /// The current instant on this clock.
    pub fn now(&self) -> Timestamp {
        match *self {
            Clock::System => Timestamp::now(),
            Clock::Simulated { start, origin, .. } => {
                let elapsed =
                    SignedDuration::try_from(origin.elapsed()).unwrap_or(SignedDuration::MAX);
                start.saturating_add(elapsed).unwrap_or(start)
            }
        }
    }

    /// Maps a real wall-clock time (such as a file's modification time) onto this clock.
    pub fn from_system(&self, t: SystemTime) -> Option<Timestamp> {
        let real = Timestamp::try_from(t).ok()?;
        match *self {
            Clock::System => Some(real),
            Clock::Simulated { offset, .. } => real.checked_add(offset).ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulated_time_starts_where_asked_and_advances() {
        let start: Timestamp = "2026-01-07T15:00:00Z".parse().expect("ts");
        let clock = Clock::simulated_from(start);
        let a = clock.now();
        assert!(a >= start && a.duration_since(start) < SignedDuration::from_secs(5));
        let mapped = clock.from_system(SystemTime::now()).expect("in range");
        assert!(mapped.duration_since(start).abs() < SignedDuration::from_secs(5));
    }
}
