//! Alerts from the running floor: a [`Subscriber`] that turns every published batch
//! of transitions into [`Observation`]s of the displayed state, feeds an
//! [`AlertBook`], and hands the changes to the sinks (`opsfloor-alerts`), each on
//! its own task.
//!
//! The publisher calls [`Alerting`] with stored transitions; it only reads the
//! floor (one short read lock) and queues the observations for the alerting task,
//! which owns the book. So network trouble at a sink never reaches the floor.
//!
//! - **Start**: [`Subscriber::started`] queues the whole current picture, so an
//!   Alertmanager learns what fires after a floor restart. Services not heard from
//!   yet (the placeholder `UNKNOWN` without a reason code) are left out, and so is
//!   the floor before its first rollup: they are not states anyone decided.
//! - **Clocks**: observations carry the floor's clock (possibly simulated: `--now`);
//!   the book's `startsAt`/`endsAt` come from the [`WallClock`], because a real
//!   Alertmanager compares them with its own clock.
//! - **Every second** the task looks at the floor again (a resumed floor whose first
//!   rollup changed nothing publishes no transition, yet its alert must be in the
//!   picture) and sets the watchdog: `OpsfloorWatchdog` fires while the engine loop
//!   rolls the floor up, and stops once it has not for
//!   [`opsfloor_alerts::STALLED_AFTER_INTERVALS`] poll intervals (each counted as
//!   at least a second, the rollup's own period, so a fast poll cannot make it flap).
//! - **Maintenance**: the `[[maintenance]]` windows of the inventory in force, on
//!   the floor's clock; nothing they cover alerts. A window opens and closes
//!   without a transition, so while windows exist every subject is looked at
//!   again each second.
//! - **Reload**: each second the task compares the inventory's `[alerts]` text with
//!   the one in force; a change that resolves replaces the sinks (the old ones
//!   deliver what they hold in the background) and the book's settings, and the
//!   whole picture is observed again; one that does not is logged and ignored.
//!   Without `[alerts]` the task runs with no sinks, so a reload can add them.
//! - **Replicas**: every replica keeps the book, only the leader sends (see
//!   `Sending`): a new leader seeds the Alertmanagers with the whole picture; a
//!   webhook misses the changes made while nobody led.
//! - **Market**: a service's own market is its own venue's calendar (its
//!   `calendar`, else the floor's); the floor's market is open while any of its
//!   venues is. A calendar that cannot answer counts as open, so a page is never
//!   downgraded by a gap in the calendar.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use jiff::Timestamp;
use opsfloor_alerts::maintenance::active_for;
use opsfloor_alerts::{
    AlertBook, AlertsConfig, MaintenanceWindow, Observation, ResolvedAlerts, Sinks,
    Subject as AlertSubject, WallClock, watchdog_alert,
};
use opsfloor_contract::State;
use opsfloor_engine::{FloorState, Subject, Tracked, Transition};
use opsfloor_inventory::Inventory;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::cluster::Cluster;
use crate::floor::Floor;
use crate::recorder::Subscriber;

/// Reads a secret named in `[alerts]` (`bearer_token_env`, `secret_env`), at start
/// and again on every reload.
pub type Env = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Why alerting cannot start.
#[derive(Debug, thiserror::Error)]
pub enum AlertingError {
    /// `[alerts]` is invalid: every problem, named by file, line and field.
    #[error("{0}")]
    Config(String),
    /// A sink's HTTP client could not be built.
    #[error("alert sinks: {0}")]
    Client(String),
}

