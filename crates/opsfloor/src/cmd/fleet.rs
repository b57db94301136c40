//! `opsfloor fleet`: the simulated trading floor.

use std::fmt::Write as _;
use std::path::PathBuf;

use opsfloor_fleet::{EXECUTION, Fleet, FleetConfig, Scenario};

use crate::cmd::serve_util::{clock, fleet_calendars, init_logging, runtime, shutdown_signal};
use crate::error::CliError;

/// Arguments of `opsfloor fleet`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Scenarios: normal, kill-switch, stale-marketdata, execution-disabled, execution-running, service-down.\n\
Change them while it runs by editing the files in the control directory (printed at start)."
)]
pub struct Args {
    /// The first port: marketdata on N, strategies on N+1 and N+2, execution on N+3, ingest on N+4
    /// (with --venues: the Tokyo strategy on N+5, the crypto feed on N+6).
    #[arg(long, default_value_t = 9100)]
    base_port: u16,
    /// The control directory (default: a directory named after the base port under the system's temp dir).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Write an inventory of the fleet for the floor (TOML), kept current while it runs.
    #[arg(long, value_name = "PATH")]
    write_inventory: Option<PathBuf>,
    /// Simulate the clock from this instant (RFC 3339), advancing in real time.
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// The starting scenario.
    #[arg(long, default_value = "normal", value_parser = scenario_name)]
    scenario: String,
    /// A calendar overrides file (one file for every venue, see the README): the
    /// probes use its XNYS entries and the written inventory names it for the floor.
    #[arg(long, value_name = "FILE")]
    calendar_overrides: Option<PathBuf>,
    /// A mixed desk: also a Tokyo strategy (XTKS) on N+5 and a crypto feed
    /// (always-open) on N+6, each judged by its own calendar.
    #[arg(long)]
    venues: bool,
}

fn scenario_name(name: &str) -> Result<String, String> {
    match Scenario::from_name(name) {
        Some(_) => Ok(name.to_owned()),
        None => {
            let names: Vec<&str> = Scenario::ALL.iter().map(|(n, _)| *n).collect();
            Err(format!("expected one of {}", names.join(", ")))
        }
    }
}

/// Runs the fleet until Ctrl-C or SIGTERM.
pub fn run(args: &Args) -> Result<u8, CliError> {
    let scenario = Scenario::from_name(&args.scenario).unwrap_or_default();
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("opsfloor-fleet-{}", args.base_port)));
    let mut config = FleetConfig::new(args.base_port, dir);
    config.clock = clock(args.now.as_deref())?;
    config.scenario = scenario;
    config.inventory = args.write_inventory.clone();
    let calendars = fleet_calendars(args.calendar_overrides.as_deref(), args.venues)?;
    crate::cmd::serve_util::within_calendars(config.clock.now(), calendars.all())?;
    config.calendar = calendars.nyse;
    config.calendar_overrides = calendars.overrides;
    config.mixed_desk = calendars.mixed_desk;
    init_logging();
    runtime()?.block_on(async {
        let fleet = Fleet::start(config).await.map_err(|e| CliError::System(e.to_string()))?;
        let mut banner = String::new();
        let _ = writeln!(banner, "opsfloor fleet: a simulated trading floor (scenario {})", args.scenario);
        if let Some(now) = &args.now {
            let _ = writeln!(banner, "clock: simulated, starting at {now}");
        }
        let _ = writeln!(banner, "\n  {:<24}{:<12}{:<13}{:<13}status", "service", "kind", "criticality", "calendar");
        for s in fleet.services() {
            let note = if s.name == EXECUTION && !matches!(scenario, Scenario::ExecutionDisabled | Scenario::ExecutionRunning) {
                "  (scaled to zero: not started)"
            } else {
                ""
            };
            let _ = writeln!(
                banner,
                "  {:<24}{:<12}{:<13}{:<13}{}/ops/status{note}",
                s.name,
                s.kind.as_str(),
                s.criticality.as_str(),
                s.calendar,
                s.url
            );
        }
        if let Some(path) = &args.write_inventory {
            let _ = writeln!(banner, "\ninventory: {}", path.display());
        }
        let d = fleet.control().path().display().to_string();
        let _ = writeln!(banner, "\nChange it while it runs:");
        let _ = writeln!(banner, "  engage the kill switch     echo on > {d}/kill-switch    (off to release)");
        let _ = writeln!(banner, "  stop the tick feed         echo off > {d}/tick-feed     (on to restart)");
        let _ = writeln!(banner, "  stop a service             echo whale-strategy > {d}/stopped    (empty the file to restart)");
        let _ = writeln!(banner, "  start the execution agent  echo 1 > {d}/execution-replicas    (0 scales it to zero)");
        let _ = writeln!(banner, "Ctrl-C stops the fleet.");
        print!("{banner}");
        shutdown_signal().await;
        fleet.shutdown().await;
        Ok(0)
    })
}
