//! The probe handle: what a service updates from its hot paths.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, Ordering};

use jiff::Timestamp;
use opsfloor_contract::{
    Calendar, CalendarError, Document, Observations, ServiceConfig, build_document,
};

use crate::calendar_file::LiveCalendar;
use crate::clock::Clock;
use crate::config::{ConfigError, ProbeConfig};
use crate::kill_switch::KillSwitch;

/// "Never recorded" in the atomic timestamp slots.
const NONE: i64 = i64::MIN;

/// A cheap, cloneable handle to a service's status.
///
/// Every update is a single atomic store (no locks), so it can sit on a hot path:
/// [`Probe::record_tick`] on every tick, [`Probe::heartbeat`] on every loop. Building
/// a document ([`Probe::document`]) reads the handle and the clock once.
#[derive(Debug, Clone)]
pub struct Probe {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    service: ServiceConfig,
    calendar: LiveCalendar,
    clock: Clock,
    kill_switch: KillSwitch,
    heartbeat_file: Option<PathBuf>,
    started: Timestamp,
    /// Nanoseconds since the Unix epoch, or [`NONE`].
    last_heartbeat: AtomicI64,
    last_tick: AtomicI64,
    last_bar: AtomicI64,
    process_up: AtomicBool,
    /// 0 unknown, 1 false, 2 true.
    execution_enabled: AtomicU8,
    /// Replicas, or [`NONE`] for unknown.
    execution_replicas: AtomicI64,
}

impl Probe {
    /// A probe on the system clock.
    pub fn new(config: ProbeConfig) -> Probe {
        Probe::with_clock(config, Clock::System)
    }

    /// A probe configured from the environment (see [`crate::config`]).
    pub fn from_env() -> Result<Probe, ConfigError> {
        ProbeConfig::from_env().map(Probe::new)
    }

    /// A probe on the given clock (a simulated one, in the fleet and in tests).
    pub fn with_clock(config: ProbeConfig, clock: Clock) -> Probe {
        let inner = Inner {
            started: clock.now(),
            service: config.service,
            calendar: LiveCalendar::new(config.calendar, config.calendar_file),
            clock,
            kill_switch: KillSwitch::new(config.kill_switch),
            heartbeat_file: config.heartbeat_file,
            last_heartbeat: AtomicI64::new(NONE),
            last_tick: AtomicI64::new(NONE),
            last_bar: AtomicI64::new(NONE),
            process_up: AtomicBool::new(true),
            execution_enabled: AtomicU8::new(encode_flag(config.execution_enabled)),
            execution_replicas: AtomicI64::new(config.execution_replicas.unwrap_or(NONE)),
        };
        Probe {
            inner: Arc::new(inner),
        }
    }

    /// The service's static configuration.
    pub fn config(&self) -> &ServiceConfig {
        &self.inner.service
    }

    /// The market calendar in force now (the overrides file re-read when it changed).
    pub fn calendar(&self) -> Calendar {
        self.inner.calendar.current()
    }

    /// The probe's clock.
    pub fn clock(&self) -> Clock {
        self.inner.clock
    }

    /// Records a heartbeat now.
    pub fn heartbeat(&self) {
        self.heartbeat_at(self.inner.clock.now());
    }

    /// Records a heartbeat at `at` (never moves the heartbeat backwards).
    pub fn heartbeat_at(&self, at: Timestamp) {
        store_max(&self.inner.last_heartbeat, at);
    }

    /// Records a market data tick stamped `at` (never moves backwards).
    pub fn record_tick(&self, at: Timestamp) {
        store_max(&self.inner.last_tick, at);
    }

    /// Records a bar stamped `at` (never moves backwards).
    pub fn record_bar(&self, at: Timestamp) {
        store_max(&self.inner.last_bar, at);
    }

    /// Sets whether the process counts as up (a supervisor reporting for a child).
    pub fn set_process_up(&self, up: bool) {
        self.inner.process_up.store(up, Ordering::Relaxed);
    }

