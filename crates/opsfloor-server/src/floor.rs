//! The running floor: the engine's [`FloorState`] behind a lock, the live stream,
//! and the metrics. Poll results arrive one by one from the scheduler
//! ([`crate::scheduler`]) and are applied by identity; the rollup runs when a state
//! changed (coalesced) and on a timer, because the market opens and closes with time.
//!
//! The state is behind a `std::sync::RwLock` that is never held across an `.await`;
//! readers take what they need under it and do their work (serialising, parsing,
//! redacting) outside it.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use jiff::Timestamp;
use opsfloor_engine::{Applied, Calendars, FloorState, Polled, Transition};
use opsfloor_inventory::Inventory;
use tokio::sync::broadcast;

use crate::metrics::Metrics;

/// A source of "now": the system clock, or a simulated one. Read at the edges only.
pub type Now = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// One poll result on its way to the engine.
#[derive(Debug)]
pub struct PollResult {
    /// The service polled, by inventory name.
    pub service: String,
    /// The exact URL polled (a reload may have changed it since).
    pub url: String,
    /// What the poll found.
    pub polled: Polled,
    /// How late the poll started behind its schedule.
    pub lag: Duration,
}

/// The running floor. Cheap to clone.
#[derive(Clone)]
pub struct Floor {
    state: Arc<RwLock<FloorState>>,
    events: broadcast::Sender<Transition>,
    now: Now,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Floor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Floor").finish_non_exhaustive()
    }
}

impl Floor {
    /// A floor over `inventory`, resuming from `resumed` (the latest recorded
    /// transition of every subject). Returns the floor and the transitions its first
    /// look caused (execution scaled to zero, the first rollup), to be recorded.
    pub fn new(
        inventory: Inventory,
        calendars: impl Into<Calendars>,
        now: Now,
        resumed: &[Transition],
    ) -> (Floor, Vec<Transition>) {
        let started = now();
        let mut state = FloorState::new(inventory, calendars, resumed, started);
        let mut changes = state.disable_scaled_to_zero(started);
        if !changes.is_empty() {
            changes.extend(state.roll(started));
        }
        let (events, _) = broadcast::channel(4096);
        let metrics = Arc::new(Metrics::new());
        let floor = Floor {
            state: Arc::new(RwLock::new(state)),
            events,
            now,
            metrics,
        };
        (floor, changes)
    }

    /// Reads the state. Keep `f` short: the engine waits while it runs.
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

    /// Subscribes to transitions (after they are recorded).
    pub fn subscribe(&self) -> broadcast::Receiver<Transition> {
        self.events.subscribe()
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Applies a batch of poll results under one write lock and hands the
    /// services' transitions to `record` before the lock is released (the rollup
    /// is separate: [`Floor::roll`]); true when any service changed.
    ///
    /// Recording under the lock is what lets a new leader reconcile: whoever
    /// reads the floor sees a state whose transitions are already in the journal,
    /// never one whose transition is still on its way there.
    pub fn apply(&self, results: Vec<PollResult>, record: impl FnOnce(Vec<Transition>)) -> bool {
        let now = self.now();
        for r in &results {
            self.metrics.observe_poll(&r.polled, r.lag);
        }
        self.write(|state| {
            let mut changes = Vec::new();
            for r in results {
                match state.apply(&r.service, &r.url, r.polled, now) {
                    Applied::Applied(change) => changes.extend(change),
                    Applied::Stale => self.metrics.stale_result(),
                }
            }
            let changed = !changes.is_empty();
            if changed {
                record(changes);
            }
            changed
        })
    }

    /// Re-computes the rollup now and hands the floor's transition, if any, to
    /// `record` under the write lock (see [`Floor::apply`]).
    pub fn roll(&self, record: impl FnOnce(Vec<Transition>)) {
        let now = self.now();
        self.write(|state| {
            if let Some(change) = state.roll(now) {
                record(vec![change]);
            }
        });
    }

    /// Replaces the inventory and calendars, keeping what is known about services
    /// that remain, and hands the transitions caused to `record` under the write
    /// lock (see [`Floor::apply`]).
    pub fn reload(
        &self,
        inventory: Inventory,
        calendars: impl Into<Calendars>,
        record: impl FnOnce(Vec<Transition>),
    ) {
        let now = self.now();
        self.write(|state| record(state.reload(inventory, calendars, now)));
    }

    /// Hands recorded transitions to the live stream.
    pub fn publish(&self, changes: &[Transition]) {
        for change in changes {
            // No subscribers is fine: nobody is watching the stream.
            let _ = self.events.send(change.clone());
        }
    }
}
