//! The whole floor at one moment, and the pure operations that move it on.
//!
//! [`FloorState`] holds the inventory in force, one [`Tracked`] per service (in
//! inventory order) and the rollup. Poll results are applied *by identity*: a result
//! names the service and the exact status URL it polled, and is dropped as stale when
//! a reload has since removed the service or pointed it elsewhere, so an outcome can
//! never land on the wrong service. Every operation returns the [`Transition`]s it
//! caused; nothing here does I/O or reads a clock.

use std::collections::HashMap;
use std::time::Duration;

use jiff::Timestamp;
use opsfloor_contract::{Calendar, FloorRule, FloorVerdict, Member, ServiceKind, State, rollup};
use opsfloor_inventory::{Inventory, ServiceEntry};

use crate::calendars::Calendars;
use crate::outcome::{Outcome, Polled};
use crate::schedule;
use crate::tracker::{Deployment, Tracked};
use crate::transition::{Subject, Transition};

/// Everything the floor knows, at one moment.
#[derive(Debug, Clone)]
pub struct FloorState {
    /// The inventory in force.
    pub inventory: Inventory,
    /// The floor's default calendar (`[floor] calendar`), for displays in its zone.
    pub calendar: Calendar,
    /// Every venue the services name: each service is judged by its own.
    pub calendars: Calendars,
    /// Every service, in inventory order (`services[i]` tracks `inventory.services[i]`).
    services: Vec<Tracked>,
    /// Name → position in `services`.
    index: HashMap<String, usize>,
    /// The rollup.
    pub verdict: FloorVerdict,
    /// Since when the floor's state and codes hold.
    pub since: Timestamp,
    /// When the floor started.
    pub started: Timestamp,
    /// When the rollup was last computed.
    pub last_rollup: Option<Timestamp>,
    /// False while the floor's verdict is only the placeholder from before the first rollup.
    floor_known: bool,
}

/// What to poll for one service: its identity, where, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The service's inventory name.
    pub service: String,
    /// The status document's URL.
    pub url: String,
    /// The per-request timeout.
    pub timeout: Duration,
    /// How often it is polled.
    pub interval: Duration,
    /// Its stable offset into each interval ([`schedule::phase`]).
    pub phase: Duration,
}

/// What applying a poll result did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Applied; the service's transition, if its state changed.
    Applied(Option<Transition>),
    /// Dropped: the service is gone, or now polled at another URL (a reload raced
    /// the poll). Nothing changed.
    Stale,
}

impl FloorState {
    /// A floor over `inventory` as of `now`, resuming each subject from its latest
    /// recorded transition in `resumed` (so a restarted floor shows what it knew
    /// instead of flashing UNKNOWN). Execution services the inventory scales to zero
    /// are calm OFFLINE from the start.
    pub fn new(
        inventory: Inventory,
        calendars: impl Into<Calendars>,
        resumed: &[Transition],
        now: Timestamp,
    ) -> FloorState {
        let mut calendars = calendars.into();
        calendars.complete(&inventory);
        let services = inventory
            .services
            .iter()
            .map(|e| track(e, resumed, now))
            .collect();
        let mut state = FloorState {
            inventory,
            calendar: calendars.floor().clone(),
            calendars,
            services,
            index: HashMap::new(),
            verdict: FloorVerdict {
                state: State::Unknown,
                reason_codes: Vec::new(),
                rule: FloorRule::NoServices,
                contributors: Vec::new(),
            },
            since: now,
            started: now,
            last_rollup: None,
            floor_known: false,
        };
        state.reindex();
        state.verdict = state.verdict_at(now);
        if let Some(t) = resumed.iter().find(|t| t.subject == Subject::Floor) {
            state.verdict.state = t.to;
            state.verdict.reason_codes = t.reason_codes.clone();
            state.since = t.at;
            state.floor_known = true;
        }
        state
    }

    /// The floor after one round of outcomes, addressed by service name, without
    /// any network or clock: the report uses this on live or replayed responses.
    /// `None` means not polled (execution scaled to zero); a service with no entry in
    /// `outcomes` stays UNKNOWN. Each service's failure threshold is 1: a report's
    /// retries happen before.
    pub fn evaluate(
        inventory: Inventory,
        calendars: impl Into<Calendars>,
        outcomes: impl IntoIterator<Item = (String, Option<Outcome>)>,
        now: Timestamp,
    ) -> FloorState {
        let mut state = FloorState::new(inventory, calendars, &[], now);
        state.disable_scaled_to_zero(now);
        for (name, outcome) in outcomes {
            let (Some(outcome), Some(&i)) = (outcome, state.index.get(&name)) else {
                continue;
            };
            state.observe(i, outcome, None, now, 1);
        }
        state.roll(now);
        state
    }

    /// Every service, in inventory order.
    pub fn services(&self) -> &[Tracked] {
        &self.services
    }

