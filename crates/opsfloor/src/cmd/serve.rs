//! `opsfloor serve`: the Trading Floor aggregator.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use opsfloor_access::{AccessConfig, AccessLayer, bind_allowed};
use opsfloor_server::Subscriber;
use opsfloor_server::alerting::{self, Alerting};
use opsfloor_server::cluster::Replica;
use opsfloor_server::listener::Limits;
use opsfloor_server::server::{Guard, ServeConfig, ServeError, start};
use opsfloor_server::tls::{Tls, TlsFiles};

use crate::cmd::serve_util::{LogFormat, clock, init_logging_as, runtime, shutdown_signal};
use crate::error::CliError;

/// Arguments of `opsfloor serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The inventory: TOML (native) or YAML (the Python deployments' `agents:` file).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Where to serve the API and dashboard (loopback by default).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The SQLite history file (default: $XDG_STATE_HOME/opsfloor/history.sqlite, else ~/.local/state/...).
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    /// Keep no history at all.
    #[arg(long, conflicts_with = "db")]
    no_history: bool,
    /// How many days of history to keep.
    #[arg(long, default_value_t = 90)]
    retention_days: u64,
    /// Simulate the clock from this instant (RFC 3339), advancing in real time.
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// This replica's name among replicas sharing a PostgreSQL history (default:
    /// the host name).
    #[arg(long, value_name = "NAME")]
    replica_name: Option<String>,
    /// Seconds the leader's lease holds without renewal (renewed every third of
    /// it): when the leader dies, another replica leads within this plus a third.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(3..=3600))]
    lease_ttl: u64,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// A TOML file holding the `[access]` table (bearer token digests, a trusted
    /// proxy, basic users, public paths): every path but `/health` then needs a
    /// credential. Required to listen off loopback, unless --insecure-public.
    #[arg(long, value_name = "FILE")]
    access: Option<PathBuf>,
    /// Serve off loopback without access control, on purpose (a trusted network).
    #[arg(long)]
    insecure_public: bool,
    /// Serve HTTPS with this PEM certificate chain (leaf first); needs --tls-key.
    /// Reloaded when the file changes. TLS is not authentication: off loopback,
    /// --access (or --insecure-public) is still required.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1); needs --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Seconds a client has to send a whole request head (and the longest a
    /// kept-alive connection waits for its next request).
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    header_read_timeout: u64,
    /// Seconds a connection may move no bytes before it is dropped.
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout: u64,
    /// Connections served at once (at the cap the oldest slow client is evicted).
    /// Default: 10,000, or less when the open-files limit is lower. The floor keeps
    /// a reserve of descriptors that serving cannot take: what polling needs (one
    /// per request in flight, `max_in_flight`, plus one kept-alive connection per
    /// service at intervals of 2 s or less) and 64 for history and files, or an
    /// eighth of the limit if more; a larger N is lowered to keep it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_connections: Option<u64>,
    /// Live-stream (SSE) clients served at once, counted apart from connections;
    /// one more is answered 503 with Retry-After.
    #[arg(long, value_name = "N", default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..))]
    max_sse_clients: u64,
}

/// Descriptors kept for history, the inventory and certificate files, logs.
const FILES_RESERVE: u64 = 64;

/// The descriptors serving may never take under the soft open-files limit
/// `limit`, when polling needs `polling` of them: polling's need plus
/// [`FILES_RESERVE`], or an eighth of the limit if that is more.
fn reserve(limit: u64, polling: u64) -> u64 {
    (limit / 8).max(polling.saturating_add(FILES_RESERVE))
}

/// The most connections that leave the [`reserve`] under the soft open-files
/// limit `open_files`, at least 1. `None` when unlimited.
fn reserve_cap(open_files: Option<u64>, polling: u64) -> Option<u64> {
    open_files.map(|limit| limit.saturating_sub(reserve(limit, polling)).max(1))
}

