//! `opsfloor demo --alerts FILE` drives a real Alertmanager (Debian's, started by
//! opsfloor-testkit) from a simulated clock: the kill switch pages, because
//! `startsAt`/`endsAt` are wall-clock.

mod common;

use std::process::Command;
use std::time::Duration;

use common::Spawned;
use opsfloor_testkit::Alertmanager;

#[test]
fn the_demo_pages_alertmanager_on_the_kill_switch() {
    let am = Alertmanager::start().expect("alertmanager");
    let dir = tempfile::tempdir().expect("tmp");
    let alerts = dir.path().join("alerts.toml");
    std::fs::write(
        &alerts,
        format!(
            "[alerts]\nresend_interval = \"1s\"\n\n[[alerts.alertmanager]]\nurl = \"{}\"\n",
            am.url()
        ),
    )
    .expect("write");
    let demo_dir = dir.path().join("demo");
    let mut command = Command::new(env!("CARGO_BIN_EXE_opsfloor"));
    command
        .args(["demo", "--listen", "127.0.0.1:0", "--base-port", "0"])
        .args(["--now", "2026-01-07T15:00:00Z", "--alerts"])
        .arg(&alerts)
        .arg("--dir")
        .arg(&demo_dir);
    let mut demo = Spawned::new(command);
    demo.wait_for("the demo's banner", Duration::from_secs(20), |d| {
        d.stdout().contains("dashboard   http://").then_some(())
    });
    std::fs::write(demo_dir.join("control/kill-switch"), "on\n").expect("engage");
    demo.wait_for("the kill-switch page", Duration::from_secs(30), |_| {
        let body = am.get("/api/v2/alerts").ok()?;
        let alerts: serde_json::Value = serde_json::from_str(&body).ok()?;
        alerts
            .as_array()?
            .iter()
            .any(|a| {
                a["labels"]["alertname"] == "OpsfloorFloorState"
                    && a["labels"]["reason"] == "KILL_SWITCH"
                    && a["labels"]["severity"] == "page"
            })
            .then_some(())
    });
}
