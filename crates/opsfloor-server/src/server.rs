//! `opsfloor serve`: load the inventory, resume from history, schedule every
//! service's polls, feed the results to the engine, record transitions before
//! publishing them, reload on SIGHUP or when the inventory file changes, and serve
//! the API.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use opsfloor_contract::calendar::VenueOverrides;
use opsfloor_engine::Calendars;
use opsfloor_history::{History, Journal};
use opsfloor_inventory::Inventory;
use opsfloor_poller::{Poller, PollerSettings};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::api::{ApiState, router};
use crate::cluster::{Cluster, Replica, lease_loop};
use crate::floor::{Floor, Now, PollResult};
use crate::listener::Limits;
use crate::overrides::{OverridesError, overrides_for};
use crate::recorder::{JOURNAL_CAPACITY, Recorder, Subscriber};
use crate::scheduler::Scheduler;

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
    /// Told of every transition once it is stored (alert sinks).
    pub subscribers: Vec<Arc<dyn Subscriber>>,
    /// This replica's name and lease time to live, for the leader lease and
    /// `/api/v1/cluster` (a bare name converts, with the default lease).
    pub replica: Replica,
    /// Wraps the whole router (API, live stream, pages) before the shared headers:
    /// the binary puts its access control here, so no route is served around it.
    /// The peer address is in each request's extensions as axum's
    /// `ConnectInfo<SocketAddr>`, for layers that trust some peers (a proxy).
    pub guard: Option<Guard>,
    /// Header-read and idle timeouts, and the connection cap.
    pub limits: Limits,
    /// Serve HTTPS with this certificate (reloaded when its files change);
    /// `None`: plain HTTP.
    pub tls: Option<crate::tls::Tls>,
}

/// Builds extra routes (such as the dashboard's pages) from the API's state.
pub type Pages = Arc<dyn Fn(ApiState) -> axum::Router + Send + Sync>;