/// The connection cap: `asked`, or 10,000, never above [`reserve_cap`], so serving
/// load cannot take the descriptors polling needs, whatever the flag says. Also
/// whether `asked` was lowered, for a warning.
fn max_connections(asked: Option<u64>, open_files: Option<u64>, polling: u64) -> (u64, bool) {
    let cap = reserve_cap(open_files, polling);
    match (asked, cap) {
        (None, _) => (cap.map_or(10_000, |cap| cap.min(10_000)), false),
        (Some(asked), Some(cap)) if asked > cap => (cap, true),
        (Some(asked), _) => (asked, false),
    }
}

/// How many descriptors polling the inventory at `path` needs; an inventory that
/// cannot be read counts as the default one (start-up then reports it).
fn polling_descriptors(path: &std::path::Path) -> u64 {
    let needed = match opsfloor_inventory::load(path) {
        Ok(inventory) => opsfloor_poller::descriptors_needed(&inventory),
        Err(_) => opsfloor_inventory::FloorSettings::default().max_in_flight,
    };
    u64::try_from(needed).unwrap_or(u64::MAX)
}

/// The soft open-files limit (`None` when unlimited).
fn open_files_limit() -> Option<u64> {
    use rustix::process::{Resource, getrlimit};
    getrlimit(Resource::Nofile).current
}

/// Raises the soft open-files limit to the hard one, so the floor can hold as
/// many connections and polls as the system allows; returns the soft limit before
/// and after. A failure keeps the old limit (the cap is derived from what holds).
fn raise_open_files() -> (Option<u64>, Option<u64>) {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let before = getrlimit(Resource::Nofile);
    if let Some(hard) = before.maximum
        && before.current.is_some_and(|soft| soft < hard)
    {
        let raised = Rlimit {
            current: Some(hard),
            maximum: Some(hard),
        };
        if let Err(e) = setrlimit(Resource::Nofile, raised) {
            tracing::warn!(error = %e, "cannot raise the open-files limit");
        }
    }
    (before.current, open_files_limit())
}

impl Args {
    /// The connection bounds the flags ask for (the cap kept below the open-files
    /// limit's reserve for polling this inventory, computed at start: a reload that
    /// raises `max_in_flight` or adds services needs a restart to move the cap).
    fn limits(&self) -> Limits {
        let open_files = open_files_limit();
        let polling = polling_descriptors(&self.config);
        let (cap, lowered) = max_connections(self.max_connections, open_files, polling);
        if lowered {
            tracing::warn!(
                asked = self.max_connections,
                max_connections = cap,
                "--max-connections lowered to keep descriptors for polling and history"
            );
        }
        if let Some(limit) = open_files
            && reserve(limit, polling) >= limit
        {
            tracing::warn!(
                open_files = limit,
                polling,
                "the open-files limit leaves no room to serve beside polling: raise it (ulimit -n)"
            );
        }
        Limits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout),
            idle_timeout: Duration::from_secs(self.idle_timeout),
            max_connections: usize::try_from(cap).unwrap_or(usize::MAX),
            max_sse_clients: usize::try_from(self.max_sse_clients).unwrap_or(usize::MAX),
        }
    }
}

/// Reads and checks the `--access` file: missing is 66, invalid is 78 naming the field.
fn load_access(path: &std::path::Path) -> Result<AccessConfig, CliError> {
    let text = std::fs::read_to_string(path).map_err(|source| CliError::Io {
        path: path.to_owned(),
        source,
    })?;
    AccessConfig::from_toml_str(&text)
        .map_err(|e| CliError::Config(format!("{}: {e}", path.display())))
}

/// The access file's layer as a guard around the whole router, and whether the
/// floor may listen where it was asked (off loopback only with access or
/// --insecure-public: exit 78 with the ways to fix it).
fn guard(args: &Args) -> Result<Option<Guard>, CliError> {
    let access = args.access.as_deref().map(load_access).transpose()?;
    bind_allowed(args.listen, access.is_some(), args.insecure_public)
        .map_err(|refused| CliError::Config(refused.to_string()))?;
    Ok(access.map(|config| {
        let layer = AccessLayer::new(config);
        Arc::new(move |app: axum::Router| app.layer(layer.clone())) as Guard
    }))
}