    /// Every service, mutable: for simulations and tests that set a tracker's
    /// fields directly. Renaming a tracker here would break lookups by name.
    pub fn services_mut(&mut self) -> &mut [Tracked] {
        &mut self.services
    }

    /// A service by name.
    pub fn service(&self, name: &str) -> Option<&Tracked> {
        self.index.get(name).map(|&i| &self.services[i])
    }

    /// Is the market open at `at` on the floor's default calendar (`None` outside
    /// its range)?
    pub fn market_open_at(&self, at: Timestamp) -> Option<bool> {
        self.calendar.is_open(at).ok()
    }

    /// The calendar service `i` is judged by: its own venue, else the floor's.
    fn calendar_of(&self, i: usize) -> &Calendar {
        let entry = &self.inventory.services[i];
        self.calendars
            .get(entry.calendar_name(&self.inventory.floor))
    }

    /// The calendar of the service named `name` (the floor's for an unknown name).
    pub fn service_calendar(&self, name: &str) -> &Calendar {
        match self.index.get(name) {
            Some(&i) => self.calendar_of(i),
            None => &self.calendar,
        }
    }

    /// Every venue of the floor's services (the floor's default calendar when there
    /// are no services), by name: what the market panel lists.
    pub fn venues(&self) -> Vec<&Calendar> {
        let mut names: Vec<&str> = self
            .inventory
            .services
            .iter()
            .map(|e| e.calendar_name(&self.inventory.floor))
            .collect();
        if names.is_empty() {
            names.push(self.calendar.name());
        }
        names.sort_unstable();
        names.dedup();
        names.into_iter().map(|n| self.calendars.get(n)).collect()
    }

    /// What to poll: every service expected to run (an execution service scaled to
    /// zero or disabled is not polled), with its URL, timeout, interval and phase.
    pub fn targets(&self) -> Vec<Target> {
        let floor = &self.inventory.floor;
        let interval = poll_interval(floor.poll_interval_ms);
        self.inventory
            .services
            .iter()
            .filter(|e| !disabled_execution(e))
            .map(|e| Target {
                service: e.name.clone(),
                url: e.status_url(),
                timeout: Duration::from_millis(e.timeout_ms(floor)),
                interval,
                phase: schedule::phase(&e.name, interval),
            })
            .collect()
    }

    /// Applies one poll result for `service`, polled at `url`, received at `now`.
    pub fn apply(&mut self, service: &str, url: &str, polled: Polled, now: Timestamp) -> Applied {
        let Some(&i) = self.index.get(service) else {
            return Applied::Stale;
        };
        let entry = &self.inventory.services[i];
        if entry.status_url() != url || disabled_execution(entry) {
            return Applied::Stale;
        }
        let threshold = entry.failure_threshold(&self.inventory.floor);
        let latency = Some(polled.latency.as_secs_f64() * 1000.0);
        Applied::Applied(self.observe(i, polled.outcome, latency, now, threshold))
    }

    fn observe(
        &mut self,
        i: usize,
        outcome: Outcome,
        latency_ms: Option<f64>,
        now: Timestamp,
        threshold: u32,
    ) -> Option<Transition> {
        let entry = &self.inventory.services[i];
        let deployment = Deployment {
            enabled: entry.enabled,
            replicas: entry.replicas,
        };
        // Re-evaluation, STATE_MISMATCH and freshness use the service's own venue.
        let calendar = self
            .calendars
            .get(entry.calendar_name(&self.inventory.floor));
        let market = |at: Timestamp| calendar.is_open(at).ok();
        let tracked = &mut self.services[i];
        let change = tracked.observe(
            outcome,
            latency_ms.unwrap_or(0.0),
            now,
            threshold,
            deployment,
            market,
        );
        if latency_ms.is_none() {
            // Evaluated without timing (a report): no latency to show.
            tracked.latency_ms = None;
        } else {
            tracked.record_latency();
        }
        change
    }

    /// Re-computes the rollup at `now`; the floor's transition, if its state or
    /// codes changed (contributors may shift without one).
    pub fn roll(&mut self, now: Timestamp) -> Option<Transition> {
        if !self.floor_known && self.awaiting_first_look(now) {
            // Before every service has answered (or failed) once, the rollup would
            // only say "UNKNOWN, nothing known yet": a transition nobody needs.
            return None;
        }
        let verdict = self.verdict_at(now);
        self.last_rollup = Some(now);
        if self.floor_known
            && verdict.state == self.verdict.state
            && verdict.reason_codes == self.verdict.reason_codes
        {
            self.verdict = verdict;
            return None;
        }
        let change = Transition {
            subject: Subject::Floor,
            from: self.floor_known.then_some(self.verdict.state),
            to: verdict.state,
            reason_codes: verdict.reason_codes.clone(),
            at: now,
        };
        self.verdict = verdict;
        self.since = now;
        self.floor_known = true;
        Some(change)
    }

