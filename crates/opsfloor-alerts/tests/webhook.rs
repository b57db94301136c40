//! The signed webhook over loopback: an axum receiver that verifies the signature
//! and fails the first requests, so the sink's retries are exercised for real.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, StatusCode};
use jiff::Timestamp;
use opsfloor_alerts::webhook::{IDEMPOTENCY_HEADER, SIGNATURE_HEADER, body_for, verify};
use opsfloor_alerts::{
    AlertBook, AlertSettings, Backoff, Change, Jitter, Observation, Subject, SystemClock,
    WebhookError, WebhookFormat, WebhookSink, WebhookTarget,
};
use opsfloor_contract::{ReasonCode, State};
use serde_json::Value;

const SECRET: &[u8] = b"webhook-test-secret";

/// What the receiver saw, and how many requests it still fails (with `fail_status`).
#[derive(Debug, Default)]
struct Seen {
    requests: u32,
    fail_next: u32,
    fail_status: u16,
    accepted: Vec<(String, Value)>,
    bad_signatures: u32,
}

async fn receive(
    AxumState(seen): AxumState<Arc<Mutex<Seen>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut seen = seen.lock().expect("lock");
    seen.requests += 1;
    let header = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if verify(SECRET, header, &body, Timestamp::now().as_second(), 300).is_err() {
        seen.bad_signatures += 1;
        return StatusCode::UNAUTHORIZED;
    }
    if seen.fail_next > 0 {
        seen.fail_next -= 1;
        return StatusCode::from_u16(seen.fail_status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    }
    let key = headers
        .get(IDEMPOTENCY_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let json: Value = serde_json::from_slice(&body).expect("json body");
    seen.accepted.push((key, json));
    StatusCode::NO_CONTENT
}

/// A receiver on 127.0.0.1:0; returns its URL and what it saw.
async fn receiver(fail_next: u32, fail_status: u16) -> (url::Url, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen {
        fail_next,
        fail_status,
        ..Seen::default()
    }));
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook").parse().expect("url"), seen)
}

/// Jitter that waits not at all and records each ceiling it was asked for.
#[derive(Debug, Default)]
struct Recorded(Mutex<Vec<Duration>>);

impl Jitter for Recorded {
    fn pick(&self, max: Duration) -> Duration {
        self.0.lock().expect("lock").push(max);
        Duration::ZERO
    }
}

fn changes() -> Vec<Change> {
    let mut obs = Observation {
        subject: Subject::Floor {
            floor: "trading-floor".into(),
        },
        state: State::Halted,
        reasons: vec![ReasonCode::KillSwitch],
        contributors: vec!["whale-strategy".into()],
        since: "2026-01-07T15:00:00Z".parse().expect("ts"),
        market_open: true,
        in_maintenance: false,
        dashboard_url: "http://127.0.0.1:8080/".into(),
    };
    let mut book = AlertBook::new(AlertSettings::default());
    let t0: Timestamp = "2026-01-07T15:00:01Z".parse().expect("ts");
    let mut out = book.observe(&obs, t0);
    obs.state = State::Ok;
    obs.reasons.clear();
    out.extend(book.observe(&obs, t0 + jiff::SignedDuration::from_secs(60)));
    out
}

fn sink(url: url::Url, jitter: Arc<Recorded>, max_attempts: u32) -> WebhookSink {
    let target = WebhookTarget {
        url,
        secret: Some(SECRET.to_vec()),
        format: WebhookFormat::Json,
    };
    let backoff = Backoff {
        base: Duration::from_millis(10),
        cap: Duration::from_millis(25),
        max_attempts,
    };
    WebhookSink::new(
        target,
        backoff,
        Duration::from_secs(5),
        jitter,
        Arc::new(SystemClock),
    )
    .expect("sink")
}

