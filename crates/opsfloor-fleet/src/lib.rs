//! A simulated trading floor on loopback, for the floor, the dashboard, the
//! report, the tests and the benchmarks to run against.
//!
//! Five services, each a real HTTP server using the probe:
//!
//! | port | service | kind | criticality |
//! |---|---|---|---|
//! | N | `marketdata-mcp-server` | marketdata: ticks about every second | critical |
//! | N+1 | `gamma-strategy` | strategy: watches marketdata over HTTP | critical |
//! | N+2 | `whale-strategy` | strategy: watches marketdata over HTTP | important |
//! | N+3 | `execution-agent` | execution: scaled to zero by default (not started) | critical |
//! | N+4 | `bars-ingest` | ingest: a cron-style job seen through its heartbeat file | optional |
//!
//! A [`MixedDesk`] adds two services on other venues, for a desk that trades Tokyo
//! and crypto next to US equities:
//!
//! | port | service | kind | calendar | criticality |
//! |---|---|---|---|---|
//! | N+5 | `tokyo-strategy` | strategy: watches the NYSE feed over HTTP | `XTKS` | critical |
//! | N+6 | `crypto-feed` | marketdata: ticks about every second | `always-open` | critical |
//!
//! Scenarios change while it runs through files in its control directory (see
//! [`control`]); the kill switch is the probes' own `EXECUTION_HALTED_FILE`.

pub mod control;
mod inventory;
mod member;
mod roster;
mod sim;

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use jiff::SignedDuration;
use opsfloor_contract::{Calendar, Identity, ServiceKind};
use opsfloor_probe::{Clock, KillSwitchSource, Probe, ProbeConfig};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use control::ControlDir;
pub use opsfloor_contract::Criticality;

use crate::control::Controls;
use crate::member::Member;
use crate::roster::{Feed, Spec};

/// The names of the simulated services, in port order.
pub const MARKETDATA: &str = "marketdata-mcp-server";
/// The first strategy engine.
pub const GAMMA: &str = "gamma-strategy";
/// The second strategy engine.
pub const WHALE: &str = "whale-strategy";
/// The execution agent.
pub const EXECUTION: &str = "execution-agent";
/// The ingest job.
pub const INGEST: &str = "bars-ingest";
/// A mixed desk's Tokyo strategy (`XTKS`).
pub const TOKYO: &str = "tokyo-strategy";
/// A mixed desk's crypto feed (`always-open`).
pub const CRYPTO_FEED: &str = "crypto-feed";

/// A desk on three venues: with it the fleet also runs [`TOKYO`] and
/// [`CRYPTO_FEED`], each judged by its own calendar, so the floor stays calm and
/// right around the clock (the NYSE closed while Tokyo trades, both closed while
/// crypto trades).
#[derive(Debug, Clone)]
pub struct MixedDesk {
    /// The Tokyo strategy's calendar: `XTKS`, with the operators' overrides.
    pub xtks: Calendar,
}

/// What the fleet starts in; each is one command (`opsfloor fleet --scenario NAME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scenario {
    /// Everything healthy; the execution agent scaled to zero.
    #[default]
    Normal,
    /// The kill switch engaged.
    KillSwitch,
    /// The tick feed stopped five minutes ago: marketdata stale.
    StaleMarketdata,
    /// The execution agent running with `EXECUTION_ENABLED=false`.
    ExecutionDisabled,
    /// The execution agent running and enabled.
    ExecutionRunning,
    /// `whale-strategy` stopped (unreachable).
    ServiceDown,
}

impl Scenario {
    /// Every scenario with its command-line name.
    pub const ALL: [(&'static str, Scenario); 6] = [
        ("normal", Scenario::Normal),
        ("kill-switch", Scenario::KillSwitch),
        ("stale-marketdata", Scenario::StaleMarketdata),
        ("execution-disabled", Scenario::ExecutionDisabled),
        ("execution-running", Scenario::ExecutionRunning),
        ("service-down", Scenario::ServiceDown),
    ];

    /// Parses a command-line name.
    pub fn from_name(name: &str) -> Option<Scenario> {
        Scenario::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| *s)
    }
}

