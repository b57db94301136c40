//! The floor: every tracked service, the rollup, and one poll cycle.
//!
//! A cycle polls every service expected to run, concurrently with at most
//! `max_in_flight` requests in flight, applies the outcomes to the trackers, rolls
//! the floor up, and emits the transitions: to history, to the live stream, and to
//! the metrics. State is held behind a `std::sync::RwLock` that is never held across
//! an `.await`.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use jiff::Timestamp;
use opsfloor_contract::{Calendar, FloorVerdict, Member, ReasonCode, ServiceKind, State, rollup};
use opsfloor_inventory::{Inventory, ServiceEntry};
use tokio::sync::broadcast;

use crate::metrics::Metrics;
use crate::poll::{Polled, Poller};
use crate::tracker::{Change, Deployment, Tracked};

/// A source of "now": the system clock, or a simulated one. Read at the edges only.
pub type Now = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// A transition of a service, or of the floor (`service: None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The service, or `None` for the floor itself.
    pub service: Option<String>,
    /// What changed.
    pub change: Change,
}

/// Everything the floor knows, at one moment.
#[derive(Debug, Clone)]
pub struct FloorState {
    /// The inventory in force.
    pub inventory: Inventory,
    /// The floor's calendar.
    pub calendar: Calendar,
    /// Every service, in inventory order.
    pub services: Vec<Tracked>,
    /// The rollup.
    pub verdict: FloorVerdict,
    /// Since when the floor's state and codes hold.
    pub since: Timestamp,
    /// When the floor started.
    pub started: Timestamp,
    /// When the last cycle ended.
    pub last_cycle: Option<Timestamp>,
    /// How long the last cycle took.
    pub last_cycle_duration: Option<Duration>,
    /// False while the floor's verdict is only the placeholder from before the first cycle.
    floor_known: bool,
}

impl FloorState {
    /// A service by name.
    pub fn service(&self, name: &str) -> Option<&Tracked> {
        self.services.iter().find(|s| s.name == name)
    }

    /// Is the market open at `at` on the floor's calendar (`None` outside its range)?
    pub fn market_open_at(&self, at: Timestamp) -> Option<bool> {
        self.calendar.is_open(at).ok()
    }

    /// The floor after one round of outcomes, without any network or clock: the
    /// report uses this on live or replayed responses. `outcomes[i]` belongs to
    /// `inventory.services[i]`; `None` means not polled (execution scaled to zero).
    /// Each service's failure threshold is 1: a report's retries happen before.
    pub fn evaluate(
        inventory: Inventory,
        calendar: Calendar,
        outcomes: Vec<Option<crate::poll::Outcome>>,
        now: Timestamp,
    ) -> FloorState {
        let mut services: Vec<Tracked> = inventory
            .services
            .iter()
            .map(|e| track(e, &[], now))
            .collect();
        for ((t, entry), outcome) in services.iter_mut().zip(&inventory.services).zip(outcomes) {
            let deployment = Deployment {
                enabled: entry.enabled,
                replicas: entry.replicas,
            };
            match outcome {
                Some(outcome) => {
                    let market = |at: Timestamp| calendar.is_open(at).ok();
                    let _ = t.observe(outcome, 0.0, now, 1, deployment, market);
                    t.latency_ms = None;
                }
                None => {
                    let _ = t.disabled(now);
                }
            }
        }
        let mut state = FloorState {
            inventory,
            calendar,
            services,
            verdict: FloorVerdict {
                state: State::Unknown,
                reason_codes: Vec::new(),
                rule: opsfloor_contract::FloorRule::NoServices,
                contributors: Vec::new(),
            },
            since: now,
            started: now,
            last_cycle: Some(now),
            last_cycle_duration: None,
            floor_known: true,
        };
        state.verdict = state.roll(now);
        state
    }

    fn roll(&self, now: Timestamp) -> FloorVerdict {
        let members: Vec<Member<'_>> = self
            .services
            .iter()
            .map(|s| Member {
                name: &s.name,
                kind: s.kind,
                criticality: s.criticality,
                expected_to_run: s.expected_to_run,
                state: s.state,
                reason_codes: &s.reason_codes,
                kill_switch: s.kill_switch,
            })
            .collect();
        // Outside the calendar's range the market is taken as closed: the calm reading.
        rollup(&members, self.market_open_at(now).unwrap_or(false))
    }
}

