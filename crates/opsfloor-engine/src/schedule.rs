//! Each service's place in the poll interval.
//!
//! Every service is polled once per interval at a stable *phase*: an offset into the
//! interval derived from a hash of its name, so 10,000 services spread evenly over
//! the interval instead of all firing at once, and a service keeps its phase across
//! restarts and reloads (as Prometheus spreads scrapes by a hash of the target).
//! The hash is FNV-1a, spelled out here so the phase never depends on a standard
//! library hasher that may change between Rust releases.

use std::time::Duration;

/// FNV-1a, 64 bits: a stable hash (the same in every process and release), for
/// phases and for the API's entity tags.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes
        .iter()
        .fold(OFFSET, |h, b| (h ^ u64::from(*b)).wrapping_mul(PRIME))
}

/// The service's offset into each `interval`: `[0, interval)`, a pure function of
/// its name and the interval.
pub fn phase(name: &str, interval: Duration) -> Duration {
    let nanos = u64::try_from(interval.as_nanos()).unwrap_or(u64::MAX);
    if nanos == 0 {
        return Duration::ZERO;
    }
    Duration::from_nanos(fnv1a(name.as_bytes()) % nanos)
}

/// The first round after a floor starts is compressed into this window (or the
/// interval, if shorter): every service's first poll comes at its phase scaled
/// into it, so the first complete picture is ready within about a second instead
/// of a whole interval, still spread out rather than all at once.
pub const FIRST_ROUND: Duration = Duration::from_secs(1);

/// A service's first poll after the floor starts: its phase scaled into
/// [`FIRST_ROUND`]. Later polls keep the phase ([`next_slot`]).
pub fn first_slot(phase: Duration, interval: Duration) -> Duration {
    if interval <= FIRST_ROUND || interval.is_zero() {
        return phase;
    }
    phase.mul_f64(FIRST_ROUND.as_secs_f64() / interval.as_secs_f64())
}

/// The first slot at or after `elapsed` (time since the schedule's epoch) for a
/// service with `phase`: slots are `phase + k × interval`, k ≥ 0.
pub fn next_slot(elapsed: Duration, phase: Duration, interval: Duration) -> Duration {
    if elapsed <= phase || interval.is_zero() {
        return phase;
    }
    let since = (elapsed - phase).as_nanos();
    let step = interval.as_nanos();
    let k = since.div_ceil(step);
    let nanos = u64::try_from(k.saturating_mul(step)).unwrap_or(u64::MAX);
    phase.saturating_add(Duration::from_nanos(nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_are_stable_and_inside_the_interval() {
        let interval = Duration::from_secs(5);
        let p = phase("marketdata-mcp-server", interval);
        assert!(p < interval);
        assert_eq!(p, phase("marketdata-mcp-server", interval), "pure");
        assert_ne!(p, phase("gamma-strategy", interval));
        assert_eq!(phase("x", Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn phases_spread_over_the_interval() {
        // 10,000 names over 10 buckets of a 5 s interval: each bucket near 1,000.
        let interval = Duration::from_secs(5);
        let mut buckets = [0u32; 10];
        for i in 0..10_000 {
            let p = phase(&format!("svc-{i:05}"), interval);
            buckets[(p.as_millis() / 500) as usize] += 1;
        }
        for (i, n) in buckets.iter().enumerate() {
            assert!((800..1200).contains(n), "bucket {i} has {n}");
        }
    }

    #[test]
    fn the_first_round_is_compressed_into_a_second() {
        let interval = Duration::from_secs(5);
        assert_eq!(
            first_slot(Duration::from_millis(2_500), interval),
            Duration::from_millis(500)
        );
        assert_eq!(first_slot(Duration::ZERO, interval), Duration::ZERO);
        let fast = Duration::from_millis(200);
        assert_eq!(
            first_slot(Duration::from_millis(150), fast),
            Duration::from_millis(150)
        );
        for name in ["a", "marketdata", "svc-20000"] {
            assert!(first_slot(phase(name, interval), interval) < FIRST_ROUND);
        }
    }

    #[test]
    fn next_slots_keep_the_phase() {
        let (p, i) = (Duration::from_millis(300), Duration::from_secs(1));
        assert_eq!(next_slot(Duration::ZERO, p, i), p);
        assert_eq!(next_slot(p, p, i), p);
        assert_eq!(
            next_slot(Duration::from_millis(301), p, i),
            Duration::from_millis(1300)
        );
        assert_eq!(
            next_slot(Duration::from_millis(5300), p, i),
            Duration::from_millis(5300)
        );
    }
}
