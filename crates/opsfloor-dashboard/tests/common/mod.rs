//! Helpers for the dashboard's loopback tests. The fleet, its inventory and the
//! floor come from the floor crate's own test helpers (one copy, included by path);
//! this adds the floor with the dashboard mounted, as `opsfloor serve` mounts it,
//! and readers for the pages.

#![allow(dead_code, missing_docs)]

pub mod synthetic;

#[path = "../../../opsfloor-server/tests/common/mod.rs"]
mod base;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use opsfloor_server::server::Running;
use serde_json::Value;

#[allow(unused_imports)] // each test file uses a different subset
pub use base::{AFTER_HOURS, MARKET_HOURS, Setup, summary};

/// The floor with the dashboard mounted; `history` keeps a database in the temp dir.
pub trait WithDashboard {
    /// Starts it.
    async fn dashboard(&self, inventory: &Path, history: bool) -> Served;
}

impl WithDashboard for Setup {
    async fn dashboard(&self, inventory: &Path, history: bool) -> Served {
        let db = history.then(|| self.dir.path().join("history.db"));
        let pages: opsfloor_server::server::Pages = Arc::new(opsfloor_dashboard::pages);
        let running = self.floor_with_pages(inventory, db, Some(pages)).await;
        let addr = running.addr;
        Served { running, addr }
    }
}

/// A floor serving the dashboard.
pub struct Served {
    pub running: Running,
    pub addr: SocketAddr,
}

impl Served {
    pub async fn shutdown(self) {
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