/// The running floor. Cheap to clone.
#[derive(Clone)]
pub struct Floor {
    state: Arc<RwLock<FloorState>>,
    events: broadcast::Sender<Event>,
    poller: Poller,
    now: Now,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Floor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Floor").finish_non_exhaustive()
    }
}

/// A service's last known state from history, to resume from.
pub type Resumed = (String, State, Vec<ReasonCode>, Timestamp);

impl Floor {
    /// A floor over `inventory`, resuming from `resumed` states (service `None` = the floor).
    pub fn new(
        inventory: Inventory,
        calendar: Calendar,
        now: Now,
        resumed: &[(Option<String>, State, Vec<ReasonCode>, Timestamp)],
    ) -> Result<Floor, reqwest::Error> {
        let poller = Poller::new(inventory.floor.body_limit_bytes)?;
        let started = now();
        let services = inventory
            .services
            .iter()
            .map(|e| track(e, resumed, started))
            .collect();
        let mut state = FloorState {
            inventory,
            calendar,
            services,
            verdict: FloorVerdict {
                state: State::Unknown,
                reason_codes: Vec::new(),
                rule: opsfloor_contract::FloorRule::NoServices,
                contributors: Vec::new(),
            },
            since: started,
            started,
            last_cycle: None,
            last_cycle_duration: None,
            floor_known: false,
        };
        state.verdict = state.roll(started);
        if let Some((_, s, codes, at)) = resumed.iter().find(|r| r.0.is_none()) {
            // Resume the floor's last known state and its "since".
            state.verdict.state = *s;
            state.verdict.reason_codes = codes.clone();
            state.since = *at;
            state.floor_known = true;
        }
        let (events, _) = broadcast::channel(1024);
        let metrics = Arc::new(Metrics::new());
        metrics.observe_states(&state, &[], true);
        Ok(Floor {
            state: Arc::new(RwLock::new(state)),
            events,
            poller,
            now,
            metrics,
        })
    }

    /// Reads the state.
    pub fn read<T>(&self, f: impl FnOnce(&FloorState) -> T) -> T {
        match self.state.read() {
            Ok(guard) => f(&guard),
            Err(poisoned) => f(&poisoned.into_inner()),
        }
    }