#[tokio::test]
async fn signed_changes_arrive_after_retries_with_exponential_backoff() {
    let (url, seen) = receiver(3, 503).await;
    let jitter = Arc::new(Recorded::default());
    let sink = sink(url, jitter.clone(), 8);
    let [fired, resolved] = <[Change; 2]>::try_from(changes()).expect("two changes");

    assert_eq!(sink.deliver(&fired).await.expect("delivered"), 4);
    assert_eq!(sink.deliver(&resolved).await.expect("delivered"), 1);

    let seen = seen.lock().expect("lock");
    assert_eq!(seen.requests, 5);
    assert_eq!(seen.bad_signatures, 0);
    let ceilings: Vec<u128> = jitter
        .0
        .lock()
        .expect("lock")
        .iter()
        .map(Duration::as_millis)
        .collect();
    assert_eq!(
        ceilings,
        [10, 20, 25],
        "full jitter under base x 2^n, capped"
    );

    let (key, body) = &seen.accepted[0];
    assert_eq!(key, &fired.idempotency_key);
    assert_eq!(body["idempotency_key"], fired.idempotency_key.as_str());
    assert_eq!(body["status"], "firing");
    assert_eq!(body["labels"]["alertname"], "OpsfloorFloorState");
    assert_eq!(body["labels"]["reason"], "KILL_SWITCH");
    assert_eq!(body["annotations"]["dashboard"], "http://127.0.0.1:8080/");
    assert_eq!(body["starts_at"], "2026-01-07T15:00:01Z");
    assert_eq!(body["ends_at"], Value::Null);
    let (key, body) = &seen.accepted[1];
    assert!(key.ends_with("-resolved"));
    assert_eq!(body["status"], "resolved");
    assert_eq!(body["fingerprint"], fired.fingerprint.as_str());
    assert_eq!(body["ends_at"], "2026-01-07T15:01:01Z");
}

#[tokio::test]
async fn a_refusal_is_not_retried_and_attempts_are_bounded() {
    let (url, seen) = receiver(1, 400).await;
    let fired = changes().remove(0);
    let refused = sink(url, Arc::new(Recorded::default()), 8)
        .deliver(&fired)
        .await;
    assert!(
        matches!(refused, Err(WebhookError::Rejected { status: 400, .. })),
        "{refused:?}"
    );
    assert_eq!(seen.lock().expect("lock").requests, 1);

    let (url, seen) = receiver(100, 500).await;
    let gave_up = sink(url, Arc::new(Recorded::default()), 3)
        .deliver(&fired)
        .await;
    assert!(
        matches!(gave_up, Err(WebhookError::GaveUp { attempts: 3, .. })),
        "{gave_up:?}"
    );
    assert_eq!(seen.lock().expect("lock").requests, 3);
}

#[test]
fn slack_messages_carry_icon_state_reason_and_link() {
    let [fired, resolved] = <[Change; 2]>::try_from(changes()).expect("two changes");
    let body: Value =
        serde_json::from_slice(&body_for(&fired, WebhookFormat::Slack)).expect("json");
    assert_eq!(
        body["text"],
        ":octagonal_sign: *HALTED* · trading-floor · `KILL_SWITCH`: trading-floor is HALTED: \
         The kill switch is engaged: trading is stopped on purpose <http://127.0.0.1:8080/|Open the dashboard>"
    );
    let body: Value =
        serde_json::from_slice(&body_for(&resolved, WebhookFormat::Slack)).expect("json");
    assert!(
        body["text"]
            .as_str()
            .expect("text")
            .starts_with(":white_check_mark: *RESOLVED*")
    );
}

#[tokio::test]
async fn the_run_loop_delivers_changes_in_order_through_failures() {
    let (url, seen) = receiver(2, 502).await;
    let sink = sink(url, Arc::new(Recorded::default()), 8);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Vec<Change>>();
    let running = tokio::spawn(sink.run(rx));
    let changes = changes();
    for change in &changes {
        tx.send(vec![change.clone()]).expect("send");
    }
    drop(tx);
    running.await.expect("run loop");
    let seen = seen.lock().expect("lock");
    let keys: Vec<&str> = seen.accepted.iter().map(|(k, _)| k.as_str()).collect();
    let expected: Vec<&str> = changes.iter().map(|c| c.idempotency_key.as_str()).collect();
    assert_eq!(keys, expected, "firing, then resolved, each once");
    assert_eq!(seen.requests, 4);
}
