//! The Alertmanager sink against a real Alertmanager (Debian's
//! `prometheus-alertmanager`, started by opsfloor-testkit), over loopback.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use opsfloor_alerts::{
    AlertBook, AlertSettings, AlertmanagerSettings, AlertmanagerSink, AlertmanagerTarget, Change,
    Observation, Subject, SystemClock, Tls,
};
use opsfloor_contract::{ReasonCode, State};
use opsfloor_testkit::Alertmanager;
use opsfloor_testkit::pki::{Ca, Usage};
use serde_json::Value;
use tokio::time::Instant;

fn floor(state: State, reasons: &[ReasonCode]) -> Observation {
    Observation {
        subject: Subject::Floor {
            floor: "trading-floor".into(),
        },
        state,
        reasons: reasons.to_vec(),
        contributors: vec!["whale-strategy".into()],
        since: "2026-01-07T15:00:00Z".parse().expect("timestamp"),
        market_open: true,
        in_maintenance: false,
        dashboard_url: "http://127.0.0.1:8080/".into(),
    }
}

fn target(am: &Alertmanager) -> AlertmanagerTarget {
    AlertmanagerTarget {
        url: am.url().parse().expect("url"),
        bearer_token: None,
    }
}

/// The alerts Alertmanager's API lists now.
async fn listed(am_url: &str) -> Vec<Value> {
    let answer = reqwest::get(format!("{am_url}/api/v2/alerts"))
        .await
        .expect("GET /api/v2/alerts");
    assert!(answer.status().is_success());
    let body: Value = answer.json().await.expect("json");
    body.as_array().cloned().unwrap_or_default()
}

/// The listed alerts named `OpsfloorFloorState` that have not ended.
async fn floor_alerts(am_url: &str) -> Vec<Value> {
    let now = Timestamp::now();
    listed(am_url)
        .await
        .into_iter()
        .filter(|a| a["labels"]["alertname"] == "OpsfloorFloorState")
        .filter(|a| {
            a["endsAt"]
                .as_str()
                .and_then(|t| t.parse::<Timestamp>().ok())
                .is_some_and(|end| end > now)
        })
        .collect()
}