    fn write<T>(&self, f: impl FnOnce(&mut FloorState) -> T) -> T {
        match self.state.write() {
            Ok(mut guard) => f(&mut guard),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    /// The clock.
    pub fn now(&self) -> Timestamp {
        (self.now)()
    }

    /// Subscribes to transitions.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// The metrics registry.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Replaces the inventory, keeping what is known about services that remain.
    pub fn reload(&self, inventory: Inventory) -> Vec<Event> {
        let now = self.now();
        let events = self.write(|state| {
            let mut old: Vec<Tracked> = std::mem::take(&mut state.services);
            state.services = inventory
                .services
                .iter()
                .map(|e| match old.iter().position(|t| t.name == e.name) {
                    Some(i) => {
                        let mut t = old.swap_remove(i);
                        t.kind = e.kind;
                        t.criticality = e.criticality;
                        t.url = e.url.clone();
                        t.expected_to_run = e.expected_to_run();
                        t
                    }
                    None => track(e, &[], now),
                })
                .collect();
            state.inventory = inventory;
            let mut events = mark_disabled(&mut state.services, now);
            events.extend(roll_floor(state, now));
            self.metrics.observe_states(state, &events, true);
            events
        });
        self.publish(&events);
        events
    }

    /// One poll cycle. Returns the transitions it caused.
    pub async fn cycle(&self) -> Vec<Event> {
        let started = Instant::now();
        let (targets, settings) = self.read(|s| {
            let targets: Vec<(usize, String, Duration)> = s
                .inventory
                .services
                .iter()
                .enumerate()
                .filter(|(_, e)| !disabled_execution(e))
                .map(|(i, e)| {
                    (
                        i,
                        e.status_url(),
                        Duration::from_millis(e.timeout_ms(&s.inventory.floor)),
                    )
                })
                .collect();
            (targets, s.inventory.floor.clone())
        });
        let poller = &self.poller;
        let results: Vec<(usize, Polled)> = futures_util::stream::iter(targets)
            .map(|(i, url, timeout)| async move { (i, poller.poll(&url, timeout).await) })
            .buffer_unordered(settings.max_in_flight.max(1))
            .collect()
            .await;

        let now = self.now();
        let events = self.write(|state| {
            let mut events = Vec::new();
            let market = |at: Timestamp| state.calendar.is_open(at).ok();
            for (i, polled) in results {
                let (Some(entry), Some(_)) =
                    (state.inventory.services.get(i), state.services.get(i))
                else {
                    continue;
                };
                let threshold = entry.failure_threshold(&state.inventory.floor);
                let deployment = Deployment {
                    enabled: entry.enabled,
                    replicas: entry.replicas,
                };
                let latency = polled.latency.as_secs_f64();
                self.metrics.observe_poll(
                    &entry.name,
                    latency,
                    matches!(polled.outcome, crate::poll::Outcome::NoAnswer { .. }),
                );
                let tracked = &mut state.services[i];
                if let Some(change) = tracked.observe(
                    polled.outcome,
                    latency * 1000.0,
                    now,
                    threshold,
                    deployment,
                    market,
                ) {
                    events.push(Event {
                        service: Some(tracked.name.clone()),
                        change,
                    });
                }
            }
            // Scaled to zero or disabled: not polled, calm OFFLINE.
            events.extend(mark_disabled(&mut state.services, now));
            events.extend(roll_floor(state, now));
            self.metrics.observe_states(state, &events, false);
            state.last_cycle = Some(now);
            let took = started.elapsed();
            state.last_cycle_duration = Some(took);
            self.metrics.set_cycle(took);
            events
        });
        self.publish(&events);
        events
    }

    fn publish(&self, events: &[Event]) {
        for e in events {
            // No subscribers is fine: nobody is watching the stream.
            let _ = self.events.send(e.clone());
        }
    }
}

/// Marks every execution service the inventory scales to zero or disables as calm
/// OFFLINE, returning the transitions that caused.
fn mark_disabled(services: &mut [Tracked], now: Timestamp) -> Vec<Event> {
    services
        .iter_mut()
        .filter(|t| !t.expected_to_run && t.kind == ServiceKind::Execution)
        .filter_map(|t| {
            t.disabled(now).map(|change| Event {
                service: Some(t.name.clone()),
                change,
            })
        })
        .collect()
}

/// An execution service the inventory scales to zero or disables: not polled.
pub fn disabled_execution(e: &ServiceEntry) -> bool {
    e.kind == ServiceKind::Execution && !e.expected_to_run()
}

fn track(
    e: &ServiceEntry,
    resumed: &[(Option<String>, State, Vec<ReasonCode>, Timestamp)],
    now: Timestamp,
) -> Tracked {
    let last = resumed
        .iter()
        .find(|r| r.0.as_deref() == Some(e.name.as_str()))
        .map(|(_, s, codes, at)| (*s, codes.clone(), *at));
    Tracked::new(
        e.name.clone(),
        e.kind,
        e.criticality,
        e.url.clone(),
        e.expected_to_run(),
        last,
        now,
    )
}

fn roll_floor(state: &mut FloorState, now: Timestamp) -> Option<Event> {
    let verdict = state.roll(now);
    if state.floor_known
        && verdict.state == state.verdict.state
        && verdict.reason_codes == state.verdict.reason_codes
    {
        // Same state: contributors may shift, "since" does not.
        state.verdict = verdict;
        return None;
    }
    let change = Change {
        from: state.floor_known.then_some(state.verdict.state),
        to: verdict.state,
        reason_codes: verdict.reason_codes.clone(),
        at: now,
    };
    state.verdict = verdict;
    state.since = now;
    state.floor_known = true;
    Some(Event {
        service: None,
        change,
    })
}