    /// Sets whether execution is enabled (`None`: unknown).
    pub fn set_execution_enabled(&self, enabled: Option<bool>) {
        self.inner
            .execution_enabled
            .store(encode_flag(enabled), Ordering::Relaxed);
    }

    /// Sets the number of execution replicas (`None`: unknown).
    pub fn set_execution_replicas(&self, replicas: Option<i64>) {
        self.inner
            .execution_replicas
            .store(replicas.unwrap_or(NONE), Ordering::Relaxed);
    }

    /// Engages or releases the service's own kill switch. The environment flag and
    /// the file still apply: the switch is engaged when any source says so.
    pub fn set_kill_switch(&self, engaged: bool) {
        self.inner.kill_switch.set_manual(engaged);
    }

    /// Is the kill switch engaged now?
    pub fn kill_switch_engaged(&self) -> bool {
        self.inner.kill_switch.engaged()
    }

    /// A snapshot of the observations at `now`.
    pub fn observations_at(&self, now: Timestamp) -> Observations {
        let i = &self.inner;
        let mut last_heartbeat = load(&i.last_heartbeat);
        if let Some(path) = &i.heartbeat_file {
            // A cron-style job: its heartbeat is the file's modification time. Until
            // the job has run once, the sidecar's start counts, so a job that never
            // runs turns stale after one TTL instead of looking fresh forever.
            let touched = std::fs::metadata(path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| i.clock.from_system(t));
            last_heartbeat = last_heartbeat.max(touched).or(Some(i.started));
        }
        Observations {
            now,
            last_heartbeat,
            last_tick: load(&i.last_tick),
            last_bar: load(&i.last_bar),
            kill_switch: i.kill_switch.engaged(),
            process_up: i.process_up.load(Ordering::Relaxed),
            execution_enabled: decode_flag(i.execution_enabled.load(Ordering::Relaxed)),
            execution_replicas: Some(i.execution_replicas.load(Ordering::Relaxed))
                .filter(|&n| n != NONE),
        }
    }

    /// The document now, reading the clock once.
    pub fn document(&self) -> Result<Document, CalendarError> {
        self.document_at(self.inner.clock.now())
    }

    /// The document as of `now`.
    pub fn document_at(&self, now: Timestamp) -> Result<Document, CalendarError> {
        build_document(
            &self.inner.service,
            &self.observations_at(now),
            &self.inner.calendar.current(),
        )
    }

    /// The document now, as the JSON bytes served at `/ops/status`.
    pub fn document_bytes(&self) -> Result<Vec<u8>, CalendarError> {
        self.document().map(|d| d.to_json_bytes())
    }

    /// The document now, as a JSON value.
    pub fn document_value(&self) -> Result<serde_json::Value, CalendarError> {
        self.document()
            .map(|d| serde_json::to_value(d).unwrap_or_default())
    }

    /// An axum [`Router`](axum::Router) serving `/ops/status` and `/health`.
    pub fn router(&self) -> axum::Router {
        crate::http::router(self.clone())
    }
}

fn store_max(slot: &AtomicI64, at: Timestamp) {
    if let Ok(nanos) = i64::try_from(at.as_nanosecond()) {
        slot.fetch_max(nanos, Ordering::Relaxed);
    }
}

fn load(slot: &AtomicI64) -> Option<Timestamp> {
    match slot.load(Ordering::Relaxed) {
        NONE => None,
        nanos => Timestamp::from_nanosecond(i128::from(nanos)).ok(),
    }
}

fn encode_flag(flag: Option<bool>) -> u8 {
    match flag {
        None => 0,
        Some(false) => 1,
        Some(true) => 2,
    }
}

fn decode_flag(code: u8) -> Option<bool> {
    match code {
        1 => Some(false),
        2 => Some(true),
        _ => None,
    }
}
