//! `opsfloor serve`: the Trading Floor aggregator.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use opsfloor_server::Subscriber;
use opsfloor_server::alerting::{self, Alerting};
use opsfloor_server::server::{ServeConfig, ServeError, start};

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
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
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
        ServeError::Inventory(_) | ServeError::Calendar(_) | ServeError::Overrides(_) => {
            CliError::Config(e.to_string())
        }
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

/// A missing inventory is a missing input (66), said before anything starts.
pub fn inventory_exists(path: &std::path::Path) -> Result<(), CliError> {
    match std::fs::metadata(path) {
        Err(source) if source.kind() == std::io::ErrorKind::NotFound => Err(CliError::Io {
            path: path.to_owned(),
            source,
        }),
        _ => Ok(()),
    }
}

/// Starts the sinks of the inventory's `[alerts]` (none without one: no alerting);
/// an invalid `[alerts]` is a configuration error (78) naming file, line and field.
/// Must run inside the runtime.
pub fn alerting_for(inventory: &std::path::Path) -> Result<Option<Alerting>, CliError> {
    let inventory =
        opsfloor_inventory::load(inventory).map_err(|e| start_error(ServeError::Inventory(e)))?;
    let resolved = alerting::resolve(&inventory, |name| std::env::var(name).ok())
        .map_err(|e| CliError::Config(e.to_string()))?;
    // Checked at start even without [alerts], so a typo in a window is found early.
    alerting::windows(&inventory).map_err(|e| CliError::Config(e.to_string()))?;
    start_alerting(resolved.as_ref())
}

/// Starts alerting for resolved settings (`None`: no alerting).
pub fn start_alerting(
    resolved: Option<&opsfloor_alerts::ResolvedAlerts>,
) -> Result<Option<Alerting>, CliError> {
    let Some(resolved) = resolved else {
        return Ok(None);
    };
    let alerting = Alerting::start(resolved, Arc::new(opsfloor_alerts::SystemClock))
        .map_err(|e| CliError::System(e.to_string()))?;
    tracing::info!(
        alertmanagers = resolved.alertmanagers.len(),
        webhooks = resolved.webhooks.len(),
        "alerting on"
    );
    Ok(Some(alerting))
}

/// The subscribers for `ServeConfig.subscribers`.
pub fn subscribers(alerting: Option<&Alerting>) -> Vec<Arc<dyn Subscriber>> {
    alerting
        .map(|a| Arc::new(a.clone()) as Arc<dyn Subscriber>)
        .into_iter()
        .collect()
}

/// Runs the floor until Ctrl-C or SIGTERM, then flushes history and exits 0.
pub fn run(args: &Args) -> Result<u8, CliError> {
    let clock = clock(args.now.as_deref())?;
    inventory_exists(&args.config)?;
    init_logging_as(args.log_format);
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
        replica: args.replica_name.clone().unwrap_or_else(host_name),
    };
    runtime()?.block_on(async {
        let alerting = alerting_for(&args.config)?;
        config.subscribers = subscribers(alerting.as_ref());
        let running = start(config.clone()).await.map_err(start_error)?;
        let (services, name) = running
            .floor
            .read(|f| (f.services().len(), f.inventory.floor.name.clone()));
        println!(
            "opsfloor serve: {name}, {services} services, API at http://{}/api/v1/floor",
            running.addr
        );
        if let Some(db) = &config.db {
            println!("history: {}", db.display());
        }
        tracing::info!(addr = %running.addr, services, "floor started");
        shutdown_signal().await;
        tracing::info!("shutting down");
        running.shutdown().await;
        if let Some(alerting) = alerting {
            alerting.shutdown(Duration::from_secs(5)).await;
        }
        Ok(0)
    })
}