/// How to run the fleet.
#[derive(Debug, Clone)]
pub struct FleetConfig {
    /// The loopback address to serve on.
    pub host: IpAddr,
    /// The first port; services take N to N+4 (N+6 for a mixed desk). 0 picks free
    /// ports (for tests).
    pub base_port: u16,
    /// The control directory.
    pub dir: PathBuf,
    /// Where to write the inventory for the floor, if anywhere.
    pub inventory: Option<PathBuf>,
    /// The market calendar every probe uses (default: the NYSE), e.g. with the
    /// operators' overrides applied, so a closure shows as MARKET_CLOSED.
    pub calendar: Calendar,
    /// The overrides file the written inventory names (`[floor] calendar_overrides`),
    /// so the floor reads the same closures as the probes.
    pub calendar_overrides: Option<PathBuf>,
    /// Two more services on other venues (ports N+5 and N+6), or none.
    pub mixed_desk: Option<MixedDesk>,
    /// The clock every service shares.
    pub clock: Clock,
    /// The starting scenario.
    pub scenario: Scenario,
    /// How often the feed ticks.
    pub tick_interval: Duration,
    /// Services' heartbeat TTL, seconds.
    pub heartbeat_ttl_seconds: f64,
    /// Market data stale threshold, seconds (short, so a stopped feed shows soon).
    pub stale_threshold_seconds: f64,
    /// How often the ingest job runs; its TTL is three runs.
    pub ingest_interval: Duration,
    /// How often the control directory is read.
    pub control_interval: Duration,
}

impl FleetConfig {
    /// Defaults: 127.0.0.1, the system clock, ticks every second, stale after 10 s,
    /// heartbeat TTL 30 s, ingest every 5 s, controls read every 200 ms.
    pub fn new(base_port: u16, dir: PathBuf) -> FleetConfig {
        FleetConfig {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            base_port,
            dir,
            inventory: None,
            calendar: Calendar::nyse(),
            calendar_overrides: None,
            mixed_desk: None,
            clock: Clock::System,
            scenario: Scenario::Normal,
            tick_interval: Duration::from_secs(1),
            heartbeat_ttl_seconds: 30.0,
            stale_threshold_seconds: 10.0,
            ingest_interval: Duration::from_secs(5),
            control_interval: Duration::from_millis(200),
        }
    }
}

/// Why the fleet could not start.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// A port could not be bound.
    #[error("{name}: cannot listen on {addr}: {source}")]
    Bind {
        /// The service.
        name: &'static str,
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A control or inventory file could not be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// One service of the fleet, as listed to the user and the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInfo {
    /// The service name.
    pub name: &'static str,
    /// Its kind.
    pub kind: ServiceKind,
    /// Its criticality.
    pub criticality: Criticality,
    /// The calendar it is judged by (its own, else the fleet's).
    pub calendar: &'static str,
    /// Its base URL, e.g. `http://127.0.0.1:9100`.
    pub url: String,
}