/// Polls until `f` holds, for at most 15 s.
async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_switch_fires_in_alertmanager_and_resolves() {
    let am = tokio::task::block_in_place(Alertmanager::start).expect("alertmanager");
    let url = am.url();
    let mut book = AlertBook::new(AlertSettings::default());
    let mut sink = AlertmanagerSink::new(
        vec![target(&am)],
        AlertmanagerSettings::default(),
        Arc::new(SystemClock),
    )
    .expect("sink");

    let fired = book.observe(
        &floor(State::Halted, &[ReasonCode::KillSwitch]),
        Timestamp::now(),
    );
    sink.apply(&fired, Instant::now());
    let outcomes = sink.send_due(Instant::now()).await;
    assert_eq!(outcomes.len(), 1);
    assert!(outcomes[0].result.is_ok(), "{:?}", outcomes[0].result);
    assert_eq!(outcomes[0].alerts, 1);

    eventually("the alert in Alertmanager", || async {
        floor_alerts(&url).await.len() == 1
    })
    .await;
    let alert = floor_alerts(&url).await.remove(0);
    let labels = &alert["labels"];
    assert_eq!(labels["floor"], "trading-floor");
    assert_eq!(labels["state"], "HALTED");
    assert_eq!(labels["reason"], "KILL_SWITCH");
    assert_eq!(labels["severity"], "page");
    assert_eq!(
        alert["annotations"]["runbook"],
        "Find who engaged the kill switch and why before releasing it"
    );
    assert_eq!(alert["generatorURL"], "http://127.0.0.1:8080/");
    // endsAt is four resend intervals (4 min) ahead.
    let ends: Timestamp = alert["endsAt"]
        .as_str()
        .expect("endsAt")
        .parse()
        .expect("ts");
    let ahead = ends.duration_since(Timestamp::now()).as_secs();
    assert!((200..=241).contains(&ahead), "endsAt {ahead} s ahead");

    let resolved = book.observe(&floor(State::Ok, &[]), Timestamp::now());
    sink.apply(&resolved, Instant::now());
    let outcomes = sink.send_due(Instant::now()).await;
    assert!(outcomes[0].result.is_ok(), "{:?}", outcomes[0].result);
    eventually("the alert resolved", || async {
        floor_alerts(&url).await.is_empty()
    })
    .await;
    assert_eq!(sink.firing_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alertmanager_that_was_down_gets_the_current_picture_when_back() {
    let mut am = tokio::task::block_in_place(Alertmanager::start).expect("alertmanager");
    let url = am.url();
    let settings = AlertmanagerSettings {
        retry_interval: Duration::from_millis(200),
        ..AlertmanagerSettings::default()
    };
    let mut sink =
        AlertmanagerSink::new(vec![target(&am)], settings, Arc::new(SystemClock)).expect("sink");
    let mut book = AlertBook::new(AlertSettings::default());

    // Stalled market data fires while Alertmanager is up...
    let stale = floor(State::Halted, &[ReasonCode::MarketdataStale]);
    sink.apply(&book.observe(&stale, Timestamp::now()), Instant::now());
    assert!(sink.send_due(Instant::now()).await[0].result.is_ok());
    eventually("the first alert", || async {
        floor_alerts(&url)
            .await
            .iter()
            .any(|a| a["labels"]["reason"] == "MARKETDATA_STALE")
    })
    .await;

    // ...then Alertmanager goes down (and forgets: it keeps alerts in memory), the
    // state changes to a kill switch, and the POST fails.
    am.stop();
    let halted = floor(State::Halted, &[ReasonCode::KillSwitch]);
    sink.apply(&book.observe(&halted, Timestamp::now()), Instant::now());
    let down = sink.send_due(Instant::now()).await;
    assert!(down[0].result.is_err(), "{:?}", down[0].result);
    tokio::task::block_in_place(|| am.restart()).expect("restart");

    // Retried on the retry schedule (not the 60 s resend) with the whole picture:
    // the kill switch firing and the stale alert resolved.
    let due = sink.next_due().expect("a target");
    assert!(due <= Instant::now() + Duration::from_millis(200));
    tokio::time::sleep_until(due).await;
    let back = sink.send_due(Instant::now()).await;
    assert!(back[0].result.is_ok(), "{:?}", back[0].result);
    assert_eq!(back[0].alerts, 2, "one firing, one resolved");
    eventually("the current picture after the restart", || async {
        let alerts = floor_alerts(&url).await;
        alerts.len() == 1 && alerts[0]["labels"]["reason"] == "KILL_SWITCH"
    })
    .await;
}

/// A loopback receiver for Alertmanager's own webhook notifications.
async fn notification_receiver() -> (String, Arc<std::sync::Mutex<Vec<(Instant, Value)>>>) {
    let seen: Arc<std::sync::Mutex<Vec<(Instant, Value)>>> = Arc::default();
    let store = seen.clone();
    let app = axum::Router::new().route(
        "/notify",
        axum::routing::post(move |body: axum::body::Bytes| {
            let store = store.clone();
            async move {
                let json: Value = serde_json::from_slice(&body).expect("json notification");
                store.lock().expect("lock").push((Instant::now(), json));
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/notify"), seen)
}

/// The README's route, in small: pages go to a person (here the loopback
/// receiver), tickets elsewhere; the test sends one of each.
fn routing_config(receiver_url: &str) -> String {
    format!(
        "\
route:
  receiver: tickets
  group_by: [alertname, floor, service]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - receiver: pager
      matchers: ['severity=\"page\"']
receivers:
  - name: tickets
  - name: pager
    webhook_configs:
      - url: {receiver_url}
        send_resolved: true
"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alertmanager_routes_pages_to_its_receiver_and_then_the_resolution() {
    let (receiver_url, seen) = notification_receiver().await;
    let config = routing_config(&receiver_url);
    let am = tokio::task::block_in_place(|| Alertmanager::start_with_config(&config))
        .expect("alertmanager");
    let sink = AlertmanagerSink::new(
        vec![target(&am)],
        AlertmanagerSettings::default(),
        Arc::new(SystemClock),
    )
    .expect("sink");
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Vec<Change>>();
    let running = tokio::spawn(sink.run(rx));
    let mut book = AlertBook::new(AlertSettings::default());

    // A ticket (stale market data on an important service) and a page (kill switch).
    let mut ticket = floor(State::Degraded, &[ReasonCode::MarketdataStale]);
    ticket.subject = Subject::Service {
        floor: "trading-floor".into(),
        service: "md-feed".into(),
        kind: opsfloor_contract::ServiceKind::Marketdata,
        criticality: opsfloor_contract::Criticality::Important,
    };
    tx.send(book.observe(&ticket, Timestamp::now()))
        .expect("send");
    let engaged = Instant::now();
    tx.send(book.observe(
        &floor(State::Halted, &[ReasonCode::KillSwitch]),
        Timestamp::now(),
    ))
    .expect("send");

    let notified = |status: &'static str| {
        let seen = seen.clone();
        move || {
            let seen = seen.clone();
            async move {
                seen.lock()
                    .expect("lock")
                    .iter()
                    .any(|(_, n)| n["status"] == status)
            }
        }
    };
    eventually("the page at the receiver", notified("firing")).await;
    let (arrived, first) = seen.lock().expect("lock")[0].clone();
    println!(
        "kill switch to Alertmanager's receiver (group_wait 1s): {:?}",
        arrived - engaged
    );
    let alerts = first["alerts"].as_array().expect("alerts");
    assert_eq!(
        alerts.len(),
        1,
        "only the page is routed to the pager: {first}"
    );
    assert_eq!(alerts[0]["labels"]["alertname"], "OpsfloorFloorState");
    assert_eq!(alerts[0]["labels"]["state"], "HALTED");
    assert_eq!(alerts[0]["labels"]["reason"], "KILL_SWITCH");

    // Released: the floor is OK again and the page resolves at the receiver.
    tx.send(book.observe(&floor(State::Ok, &[]), Timestamp::now()))
        .expect("send");
    eventually("the resolution at the receiver", notified("resolved")).await;
    let all = seen.lock().expect("lock").clone();
    assert!(
        all.iter()
            .flat_map(|(_, n)| n["alerts"].as_array().cloned().unwrap_or_default())
            .all(|a| a["labels"]["severity"] == "page"),
        "a ticket reached the pager"
    );
    drop(tx);
    running.await.expect("sink task");
}

/// The issue's budget in part: from a recorded transition (here `AlertBook::observe`)
/// to Alertmanager's notification at a webhook receiver, with `group_wait: 1s`, over
/// 20 runs (each a new alert group). The floor's own poll (1 s) comes on top once
/// the crate is wired in. Run by `bench/alerts-latency.sh`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: about 25 s; run by bench/alerts-latency.sh"]
async fn bench_transition_to_alertmanager_receiver() {
    let (receiver_url, seen) = notification_receiver().await;
    let config = routing_config(&receiver_url);
    let am = tokio::task::block_in_place(|| Alertmanager::start_with_config(&config))
        .expect("alertmanager");
    let sink = AlertmanagerSink::new(
        vec![target(&am)],
        AlertmanagerSettings::default(),
        Arc::new(SystemClock),
    )
    .expect("sink");
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Vec<Change>>();
    let running = tokio::spawn(sink.run(rx));
    let mut book = AlertBook::new(AlertSettings::default());
    let mut samples = Vec::new();
    for run in 0..20 {
        let name = format!("floor-{run}");
        let mut obs = floor(State::Halted, &[ReasonCode::KillSwitch]);
        obs.subject = Subject::Floor {
            floor: name.clone(),
        };
        let start = Instant::now();
        tx.send(book.observe(&obs, Timestamp::now())).expect("send");
        let deadline = start + Duration::from_secs(15);
        let arrived = loop {
            let found = seen.lock().expect("lock").iter().find_map(|(at, n)| {
                let alerts = n["alerts"].as_array()?;
                alerts
                    .iter()
                    .any(|a| a["labels"]["floor"] == name.as_str())
                    .then_some(*at)
            });
            if let Some(at) = found {
                break at;
            }
            assert!(Instant::now() < deadline, "run {run}: no notification");
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        samples.push(arrived - start);
    }
    samples.sort();
    let p = |q: usize| samples[(samples.len() * q / 100).min(samples.len() - 1)];
    println!(
        "transition -> Alertmanager (group_wait 1s) -> receiver: 20 runs, p50 {:?}, p99 {:?}, max {:?}",
        p(50),
        p(99),
        samples[samples.len() - 1]
    );
    assert!(p(99) <= Duration::from_secs(5));
    drop(tx);
    running.await.expect("sink task");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alertmanager_behind_https_and_an_internal_ca_gets_the_alert() {
    let ca = Ca::new("opsfloor test CA");
    let am =
        tokio::task::block_in_place(|| Alertmanager::start_tls(&ca.issue(Usage::Server, false)))
            .expect("alertmanager over https");
    let url = am.url();
    assert!(url.starts_with("https://"), "{url}");
    let tls = Tls::from_pem(Path::new("ca.pem"), ca.cert_pem().as_bytes()).expect("the CA");

    // The system's roots alone do not vouch for an internal CA: the send fails,
    // with rustls's words.
    let mut untrusting = AlertmanagerSink::new(
        vec![target(&am)],
        AlertmanagerSettings::default(),
        Arc::new(SystemClock),
    )
    .expect("sink");
    let mut book = AlertBook::new(AlertSettings::default());
    let fired = book.observe(
        &floor(State::Halted, &[ReasonCode::KillSwitch]),
        Timestamp::now(),
    );
    untrusting.apply(&fired, Instant::now());
    let outcomes = untrusting.send_due(Instant::now()).await;
    let refused = format!("{:?}", outcomes[0].result);
    assert!(refused.contains("UnknownIssuer"), "{refused}");

    // With `ca_file`'s roots it goes through.
    let mut sink = AlertmanagerSink::trusting(
        vec![target(&am)],
        AlertmanagerSettings::default(),
        Arc::new(SystemClock),
        &tls,
    )
    .expect("sink");
    sink.apply(&fired, Instant::now());
    let outcomes = sink.send_due(Instant::now()).await;
    assert!(outcomes[0].result.is_ok(), "{:?}", outcomes[0].result);
    let client = tls.client(Duration::from_secs(5)).expect("client");
    let listed_over_https = || async {
        let body: Value = client
            .get(format!("{url}/api/v2/alerts"))
            .send()
            .await
            .expect("GET over https")
            .json()
            .await
            .expect("json");
        body.as_array()
            .is_some_and(|a| a.iter().any(|x| x["labels"]["reason"] == "KILL_SWITCH"))
    };
    eventually("the alert in Alertmanager over https", listed_over_https).await;
    eprintln!("without the CA the send failed: {refused}");
}