/// Wraps the finished router in a layer (access control), see [`ServeConfig::guard`].
pub type Guard = Arc<dyn Fn(axum::Router) -> axum::Router + Send + Sync>;

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
    /// The calendar overrides file is unreadable or invalid.
    #[error("{0}")]
    Overrides(#[from] OverridesError),
    /// An outgoing credential is missing or unusable (a `bearer_token_env`
    /// variable not set, a certificate file unreadable): a configuration error.
    #[error("{0}")]
    Credentials(#[from] opsfloor_poller::CredentialsError),
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
    recorder: Recorder,
    publisher: JoinHandle<()>,
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
        // Every task holding a recorder has ended: the publisher drains and ends.
        let Running {
            recorder,
            publisher,
            history,
            ..
        } = self;
        recorder.drain(Duration::from_secs(5)).await;
        drop(recorder);
        let _ = tokio::time::timeout(Duration::from_secs(5), publisher).await;
        if let Some(history) = history {
            history.close().await;
        }
    }

    /// The recording path: its health, for tests and the binary.
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ServeError {
    let what = what.into();
    move |e| ServeError::Io {
        what,
        message: e.to_string(),
    }
}

/// The poller's settings for an inventory, its tokens read from the process's
/// environment.
fn settings_for(inventory: &Inventory) -> Result<PollerSettings, ServeError> {
    Ok(PollerSettings::for_inventory(inventory, |name| {
        std::env::var(name).ok()
    })?)
}

fn poller_for(inventory: &Inventory) -> Result<Poller, ServeError> {
    Poller::new(settings_for(inventory)?).map_err(|e| match e {
        opsfloor_poller::PollerError::Credentials(e) => ServeError::Credentials(e),
        e @ opsfloor_poller::PollerError::Client(_) => ServeError::Io {
            what: "HTTP client".into(),
            message: e.to_string(),
        },
    })
}

fn warn_about(inventory: &Inventory) {
    for warning in inventory.warnings() {
        tracing::warn!("{warning}");
    }
}

/// Starts the floor: every service's first poll comes at its phase in the first interval.
pub async fn start(config: ServeConfig) -> Result<Running, ServeError> {
    let inventory = opsfloor_inventory::load(&config.inventory)?;
    warn_about(&inventory);
    let overrides = overrides_for(&inventory)?;
    let calendars = Calendars::for_inventory(&inventory, &overrides)?;
    let history = match &config.db {
        // A path or sqlite://path is SQLite; postgres://… is PostgreSQL.
        Some(path) => Some(match path.to_str() {
            Some(location) => History::connect(location).await?,
            None => History::open(path).await?,
        }),
        None => None,
    };
    let resumed = match &history {
        Some(h) => h.last_states().await?,
        None => Vec::new(),
    };
    let poller = poller_for(&inventory)?;
    let (floor, first) = Floor::new(inventory, calendars, config.now.clone(), &resumed);
    let journal = history
        .as_ref()
        .map(|h| Journal::start(h.clone(), JOURNAL_CAPACITY));
    // Replicas sharing a store write only while they hold the lease.
    let (cluster, lease) = match (&history, &journal) {
        (Some(h), Some(j)) if h.is_shared() => {
            // Take the lease (if free) before the first poll, so a replica that
            // leads from the start stores its very first transitions.
            let lease = crate::cluster::first_lease(h, j, &config.replica).await;
            (
                Cluster::replicated(config.replica.name.clone(), lease.is_some()),
                lease,
            )
        }
        _ => (Cluster::single(config.replica.name.clone()), None),
    };
    let (recorder, publisher) =
        Recorder::start(journal.clone(), floor.clone(), config.subscribers.clone());

    let listener = bind(config.listen).map_err(io(format!("listen on {}", config.listen)))?;
    let addr = listener.local_addr().map_err(io("listener"))?;
    // Before the first batch is recorded, so subscribers see the start first.
    for subscriber in &config.subscribers {
        subscriber.started(&floor, addr, &cluster);
    }
    recorder.record(first);
    let (stop, stopped) = watch::channel(false);

    let api_state = ApiState {
        floor: floor.clone(),
        history: history.clone(),
        recorder: recorder.clone(),
        cluster: cluster.clone(),
        lists: Default::default(),
        stopping: stopped.clone(),
        sse_clients: Arc::new(tokio::sync::Semaphore::new(config.limits.max_sse_clients)),
    };
    let mut app = router(api_state.clone());
    if let Some(pages) = &config.pages {
        app = app.merge(pages(api_state));
    }
    if let Some(guard) = &config.guard {
        app = guard(app);
    }
    let app = with_common_headers(app);
    let http = tokio::spawn(crate::listener::serve(
        listener,
        app,
        config.limits,
        config.tls.clone(),
        stopped.clone(),
    ));

    let mut tasks = vec![http];
    if let (Some(h), Some(j), true) = (&history, &journal, cluster.view().replicated) {
        tasks.push(tokio::spawn(lease_loop(
            cluster.clone(),
            config.replica.clone(),
            h.clone(),
            j.clone(),
            floor.clone(),
            lease,
            stopped.clone(),
        )));
    }
    if let Some(history) = &history {
        tasks.push(tokio::spawn(prune_loop(
            floor.clone(),
            history.clone(),
            config.retention,
            stopped.clone(),
        )));
    }
    tasks.push(tokio::spawn(engine_loop(
        Engine {
            floor: floor.clone(),
            recorder: recorder.clone(),
            inventory_path: config.inventory.clone(),
            overrides,
        },
        poller,
        stopped,
    )));
    Ok(Running {
        addr,
        floor,
        stop,
        tasks,
        history,
        recorder,
        publisher,
    })
}

/// The headers every answer shares, set in one place: nothing is cached unless a
/// route says otherwise (the dashboard's content-hashed assets do), no content-type
/// sniffing, and gzip when the client asks for it (the live stream is never
/// compressed: tower-http's default predicate leaves `text/event-stream` alone).
fn with_common_headers(app: axum::Router) -> axum::Router {
    use axum::http::{HeaderValue, header};
    use tower_http::compression::CompressionLayer;
    use tower_http::set_header::SetResponseHeaderLayer;
    app.layer(SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    ))
    .layer(SetResponseHeaderLayer::overriding(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ))
    .layer(CompressionLayer::new().gzip(true))
}

fn modified(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// What the engine loop works with.
struct Engine {
    floor: Floor,
    recorder: Recorder,
    inventory_path: PathBuf,
    /// The last good calendar overrides: a broken edit of the file keeps these.
    overrides: VenueOverrides,
}

impl Engine {
    /// The modification times of the files a reload reads: the inventory and the
    /// overrides file it names.
    fn watched(&self) -> (Option<SystemTime>, Option<SystemTime>) {
        let overrides = self
            .floor
            .read(|f| f.inventory.floor.calendar_overrides.clone());
        (
            modified(&self.inventory_path),
            overrides.as_deref().and_then(modified),
        )
    }
}

/// The rollup runs at most this often after a state change.
const ROLLUP_COALESCE: Duration = Duration::from_millis(100);

/// At most this many results are applied under one write lock.
const BATCH: usize = 1024;

/// Receives poll results, applies them, records and publishes transitions, rolls
/// the floor up (coalesced after a change, and every second because the market opens
/// and closes with time), and reloads the inventory.
async fn engine_loop(mut engine: Engine, mut poller: Poller, mut stopped: watch::Receiver<bool>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<PollResult>();
    let mut scheduler = Scheduler::new(tx);
    scheduler.reconcile(engine.floor.read(|f| f.targets()), &poller, false);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Two stat calls every quarter second: an edit reaches the floor well within
    // one poll interval plus a second.
    let mut watch_file = tokio::time::interval(Duration::from_millis(250));
    let mut last_modified = engine.watched();
    let mut hangup = hangup_signal();
    let mut roll_at: Option<Instant> = None;
    let mut last_roll = Instant::now();
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let reload = tokio::select! {
            n = rx.recv_many(&mut batch, BATCH) => {
                if n == 0 { break }
                let recorder = &engine.recorder;
                if engine.floor.apply(std::mem::take(&mut batch), |c| recorder.record(c)) {
                    roll_at.get_or_insert(last_roll + ROLLUP_COALESCE);
                }
                false
            }
            () = sleep_until_opt(roll_at) => {
                roll_at = None;
                last_roll = Instant::now();
                roll(&engine);
                false
            }
            _ = tick.tick() => {
                last_roll = Instant::now();
                roll(&engine);
                false
            }
            _ = watch_file.tick() => {
                let now = engine.watched();
                let changed = now != last_modified;
                last_modified = now;
                changed
            }
            () = hangup.recv() => true,
            _ = stopped.changed() => break,
        };
        if reload && let Some(p) = reload_inventory(&mut engine, &mut scheduler, &poller) {
            poller = p;
        }
        if reload {
            // What the reload read is what is watched from now on.
            last_modified = engine.watched();
        }
    }
    scheduler.stop();
}

