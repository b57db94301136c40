//! Prometheus metrics at `/metrics`, in the text exposition format (0.0.4).
//!
//! Written from the engine's state at scrape time, families sorted by name and
//! series by service name, so the output is stable and nothing is kept twice:
//!
//! | family | type | labels |
//! |---|---|---|
//! | `opsfloor_floor_state` | gauge, one-hot | `state` (all six) |
//! | `opsfloor_history_dropped_transitions_total` | counter | transitions never stored (journal full, or refused) |
//! | `opsfloor_history_failing` | gauge | 1 while the store's writes fail and are retried |
//! | `opsfloor_history_pending_transitions` | gauge | transitions accepted and not yet stored |
//! | `opsfloor_oldest_result_age_seconds` | gauge | |
//! | `opsfloor_poll_lag_seconds` | histogram | (floor-wide) how late polls start behind their schedule |
//! | `opsfloor_poll_latency_seconds` | histogram | (floor-wide) |
//! | `opsfloor_service_latency_seconds` | gauge | `service`: the last poll's latency (absent while unreachable) |
//! | `opsfloor_service_poll_failures_total` | counter | `service` (present from a service's first failure) |
//! | `opsfloor_service_state` | gauge | `service`, `state`: 1 for the state the service is in |
//! | `opsfloor_service_state_since_timestamp_seconds` | gauge | `service` |
//! | `opsfloor_services` | gauge | `kind`, `criticality`, `state`: how many services are in each state |
//! | `opsfloor_stale_results_total` | counter | results dropped because a reload changed the service |
//!
//! The per-service families carry `service` and nothing that repeats the inventory:
//! at 10,000 services every byte of a per-service line is 10 kB of every scrape, so
//! the budget (2 MB at 10,000) leaves about 200 bytes for a service's three lines.
//! Kind and criticality are in `opsfloor_services`, a count bounded by the kinds ×
//! criticalities × six states of the inventory, which is what a panel of "critical
//! services not OK" needs; one service's kind is in the inventory and the API.
//!
//! `opsfloor_service_state` emits only the series of the state a service is in
//! (value 1), not five zeros beside it: at 10,000 services the zeros alone would be
//! 50,000 lines. `opsfloor_service_state{state="HALTED"} == 1` and `count by (state)`
//! work as with a full one-hot family; a state left goes stale in Prometheus at the
//! next scrape. Latency histograms are floor-wide, never per service, and the only
//! reason-like label is `state`, bounded by the contract.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jiff::Timestamp;
use opsfloor_contract::State;
use opsfloor_engine::{FloorState, Polled, Tracked};

use crate::recorder::HistoryHealth;

/// Bucket upper bounds, seconds: 1 ms to ~4 s.
const BUCKETS: [f64; 13] = [
    0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096,
];

