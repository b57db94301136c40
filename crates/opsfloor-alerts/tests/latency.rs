//! The issue's budget "from a recorded transition to the POST to each sink: ≤ 100 ms
//! at p99", measured over loopback: from `AlertBook::observe` to the request's
//! arrival at a receiver, through the Alertmanager sink's run loop and through the
//! webhook sink. Prints p50/p99/max (`cargo test -p opsfloor-alerts --test latency
//! -- --nocapture`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use jiff::Timestamp;
use opsfloor_alerts::{
    AlertBook, AlertSettings, AlertmanagerSettings, AlertmanagerSink, AlertmanagerTarget, Backoff,
    Change, Observation, RandomJitter, Subject, SystemClock, WebhookFormat, WebhookSink,
    WebhookTarget,
};
use opsfloor_contract::{ReasonCode, State};
use tokio::time::Instant;

const RUNS: usize = 200;

type Arrivals = Arc<Mutex<Vec<Instant>>>;

async fn receiver(path: &'static str) -> (url::Url, Arrivals) {
    let arrivals: Arrivals = Arc::default();
    let seen = arrivals.clone();
    let app = axum::Router::new().route(
        path,
        axum::routing::post(move || {
            let seen = seen.clone();
            async move {
                seen.lock().expect("lock").push(Instant::now());
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let base = if path == "/api/v2/alerts" { "/" } else { path };
    (
        format!("http://{addr}{base}").parse().expect("url"),
        arrivals,
    )
}

/// Alternates a kill switch and calm, so every observation is one change.
fn observation(i: usize) -> Observation {
    let halted = i.is_multiple_of(2);
    Observation {
        subject: Subject::Floor {
            floor: "trading-floor".into(),
        },
        state: if halted { State::Halted } else { State::Ok },
        reasons: if halted {
            vec![ReasonCode::KillSwitch]
        } else {
            Vec::new()
        },
        contributors: Vec::new(),
        since: Timestamp::UNIX_EPOCH,
        market_open: true,
        in_maintenance: false,
        dashboard_url: String::new(),
    }
}

async fn wait_for(arrivals: &Arrivals, n: usize) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(at) = arrivals.lock().expect("lock").get(n - 1) {
            return *at;
        }
        assert!(Instant::now() < deadline, "POST {n} never arrived");
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

fn report(name: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let pct = |p: usize| samples[(samples.len() * p / 100).min(samples.len() - 1)];
    let (p50, p99, max) = (pct(50), pct(99), samples[samples.len() - 1]);
    println!(
        "{name}: {} runs, p50 {p50:?}, p99 {p99:?}, max {max:?}",
        samples.len()
    );
    p99
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transition_to_post_is_within_100_ms_at_p99() {
    let (am_url, am_arrivals) = receiver("/api/v2/alerts").await;
    let sink = AlertmanagerSink::new(
        vec![AlertmanagerTarget {
            url: am_url,
            bearer_token: None,
        }],
        AlertmanagerSettings::default(),
        Arc::new(SystemClock),
    )
    .expect("sink");
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Vec<Change>>();
    let running = tokio::spawn(sink.run(rx));
    let mut book = AlertBook::new(AlertSettings::default());
    let mut samples = Vec::new();
    for i in 0..RUNS {
        let start = Instant::now();
        let changes = book.observe(&observation(i), Timestamp::now());
        tx.send(changes).expect("send");
        samples.push(wait_for(&am_arrivals, i + 1).await - start);
    }
    let am_p99 = report("alertmanager sink", samples);
    drop(tx);
    running.await.expect("sink task");

    let (hook_url, hook_arrivals) = receiver("/hook").await;
    let hook = WebhookSink::new(
        WebhookTarget {
            url: hook_url,
            secret: Some(b"s".to_vec()),
            format: WebhookFormat::Json,
        },
        Backoff::default(),
        Duration::from_secs(5),
        Arc::new(RandomJitter),
        Arc::new(SystemClock),
    )
    .expect("sink");
    let mut book = AlertBook::new(AlertSettings::default());
    let mut samples = Vec::new();
    for i in 0..RUNS {
        let start = Instant::now();
        for change in book.observe(&observation(i), Timestamp::now()) {
            hook.deliver(&change).await.expect("delivered");
        }
        samples.push(wait_for(&hook_arrivals, i + 1).await - start);
    }
    let hook_p99 = report("webhook sink", samples);
    assert!(
        am_p99 <= Duration::from_millis(100),
        "alertmanager p99 {am_p99:?}"
    );
    assert!(
        hook_p99 <= Duration::from_millis(100),
        "webhook p99 {hook_p99:?}"
    );
}
