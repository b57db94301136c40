//! The Alertmanager sink's schedule against a loopback stand-in that records every
//! POST: resends, `endsAt`, bearer tokens, several targets, and one that fails
//! first and then gets the current picture. (The real Alertmanager is in
//! `tests/alertmanager.rs`.)

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, StatusCode};
use jiff::Timestamp;
use opsfloor_alerts::{
    AlertBook, AlertSettings, AlertmanagerSettings, AlertmanagerSink, AlertmanagerTarget, Change,
    Observation, Subject, WallClock,
};
use opsfloor_contract::{ReasonCode, State};
use serde_json::Value;
use tokio::time::Instant;

/// A wall clock the test sets.
#[derive(Debug)]
struct TestClock(Mutex<Timestamp>);

impl WallClock for TestClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().expect("lock")
    }
}

#[derive(Debug, Default)]
struct Seen {
    fail_next: u32,
    failed: u32,
    posts: Vec<(Option<String>, Value)>,
}

async fn receive(
    AxumState(seen): AxumState<Arc<Mutex<Seen>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut seen = seen.lock().expect("lock");
    if seen.fail_next > 0 {
        seen.fail_next -= 1;
        seen.failed += 1;
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    seen.posts
        .push((auth, serde_json::from_slice(&body).expect("json")));
    StatusCode::OK
}

async fn stand_in(fail_next: u32) -> (url::Url, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen {
        fail_next,
        ..Seen::default()
    }));
    let app = axum::Router::new()
        .route("/api/v2/alerts", axum::routing::post(receive))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/").parse().expect("url"), seen)
}

fn floor(state: State, reasons: &[ReasonCode]) -> Observation {
    Observation {
        subject: Subject::Floor {
            floor: "trading-floor".into(),
        },
        state,
        reasons: reasons.to_vec(),
        contributors: Vec::new(),
        since: Timestamp::UNIX_EPOCH,
        market_open: true,
        in_maintenance: false,
        dashboard_url: String::new(),
    }
}

async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn resends_on_schedule_to_every_target_and_catches_up_a_failing_one() {
    let (url_a, seen_a) = stand_in(0).await;
    let (url_b, seen_b) = stand_in(3).await;
    let t0: Timestamp = "2026-01-07T15:00:00Z".parse().expect("ts");
    let clock = Arc::new(TestClock(Mutex::new(t0)));
    let settings = AlertmanagerSettings {
        resend_interval: Duration::from_millis(300),
        retry_interval: Duration::from_millis(50),
        timeout: Duration::from_secs(5),
    };
    let targets = vec![
        AlertmanagerTarget {
            url: url_a,
            bearer_token: Some("tok-a".into()),
        },
        AlertmanagerTarget {
            url: url_b,
            bearer_token: None,
        },
    ];
    let sink = AlertmanagerSink::new(targets, settings, clock.clone()).expect("sink");
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Vec<Change>>();
    let running = tokio::spawn(sink.run(rx));
    let mut book = AlertBook::new(AlertSettings::default());

    let fired = book.observe(&floor(State::Halted, &[ReasonCode::KillSwitch]), t0);
    tx.send(fired.clone()).expect("send");
    // The first POST at once, then a resend every 300 ms.
    eventually("three posts to A", || {
        seen_a.lock().expect("lock").posts.len() >= 3
    })
    .await;
    // B failed three times, was retried every 50 ms, and has the alert now.
    eventually("B caught up", || {
        !seen_b.lock().expect("lock").posts.is_empty()
    })
    .await;
    {
        let a = seen_a.lock().expect("lock");
        for (auth, body) in &a.posts {
            assert_eq!(auth.as_deref(), Some("Bearer tok-a"));
            let alerts = body.as_array().expect("array");
            assert_eq!(alerts.len(), 1);
            assert_eq!(alerts[0]["labels"]["reason"], "KILL_SWITCH");
            assert_eq!(alerts[0]["startsAt"], "2026-01-07T15:00:00Z");
            // Four resend intervals after the wall clock at sending.
            assert_eq!(alerts[0]["endsAt"], "2026-01-07T15:00:01.2Z");
            assert!(alerts[0].get("generatorURL").is_none());
        }
        let b = seen_b.lock().expect("lock");
        assert_eq!(b.failed, 3);
        assert_eq!(b.posts[0].0, None);
        assert_eq!(b.posts[0].1[0]["labels"]["state"], "HALTED");
    }

    // Resolved one minute later (wall clock): sent at once with that endsAt.
    let t1: Timestamp = "2026-01-07T15:01:00Z".parse().expect("ts");
    *clock.0.lock().expect("lock") = t1;
    let before = seen_a.lock().expect("lock").posts.len();
    tx.send(book.observe(&floor(State::Ok, &[]), t1))
        .expect("send");
    eventually("the resolution at A", || {
        seen_a.lock().expect("lock").posts[before..]
            .iter()
            .any(|(_, body)| {
                body[0]["endsAt"] == "2026-01-07T15:01:00Z"
                    && body[0]["labels"]["reason"] == "KILL_SWITCH"
            })
    })
    .await;
    drop(tx);
    running.await.expect("sink task");
}