/// The accept queue's length (the kernel caps it at `net.core.somaxconn`, 4,096 by
/// default). Larger than tokio's 1,024: when more clients connect at once than the
/// queue holds, the kernel drops their SYNs and each waits a second for its
/// retransmit, so under 1,100 reconnecting slow clients `/health` took 2.3 s with
/// 1,024 and answers within the second with this.
const ACCEPT_BACKLOG: u32 = 4_096;

/// Binds the listening socket with [`ACCEPT_BACKLOG`] (and `SO_REUSEADDR`, as
/// `TcpListener::bind` does, so a restart does not wait for old connections).
fn bind(addr: std::net::SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(ACCEPT_BACKLOG)
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn roll(engine: &Engine) {
    engine.floor.roll(|c| engine.recorder.record(c));
}

/// Applies every setting of a changed inventory: services, calendars and their
/// overrides, interval, timeouts, body limit and in-flight bound (a new poller
/// then). Returns the new poller when it had to change. A broken edit keeps the
/// last good inventory; a broken overrides file keeps the last good overrides.
fn reload_inventory(
    engine: &mut Engine,
    scheduler: &mut Scheduler,
    poller: &Poller,
) -> Option<Poller> {
    let inventory = match opsfloor_inventory::load(&engine.inventory_path) {
        Ok(inventory) => inventory,
        Err(e) => {
            tracing::error!(error = %e, "inventory not reloaded, keeping the previous one");
            return None;
        }
    };
    let overrides = match overrides_for(&inventory) {
        Ok(overrides) => overrides,
        Err(e) => {
            tracing::error!(error = %e, "calendar overrides not reloaded, keeping the last good ones");
            engine.overrides.clone()
        }
    };
    let calendars = match Calendars::for_inventory(&inventory, &overrides) {
        Ok(calendars) => calendars,
        Err(e) => {
            tracing::error!(error = %e, "inventory not reloaded, keeping the previous one");
            return None;
        }
    };
    warn_about(&inventory);
    let settings = match settings_for(&inventory) {
        Ok(settings) => settings,
        Err(e) => {
            tracing::error!(error = %e, "inventory not reloaded, keeping the previous one");
            return None;
        }
    };
    let new_poller = if &settings == poller.settings() {
        None
    } else {
        match Poller::new(settings) {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::error!(error = %e, "inventory not reloaded: cannot build the HTTP client");
                return None;
            }
        }
    };
    tracing::info!(services = inventory.services.len(), "inventory reloaded");
    engine.overrides = overrides;
    let recorder = &engine.recorder;
    engine
        .floor
        .reload(inventory, calendars, |c| recorder.record(c));
    let targets = engine.floor.read(|f| f.targets());
    scheduler.reconcile(
        targets,
        new_poller.as_ref().unwrap_or(poller),
        new_poller.is_some(),
    );
    new_poller
}

/// Prunes history older than `retention` once an hour, on its own task: a locked
/// store delays only this.
async fn prune_loop(
    floor: Floor,
    history: History,
    retention: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    let Ok(keep) = jiff::SignedDuration::try_from(retention) else {
        return;
    };
    let mut hourly = tokio::time::interval(Duration::from_secs(3_600));
    loop {
        tokio::select! {
            _ = hourly.tick() => {}
            _ = stopped.changed() => return,
        }
        if let Ok(cutoff) = floor.now().checked_sub(keep)
            && let Err(e) = history.prune(cutoff).await
        {
            tracing::error!(error = %e, "cannot prune history");
        }
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