/// Reads the inventory's `[alerts]` (`None` when it has none: no alerting),
/// secrets through `env`; problems read `inventory.toml:12: alerts.webhook[0].url: ...`.
pub fn resolve(
    inventory: &Inventory,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<ResolvedAlerts>, AlertingError> {
    resolve_in(&inventory.source, inventory.alerts.as_ref(), env)
}

/// As [`resolve`], from the `[alerts]` section of the inventory at `source`.
fn resolve_in(
    source: &std::path::Path,
    section: Option<&opsfloor_inventory::Section>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<ResolvedAlerts>, AlertingError> {
    let Some(section) = section else {
        return Ok(None);
    };
    let at = format!("{}:{}", source.display(), section.line);
    let named = |e: opsfloor_alerts::ConfigErrors| {
        let lines: Vec<String> =
            e.0.iter()
                .map(|p| format!("{at}: {}: {}", p.field, p.message))
                .collect();
        AlertingError::Config(lines.join("\n"))
    };
    let mut config = AlertsConfig::from_section(&section.toml).map_err(named)?;
    // As `[floor] ca_file`: relative to the inventory's directory.
    let dir = source.parent().unwrap_or_else(|| std::path::Path::new("."));
    config.ca_file = config.ca_file.map(|path| dir.join(path));
    config.resolve(env).map(Some).map_err(named)
}

/// Reads the inventory's `[[maintenance]]` windows (none without them); problems
/// read `inventory.toml:30: maintenance[0].end: ...`.
pub fn windows(inventory: &Inventory) -> Result<Vec<MaintenanceWindow>, AlertingError> {
    windows_in(&inventory.source, inventory.maintenance.as_ref())
}

/// As [`windows`], from the `[[maintenance]]` section of the inventory at `source`
/// (so a caller can copy the small section out of a lock and parse it outside).
pub fn windows_in(
    source: &std::path::Path,
    section: Option<&opsfloor_inventory::Section>,
) -> Result<Vec<MaintenanceWindow>, AlertingError> {
    let Some(section) = section else {
        return Ok(Vec::new());
    };
    let at = format!("{}:{}", source.display(), section.line);
    opsfloor_alerts::maintenance::from_toml(&section.toml).map_err(|e| {
        let lines: Vec<String> =
            e.0.iter()
                .map(|p| format!("{at}: {}: {}", p.field, p.message))
                .collect();
        AlertingError::Config(lines.join("\n"))
    })
}

/// The windows of the inventory in force, parsed again only when its
/// `[[maintenance]]` text changed (a reload); a broken edit keeps the last good ones.
#[derive(Default)]
struct WindowCache {
    text: Option<String>,
    windows: Arc<Vec<MaintenanceWindow>>,
}

impl WindowCache {
    fn current(&mut self, inventory: &Inventory) -> Arc<Vec<MaintenanceWindow>> {
        let text = inventory.maintenance.as_ref().map(|m| &m.toml);
        if self.text.as_ref() != text {
            self.text = text.cloned();
            match windows(inventory) {
                Ok(windows) => self.windows = Arc::new(windows),
                Err(e) => tracing::error!(error = %e, "maintenance windows not reloaded"),
            }
        }
        self.windows.clone()
    }
}

/// What the alerting task is told.
enum Message {
    /// The whole picture (at start).
    Sync(Vec<Observation>),
    /// Some subjects' current displayed state.
    Observe(Vec<Observation>),
    /// Services no longer in the inventory.
    Forget(Vec<AlertSubject>),
    /// Shut down: the sinks get this long to deliver what they hold.
    Stop(Duration),
}

/// What the subscriber knows once the floor is up.
struct Context {
    floor: Floor,
    /// Whether this replica leads: only the leader sends.
    cluster: Cluster,
    /// `http://<addr>`, for the dashboard links.
    base: String,
    windows: Mutex<WindowCache>,
    /// The `[alerts]` text in force, to notice a reload that changed it.
    alerts: Mutex<Option<String>>,
    /// Reads the secrets of a reloaded `[alerts]`.
    env: Env,
}

impl Context {
    /// `Some(settings)` when a reload changed the inventory's `[alerts]` and the new
    /// text resolves (`Some(None)`: the table was removed). A broken edit is logged
    /// and keeps the last good settings, as a broken `[[maintenance]]` edit does.
    fn alerts_reloaded(&self) -> Option<Option<ResolvedAlerts>> {
        let (source, section) = self
            .floor
            .read(|s| (s.inventory.source.clone(), s.inventory.alerts.clone()));
        let text = section.as_ref().map(|a| a.toml.clone());
        {
            let mut last = match self.alerts.lock() {
                Ok(last) => last,
                Err(poisoned) => poisoned.into_inner(),
            };
            if *last == text {
                return None;
            }
            *last = text;
        }
        match resolve_in(&source, section.as_ref(), |k| (self.env)(k)) {
            Ok(resolved) => Some(resolved),
            Err(e) => {
                tracing::error!(error = %e, "[alerts] not reloaded: the last good settings stay");
                None
            }
        }
    }

    /// The maintenance windows in force (call under the floor's read lock).
    fn windows(&self, s: &FloorState) -> Arc<Vec<MaintenanceWindow>> {
        match self.windows.lock() {
            Ok(mut cache) => cache.current(&s.inventory),
            Err(poisoned) => poisoned.into_inner().current(&s.inventory),
        }
    }

    /// Everything needed to observe one subject.
    fn view<'a>(&'a self, s: &'a FloorState, now: Timestamp) -> View<'a> {
        View {
            s,
            now,
            base: &self.base,
            windows: self.windows(s),
        }
    }
}

/// The floor at one moment, as the observations are built from it.
struct View<'a> {
    s: &'a FloorState,
    now: Timestamp,
    base: &'a str,
    windows: Arc<Vec<MaintenanceWindow>>,
}

/// The alerting subscriber. Create it with [`Alerting::start`] inside the runtime,
/// pass it in `ServeConfig.subscribers`, and call [`Alerting::shutdown`] after the
/// floor has shut down.
#[derive(Clone)]
pub struct Alerting {
    tx: mpsc::UnboundedSender<Message>,
    context: Arc<OnceLock<Context>>,
    env: Env,
    task: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl std::fmt::Debug for Alerting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alerting").finish_non_exhaustive()
    }
}

