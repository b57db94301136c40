//! Prometheus metrics, in the text exposition format at `/metrics`.
//!
//! - `opsfloor_service_state{service,kind,criticality,state}`: 1 for the state the
//!   service is in, 0 for the others (the usual "enum as gauges" pattern, so
//!   `opsfloor_service_state{state="OK"} == 1` selects healthy services);
//! - `opsfloor_floor_state{state}`: the same for the floor;
//! - `opsfloor_poll_latency_seconds{service}`: a histogram of poll latencies;
//! - `opsfloor_poll_failures_total{service}`: polls that got no answer;
//! - `opsfloor_poll_cycle_seconds`: how long the last poll cycle took.

use std::sync::atomic::AtomicU64;

use opsfloor_contract::State;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::floor::{Event, FloorState};
use crate::tracker::Tracked;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServiceStateLabels {
    service: String,
    kind: String,
    criticality: String,
    state: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServiceLabels {
    service: String,
}

fn latency_histogram() -> Histogram {
    // 1 ms to ~4 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 13))
}

/// The floor's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    service_state: Family<ServiceStateLabels, Gauge>,
    floor_state: Family<StateLabels, Gauge>,
    latency: Family<ServiceLabels, Histogram, fn() -> Histogram>,
    failures: Family<ServiceLabels, Counter>,
    cycle: Gauge<f64, AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("opsfloor");
        let service_state = Family::<ServiceStateLabels, Gauge>::default();
        let floor_state = Family::<StateLabels, Gauge>::default();
        let latency = Family::<ServiceLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        let failures = Family::<ServiceLabels, Counter>::default();
        let cycle = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "service_state",
            "1 for the state each service is in, 0 for the others",
            service_state.clone(),
        );
        registry.register(
            "floor_state",
            "1 for the state the Trading Floor is in, 0 for the others",
            floor_state.clone(),
        );
        registry.register(
            "poll_latency_seconds",
            "Latency of status polls",
            latency.clone(),
        );
        registry.register(
            "poll_failures",
            "Status polls that got no answer",
            failures.clone(),
        );
        registry.register(
            "poll_cycle_seconds",
            "Duration of the last poll cycle",
            cycle.clone(),
        );
        Metrics {
            registry,
            service_state,
            floor_state,
            latency,
            failures,
            cycle,
        }
    }

    pub(crate) fn observe_poll(&self, service: &str, latency_seconds: f64, failed: bool) {
        let labels = ServiceLabels {
            service: service.to_owned(),
        };
        self.latency.get_or_create(&labels).observe(latency_seconds);
        if failed {
            self.failures.get_or_create(&labels).inc();
        }
    }

    /// Updates the state gauges after a cycle. Only services that changed are
    /// touched (a 10,000-service floor would otherwise rebuild 60,000 label sets a
    /// cycle); `full` rebuilds everything, after an inventory reload.
    pub(crate) fn observe_states(&self, state: &FloorState, events: &[Event], full: bool) {
        let labels = |s: &Tracked, candidate: State| ServiceStateLabels {
            service: s.name.clone(),
            kind: s.kind.as_str().to_owned(),
            criticality: s.criticality.as_str().to_owned(),
            state: candidate.as_str().to_owned(),
        };
        if full {
            self.service_state.clear();
        }
        let changed = |name: &str| events.iter().any(|e| e.service.as_deref() == Some(name));
        for s in &state.services {
            if full || changed(&s.name) {
                for candidate in State::ALL {
                    self.service_state
                        .get_or_create(&labels(s, candidate))
                        .set(i64::from(candidate == s.state));
                }
            }
        }
        for candidate in State::ALL {
            let labels = StateLabels {
                state: candidate.as_str().to_owned(),
            };
            self.floor_state
                .get_or_create(&labels)
                .set(i64::from(candidate == state.verdict.state));
        }
    }

    /// Records how long the last poll cycle took (metrics update included).
    pub(crate) fn set_cycle(&self, duration: std::time::Duration) {
        self.cycle.set(duration.as_secs_f64());
    }

    /// The text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
