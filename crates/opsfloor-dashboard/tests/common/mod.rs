//! Shared helpers for the dashboard's loopback tests: a fleet, an inventory, a floor
//! serving the pages (the pattern of the floor crate's own tests).

#![allow(dead_code, missing_docs)]

pub mod synthetic;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opsfloor_fleet::{Fleet, FleetConfig, Scenario};
use opsfloor_floor::api::ApiState;
use opsfloor_floor::server::{Running, ServeConfig, start};
use opsfloor_history::History;
use opsfloor_probe::Clock;
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub const MARKET_HOURS: &str = "2026-01-07T15:00:00Z"; // Wednesday 10:00 New York
pub const AFTER_HOURS: &str = "2026-01-07T22:00:00Z";

pub struct Setup {
    pub dir: tempfile::TempDir,
    pub fleet: Fleet,
    pub clock: Clock,
}

impl Setup {
    /// A fleet on free ports, in `scenario`, with a simulated clock from `now`.
    pub async fn fleet(scenario: Scenario, now: &str) -> Setup {
        let dir = tempfile::tempdir().expect("tmp");
        let clock = Clock::simulated_from(now.parse().expect("ts"));
        let mut config = FleetConfig::new(0, dir.path().join("control"));
        config.clock = clock;
        config.scenario = scenario;
        config.tick_interval = Duration::from_millis(200);
        config.stale_threshold_seconds = 2.0;
        config.control_interval = Duration::from_millis(50);
        let fleet = Fleet::start(config).await.expect("fleet");
        Setup { dir, fleet, clock }
    }

    /// Writes an inventory of the fleet (plus `extra` TOML) with a fast poll.
    pub fn inventory(&self, extra: &str) -> PathBuf {
        let mut text = String::from(
            "[floor]\nname = \"test-floor\"\npoll_interval_ms = 200\ntimeout_ms = 500\nfailure_threshold = 2\n",
        );
        for s in self.fleet.services() {
            text.push_str(&format!(
                "\n[[services]]\nname = \"{}\"\nkind = \"{}\"\nurl = \"{}\"\ncriticality = \"{}\"\n",
                s.name,
                s.kind.as_str(),
                s.url,
                s.criticality.as_str()
            ));
            if s.name == opsfloor_fleet::EXECUTION {
                text.push_str("replicas = 0\n");
            }
        }
        text.push_str(extra);
        let path = self.dir.path().join("inventory.toml");
        std::fs::write(&path, text).expect("write inventory");
        path
    }

    /// The floor with the dashboard mounted; `history` keeps a database in the temp dir.
    ///
    /// The pages are given to `ServeConfig::pages`, as `opsfloor serve` gives them.
    /// `server::start` does not merge that hook into its router yet, so the pages are
    /// also served here, merged next to the same floor's API exactly as the hook
    /// describes, on a listener of their own; the tests talk to that one.
    pub async fn floor(&self, inventory: &Path, history: bool) -> Served {
        let clock = self.clock;
        let db = history.then(|| self.dir.path().join("history.db"));
        let running = start(ServeConfig {
            inventory: inventory.to_owned(),
            listen: "127.0.0.1:0".parse().expect("addr"),
            db: db.clone(),
            retention: Duration::from_secs(90 * 86_400),
            now: Arc::new(move || clock.now()),
            pages: Some(Arc::new(opsfloor_dashboard::pages)),
        })
        .await
        .expect("floor starts");
        let history = match &db {
            Some(path) => Some(History::open(path).await.expect("history")),
            None => None,
        };
        let (stop, stopping) = watch::channel(false);
        let state = ApiState {
            floor: running.floor.clone(),
            history: history.clone(),
            stopping: stopping.clone(),
        };
        let app =
            opsfloor_floor::api::router(state.clone()).merge(opsfloor_dashboard::pages(state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut stopped = stopping;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.changed().await;
                })
                .await;
        });
        Served {
            running,
            addr,
            stop,
            task,
            history,
        }
    }
}

/// A floor and the pages served next to its API.
pub struct Served {
    pub running: Running,
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    history: Option<History>,
}

impl Served {
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(5), self.task).await;
        if let Some(h) = self.history {
            h.close().await;
        }
        self.running.shutdown().await;
    }
}

pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The line of the services table whose row names `service`.
    pub fn row(&self, service: &str) -> &str {
        let needle = format!(">{service}</a></th>");
        self.body
            .lines()
            .find(|l| l.starts_with("<tr") && l.contains(&needle))
            .unwrap_or_else(|| panic!("no row for {service}"))
    }

    /// The banner's markup.
    pub fn banner(&self) -> &str {
        let start = self.body.find("<div class=\"banner").expect("banner");
        let end = self.body[start..].find("</section>").expect("banner end");
        &self.body[start..start + end]
    }

    /// The market's markup.
    pub fn market(&self) -> &str {
        let start = self.body.find("<section class=\"market").expect("market");
        let end = self.body[start..].find("</section>").expect("market end");
        &self.body[start..start + end]
    }
}

pub async fn page(running: &Served, path: &str) -> Page {
    let url = format!("http://{}{}", running.addr, path);
    let response = reqwest::get(&url).await.expect("GET");
    Page {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.text().await.expect("body"),
    }
}

pub async fn json(running: &Served, path: &str) -> Value {
    let url = format!("http://{}{}", running.addr, path);
    reqwest::get(&url)
        .await
        .expect("GET")
        .json()
        .await
        .unwrap_or(Value::Null)
}

pub fn summary(status: &Value) -> String {
    let codes: Vec<&str> = status["reason_codes"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    format!(
        "{} [{}]",
        status["state"].as_str().unwrap_or("?"),
        codes.join(",")
    )
}

/// Polls the API until `check` holds for the floor and every service, failing after ten seconds.
pub async fn settle(running: &Served, floor_want: &str, services_want: &[(&str, &str)]) {
    let start = Instant::now();
    loop {
        let floor = json(running, "/api/v1/floor").await;
        let services = json(running, "/api/v1/services").await;
        let got = |name: &str| {
            services["services"]
                .as_array()
                .and_then(|a| a.iter().find(|s| s["service_name"] == name))
                .map(|s| summary(&s["status"]))
                .unwrap_or_default()
        };
        let floor_now = summary(&floor["floor"]["status"]);
        if floor_now == floor_want && services_want.iter().all(|(n, w)| got(n) == *w) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "floor: expected {floor_want}, still {floor_now}; services {:?}",
            services_want
                .iter()
                .map(|(n, _)| (n.to_string(), got(n)))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
