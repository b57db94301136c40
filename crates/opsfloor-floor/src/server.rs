//! `opsfloor serve`: load the inventory, resume from history, poll on an interval,
//! reload on SIGHUP or when the inventory file changes, and serve the API.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use jiff::Timestamp;
use opsfloor_contract::Calendar;
use opsfloor_contract::calendar::Overrides;
use opsfloor_history::{History, Subject, Transition};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::{ApiState, router};
use crate::floor::{Event, Floor, Now};

/// How to run the floor.
#[derive(Clone)]
pub struct ServeConfig {
    /// The inventory file (TOML or YAML).
    pub inventory: PathBuf,
    /// Where to serve the API.
    pub listen: SocketAddr,
    /// The SQLite history file; `None` keeps no history.
    pub db: Option<PathBuf>,
    /// How long history is kept.
    pub retention: Duration,
    /// The clock.
    pub now: Now,
    /// More routes served next to the API (the dashboard), built from the API's state.
    pub pages: Option<Pages>,
}

/// Builds extra routes (such as the dashboard's pages) from the API's state.
pub type Pages = Arc<dyn Fn(ApiState) -> axum::Router + Send + Sync>;

impl std::fmt::Debug for ServeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeConfig")
            .field("inventory", &self.inventory)
            .field("listen", &self.listen)
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

/// Why the floor could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The inventory is unreadable or invalid.
    #[error("{0}")]
    Inventory(#[from] opsfloor_inventory::InventoryError),
    /// The calendar named by the inventory is unknown.
    #[error("inventory: {0}")]
    Calendar(#[from] opsfloor_contract::CalendarError),
    /// The history database cannot be opened.
    #[error("{0}")]
    History(#[from] opsfloor_history::HistoryError),
    /// The HTTP client or listener failed.
    #[error("{what}: {message}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        message: String,
    },
}

/// A running floor.
#[derive(Debug)]
pub struct Running {
    /// Where the API listens.
    pub addr: SocketAddr,
    /// The floor.
    pub floor: Floor,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    history: Option<History>,
}

impl Running {
    /// Stops polling and serving, and closes the history after its last write.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            // Bounded: a connection that will not close must not hold the shutdown hostage.
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
        if let Some(history) = self.history {
            history.close().await;
        }
    }
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ServeError {
    let what = what.into();
    move |e| ServeError::Io {
        what,
        message: e.to_string(),
    }
}

/// Starts the floor: the first poll cycle begins at once.
pub async fn start(config: ServeConfig) -> Result<Running, ServeError> {
    let inventory = opsfloor_inventory::load(&config.inventory)?;
    let calendar = Calendar::by_name(&inventory.floor.calendar, &Overrides::default())?;
    let history = match &config.db {
        // A path or sqlite://path is SQLite; postgres://… is PostgreSQL.
        Some(path) => Some(match path.to_str() {
            Some(location) => History::connect(location).await?,
            None => History::open(path).await?,
        }),
        None => None,
    };
    let resumed = match &history {
        Some(h) => h
            .last_states()
            .await?
            .into_iter()
            .map(|t| {
                let name = match t.subject {
                    Subject::Floor => None,
                    Subject::Service(name) => Some(name),
                };
                (name, t.to, t.reason_codes, t.at)
            })
            .collect(),
        None => Vec::new(),
    };
    let interval = Duration::from_millis(inventory.floor.poll_interval_ms.max(100));
    let floor = Floor::new(inventory, calendar, config.now.clone(), &resumed).map_err(|e| {
        ServeError::Io {
            what: "HTTP client".into(),
            message: e.to_string(),
        }
    })?;

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(io(format!("listen on {}", config.listen)))?;
    let addr = listener.local_addr().map_err(io("listener"))?;
    let (stop, stopped) = watch::channel(false);

    let api_state = ApiState {
        floor: floor.clone(),
        history: history.clone(),
        stopping: stopped.clone(),
    };
    let mut app = router(api_state.clone());
    if let Some(pages) = &config.pages {
        app = app.merge(pages(api_state));
    }
    let mut http_stopped = stopped.clone();
    let http = tokio::spawn(async move {
        let shutdown = async move {
            let _ = http_stopped.changed().await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(error = %e, "API server failed");
        }
    });

    let poller = tokio::spawn(poll_loop(
        floor.clone(),
        history.clone(),
        config.inventory.clone(),
        interval,
        config.retention,
        stopped,
    ));
    Ok(Running {
        addr,
        floor,
        stop,
        tasks: vec![http, poller],
        history,
    })
}

fn modified(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

async fn poll_loop(
    floor: Floor,
    history: Option<History>,
    inventory_path: PathBuf,
    interval: Duration,
    retention: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut watch_file = tokio::time::interval(Duration::from_secs(1));
    let mut last_modified = modified(&inventory_path);
    let mut hangup = hangup_signal();
    let mut last_prune: Option<Timestamp> = None;
    loop {
        let reload = tokio::select! {
            _ = ticker.tick() => {
                let events = floor.cycle().await;
                record(&history, &events).await;
                prune(&floor, &history, retention, &mut last_prune).await;
                false
            }
            _ = watch_file.tick() => {
                let now = modified(&inventory_path);
                let changed = now != last_modified;
                last_modified = now;
                changed
            }
            _ = hangup.recv() => true,
            _ = stopped.changed() => break,
        };
        if reload {
            match opsfloor_inventory::load(&inventory_path) {
                Ok(inventory) => {
                    tracing::info!(services = inventory.services.len(), "inventory reloaded");
                    let events = floor.reload(inventory);
                    record(&history, &events).await;
                }
                // A broken edit keeps the last good inventory running.
                Err(e) => {
                    tracing::error!(error = %e, "inventory not reloaded, keeping the previous one")
                }
            }
        }
    }
}

async fn record(history: &Option<History>, events: &[Event]) {
    let Some(history) = history else { return };
    if events.is_empty() {
        return;
    }
    let rows: Vec<Transition> = events
        .iter()
        .map(|e| Transition {
            subject: match &e.service {
                Some(name) => Subject::Service(name.clone()),
                None => Subject::Floor,
            },
            from: e.change.from,
            to: e.change.to,
            reason_codes: e.change.reason_codes.clone(),
            at: e.change.at,
        })
        .collect();
    if let Err(e) = history.record_all(&rows).await {
        tracing::error!(error = %e, "cannot record transitions");
    }
}

async fn prune(
    floor: &Floor,
    history: &Option<History>,
    retention: Duration,
    last: &mut Option<Timestamp>,
) {
    let Some(history) = history else { return };
    let now = floor.now();
    if last.is_some_and(|t| now.duration_since(t) < jiff::SignedDuration::from_secs(3_600)) {
        return;
    }
    *last = Some(now);
    let Ok(keep) = jiff::SignedDuration::try_from(retention) else {
        return;
    };
    if let Ok(cutoff) = now.checked_sub(keep)
        && let Err(e) = history.prune(cutoff).await
    {
        tracing::error!(error = %e, "cannot prune history");
    }
}

/// SIGHUP as a stream of unit values (never fires where there are no signals).
struct Hangup(Option<tokio::signal::unix::Signal>);

impl Hangup {
    async fn recv(&mut self) {
        match &mut self.0 {
            Some(signal) => {
                if signal.recv().await.is_none() {
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending::<()>().await,
        }
    }
}

fn hangup_signal() -> Hangup {
    Hangup(tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok())
}
