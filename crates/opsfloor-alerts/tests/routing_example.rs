//! The Alertmanager routing example (`examples/alertmanager.yml`): amtool accepts
//! it, and a real Alertmanager loaded with it sends opsfloor's pages to the pager,
//! tickets to the queue, the watchdog to the dead man's switch, and inhibits a
//! service's alert while the floor is halted for the same reason.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use jiff::Timestamp;
use opsfloor_alerts::{
    AlertBook, AlertSettings, AlertmanagerSettings, AlertmanagerSink, AlertmanagerTarget,
    Observation, Subject, SystemClock, watchdog_alert,
};
use opsfloor_contract::{Criticality, ReasonCode, ServiceKind, State};
use opsfloor_testkit::Alertmanager;
use serde_json::Value;
use tokio::time::Instant;

fn example() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/alertmanager.yml");
    std::fs::read_to_string(path).expect("read the example")
}

#[test]
fn amtool_accepts_the_example() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/alertmanager.yml");
    let out = std::process::Command::new("/usr/bin/amtool")
        .arg("check-config")
        .arg(&path)
        .output()
        .expect("amtool (Debian's prometheus-alertmanager; run ./scripts/test)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("SUCCESS"), "{text}");
}

type Seen = Arc<Mutex<BTreeSet<(String, String, String)>>>;

/// Records (path, alertname, service) for every alert Alertmanager notifies.
async fn receiver() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let store = seen.clone();
    let app = axum::Router::new().fallback(axum::routing::post(
        move |uri: axum::http::Uri, body: axum::body::Bytes| {
            let store = store.clone();
            async move {
                let json: Value = serde_json::from_slice(&body).expect("json");
                for alert in json["alerts"].as_array().cloned().unwrap_or_default() {
                    let label = |n: &str| alert["labels"][n].as_str().unwrap_or("").to_owned();
                    store.lock().expect("lock").insert((
                        uri.path().to_owned(),
                        label("alertname"),
                        label("service"),
                    ));
                }
                StatusCode::OK
            }
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), seen)
}

fn service(name: &str, state: State, reason: ReasonCode) -> Observation {
    Observation {
        subject: Subject::Service {
            floor: "trading-floor".into(),
            service: name.into(),
            kind: ServiceKind::Strategy,
            criticality: Criticality::Critical,
        },
        state,
        reasons: vec![reason],
        contributors: Vec::new(),
        since: Timestamp::UNIX_EPOCH,
        market_open: true,
        in_maintenance: false,
        dashboard_url: String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_routes_pages_tickets_and_the_watchdog() {
    let (base, seen) = receiver().await;
    let config = example().replace("http://127.0.0.1:9999", &base);
    let am = tokio::task::block_in_place(|| Alertmanager::start_with_config(&config))
        .expect("alertmanager");
    let mut sink = AlertmanagerSink::new(
        vec![AlertmanagerTarget {
            url: am.url().parse().expect("url"),
            bearer_token: None,
        }],
        AlertmanagerSettings::default(),
        Arc::new(SystemClock),
    )
    .expect("sink");
    let mut book = AlertBook::new(AlertSettings::default());
    let now = Timestamp::now();
    let mut changes = Vec::new();
    let mut floor = service("x", State::Halted, ReasonCode::KillSwitch);
    floor.subject = Subject::Floor {
        floor: "trading-floor".into(),
    };
    changes.extend(book.observe(&floor, now));
    // Halted for the floor's reason: inhibited. Stale market data: a ticket.
    changes.extend(book.observe(
        &service("whale", State::Halted, ReasonCode::KillSwitch),
        now,
    ));
    changes.extend(book.observe(
        &service("momo", State::Degraded, ReasonCode::HeartbeatStale),
        now,
    ));
    let dog = watchdog_alert(
        "trading-floor",
        now,
        Some(now),
        now,
        Duration::from_secs(1),
        "",
    );
    changes.extend(book.watchdog(dog, "trading-floor", now));
    sink.apply(&changes, Instant::now());
    let sent = sink.send_due(Instant::now()).await;
    assert!(sent[0].result.is_ok(), "{:?}", sent[0].result);
    assert_eq!(sent[0].alerts, 4);

    let expected: BTreeSet<(String, String, String)> = [
        ("/pager", "OpsfloorFloorState", ""),
        ("/ping", "OpsfloorWatchdog", ""),
        ("/tickets", "OpsfloorServiceState", "momo"),
    ]
    .into_iter()
    .map(|(p, a, s)| (p.to_owned(), a.to_owned(), s.to_owned()))
    .collect();
    let deadline = Instant::now() + Duration::from_secs(15);
    while *seen.lock().expect("lock") != expected {
        let now = seen.lock().expect("lock").clone();
        assert!(
            now.is_subset(&expected) && Instant::now() < deadline,
            "notified {now:?}, expected {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The inhibited service alert stays away a little longer than a group interval.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(*seen.lock().expect("lock"), expected);
}