/// Loads `--tls-cert` and `--tls-key` (both or neither, clap makes sure): a
/// missing file is a missing input (66), an unusable pair a configuration error
/// (78) naming the file.
fn load_tls(args: &Args) -> Result<Option<Tls>, CliError> {
    let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) else {
        return Ok(None);
    };
    for path in [cert, key] {
        inventory_exists(path)?;
    }
    Tls::load(TlsFiles {
        cert: cert.clone(),
        key: key.clone(),
    })
    .map(Some)
    .map_err(|e| CliError::Config(format!("TLS: {e}")))
}

/// The default history path, following the XDG base directory convention.
fn default_db() -> PathBuf {
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(|| PathBuf::from("."));
    state.join("opsfloor").join("history.sqlite")
}

/// The documented exit code for each way the floor can fail to start: an invalid
/// inventory, unknown calendar or invalid calendar overrides file is a
/// configuration error (78); a history store
/// that cannot be opened or written, or a port in use, is I/O (74); history that is
/// there but unreadable as history is bad data (65).
pub fn start_error(e: ServeError) -> CliError {
    match e {
        ServeError::Inventory(_)
        | ServeError::Calendar(_)
        | ServeError::Overrides(_)
        | ServeError::Credentials(_) => CliError::Config(e.to_string()),
        ServeError::History(h) if !h.is_io() => CliError::Data(h.to_string()),
        ServeError::History(h) => CliError::System(format!(
            "{h} (give another --db, fix its permissions, or run with --no-history)"
        )),
        ServeError::Io { .. } => CliError::System(e.to_string()),
    }
}

/// The host name (a pod's name on Kubernetes), for the default replica name.
pub fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "opsfloor".to_owned())
}

/// A missing inventory (or certificate) is a missing input (66), said before
/// anything starts.
pub fn inventory_exists(path: &std::path::Path) -> Result<(), CliError> {
    match std::fs::metadata(path) {
        Err(source) if source.kind() == std::io::ErrorKind::NotFound => Err(CliError::Io {
            path: path.to_owned(),
            source,
        }),
        _ => Ok(()),
    }
}

/// Starts alerting as the inventory's `[alerts]` says (no sinks without one, until a
/// reload adds it); an invalid `[alerts]` is a configuration error (78) naming file,
/// line and field. Must run inside the runtime.
pub fn alerting_for(inventory: &std::path::Path) -> Result<Alerting, CliError> {
    let inventory =
        opsfloor_inventory::load(inventory).map_err(|e| start_error(ServeError::Inventory(e)))?;
    let resolved = alerting::resolve(&inventory, |name| std::env::var(name).ok())
        .map_err(|e| CliError::Config(e.to_string()))?;
    // Checked at start even without [alerts], so a typo in a window is found early.
    alerting::windows(&inventory).map_err(|e| CliError::Config(e.to_string()))?;
    start_alerting(resolved.as_ref())
}

/// Starts alerting for resolved settings (`None`: no sinks until a reload of the
/// inventory brings an `[alerts]`); secrets are read from the environment, on
/// every reload too.
pub fn start_alerting(
    resolved: Option<&opsfloor_alerts::ResolvedAlerts>,
) -> Result<Alerting, CliError> {
    let env: alerting::Env = Arc::new(|name| std::env::var(name).ok());
    let alerting = Alerting::start(resolved, env, Arc::new(opsfloor_alerts::SystemClock))
        .map_err(|e| CliError::System(e.to_string()))?;
    match resolved {
        Some(r) => tracing::info!(
            alertmanagers = r.alertmanagers.len(),
            webhooks = r.webhooks.len(),
            "alerting on"
        ),
        None => tracing::info!("no [alerts] in the inventory: nothing is sent"),
    }
    Ok(alerting)
}

/// The subscribers for `ServeConfig.subscribers`.
pub fn subscribers(alerting: &Alerting) -> Vec<Arc<dyn Subscriber>> {
    vec![Arc::new(alerting.clone())]
}

