//! `opsfloor demo`: the simulated fleet and the floor together, in one process.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use opsfloor_contract::Calendar;
use opsfloor_fleet::{Fleet, FleetConfig, Scenario};
use opsfloor_probe::Clock;
use opsfloor_server::server::{ServeConfig, start};

use crate::cmd::serve_util::{init_logging, runtime, shutdown_signal};
use crate::error::CliError;

/// Arguments of `opsfloor demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the floor (API and dashboard) listens.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The fleet's first port (services on N to N+4).
    #[arg(long, default_value_t = 9100)]
    base_port: u16,
    /// The demo's directory: control files, inventory, history (default: under the system's temp dir).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Simulate the clock from this instant (default: now if the market is open, else 30 minutes after the next open).
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
}

/// The demo's clock: the real one during market hours, else a simulated one in the next session.
fn demo_clock(now: Option<&str>) -> Result<Clock, CliError> {
    if now.is_some() {
        return crate::cmd::serve_util::clock(now);
    }
    let nyse = Calendar::nyse();
    let real = Timestamp::now();
    if nyse.is_open(real).unwrap_or(false) {
        return Ok(Clock::System);
    }
    let next = nyse.next_open(real).ok().flatten().unwrap_or(real);
    Ok(Clock::simulated_from(
        next.checked_add(SignedDuration::from_mins(30))
            .unwrap_or(next),
    ))
}

/// Runs until Ctrl-C or SIGTERM.
pub fn run(args: &Args) -> Result<u8, CliError> {
    // The demo has no access control: like `serve`, it stays on loopback (exit 78).
    if opsfloor_access::bind_allowed(args.listen, false, false).is_err() {
        return Err(CliError::Config(format!(
            "refusing to serve the demo on {}: it has no access control, so it listens on \
             loopback only (--listen 127.0.0.1:PORT); to expose a floor, use `opsfloor serve \
             --access FILE` (SECURITY.md)",
            args.listen
        )));
    }
    let clock = demo_clock(args.now.as_deref())?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("opsfloor-demo-{}", args.base_port)));
    init_logging();
    runtime()?.block_on(async {
        let inventory = dir.join("inventory.toml");
        let mut fleet_config = FleetConfig::new(args.base_port, dir.join("control"));
        fleet_config.clock = clock;
        fleet_config.scenario = Scenario::Normal;
        fleet_config.inventory = Some(inventory.clone());
        let fleet = Fleet::start(fleet_config).await.map_err(|e| CliError::System(e.to_string()))?;
        let serve = ServeConfig {
            inventory,
            listen: args.listen,
            db: Some(dir.join("history.sqlite")),
            retention: Duration::from_secs(90 * 86_400),
            now: Arc::new(move || clock.now()),
            pages: Some(Arc::new(opsfloor_dashboard::pages)),
            subscribers: Vec::new(),
            guard: None,
            limits: opsfloor_server::listener::Limits::default(),
        };
        let floor = match start(serve).await {
            Ok(floor) => floor,
            Err(e) => {
                fleet.shutdown().await;
                return Err(crate::cmd::serve::start_error(e));
            }
        };
        let d = fleet.control().path().display().to_string();
        let when = match clock {
            Clock::System => "the real clock (the market is open now)".to_owned(),
            Clock::Simulated { start, .. } => format!("a simulated clock from {start}, so the market is open"),
        };
        println!("opsfloor demo: a simulated trading floor and its aggregator, on {when}.\n");
        println!("  dashboard   http://{}/", floor.addr);
        println!("  API         http://{}/api/v1/floor", floor.addr);
        println!("  history     http://{}/api/v1/transitions", floor.addr);
        println!("\nSwitch scenarios while it runs:");
        println!("  engage the kill switch     echo on > {d}/kill-switch       (off to release)");
        println!("  make marketdata stale      echo off > {d}/tick-feed        (on to restart)");
        println!("  take a service down        echo whale-strategy > {d}/stopped    (empty the file to restart)");
        println!("  start the execution agent  echo 1 > {d}/execution-replicas  (0 scales it to zero)");
        println!("Ctrl-C stops everything.");
        shutdown_signal().await;
        floor.shutdown().await;
        fleet.shutdown().await;
        Ok(0)
    })
}
