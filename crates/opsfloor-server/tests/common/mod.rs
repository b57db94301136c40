//! Shared helpers for the floor's loopback tests: a fleet, an inventory, a floor.

#![allow(dead_code, missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opsfloor_fleet::{Fleet, FleetConfig, Scenario};
use opsfloor_probe::Clock;
use opsfloor_server::server::{Running, ServeConfig, start};
use serde_json::Value;

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
        Setup::fleet_with(scenario, now, None).await
    }

    /// As [`Setup::fleet`], with a mixed desk (`--venues`) when given.
    pub async fn fleet_with(
        scenario: Scenario,
        now: &str,
        mixed_desk: Option<opsfloor_fleet::MixedDesk>,
    ) -> Setup {
        let dir = tempfile::tempdir().expect("tmp");
        let clock = Clock::simulated_from(now.parse().expect("ts"));
        let mut config = FleetConfig::new(0, dir.path().join("control"));
        config.clock = clock;
        config.scenario = scenario;
        config.mixed_desk = mixed_desk;
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
                "\n[[services]]\nname = \"{}\"\nkind = \"{}\"\nurl = \"{}\"\ncriticality = \"{}\"\ncalendar = \"{}\"\n",
                s.name,
                s.kind.as_str(),
                s.url,
                s.criticality.as_str(),
                s.calendar
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

    pub async fn floor(&self, inventory: &Path, db: Option<PathBuf>) -> Running {
        self.floor_with_pages(inventory, db, None).await
    }

    /// The floor with `pages` mounted next to its API (the dashboard's tests use this).
    pub async fn floor_with_pages(
        &self,
        inventory: &Path,
        db: Option<PathBuf>,
        pages: Option<opsfloor_server::server::Pages>,
    ) -> Running {
        self.start_floor(inventory, db, pages, "test").await
    }

    /// A floor that is replica `replica` among others sharing `db`.
    pub async fn floor_named(
        &self,
        inventory: &Path,
        db: Option<PathBuf>,
        replica: &str,
    ) -> Running {
        self.start_floor(inventory, db, None, replica).await
    }

    async fn start_floor(
        &self,
        inventory: &Path,
        db: Option<PathBuf>,
        pages: Option<opsfloor_server::server::Pages>,
        replica: &str,
    ) -> Running {
        let clock = self.clock;
        start(ServeConfig {
            inventory: inventory.to_owned(),
            listen: "127.0.0.1:0".parse().expect("addr"),
            db,
            retention: Duration::from_secs(90 * 86_400),
            now: Arc::new(move || clock.now()),
            pages,
            subscribers: Vec::new(),
            replica: replica.into(),
            guard: None,
            limits: opsfloor_server::listener::Limits::default(),
            tls: None,
        })
        .await
        .expect("floor starts")
    }
}

pub async fn get(running: &Running, path: &str) -> (u16, Value) {
    let url = format!("http://{}{}", running.addr, path);
    let response = reqwest::get(&url).await.expect("GET");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The body of `path` as text, which must answer 200.
pub async fn get_text(running: &Running, path: &str) -> String {
    let url = format!("http://{}{}", running.addr, path);
    let response = reqwest::get(&url).await.expect("GET");
    assert_eq!(response.status().as_u16(), 200, "{url}");
    response.text().await.expect("body")
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

/// Polls the floor's API until the floor reports `want`, failing after ten seconds.
pub async fn expect_floor(running: &Running, want: &str) -> Value {
    let start = Instant::now();
    loop {
        let (_, body) = get(running, "/api/v1/floor").await;
        if summary(&body["floor"]["status"]) == want {
            return body;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "floor: expected {want}, still {}",
            summary(&body["floor"]["status"])
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls until service `name` reports `want`, failing after ten seconds.
pub async fn expect_service(running: &Running, name: &str, want: &str) -> Value {
    let start = Instant::now();
    loop {
        let (_, body) = get(running, &format!("/api/v1/services/{name}")).await;
        if summary(&body["status"]) == want {
            return body;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{name}: expected {want}, still {}",
            summary(&body["status"])
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