/// Runs the floor until Ctrl-C or SIGTERM, then flushes history and exits 0.
pub fn run(args: &Args) -> Result<u8, CliError> {
    let clock = clock(args.now.as_deref())?;
    inventory_exists(&args.config)?;
    if args.now.is_some()
        && let Ok(inventory) = opsfloor_inventory::load(&args.config)
        && let Ok(calendars) = opsfloor_server::overrides::calendars_for(&inventory)
    {
        // (An unreadable inventory or overrides file is start()'s to report.)
        crate::cmd::serve_util::within_calendars(clock.now(), calendars.venues())?;
    }
    let guard = guard(args)?;
    let tls = load_tls(args)?;
    init_logging_as(args.log_format);
    let (soft_before, soft_now) = raise_open_files();
    tracing::info!(
        ?soft_before,
        ?soft_now,
        "open-files limit (soft) raised to the hard limit"
    );
    if args.insecure_public && args.access.is_none() && !args.listen.ip().is_loopback() {
        tracing::warn!(addr = %args.listen, "serving without access control (--insecure-public)");
    }
    let mut config = ServeConfig {
        inventory: args.config.clone(),
        listen: args.listen,
        db: if args.no_history {
            None
        } else {
            Some(args.db.clone().unwrap_or_else(default_db))
        },
        retention: Duration::from_secs(args.retention_days.saturating_mul(86_400)),
        now: Arc::new(move || clock.now()),
        pages: Some(Arc::new(opsfloor_dashboard::pages)),
        subscribers: Vec::new(),
        replica: Replica {
            name: args.replica_name.clone().unwrap_or_else(host_name),
            lease_ttl: Duration::from_secs(args.lease_ttl),
        },
        guard,
        limits: args.limits(),
        tls,
    };
    runtime()?.block_on(async {
        let alerting = alerting_for(&args.config)?;
        config.subscribers = subscribers(&alerting);
        let running = start(config.clone()).await.map_err(start_error)?;
        let (services, name) = running
            .floor
            .read(|f| (f.services().len(), f.inventory.floor.name.clone()));
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        println!(
            "opsfloor serve: {name}, {services} services, dashboard at {scheme}://{addr}/, \
             API at {scheme}://{addr}/api/v1/floor",
            addr = running.addr
        );
        if let Some(db) = &config.db {
            println!("history: {}", db.display());
        }
        tracing::info!(
            addr = %running.addr,
            services,
            max_connections = config.limits.max_connections,
            max_sse_clients = config.limits.max_sse_clients,
            open_files = open_files_limit(),
            "floor started"
        );
        shutdown_signal().await;
        tracing::info!("shutting down");
        running.shutdown().await;
        alerting.shutdown(Duration::from_secs(5)).await;
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    use super::{max_connections, reserve_cap};

    #[test]
    fn the_cap_keeps_descriptors_for_polling() {
        // The default max_in_flight (64): 128 kept, or an eighth of the limit.
        assert_eq!(max_connections(None, Some(1_024), 64), (896, false));
        assert_eq!(max_connections(None, Some(256), 64), (128, false));
        assert_eq!(max_connections(None, Some(65_536), 64), (10_000, false));
        assert_eq!(max_connections(None, Some(10), 64), (1, false));
        assert_eq!(max_connections(None, None, 64), (10_000, false));
    }

    #[test]
    fn the_reserve_grows_with_what_polling_needs() {
        // max_in_flight 500: 564 of 1,024 kept, 460 to serve.
        assert_eq!(reserve_cap(Some(1_024), 500), Some(460));
        // 1,000 services kept alive plus 64 in flight, under 4,096.
        assert_eq!(reserve_cap(Some(4_096), 1_064), Some(2_968));
        // More than the limit: serving still gets one connection, and a warning.
        assert_eq!(reserve_cap(Some(1_024), 5_000), Some(1));
        assert_eq!(reserve_cap(None, 5_000), None);
    }

    #[test]
    fn an_explicit_cap_never_eats_the_reserve() {
        assert_eq!(max_connections(Some(5_000), Some(1_024), 64), (896, true));
        assert_eq!(max_connections(Some(500), Some(1_024), 64), (500, false));
        assert_eq!(max_connections(Some(500), Some(1_024), 600), (360, true));
        assert_eq!(
            max_connections(Some(20_000), Some(65_536), 64),
            (20_000, false)
        );
        assert_eq!(max_connections(Some(20_000), None, 64), (20_000, false));
    }
}