    /// True while some polled service has not had its first poll and the first
    /// round can still be in flight (one interval for its phase, plus its timeout).
    fn awaiting_first_look(&self, now: Timestamp) -> bool {
        let floor = &self.inventory.floor;
        let interval = poll_interval(floor.poll_interval_ms);
        let pending = self
            .inventory
            .services
            .iter()
            .zip(&self.services)
            .filter(|(e, t)| t.last_poll.is_none() && !disabled_execution(e));
        let latest = pending
            .map(|(e, _)| interval + Duration::from_millis(e.timeout_ms(floor)))
            .max();
        latest.is_some_and(|wait| {
            jiff::SignedDuration::try_from(wait)
                .ok()
                .and_then(|wait| self.started.checked_add(wait).ok())
                .is_some_and(|deadline| now < deadline)
        })
    }

    /// Replaces the inventory and calendar, keeping what is known about services
    /// that remain (matched by name), and rolls up. Returns the transitions caused.
    pub fn reload(
        &mut self,
        inventory: Inventory,
        calendars: impl Into<Calendars>,
        now: Timestamp,
    ) -> Vec<Transition> {
        let mut calendars = calendars.into();
        calendars.complete(&inventory);
        let mut old: HashMap<String, Tracked> = std::mem::take(&mut self.services)
            .into_iter()
            .map(|t| (t.name.clone(), t))
            .collect();
        self.services = inventory
            .services
            .iter()
            .map(|e| match old.remove(&e.name) {
                Some(mut t) => {
                    t.kind = e.kind;
                    t.criticality = e.criticality;
                    t.url.clone_from(&e.url);
                    t.aliases.clone_from(&e.aliases);
                    t.expected_to_run = e.expected_to_run();
                    t
                }
                None => track(e, &[], now),
            })
            .collect();
        self.inventory = inventory;
        self.calendar = calendars.floor().clone();
        self.calendars = calendars;
        self.reindex();
        let mut changes = self.disable_scaled_to_zero(now);
        changes.extend(self.roll(now));
        changes
    }

    /// Marks every execution service the inventory scales to zero or disables as
    /// calm OFFLINE, returning the transitions that caused.
    pub fn disable_scaled_to_zero(&mut self, now: Timestamp) -> Vec<Transition> {
        self.services
            .iter_mut()
            .filter(|t| !t.expected_to_run && t.kind == ServiceKind::Execution)
            .filter_map(|t| t.disabled(now))
            .collect()
    }

    /// The age of the oldest poll result among the services that are polled: how far
    /// behind the floor's picture may be. `None` until every polled service has a result.
    pub fn oldest_result_age(&self, now: Timestamp) -> Option<f64> {
        let mut oldest: Option<Timestamp> = None;
        for (t, e) in self.services.iter().zip(&self.inventory.services) {
            if disabled_execution(e) {
                continue;
            }
            let last = t.last_poll?;
            oldest = Some(oldest.map_or(last, |o| o.min(last)));
        }
        oldest.map(|o| opsfloor_contract::time::age_seconds(o, now))
    }

    fn reindex(&mut self) {
        self.index = self
            .services
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.clone(), i))
            .collect();
    }

    fn verdict_at(&self, now: Timestamp) -> FloorVerdict {
        let members: Vec<Member<'_>> = self
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| Member {
                name: &s.name,
                kind: s.kind,
                criticality: s.criticality,
                expected_to_run: s.expected_to_run,
                state: s.state,
                reason_codes: &s.reason_codes,
                kill_switch: s.kill_switch,
                // Outside its calendar's range a venue is taken as closed: the calm reading.
                market_open: self.calendar_of(i).is_open(now).unwrap_or(false),
            })
            .collect();
        rollup(&members)
    }
}

/// The poll interval in force: the inventory's, at least 100 ms.
pub fn poll_interval(poll_interval_ms: u64) -> Duration {
    Duration::from_millis(poll_interval_ms.max(100))
}

/// An execution service the inventory scales to zero or disables: not polled.
pub fn disabled_execution(e: &ServiceEntry) -> bool {
    e.kind == ServiceKind::Execution && !e.expected_to_run()
}

fn track(e: &ServiceEntry, resumed: &[Transition], now: Timestamp) -> Tracked {
    let last = resumed
        .iter()
        .find(|t| t.subject.service_name() == Some(e.name.as_str()))
        .map(|t| (t.to, t.reason_codes.clone(), t.at));
    let mut t = Tracked::new(
        e.name.clone(),
        e.kind,
        e.criticality,
        e.url.clone(),
        e.expected_to_run(),
        last,
        now,
    );
    t.aliases.clone_from(&e.aliases);
    t
}
