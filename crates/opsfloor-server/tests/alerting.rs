//! Alerts end to end: the simulated fleet, a floor with the alerting subscriber
//! built from its inventory's `[alerts]`, and a real Alertmanager (Debian's
//! `prometheus-alertmanager`, started by opsfloor-testkit), all over loopback.
//!
//! The floor runs on a simulated clock (a day in January) while Alertmanager runs
//! on the real one: the alerts arrive and resolve only because `startsAt`/`endsAt`
//! come from the wall clock.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{AFTER_HOURS, MARKET_HOURS, Setup, expect_floor};
use jiff::Timestamp;
use opsfloor_fleet::{EXECUTION, GAMMA, Scenario, WHALE};
use opsfloor_server::alerting::{self, Alerting};
use opsfloor_server::cluster::LEASE_TTL;
use opsfloor_server::server::{Running, ServeConfig, start};
use opsfloor_testkit::Alertmanager;
use serde_json::Value;

/// The `[alerts]` table sending to `am`, re-sending every second.
fn alerts_table(am: &Alertmanager) -> String {
    format!(
        "\n[alerts]\nresend_interval = \"1s\"\nretry_interval = \"200ms\"\n\n[[alerts.alertmanager]]\nurl = \"{}\"\n",
        am.url()
    )
}

/// The floor of `setup` over `inventory`, alerting as its `[alerts]` says.
async fn alerting_floor(setup: &Setup, inventory: &std::path::Path) -> (Running, Alerting) {
    alerting_floor_with(setup, inventory, None, "test").await
}