/// A lock-free histogram with fixed buckets.
#[derive(Debug, Default)]
struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    /// The sum in nanoseconds (integer, so it can be atomic).
    sum_ns: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.counts[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    fn encode(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (i, bound) in BUCKETS.iter().enumerate() {
            cumulative += self.counts[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let sum = self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

/// The floor's own counters; everything per service is read from the state.
#[derive(Debug, Default)]
pub struct Metrics {
    latency: Histogram,
    lag: Histogram,
    stale: AtomicU64,
}

fn encode_history(out: &mut String, h: &HistoryHealth) {
    family(
        out,
        "opsfloor_history_dropped_transitions_total",
        "counter",
        "Transitions never stored: the journal was full, or the store refused them",
    );
    let _ = writeln!(
        out,
        "opsfloor_history_dropped_transitions_total {}",
        h.dropped
    );
    family(
        out,
        "opsfloor_history_failing",
        "gauge",
        "1 while writes to the history store fail and are being retried",
    );
    let _ = writeln!(
        out,
        "opsfloor_history_failing {}",
        i32::from(h.failing.is_some())
    );
    family(
        out,
        "opsfloor_history_pending_transitions",
        "gauge",
        "Transitions accepted and not yet stored",
    );
    let _ = writeln!(out, "opsfloor_history_pending_transitions {}", h.pending);
}

/// `opsfloor_services`: for every kind and criticality the inventory has, how
/// many services are in each of the six states (zeros included, so a count that
/// falls to zero reads 0 rather than going stale).
fn encode_counts(out: &mut String, services: &[Tracked]) {
    let mut counts: BTreeMap<(&str, &str), [usize; State::ALL.len()]> = BTreeMap::new();
    for s in services {
        let row = counts
            .entry((s.kind.as_str(), s.criticality.as_str()))
            .or_default();
        if let Some(i) = State::ALL.iter().position(|&st| st == s.state) {
            row[i] += 1;
        }
    }
    family(
        out,
        "opsfloor_services",
        "gauge",
        "How many services are in each state, by kind and criticality",
    );
    for ((kind, criticality), row) in &counts {
        for (state, n) in State::ALL.iter().zip(row) {
            let _ = writeln!(
                out,
                "opsfloor_services{{kind=\"{}\",criticality=\"{}\",state=\"{state}\"}} {n}",
                label(kind),
                label(criticality)
            );
        }
    }
}

/// Escapes a label value (backslash, quote, newline), as the format requires.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

impl Metrics {
    /// Empty counters.
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// Counts one poll: its latency, and how late it started.
    pub fn observe_poll(&self, polled: &Polled, lag: Duration) {
        self.latency.observe(polled.latency);
        self.lag.observe(lag);
    }

    /// Counts a result dropped because a reload changed its service.
    pub fn stale_result(&self) {
        self.stale.fetch_add(1, Ordering::Relaxed);
    }

    /// The text exposition for `state` at `now`, with the history's health when
    /// history is kept.
    pub fn encode(
        &self,
        state: &FloorState,
        history: Option<&HistoryHealth>,
        now: Timestamp,
    ) -> String {
        let services = state.services();
        let mut out = String::with_capacity(256 + services.len() * 240);
        family(
            &mut out,
            "opsfloor_floor_state",
            "gauge",
            "1 for the state the Trading Floor is in, 0 for the others",
        );
        for s in State::ALL {
            let hot = i32::from(s == state.verdict.state);
            let _ = writeln!(out, "opsfloor_floor_state{{state=\"{s}\"}} {hot}");
        }
        if let Some(h) = history {
            encode_history(&mut out, h);
        }
        if let Some(age) = state.oldest_result_age(now) {
            family(
                &mut out,
                "opsfloor_oldest_result_age_seconds",
                "gauge",
                "Seconds since the oldest current poll result",
            );
            let _ = writeln!(out, "opsfloor_oldest_result_age_seconds {age}");
        }
        self.lag.encode(
            &mut out,
            "opsfloor_poll_lag_seconds",
            "How late each poll started behind its schedule",
        );
        self.latency.encode(
            &mut out,
            "opsfloor_poll_latency_seconds",
            "Latency of status polls, retries included",
        );
        let mut sorted: Vec<_> = services.iter().collect();
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        let names: Vec<String> = sorted.iter().map(|s| label(&s.name)).collect();
        family(
            &mut out,
            "opsfloor_service_latency_seconds",
            "gauge",
            "Latency of each service's last answered status poll",
        );
        for (s, n) in sorted.iter().zip(&names) {
            if let Some(ms) = s.latency_ms {
                // Microseconds are plenty, and keep the line short.
                let secs = ms / 1000.0;
                let _ = writeln!(
                    out,
                    "opsfloor_service_latency_seconds{{service=\"{n}\"}} {secs:.6}"
                );
            }
        }
        family(
            &mut out,
            "opsfloor_service_poll_failures_total",
            "counter",
            "Status polls of each service that got no answer",
        );
        // A service's counter appears at its first failure, as a labelled counter
        // does in Prometheus' client libraries: 10,000 zeros would be 600 kB.
        for (s, n) in sorted.iter().zip(&names) {
            if s.failures_total > 0 {
                let _ = writeln!(
                    out,
                    "opsfloor_service_poll_failures_total{{service=\"{n}\"}} {}",
                    s.failures_total
                );
            }
        }
        family(
            &mut out,
            "opsfloor_service_state",
            "gauge",
            "1 for the state each service is in (only that series is present)",
        );
        for (s, n) in sorted.iter().zip(&names) {
            let _ = writeln!(
                out,
                "opsfloor_service_state{{service=\"{n}\",state=\"{}\"}} 1",
                s.state
            );
        }
        family(
            &mut out,
            "opsfloor_service_state_since_timestamp_seconds",
            "gauge",
            "Since when each service's state holds, Unix seconds",
        );
        for (s, n) in sorted.iter().zip(&names) {
            let _ = writeln!(
                out,
                "opsfloor_service_state_since_timestamp_seconds{{service=\"{n}\"}} {}",
                s.since.as_second()
            );
        }
        encode_counts(&mut out, services);
        family(
            &mut out,
            "opsfloor_stale_results_total",
            "counter",
            "Poll results dropped because a reload changed their service",
        );
        let _ = writeln!(
            out,
            "opsfloor_stale_results_total {}",
            self.stale.load(Ordering::Relaxed)
        );
        out
    }
}
