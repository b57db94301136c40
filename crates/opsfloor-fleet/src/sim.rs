//! The fleet's background behaviour: a tick feed, heartbeats, strategies watching
//! marketdata over HTTP, a cron-style ingest job, and the control loop.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use jiff::Timestamp;
use opsfloor_contract::ServiceKind;
use opsfloor_probe::Probe;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::control::{ControlDir, Controls};
use crate::inventory;
use crate::member::Member;

/// Runs `step` every `interval` until the fleet stops.
fn every<F, Fut>(
    interval: Duration,
    mut stopped: watch::Receiver<bool>,
    mut step: F,
) -> JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => step().await,
                _ = stopped.changed() => break,
            }
        }
    })
}

/// The marketdata service's upstream: a tick each interval while the feed is on,
/// and a bar at each new minute.
pub(crate) fn spawn_feed(
    probe: Probe,
    feed_on: Arc<AtomicBool>,
    interval: Duration,
    stopped: watch::Receiver<bool>,
) -> JoinHandle<()> {
    every(interval, stopped, move || {
        if feed_on.load(Ordering::Relaxed) {
            let now = probe.clock().now();
            probe.record_tick(now);
            let minute = now.as_second() - now.as_second().rem_euclid(60);
            if let Ok(bar) = Timestamp::from_second(minute) {
                probe.record_bar(bar);
            }
        }
        std::future::ready(())
    })
}

/// Every service's main loop beats once a second.
pub(crate) fn spawn_heartbeats(
    probes: Vec<Probe>,
    stopped: watch::Receiver<bool>,
) -> JoinHandle<()> {
    every(Duration::from_secs(1), stopped, move || {
        for probe in &probes {
            if probe.config().identity.service_kind != ServiceKind::Ingest {
                probe.heartbeat();
            }
        }
        std::future::ready(())
    })
}

/// A strategy (or the execution agent) learns how fresh market data is the way a
/// real one would: by asking the marketdata service, over HTTP, each second.
pub(crate) fn spawn_watcher(
    probe: Probe,
    marketdata_url: String,
    stopped: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(800))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new());
    let url = format!("{marketdata_url}/ops/status");
    every(Duration::from_secs(1), stopped, move || {
        let (client, url, probe) = (client.clone(), url.clone(), probe.clone());
        async move {
            let Ok(response) = client.get(&url).send().await else {
                return;
            };
            let Ok(text) = response.text().await else {
                return;
            };
            let Ok(received) = opsfloor_contract::parse_document(&text) else {
                return;
            };
            let tick = received
                .valid_document()
                .and_then(|d| d.marketdata.as_ref())
                .and_then(|m| m.last_tick_utc);
            if let Some(tick) = tick {
                probe.record_tick(tick.0);
            }
        }
    })
}

/// The ingest job: runs every `interval` and, on success, touches its heartbeat
/// file, exactly as a cron job would (`run-ingest && touch FILE`).
pub(crate) fn spawn_ingest_job(
    file: PathBuf,
    interval: Duration,
    stopped: watch::Receiver<bool>,
) -> JoinHandle<()> {
    every(interval, stopped, move || {
        if let Err(e) = std::fs::write(&file, "ok\n") {
            tracing::warn!(file = %file.display(), error = %e, "ingest job could not touch its heartbeat file");
        }
        std::future::ready(())
    })
}

/// Everything the control loop owns.
pub(crate) struct ControlLoop {
    pub(crate) members: Vec<Member>,
    pub(crate) control: ControlDir,
    pub(crate) controls: Controls,
    pub(crate) feed_on: Arc<AtomicBool>,
    pub(crate) inventory: Option<PathBuf>,
    /// The overrides file the inventory names for the floor, if any.
    pub(crate) calendar_overrides: Option<PathBuf>,
    pub(crate) interval: Duration,
    pub(crate) stopped: watch::Receiver<bool>,
}

/// Reads the control directory and applies what changed.
pub(crate) fn spawn_control_loop(mut state: ControlLoop) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(state.interval);
        loop {
            tokio::select! {
                _ = ticker.tick() => {
                    let next = state.control.read(&state.controls);
                    if next != state.controls {
                        apply(&mut state, next).await;
                    }
                }
                _ = state.stopped.changed() => break,
            }
        }
        for member in &mut state.members {
            member.stop().await;
        }
    })
}

async fn apply(state: &mut ControlLoop, next: Controls) {
    if next.tick_feed != state.controls.tick_feed {
        tracing::info!(on = next.tick_feed, "tick feed");
        state.feed_on.store(next.tick_feed, Ordering::Relaxed);
    }
    for member in &mut state.members {
        let scaled_out = member.kind == ServiceKind::Execution && next.execution_replicas < 1;
        if member.kind == ServiceKind::Execution {
            member
                .probe
                .set_execution_replicas(Some(next.execution_replicas));
            member
                .probe
                .set_execution_enabled(Some(next.execution_enabled));
        }
        let want_up = !scaled_out && !next.stopped.contains(member.name);
        if want_up && !member.is_serving() {
            if let Err(e) = member.start().await {
                tracing::error!(error = %e, "cannot start");
            }
        } else if !want_up && member.is_serving() {
            member.stop().await;
        }
    }
    let scaled = (next.execution_replicas, next.execution_enabled)
        != (
            state.controls.execution_replicas,
            state.controls.execution_enabled,
        );
    if let (true, Some(path)) = (scaled, &state.inventory) {
        let text = inventory::render(
            &state.members,
            next.execution_replicas,
            next.execution_enabled,
            state.calendar_overrides.as_deref(),
        );
        if let Err(e) = inventory::write_atomically(path, &text) {
            tracing::error!(error = %e, "cannot rewrite the inventory");
        }
    }
    state.controls = next;
}