/// The same, keeping history in `db`.
async fn alerting_floor_with(
    setup: &Setup,
    inventory: &std::path::Path,
    db: Option<std::path::PathBuf>,
    replica: &str,
) -> (Running, Alerting) {
    let loaded = opsfloor_inventory::load(inventory).expect("inventory");
    let env = |name: &str| (name == "TEST_HOOK_SECRET").then(|| HOOK_SECRET.to_owned());
    let resolved = alerting::resolve(&loaded, env)
        .expect("valid [alerts]")
        .expect("an [alerts] table");
    let alerting = Alerting::start(
        Some(&resolved),
        Arc::new(move |name: &str| env(name)),
        Arc::new(opsfloor_alerts::SystemClock),
    )
    .expect("alerting");
    let clock = setup.clock;
    let running = start(ServeConfig {
        inventory: inventory.to_owned(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        db,
        retention: Duration::from_secs(86_400),
        now: Arc::new(move || clock.now()),
        pages: None,
        subscribers: vec![Arc::new(alerting.clone())],
        replica: replica.into(),
        guard: None,
        limits: opsfloor_server::listener::Limits::default(),
        tls: None,
    })
    .await
    .expect("floor starts");
    (running, alerting)
}

/// Every alert Alertmanager lists (active, and resolved ones it still holds).
async fn listed(am_url: &str) -> Vec<Value> {
    let answer = reqwest::get(format!("{am_url}/api/v2/alerts"))
        .await
        .expect("GET /api/v2/alerts");
    assert!(answer.status().is_success());
    let body: Value = answer.json().await.expect("json");
    body.as_array().cloned().unwrap_or_default()
}

/// The listed alerts that have not ended, as `alertname state reason severity [service]`.
async fn firing(am_url: &str) -> Vec<String> {
    let now = Timestamp::now();
    let mut out: Vec<String> = listed(am_url)
        .await
        .iter()
        .filter(|a| {
            a["endsAt"]
                .as_str()
                .and_then(|t| t.parse::<Timestamp>().ok())
                .is_some_and(|end| end > now)
        })
        .map(|a| {
            let l = &a["labels"];
            let text = |k: &str| l[k].as_str().unwrap_or("-").to_owned();
            format!(
                "{} {} {} {} {}",
                text("alertname"),
                text("state"),
                text("reason"),
                text("severity"),
                text("service")
            )
        })
        .collect();
    out.sort();
    out
}

/// Polls Alertmanager until `want` holds of what fires; returns how long it took.
async fn until(am_url: &str, what: &str, want: impl Fn(&[String]) -> bool) -> Duration {
    let start = Instant::now();
    loop {
        let now = firing(am_url).await;
        if want(&now) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "timed out waiting for {what}; firing: {now:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const HOOK_SECRET: &str = "s3cret-for-the-test";

const FLOOR_KILL: &str = "OpsfloorFloorState HALTED KILL_SWITCH page -";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_switch_pages_in_alertmanager_and_resolves_on_release() {
    let am = tokio::task::block_in_place(Alertmanager::start).expect("alertmanager");
    let url = am.url();
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let inventory = setup.inventory(&alerts_table(&am));
    let (floor, alerting) = alerting_floor(&setup, &inventory).await;
    expect_floor(&floor, "OK []").await;
    until(&url, "the watchdog", |f| {
        f.iter().any(|a| a.starts_with("OpsfloorWatchdog"))
    })
    .await;

    std::fs::write(setup.fleet.control().kill_switch_file(), "on\n").expect("engage");
    let took = until(&url, "the floor's kill-switch page", |f| {
        f.iter().any(|a| a == FLOOR_KILL)
    })
    .await;
    eprintln!("kill switch engaged -> page listed by Alertmanager: {took:?}");
    assert!(took < Duration::from_secs(5), "the page took {took:?}");
    let now = firing(&url).await;
    assert!(
        now.iter()
            .any(|a| a.starts_with("OpsfloorServiceState HALTED KILL_SWITCH page")),
        "{now:#?}"
    );
    // The alert carries the dashboard link of the floor that sent it.
    let listed_now = listed(&url).await;
    let floor_alert = listed_now
        .iter()
        .find(|a| a["labels"]["alertname"] == "OpsfloorFloorState")
        .expect("listed");
    assert_eq!(floor_alert["labels"]["floor"], "test-floor");
    assert_eq!(
        floor_alert["annotations"]["dashboard"],
        format!("http://{}/", floor.addr)
    );

    std::fs::write(setup.fleet.control().kill_switch_file(), "off\n").expect("release");
    until(&url, "every state alert resolved", |f| {
        f.iter().all(|a| a.starts_with("OpsfloorWatchdog"))
    })
    .await;

    floor.shutdown().await;
    alerting.shutdown(Duration::from_secs(2)).await;
    setup.fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_market_and_an_execution_agent_scaled_to_zero_never_alert() {
    let am = tokio::task::block_in_place(Alertmanager::start).expect("alertmanager");
    let url = am.url();
    let setup = Setup::fleet(Scenario::Normal, AFTER_HOURS).await;
    let inventory = setup.inventory(&alerts_table(&am));
    let (floor, alerting) = alerting_floor(&setup, &inventory).await;
    expect_floor(&floor, "MARKET_CLOSED [MARKET_CLOSED]").await;
    common::expect_service(&floor, EXECUTION, "OFFLINE [EXECUTION_DISABLED]").await;
    until(&url, "the watchdog", |f| {
        f.iter().any(|a| a.starts_with("OpsfloorWatchdog"))
    })
    .await;

    // A kill switch pages even with the market closed; everything the floor sent
    // before it (one task, one ordered picture) is in Alertmanager by then.
    std::fs::write(setup.fleet.control().kill_switch_file(), "on\n").expect("engage");
    until(&url, "the floor's kill-switch page", |f| {
        f.iter().any(|a| a == FLOOR_KILL)
    })
    .await;
    let ever = listed(&url).await;
    for alert in &ever {
        let labels = &alert["labels"];
        assert_ne!(labels["state"], "MARKET_CLOSED", "{alert:#}");
        assert_ne!(labels["reason"], "EXECUTION_DISABLED", "{alert:#}");
        assert_ne!(labels["service"], EXECUTION, "{alert:#}");
        assert_ne!(
            labels["state"], "UNKNOWN",
            "nothing flashes at start: {alert:#}"
        );
    }

    floor.shutdown().await;
    alerting.shutdown(Duration::from_secs(2)).await;
    setup.fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_floor_tells_a_restarted_alertmanager_what_fires() {
    let mut am = tokio::task::block_in_place(Alertmanager::start).expect("alertmanager");
    let url = am.url();
    let setup = Setup::fleet(Scenario::KillSwitch, MARKET_HOURS).await;
    let inventory = setup.inventory(&alerts_table(&am));
    let db = setup.dir.path().join("history.sqlite");
    let service_page = |f: &[String]| {
        f.iter()
            .any(|a| a.starts_with("OpsfloorServiceState HALTED KILL_SWITCH page"))
    };
    let (floor, alerting) = alerting_floor_with(&setup, &inventory, Some(db.clone()), "test").await;
    until(&url, "the first pages", |f| {
        service_page(f) && f.iter().any(|a| a == FLOOR_KILL)
    })
    .await;
    floor.shutdown().await;
    alerting.shutdown(Duration::from_secs(2)).await;

    // Alertmanager keeps alerts in memory: restarted, it knows nothing. The floor,
    // restarted from its history, resumes every state as it was, so no transition
    // is published: only the picture sent at start can tell Alertmanager.
    tokio::task::block_in_place(|| am.restart()).expect("restart");
    assert_eq!(firing(&url).await, Vec::<String>::new());
    let (floor, alerting) = alerting_floor_with(&setup, &inventory, Some(db), "test").await;
    until(&url, "the pages again after both restarts", |f| {
        service_page(f) && f.iter().any(|a| a == FLOOR_KILL)
    })
    .await;
    floor.shutdown().await;
    alerting.shutdown(Duration::from_secs(2)).await;
    setup.fleet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_alerts_in_a_maintenance_window() {
    let am = tokio::task::block_in_place(Alertmanager::start).expect("alertmanager");
    let url = am.url();
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    // The floor's clock starts at 15:00Z: gamma is in maintenance (a `floor = true`
    // window would cover every service too).
    let windows = format!(
        "\n[[maintenance]]\nservices = [\"{GAMMA}\"]\nstart = \"2026-01-07T14:00:00Z\"\nend = \"2026-01-07T16:00:00Z\"\nnote = \"upgrade\"\n"
    );
    let inventory = setup.inventory(&format!("{windows}{}", alerts_table(&am)));
    let (floor, alerting) = alerting_floor(&setup, &inventory).await;
    expect_floor(&floor, "OK []").await;
    std::fs::write(setup.fleet.control().kill_switch_file(), "on\n").expect("engage");
    expect_floor(&floor, "HALTED [KILL_SWITCH]").await;
    // The floor and the services outside the window page; by then (one ordered
    // picture) anything sent for gamma would be listed too.
    until(&url, "the floor's and another service's pages", |f| {
        f.iter().any(|a| a == FLOOR_KILL)
            && f.iter()
                .any(|a| a.starts_with("OpsfloorServiceState HALTED KILL_SWITCH page"))
    })
    .await;
    // Gamma halts too; then whale is stopped, and its OFFLINE alert, recorded after
    // gamma's transition, arrives after anything sent for gamma.
    common::expect_service(&floor, GAMMA, "HALTED [KILL_SWITCH]").await;
    std::fs::write(
        setup.fleet.control().path().join("stopped"),
        format!("{WHALE}\n"),
    )
    .expect("stop whale");
    until(&url, "whale's OFFLINE alert", |f| {
        f.iter()
            .any(|a| a.starts_with("OpsfloorServiceState OFFLINE") && a.ends_with(WHALE))
    })
    .await;
    for alert in &listed(&url).await {
        assert_ne!(alert["labels"]["service"], GAMMA, "{alert:#}");
    }
    floor.shutdown().await;
    alerting.shutdown(Duration::from_secs(2)).await;
    setup.fleet.shutdown().await;
}

/// Every (signature header, raw body) a receiver was sent.
type Received = Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>;

/// A loopback webhook receiver.
async fn hook_receiver() -> (String, Received) {
    let seen: Received = Arc::default();
    let store = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let store = store.clone();
                async move {
                    let signature = headers
                        .get("x-opsfloor-signature")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    store.lock().expect("lock").push((signature, body.to_vec()));
                    axum::http::StatusCode::OK
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_webhook_gets_the_kill_switch_firing_then_resolved() {
    let (hook, seen) = hook_receiver().await;
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let inventory = setup.inventory(&format!(
        "\n[alerts]\n\n[[alerts.webhook]]\nurl = \"{hook}\"\nsecret_env = \"TEST_HOOK_SECRET\"\n"
    ));
    let (floor, alerting) = alerting_floor(&setup, &inventory).await;
    expect_floor(&floor, "OK []").await;
    let floor_bodies = |status: &str| -> Vec<Value> {
        let seen = seen.lock().expect("lock");
        seen.iter()
            .map(|(signature, body)| {
                let now = Timestamp::now().as_second();
                opsfloor_alerts::webhook::verify(HOOK_SECRET.as_bytes(), signature, body, now, 300)
                    .expect("a valid signature");
                serde_json::from_slice::<Value>(body).expect("json")
            })
            .filter(|b| b["labels"]["alertname"] == "OpsfloorFloorState" && b["status"] == status)
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    std::fs::write(setup.fleet.control().kill_switch_file(), "on\n").expect("engage");
    while floor_bodies("firing").is_empty() {
        assert!(Instant::now() < deadline, "no firing body");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let fired = floor_bodies("firing").remove(0);
    assert_eq!(fired["labels"]["reason"], "KILL_SWITCH");
    assert_eq!(fired["labels"]["severity"], "page");
    std::fs::write(setup.fleet.control().kill_switch_file(), "off\n").expect("release");
    while floor_bodies("resolved").is_empty() {
        assert!(Instant::now() < deadline, "no resolved body");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let resolved = floor_bodies("resolved").remove(0);
    assert_eq!(resolved["fingerprint"], fired["fingerprint"]);
    assert_ne!(resolved["idempotency_key"], fired["idempotency_key"]);
    floor.shutdown().await;
    alerting.shutdown(Duration::from_secs(2)).await;
    setup.fleet.shutdown().await;
}

/// The replica whose address the floor's kill-switch alert links to, as
/// Alertmanager holds it now (each replica links to its own pages).
async fn kill_alert_from(am_url: &str) -> Option<String> {
    listed(am_url).await.iter().find_map(|a| {
        let l = &a["labels"];
        (l["alertname"] == "OpsfloorFloorState" && l["reason"] == "KILL_SWITCH").then(|| {
            a["annotations"]["dashboard"]
                .as_str()
                .unwrap_or("-")
                .to_owned()
        })
    })
}

async fn leads(r: &Running) -> bool {
    common::get(r, "/api/v1/cluster").await.1["leader"] == true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn among_replicas_only_the_leader_sends_and_a_new_leader_takes_over_the_alerts() {
    let pg = tokio::task::block_in_place(opsfloor_testkit::Postgres::start).expect("PostgreSQL");
    let db = pg.create_database("alerting").expect("database");
    let am = tokio::task::block_in_place(Alertmanager::start).expect("alertmanager");
    let url = am.url();
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let inventory = setup.inventory(&alerts_table(&am));
    let (a, alerting_a) =
        alerting_floor_with(&setup, &inventory, Some(db.clone().into()), "a").await;
    let (b, alerting_b) = alerting_floor_with(&setup, &inventory, Some(db.into()), "b").await;
    expect_floor(&a, "OK []").await;
    expect_floor(&b, "OK []").await;
    let ((leader, leader_alerting), (survivor, survivor_alerting)) = if leads(&a).await {
        ((a, alerting_a), (b, alerting_b))
    } else {
        ((b, alerting_b), (a, alerting_a))
    };
    assert!(!leads(&survivor).await, "two leaders");

    // The kill switch pages, linked to the leader's pages only: both replicas see
    // it, but over three re-send intervals only the leader says so.
    std::fs::write(setup.fleet.control().kill_switch_file(), "on\n").expect("engage");
    until(&url, "the kill-switch page", |f| {
        f.iter().any(|a| a == FLOOR_KILL)
    })
    .await;
    let leader_page = format!("http://{}/", leader.addr);
    let watch = Instant::now();
    while watch.elapsed() < Duration::from_secs(3) {
        assert_eq!(
            kill_alert_from(&url).await.as_deref(),
            Some(leader_page.as_str())
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The leader stops without releasing its lease (as after a crash); the other
    // takes the lead and the alert, then resolves it on release.
    leader.shutdown().await;
    leader_alerting.shutdown(Duration::from_secs(1)).await;
    let survivor_page = format!("http://{}/", survivor.addr);
    let deadline = Instant::now() + LEASE_TTL * 2;
    while kill_alert_from(&url).await.as_deref() != Some(survivor_page.as_str()) {
        assert!(
            Instant::now() < deadline,
            "the new leader never took the alert over"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(leads(&survivor).await);
    std::fs::write(setup.fleet.control().kill_switch_file(), "off\n").expect("release");
    until(&url, "the page resolved", |f| {
        !f.iter().any(|a| a == FLOOR_KILL)
    })
    .await;
    survivor.shutdown().await;
    survivor_alerting.shutdown(Duration::from_secs(2)).await;
    setup.fleet.shutdown().await;
}

/// Whether `f` holds the floor's kill-switch page.
fn floor_kill(f: &[String]) -> bool {
    f.iter().any(|a| a == FLOOR_KILL)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reloaded_alerts_table_moves_the_alerts_and_a_broken_one_keeps_the_last_good() {
    let first = tokio::task::block_in_place(Alertmanager::start).expect("alertmanager");
    let second = tokio::task::block_in_place(Alertmanager::start).expect("alertmanager");
    let setup = Setup::fleet(Scenario::KillSwitch, MARKET_HOURS).await;
    let inventory = setup.inventory(&alerts_table(&first));
    let (floor, alerting) = alerting_floor(&setup, &inventory).await;
    until(
        &first.url(),
        "the page at the first Alertmanager",
        floor_kill,
    )
    .await;

    // The inventory now names the second: it gets the whole picture, and the
    // first, no longer re-sent to, lets the alert lapse at its `endsAt`.
    setup.inventory(&alerts_table(&second));
    let took = until(&second.url(), "the page at the second", floor_kill).await;
    eprintln!("[alerts] edited -> the page at the new Alertmanager after {took:?}");
    until(&first.url(), "the first to hear nothing more", |f| {
        f.is_empty()
    })
    .await;

    // A broken edit (an unknown key) is logged and changes nothing: the second
    // keeps hearing the page well past an `endsAt` (4 resends of 1 s).
    setup.inventory("\n[alerts]\nresend_every = \"1s\"\n");
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(floor_kill(&firing(&second.url()).await));

    // Removed: nothing is sent any more.
    setup.inventory("");
    until(&second.url(), "the second to hear nothing more", |f| {
        f.is_empty()
    })
    .await;
    assert_eq!(firing(&first.url()).await, Vec::<String>::new());

    floor.shutdown().await;
    alerting.shutdown(Duration::from_secs(2)).await;
    setup.fleet.shutdown().await;
}