impl Alerting {
    /// Starts the sinks of `config` (none for `None`: an inventory without
    /// `[alerts]`, which a reload may add) and the alerting task; `env` reads the
    /// secrets of a reloaded `[alerts]`. Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// A sink's HTTP client cannot be built.
    pub fn start(
        config: Option<&ResolvedAlerts>,
        env: Env,
        clock: Arc<dyn WallClock>,
    ) -> Result<Alerting, AlertingError> {
        let sinks = match config {
            Some(config) => Some(
                Sinks::spawn(config, clock.clone())
                    .map_err(|e| AlertingError::Client(e.to_string()))?,
            ),
            None => None,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let context = Arc::new(OnceLock::new());
        let book = AlertBook::new(config.map(|c| c.rules).unwrap_or_default());
        let sending = Sending {
            config: config.cloned(),
            sinks,
        };
        let task = tokio::spawn(run(rx, book, sending, clock, context.clone()));
        Ok(Alerting {
            tx,
            context,
            env,
            task: Arc::new(Mutex::new(Some(task))),
        })
    }

    /// Stops the task and lets the sinks deliver what they hold, for at most `grace`.
    pub async fn shutdown(&self, grace: Duration) {
        let task = match self.task.lock() {
            Ok(mut guard) => guard.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        let Some(task) = task else { return };
        let _ = self.tx.send(Message::Stop(grace));
        let abort = task.abort_handle();
        if tokio::time::timeout(grace + Duration::from_secs(1), task)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
}

impl Subscriber for Alerting {
    fn started(&self, floor: &Floor, addr: SocketAddr, cluster: &Cluster) {
        let context = Context {
            floor: floor.clone(),
            cluster: cluster.clone(),
            base: format!("http://{addr}"),
            windows: Mutex::default(),
            alerts: Mutex::new(floor.read(|s| s.inventory.alerts.as_ref().map(|a| a.toml.clone()))),
            env: self.env.clone(),
        };
        let now = floor.now();
        let picture = floor.read(|s| everything(&context.view(s, now)));
        let _ = self.context.set(context);
        let _ = self.tx.send(Message::Sync(picture));
    }

    fn published(&self, changes: &[Transition]) {
        let Some(context) = self.context.get() else {
            return;
        };
        let subjects: BTreeSet<&Subject> = changes.iter().map(|t| &t.subject).collect();
        let now = context.floor.now();
        let (seen, gone) = context.floor.read(|s| {
            let view = context.view(s, now);
            let mut seen = Vec::new();
            let mut gone = Vec::new();
            for subject in subjects {
                match subject {
                    Subject::Floor => seen.extend(floor_observation(&view)),
                    Subject::Service(name) => match s.service(name) {
                        Some(t) => seen.extend(service_observation(&view, t)),
                        None => gone.push(removed(s, name)),
                    },
                }
            }
            (seen, gone)
        });
        if !seen.is_empty() {
            let _ = self.tx.send(Message::Observe(seen));
        }
        if !gone.is_empty() {
            let _ = self.tx.send(Message::Forget(gone));
        }
    }
}

/// The floor and every service, as far as their states are decided.
fn everything(view: &View<'_>) -> Vec<Observation> {
    let mut all: Vec<Observation> = floor_observation(view).into_iter().collect();
    all.extend(
        view.s
            .services()
            .iter()
            .filter_map(|t| service_observation(view, t)),
    );
    all
}

impl View<'_> {
    /// The floor's market: open while any of its venues is.
    fn floor_market_open(&self) -> bool {
        self.s
            .calendars
            .venues()
            .any(|c| c.is_open(self.now).unwrap_or(true))
    }

    /// A service's own market.
    fn service_market_open(&self, name: &str) -> bool {
        self.s
            .service_calendar(name)
            .is_open(self.now)
            .unwrap_or(true)
    }

    fn in_maintenance(&self, subject: &AlertSubject) -> bool {
        active_for(&self.windows, subject, self.now).is_some()
    }
}

/// The floor's displayed state; `None` before its first rollup.
fn floor_observation(view: &View<'_>) -> Option<Observation> {
    let s = view.s;
    s.last_rollup?;
    let subject = AlertSubject::Floor {
        floor: s.inventory.floor.name.clone(),
    };
    Some(Observation {
        in_maintenance: view.in_maintenance(&subject),
        subject,
        state: s.verdict.state,
        reasons: s.verdict.reason_codes.clone(),
        contributors: s.verdict.contributors.clone(),
        since: s.since,
        market_open: view.floor_market_open(),
        dashboard_url: format!("{}/", view.base),
    })
}

/// One service's displayed state; `None` while it has not been heard from (the
/// placeholder: `UNKNOWN` with no reason, never polled).
fn service_observation(view: &View<'_>, t: &Tracked) -> Option<Observation> {
    if t.state == State::Unknown && t.reason_codes.is_empty() && t.last_poll.is_none() {
        return None;
    }
    let subject = AlertSubject::Service {
        floor: view.s.inventory.floor.name.clone(),
        service: t.name.clone(),
        kind: t.kind,
        criticality: t.criticality,
    };
    Some(Observation {
        in_maintenance: view.in_maintenance(&subject),
        subject,
        state: t.state,
        reasons: t.reason_codes.clone(),
        contributors: Vec::new(),
        since: t.since,
        market_open: view.service_market_open(&t.name),
        dashboard_url: format!("{}/services/{}", view.base, t.name),
    })
}

/// The subject of a service that left the inventory (only its name matters to
/// the book, which keys services by name).
fn removed(s: &FloorState, name: &str) -> AlertSubject {
    AlertSubject::Service {
        floor: s.inventory.floor.name.clone(),
        service: name.to_owned(),
        kind: opsfloor_contract::ServiceKind::Strategy,
        criticality: opsfloor_contract::Criticality::Optional,
    }
}

/// The sinks while this replica leads; none while it follows. Every replica keeps
/// its book (so a new leader knows what fires), but only the leader sends: a
/// replica that takes the lead starts the sinks and seeds the Alertmanagers with
/// the whole picture; one that loses it stops them at once, so it never re-sends
/// its picture over the new leader's.
struct Sending {
    /// `None`: the inventory has no `[alerts]`, nothing is sent.
    config: Option<ResolvedAlerts>,
    sinks: Option<Sinks>,
}

/// How long the sinks of a replaced `[alerts]` may deliver what they hold.
const REPLACED_SINKS_GRACE: Duration = Duration::from_secs(10);

impl Sending {
    /// Takes a reloaded `[alerts]`: the book's settings change, and the old sinks
    /// are closed and deliver what they hold in the background (webhook retries
    /// included), while [`Sending::follow`] starts the new ones (seeding the
    /// Alertmanagers with the whole picture) if this replica leads.
    fn reconfigure(&mut self, config: Option<ResolvedAlerts>, book: &mut AlertBook) {
        book.set_settings(config.as_ref().map(|c| c.rules).unwrap_or_default());
        if let Some(old) = self.sinks.take() {
            tokio::spawn(old.shutdown(REPLACED_SINKS_GRACE));
        }
        tracing::info!(
            alertmanagers = config.as_ref().map_or(0, |c| c.alertmanagers.len()),
            webhooks = config.as_ref().map_or(0, |c| c.webhooks.len()),
            "[alerts] reloaded"
        );
        self.config = config;
    }

    /// Follows the cluster: starts or stops the sinks when leadership changed.
    fn follow(&mut self, leading: bool, book: &AlertBook, clock: &Arc<dyn WallClock>) {
        let Some(config) = &self.config else {
            return;
        };
        match (leading, self.sinks.is_some()) {
            (true, false) => match Sinks::spawn(config, clock.clone()) {
                Ok(sinks) => {
                    tracing::info!("leading: sending alerts");
                    sinks.seed(&book.picture());
                    self.sinks = Some(sinks);
                }
                Err(e) => tracing::error!(error = %e, "cannot start the alert sinks"),
            },
            (false, true) => {
                if let Some(sinks) = self.sinks.take() {
                    tracing::info!("following: the leader sends alerts");
                    sinks.abort();
                }
            }
            _ => {}
        }
    }

    fn send(&self, changes: &[opsfloor_alerts::Change]) {
        if let Some(sinks) = &self.sinks {
            sinks.send(changes);
        }
    }
}

/// The alerting task: owns the book, hands every change to the sinks.
async fn run(
    mut rx: mpsc::UnboundedReceiver<Message>,
    mut book: AlertBook,
    mut sending: Sending,
    clock: Arc<dyn WallClock>,
    context: Arc<OnceLock<Context>>,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut grace = Duration::from_secs(5);
    loop {
        tokio::select! {
            message = rx.recv() => {
                let Some(message) = message else { break };
                let wall = clock.now();
                let changes = match message {
                    Message::Sync(all) => book.sync(&all, wall),
                    Message::Observe(some) => some.iter().flat_map(|o| book.observe(o, wall)).collect(),
                    Message::Forget(gone) => gone.iter().filter_map(|g| book.forget(g, wall)).collect(),
                    Message::Stop(limit) => {
                        grace = limit;
                        break;
                    }
                };
                if let Some(context) = context.get() {
                    sending.follow(context.cluster.view().leader, &book, &clock);
                }
                sending.send(&changes);
            }
            _ = tick.tick() => {
                if let Some(context) = context.get() {
                    let mut changes = Vec::new();
                    if let Some(config) = context.alerts_reloaded() {
                        sending.reconfigure(config, &mut book);
                        // New settings may change what fires (a page becomes a
                        // ticket): the whole picture again.
                        let now = context.floor.now();
                        let all = context.floor.read(|s| everything(&context.view(s, now)));
                        changes = book.sync(&all, clock.now());
                    }
                    changes.extend(look_again(&mut book, context, clock.now()));
                    sending.follow(context.cluster.view().leader, &book, &clock);
                    sending.send(&changes);
                }
            }
        }
    }
    if let Some(sinks) = sending.sinks {
        sinks.shutdown(grace).await;
    }
}

/// The floor observed again (every subject while maintenance windows exist, since
/// a window opens or closes without any transition), and the watchdog set from
/// its last rollup.
fn look_again(
    book: &mut AlertBook,
    context: &Context,
    wall: Timestamp,
) -> Vec<opsfloor_alerts::Change> {
    let now = context.floor.now();
    let (observed, dog) = context.floor.read(|s| {
        let view = context.view(s, now);
        // The engine rolls the floor up at least once a second, whatever the poll
        // interval: a faster poll must not make the watchdog flap between rollups.
        let interval =
            Duration::from_millis(s.inventory.floor.poll_interval_ms).max(Duration::from_secs(1));
        let dog = watchdog_alert(
            &s.inventory.floor.name,
            s.started,
            s.last_rollup,
            now,
            interval,
            &format!("{}/", context.base),
        );
        let observed = if view.windows.is_empty() {
            floor_observation(&view).into_iter().collect()
        } else {
            everything(&view)
        };
        (observed, (dog, s.inventory.floor.name.clone()))
    });
    let mut changes: Vec<_> = observed
        .iter()
        .flat_map(|o| book.observe(o, wall))
        .collect();
    changes.extend(book.watchdog(dog.0, &dog.1, wall));
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsfloor_contract::calendar::VenueOverrides;
    use opsfloor_engine::Calendars;

    /// `[alerts] ca_file` is read relative to the inventory's directory, as
    /// `[floor] ca_file` is; a file that is not PEM names the field and the path.
    #[test]
    fn the_alerts_ca_file_is_relative_to_the_inventory() {
        let dir = tempfile::tempdir().expect("tmp");
        let ca = opsfloor_testkit::pki::Ca::new("test CA");
        std::fs::write(dir.path().join("ca.pem"), ca.cert_pem()).expect("write");
        std::fs::write(dir.path().join("bad.pem"), "nothing").expect("write");
        let load = |ca_file: &str| {
            let text = format!(
                "[floor]\nname = \"f\"\n\n[[services]]\nname = \"s\"\nkind = \"ops\"\n\
                 url = \"http://10.0.0.1:1\"\n\n[alerts]\nca_file = \"{ca_file}\"\n\n\
                 [[alerts.alertmanager]]\nurl = \"https://am.internal:9093\"\n"
            );
            let path = dir.path().join("floor.toml");
            std::fs::write(&path, text).expect("write");
            let inventory = opsfloor_inventory::load(&path).expect("inventory");
            resolve(&inventory, |_| None)
        };
        let resolved = load("ca.pem").expect("resolves").expect("an [alerts]");
        assert_eq!(resolved.tls.extra_roots.len(), 1);
        let e = load("bad.pem").expect_err("not PEM").to_string();
        assert!(e.contains("alerts.ca_file: "), "{e}");
        assert!(e.contains("bad.pem: no certificate in the file"), "{e}");
    }

    /// A Tokyo service's market is Tokyo's: at 15:00 UTC (10:00 New York, after
    /// Tokyo's close) it is closed for the Tokyo service, open for the New York one
    /// and for the floor.
    #[test]
    fn each_service_is_judged_by_its_own_market() {
        let text = "[floor]\ncalendar = \"XNYS\"\n\n[[services]]\nname = \"ny\"\nkind = \"ops\"\nurl = \"http://10.0.0.1:1\"\n\n[[services]]\nname = \"tokyo\"\nkind = \"ops\"\nurl = \"http://10.0.0.2:1\"\ncalendar = \"XTKS\"\n";
        let inventory = opsfloor_inventory::parse(
            text,
            "floor.toml".as_ref(),
            opsfloor_inventory::Format::Toml,
        )
        .expect("inventory");
        let calendars =
            Calendars::for_inventory(&inventory, &VenueOverrides::default()).expect("calendars");
        let now: Timestamp = "2026-01-07T15:00:00Z".parse().expect("instant");
        let state = FloorState::new(inventory, calendars, &[], now);
        let view = View {
            s: &state,
            now,
            base: "http://floor",
            windows: Arc::new(Vec::new()),
        };
        assert!(view.service_market_open("ny"));
        assert!(!view.service_market_open("tokyo"));
        assert!(view.floor_market_open());
    }
}