/// A running fleet. Dropping it does not stop it: call [`Fleet::shutdown`].
#[derive(Debug)]
pub struct Fleet {
    services: Vec<ServiceInfo>,
    control: ControlDir,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Fleet {
    /// Binds every port, writes the control directory (and inventory), and starts.
    pub async fn start(config: FleetConfig) -> Result<Fleet, FleetError> {
        let s = config.scenario;
        let initial = Controls {
            tick_feed: s != Scenario::StaleMarketdata,
            stopped: if s == Scenario::ServiceDown {
                BTreeSet::from([WHALE.to_owned()])
            } else {
                BTreeSet::new()
            },
            execution_replicas: i64::from(matches!(
                s,
                Scenario::ExecutionDisabled | Scenario::ExecutionRunning
            )),
            execution_enabled: s != Scenario::ExecutionDisabled,
        };
        let control = ControlDir::create(&config.dir, s == Scenario::KillSwitch, &initial)?;

        let specs = roster::roster(config.mixed_desk.as_ref().map(|d| &d.xtks));
        let mut members = Vec::new();
        let mut listeners = Vec::new();
        for (offset, spec) in (0u16..).zip(&specs) {
            let port = if config.base_port == 0 {
                0
            } else {
                config.base_port.saturating_add(offset)
            };
            let probe = Probe::with_clock(probe_config(&config, &control, spec), config.clock);
            let (member, listener) =
                Member::bind(spec, probe, SocketAddr::new(config.host, port)).await?;
            members.push(member);
            listeners.push(listener);
        }

        // Serve everything but what the scenario keeps down. Scaled to zero, the
        // execution agent is not started at all; its port stays closed.
        for (member, listener) in members.iter_mut().zip(listeners) {
            let down = initial.stopped.contains(member.name)
                || (member.kind == ServiceKind::Execution && initial.execution_replicas < 1);
            if down {
                drop(listener);
            } else {
                member.serve_on(listener);
            }
        }
        let execution = &members[3].probe;
        execution.set_execution_replicas(Some(initial.execution_replicas));
        execution.set_execution_enabled(Some(initial.execution_enabled));

        if s == Scenario::StaleMarketdata {
            let long_ago = config
                .clock
                .now()
                .checked_sub(SignedDuration::from_secs(300))
                .unwrap_or(config.clock.now());
            for (m, spec) in members.iter().zip(&specs) {
                if spec.feed == Feed::Ticks {
                    m.probe.record_tick(long_ago);
                    m.probe.record_bar(long_ago);
                }
            }
        }

        let services: Vec<ServiceInfo> = members
            .iter()
            .map(|m| ServiceInfo {
                name: m.name,
                kind: m.kind,
                criticality: m.criticality,
                calendar: m.calendar.unwrap_or(config.calendar.name()),
                url: m.url(),
            })
            .collect();
        if let Some(path) = &config.inventory {
            inventory::write_atomically(
                path,
                &inventory::render(
                    &members,
                    initial.execution_replicas,
                    initial.execution_enabled,
                    config.calendar_overrides.as_deref(),
                ),
            )?;
        }

        let (stop, stopped) = watch::channel(false);
        let feed_on = Arc::new(AtomicBool::new(initial.tick_feed));
        let md_url = services[0].url.clone();
        let mut tasks = vec![
            sim::spawn_heartbeats(
                members.iter().map(|m| m.probe.clone()).collect(),
                stopped.clone(),
            ),
            sim::spawn_ingest_job(
                control.ingest_heartbeat_file(),
                config.ingest_interval,
                stopped.clone(),
            ),
        ];
        for (m, spec) in members.iter().zip(&specs) {
            let probe = m.probe.clone();
            match spec.feed {
                Feed::Ticks => tasks.push(sim::spawn_feed(
                    probe,
                    feed_on.clone(),
                    config.tick_interval,
                    stopped.clone(),
                )),
                Feed::Watches => {
                    tasks.push(sim::spawn_watcher(probe, md_url.clone(), stopped.clone()))
                }
                Feed::None => {}
            }
        }
        tasks.push(sim::spawn_control_loop(sim::ControlLoop {
            members,
            control: control.clone(),
            controls: initial,
            feed_on,
            inventory: config.inventory.clone(),
            calendar_overrides: config.calendar_overrides.clone(),
            interval: config.control_interval,
            stopped,
        }));
        Ok(Fleet {
            services,
            control,
            stop,
            tasks,
        })
    }

    /// The services, in port order.
    pub fn services(&self) -> &[ServiceInfo] {
        &self.services
    }

    /// The base URL of a service by name.
    pub fn url(&self, name: &str) -> Option<&str> {
        self.services
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.url.as_str())
    }

    /// The control directory.
    pub fn control(&self) -> &ControlDir {
        &self.control
    }

    /// Stops every service and background task.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

fn probe_config(config: &FleetConfig, control: &ControlDir, spec: &Spec) -> ProbeConfig {
    let Spec {
        name,
        kind,
        mode,
        sha,
        ..
    } = *spec;
    let mut probe = ProbeConfig::new(Identity {
        service_name: name.to_owned(),
        service_kind: kind,
        repo_id: "opsfloor/simulated-floor".to_owned(),
        git_sha: Some(sha.to_owned()),
        build_id: Some(format!("sim-{sha}")),
        agent_name: name.to_owned(),
        agent_role: Some(kind.as_str().to_owned()),
        agent_mode: Some(mode.to_owned()),
    });
    probe.calendar = spec
        .calendar
        .clone()
        .unwrap_or_else(|| config.calendar.clone());
    probe.service.heartbeat_ttl_seconds = config.heartbeat_ttl_seconds;
    probe.service.stale_threshold_seconds = config.stale_threshold_seconds;
    probe.kill_switch = KillSwitchSource {
        fixed: false,
        file: Some(control.kill_switch_file()),
    };
    if kind == ServiceKind::Ingest {
        probe.heartbeat_file = Some(control.ingest_heartbeat_file());
        probe.service.heartbeat_ttl_seconds = 3.0 * config.ingest_interval.as_secs_f64();
    }
    probe
}
