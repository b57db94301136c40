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

use crate::cmd::serve_util::{
    FleetCalendars, fleet_calendars, init_logging, runtime, shutdown_signal,
};
use crate::error::CliError;

/// Arguments of `opsfloor demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the floor (API and dashboard) listens.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The fleet's first port (services on N to N+4, N+6 with --venues).
    #[arg(long, default_value_t = 9100)]
    base_port: u16,
    /// The demo's directory: control files, inventory, history (default: a fresh
    /// directory under the system's temp dir, removed when the demo exits).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Simulate the clock from this instant (default: now if the market is open, else 30 minutes after the next open).
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// A TOML file whose `[alerts]` table (the inventory's format) sends the demo's
    /// alerts to an Alertmanager or webhook; without it the demo does not alert.
    #[arg(long, value_name = "FILE")]
    alerts: Option<PathBuf>,
    /// A calendar overrides file (one file for every venue, see the README), used by
    /// the probes (XNYS entries) and by the floor (`[floor] calendar_overrides`).
    #[arg(long, value_name = "FILE")]
    calendar_overrides: Option<PathBuf>,
    /// A mixed desk: also a Tokyo strategy (XTKS) and a crypto feed (always-open),
    /// each judged by its own calendar, on the fleet's ports N+5 and N+6.
    #[arg(long)]
    venues: bool,
}

/// The `[alerts]` of `--alerts FILE`, resolved; problems name the file and field.
fn demo_alerts(path: &std::path::Path) -> Result<opsfloor_alerts::ResolvedAlerts, CliError> {
    let text = std::fs::read_to_string(path).map_err(|source| CliError::Io {
        path: path.to_owned(),
        source,
    })?;
    let named = |e: opsfloor_alerts::ConfigErrors| {
        let lines: Vec<String> =
            e.0.iter()
                .map(|p| format!("{}: {}: {}", path.display(), p.field, p.message))
                .collect();
        CliError::Config(lines.join("\n"))
    };
    opsfloor_alerts::AlertsConfig::from_toml(&text)
        .map_err(named)?
        .resolve(|name| std::env::var(name).ok())
        .map_err(named)
}

/// The demo's clock: the real one during market hours, else a simulated one in the
/// next session (of `nyse`, the probes' calendar with any overrides).
fn demo_clock(now: Option<&str>, nyse: &Calendar) -> Result<Clock, CliError> {
    if now.is_some() {
        return crate::cmd::serve_util::clock(now);
    }
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
    let calendars = fleet_calendars(args.calendar_overrides.as_deref(), args.venues)?;
    let clock = demo_clock(args.now.as_deref(), &calendars.nyse)?;
    crate::cmd::serve_util::within_calendars(clock.now(), calendars.all())?;
    let FleetCalendars {
        nyse: calendar,
        mixed_desk,
        overrides: calendar_overrides,
    } = calendars;
    let now = clock.now();
    let banner = opening_words(
        clock,
        now,
        Timestamp::now(),
        calendar.is_open(now).unwrap_or(false),
    );
    // Without --dir, a fresh directory that is removed when this function returns:
    // after Ctrl-C or SIGTERM (both end `shutdown_signal`) as after a failed start.
    let temporary = match &args.dir {
        Some(_) => None,
        None => Some(
            tempfile::Builder::new()
                .prefix("opsfloor-demo-")
                .tempdir()
                .map_err(|source| CliError::Io {
                    path: std::env::temp_dir(),
                    source,
                })?,
        ),
    };
    let dir = match (&args.dir, &temporary) {
        (Some(dir), _) => dir.clone(),
        (None, Some(t)) => t.path().to_owned(),
        (None, None) => std::env::temp_dir(),
    };
    let alerts = args.alerts.as_deref().map(demo_alerts).transpose()?;
    init_logging();
    let outcome = runtime()?.block_on(async {
        let alerting = crate::cmd::serve::start_alerting(alerts.as_ref())?;
        let inventory = dir.join("inventory.toml");
        let mut fleet_config = FleetConfig::new(args.base_port, dir.join("control"));
        fleet_config.clock = clock;
        fleet_config.scenario = Scenario::Normal;
        fleet_config.inventory = Some(inventory.clone());
        fleet_config.calendar = calendar;
        fleet_config.calendar_overrides = calendar_overrides;
        fleet_config.mixed_desk = mixed_desk;
        let fleet = Fleet::start(fleet_config).await.map_err(|e| CliError::System(e.to_string()))?;
        let serve = ServeConfig {
            inventory,
            listen: args.listen,
            db: Some(dir.join("history.sqlite")),
            retention: Duration::from_secs(90 * 86_400),
            now: Arc::new(move || clock.now()),
            pages: Some(Arc::new(opsfloor_dashboard::pages)),
            subscribers: crate::cmd::serve::subscribers(&alerting),
            replica: crate::cmd::serve::host_name().into(),
            guard: None,
            limits: opsfloor_server::listener::Limits::default(),
            tls: None,
        };
        let floor = match start(serve).await {
            Ok(floor) => floor,
            Err(e) => {
                fleet.shutdown().await;
                return Err(crate::cmd::serve::start_error(e));
            }
        };
        let d = fleet.control().path().display().to_string();
        println!("{banner}");
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
        alerting.shutdown(Duration::from_secs(5)).await;
        fleet.shutdown().await;
        Ok(0)
    });
    if let Some(t) = temporary
        && let Err(e) = t.close()
    {
        tracing::warn!(error = %e, "cannot remove the demo's temporary directory");
    }
    outcome
}

/// The banner's first lines: which clock the demo runs on and whether the market
/// (of `is_open`, the probes' calendar at the demo's clock) is open; on a
/// simulated clock also "Simulated clock: HH:MM UTC (real time HH:MM UTC)", as
/// the pages' badge says it.
pub fn opening_words(clock: Clock, now: Timestamp, real: Timestamp, is_open: bool) -> String {
    let market = if is_open { "open" } else { "closed" };
    match clock {
        Clock::System => format!(
            "opsfloor demo: a simulated trading floor and its aggregator, on the real clock \
             (the market is {market} now).\n"
        ),
        Clock::Simulated { start, .. } => {
            let so = if is_open {
                ", so the market is open"
            } else {
                "; the market is closed then"
            };
            format!(
                "opsfloor demo: a simulated trading floor and its aggregator, on a simulated \
                 clock from {start}{so}.\nSimulated clock: {} UTC (real time {} UTC)\n",
                now.strftime("%H:%M"),
                real.strftime("%H:%M")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    #[test]
    fn the_banner_says_open_only_when_it_is() {
        let start = at("2026-01-07T22:00:00Z");
        let clock = Clock::simulated_from(start);
        let closed = opening_words(clock, start, at("2026-03-02T06:12:40Z"), false);
        assert_eq!(
            closed,
            "opsfloor demo: a simulated trading floor and its aggregator, on a simulated clock \
             from 2026-01-07T22:00:00Z; the market is closed then.\n\
             Simulated clock: 22:00 UTC (real time 06:12 UTC)\n"
        );
        let open = opening_words(clock, at("2026-01-07T15:00:00Z"), start, true);
        assert!(open.contains(", so the market is open.\n"), "{open}");
        assert!(
            open.contains("Simulated clock: 15:00 UTC (real time 22:00 UTC)"),
            "{open}"
        );
        let real = opening_words(Clock::System, start, start, false);
        assert!(
            real.contains("on the real clock (the market is closed now)"),
            "{real}"
        );
        assert!(!real.contains("Simulated"), "{real}");
    }
}