#[tokio::test]
async fn a_target_down_for_long_gets_the_picture_without_stale_resolutions() {
    let (url, seen) = stand_in(u32::MAX).await;
    let t0: Timestamp = "2026-01-07T15:00:00Z".parse().expect("ts");
    let clock = Arc::new(TestClock(Mutex::new(t0)));
    let settings = AlertmanagerSettings {
        resend_interval: Duration::from_secs(60),
        retry_interval: Duration::from_millis(50),
        timeout: Duration::from_secs(5),
    };
    let target = AlertmanagerTarget {
        url,
        bearer_token: None,
    };
    let sink = AlertmanagerSink::new(vec![target], settings, clock.clone()).expect("sink");
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Vec<Change>>();
    let running = tokio::spawn(sink.run(rx));
    let mut book = AlertBook::new(AlertSettings::default());

    // While the target refuses everything: stale data fires, then a kill switch
    // replaces it (the stale alert resolves).
    tx.send(book.observe(&floor(State::Halted, &[ReasonCode::MarketdataStale]), t0))
        .expect("send");
    tx.send(book.observe(&floor(State::Halted, &[ReasonCode::KillSwitch]), t0))
        .expect("send");
    eventually("a few refused retries", || {
        seen.lock().expect("lock").failed >= 3
    })
    .await;

    // Sixteen minutes later (wall clock) the target is back.
    *clock.0.lock().expect("lock") = t0 + jiff::SignedDuration::from_secs(16 * 60);
    // A POST built before the clock moved may be in flight: let two more be
    // refused, so every later one was built after (each waits for the last answer).
    let n = seen.lock().expect("lock").failed;
    eventually("two more refusals", || {
        seen.lock().expect("lock").failed >= n + 2
    })
    .await;
    seen.lock().expect("lock").fail_next = 0;
    eventually("the picture", || {
        !seen.lock().expect("lock").posts.is_empty()
    })
    .await;
    let first = seen.lock().expect("lock").posts[0].1.clone();
    let alerts = first.as_array().expect("array");
    assert_eq!(alerts.len(), 1, "only the firing alert: {first}");
    assert_eq!(alerts[0]["labels"]["reason"], "KILL_SWITCH");
    assert_eq!(alerts[0]["endsAt"], "2026-01-07T15:20:00Z");
    drop(tx);
    running.await.expect("sink task");
}

/// A server that accepts connections and never answers.
async fn hung() -> url::Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://{addr}/").parse().expect("url")
}

#[tokio::test]
async fn a_hung_alertmanager_does_not_delay_the_others() {
    let (url, seen) = stand_in(0).await;
    let settings = AlertmanagerSettings {
        timeout: Duration::from_secs(30),
        ..AlertmanagerSettings::default()
    };
    let targets = vec![
        AlertmanagerTarget {
            url: hung().await,
            bearer_token: None,
        },
        AlertmanagerTarget {
            url,
            bearer_token: None,
        },
    ];
    let t0: Timestamp = "2026-01-07T15:00:00Z".parse().expect("ts");
    let clock = Arc::new(TestClock(Mutex::new(t0)));
    let sink = AlertmanagerSink::new(targets, settings, clock).expect("sink");
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Vec<Change>>();
    let running = tokio::spawn(sink.run(rx));
    let mut book = AlertBook::new(AlertSettings::default());

    let started = Instant::now();
    tx.send(book.observe(&floor(State::Halted, &[ReasonCode::KillSwitch]), t0))
        .expect("send");
    eventually("the fire", || seen.lock().expect("lock").posts.len() == 1).await;
    tx.send(book.observe(&floor(State::Ok, &[]), t0))
        .expect("send");
    eventually("the resolve", || {
        seen.lock().expect("lock").posts.len() == 2
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the healthy target waited for the hung one: {:?}",
        started.elapsed()
    );
    let resolved = seen.lock().expect("lock").posts[1].1.clone();
    assert_eq!(resolved[0]["endsAt"], "2026-01-07T15:00:00Z");
    running.abort();
}
