//! The probe over real loopback HTTP.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use opsfloor_probe::{Clock, Probe, ProbeConfig};
use serde_json::Value;

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

/// A probe configured from these variables (plus a name, kind and repo), on a
/// simulated clock starting at `now`.
fn probe(kind: &str, now: &str, vars: &[(&str, &str)]) -> Probe {
    let mut env: HashMap<String, String> = [
        ("SERVICE_NAME", format!("{kind}-svc")),
        ("SERVICE_KIND", kind.to_owned()),
        ("REPO_ID", "acme/floor".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (k, v) in vars {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    let config = ProbeConfig::from_lookup(|k| env.get(k).cloned()).expect("valid config");
    Probe::with_clock(config, Clock::simulated_from(ts(now)))
}

/// Serves `router` on an ephemeral loopback port.
async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    addr
}

async fn status(addr: SocketAddr) -> Value {
    let response = reqwest::get(format!("http://{addr}/ops/status"))
        .await
        .expect("GET");
    assert_eq!(response.status(), 200);
    response.json().await.expect("JSON")
}

fn state_of(doc: &Value) -> (String, Vec<String>) {
    let state = doc["status"]["state"].as_str().expect("state").to_owned();
    let codes = doc["status"]["reason_codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().expect("code").to_owned())
        .collect();
    (state, codes)
}

const MARKET_HOURS: &str = "2026-01-07T15:00:00Z"; // Wednesday 10:00 New York
const AFTER_HOURS: &str = "2026-01-07T22:00:00Z"; // Wednesday 17:00 New York

#[tokio::test]
async fn seed_example_ok_during_market_hours() {
    let p = probe("marketdata", MARKET_HOURS, &[]);
    p.record_tick(p.clock().now());
    p.heartbeat();
    let doc = status(serve(p.router()).await).await;
    assert_eq!(state_of(&doc), ("OK".into(), vec![]));
    assert_eq!(doc["marketdata"]["is_fresh"], true);
    assert_eq!(doc["safety"]["safe_to_execute_orders"], false);
}

#[tokio::test]
async fn seed_example_market_closed_after_hours() {
    let p = probe("marketdata", AFTER_HOURS, &[]);
    p.record_tick(p.clock().now());
    let doc = status(serve(p.router()).await).await;
    assert_eq!(
        state_of(&doc),
        ("MARKET_CLOSED".into(), vec!["MARKET_CLOSED".into()])
    );
    assert_eq!(doc["status"]["summary"], "Market closed");
}

#[tokio::test]
async fn seed_example_degraded_marketdata_stale() {
    let p = probe(
        "marketdata",
        MARKET_HOURS,
        &[("MARKETDATA_STALE_THRESHOLD_S", "120")],
    );
    let tick = p
        .clock()
        .now()
        .checked_sub(SignedDuration::from_secs(300))
        .expect("ts");
    p.record_tick(tick);
    let doc = status(serve(p.router()).await).await;
    assert_eq!(doc["service_kind"], "marketdata");
    assert_eq!(
        state_of(&doc),
        ("DEGRADED".into(), vec!["MARKETDATA_STALE".into()])
    );
    assert_eq!(doc["marketdata"]["is_fresh"], false);
}

#[tokio::test]
async fn seed_example_halted_kill_switch() {
    let p = probe("strategy", MARKET_HOURS, &[("EXECUTION_HALTED", "TRUE")]);
    p.record_tick(p.clock().now());
    let doc = status(serve(p.router()).await).await;
    assert_eq!(
        state_of(&doc),
        ("HALTED".into(), vec!["KILL_SWITCH".into()])
    );
    assert_eq!(doc["safety"]["kill_switch"], true);
    assert_eq!(
        doc["safety"]["gating_reasons"],
        serde_json::json!(["KILL_SWITCH"])
    );
}

#[tokio::test]
async fn seed_example_offline_execution_scaled_to_zero() {
    let p = probe("execution", MARKET_HOURS, &[("EXECUTION_REPLICAS", "0")]);
    let doc = status(serve(p.router()).await).await;
    assert_eq!(doc["service_kind"], "execution");
    assert_eq!(
        state_of(&doc),
        ("OFFLINE".into(), vec!["EXECUTION_DISABLED".into()])
    );
}

#[tokio::test]
async fn headers_head_and_405() {
    let p = probe("ingest", MARKET_HOURS, &[]);
    let addr = serve(p.router()).await;
    let client = reqwest::Client::new();
    for path in ["/ops/status", "/health"] {
        let get = client
            .get(format!("http://{addr}{path}"))
            .send()
            .await
            .expect("GET");
        assert_eq!(get.status(), 200, "{path}");
        assert_eq!(get.headers()["content-type"], "application/json", "{path}");
        assert_eq!(get.headers()["cache-control"], "no-store", "{path}");
        let length = get.bytes().await.expect("body").len();
        assert!(length > 0);

        let head = client
            .head(format!("http://{addr}{path}"))
            .send()
            .await
            .expect("HEAD");
        assert_eq!(head.status(), 200, "{path}");
        assert_eq!(head.headers()["content-type"], "application/json");
        assert_eq!(head.headers()["cache-control"], "no-store");
        assert!(
            head.bytes().await.expect("body").is_empty(),
            "HEAD has no body"
        );

        for method in [
            reqwest::Method::POST,
            reqwest::Method::PUT,
            reqwest::Method::DELETE,
            reqwest::Method::PATCH,
        ] {
            let r = client
                .request(method.clone(), format!("http://{addr}{path}"))
                .send()
                .await
                .expect("send");
            assert_eq!(r.status(), 405, "{method} {path}");
            let allow = r.headers()["allow"].to_str().expect("allow").to_owned();
            assert!(allow.contains("GET") && allow.contains("HEAD"), "{allow}");
        }
    }
    let missing = client
        .get(format!("http://{addr}/ops/nope"))
        .send()
        .await
        .expect("GET");
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn mounts_under_a_prefix_next_to_other_routes() {
    let p = probe("ingest", MARKET_HOURS, &[]);
    let app = axum::Router::new()
        .route("/", axum::routing::get(|| async { "my service" }))
        .nest("/bars", p.router());
    let addr = serve(app).await;
    let doc: Value = reqwest::get(format!("http://{addr}/bars/ops/status"))
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    assert_eq!(doc["service_name"], "ingest-svc");
    let root = reqwest::get(format!("http://{addr}/"))
        .await
        .expect("GET")
        .text()
        .await
        .expect("text");
    assert_eq!(root, "my service");
}

#[tokio::test]
async fn kill_switch_file_changes_show_within_a_second() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("halt");
    let p = probe(
        "strategy",
        MARKET_HOURS,
        &[("EXECUTION_HALTED_FILE", file.to_str().expect("path"))],
    );
    p.record_tick(p.clock().now());
    let addr = serve(p.router()).await;
    assert_eq!(
        state_of(&status(addr).await).0,
        "OK",
        "a missing file is not engaged"
    );

    for (content, want) in [
        ("on\n", "HALTED"),
        ("0\n", "OK"),
        ("Yes", "HALTED"),
        ("", "OK"),
    ] {
        std::fs::write(&file, content).expect("write");
        // Wait (bounded) until the state follows the file. The one-second promise is
        // the cache's refresh period, checked below without measuring wall time.
        let seen = wait_for_state(addr, want).await;
        assert_eq!(seen, want, "after writing {content:?}");
    }
    assert!(
        opsfloor_probe::kill_switch::REFRESH <= Duration::from_secs(1),
        "a file reading is cached for at most a second"
    );

    // A file that exists but cannot be read is fail-safe: engaged.
    std::fs::remove_file(&file).expect("rm");
    std::fs::create_dir(&file).expect("a directory where the file should be");
    let seen = wait_for_state(addr, "HALTED").await;
    assert_eq!(seen, "HALTED");
}

#[tokio::test]
async fn a_cron_job_is_seen_through_its_heartbeat_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("ingest.ok");
    // Ingest during market hours, a 5-minute schedule with a TTL of 6 minutes.
    let p = probe(
        "ingest",
        MARKET_HOURS,
        &[
            ("OPS_HEARTBEAT_FILE", file.to_str().expect("path")),
            ("OPS_HEARTBEAT_TTL_S", "360"),
        ],
    );
    let addr = serve(p.router()).await;
    // Before the first run, the sidecar's start counts as the heartbeat: fresh, for one TTL.
    let doc = status(addr).await;
    assert_eq!(state_of(&doc).0, "OK");
    let started = ts(doc["heartbeat"]["last_heartbeat_utc"].as_str().expect("hb"));
    assert!(started.duration_since(ts(MARKET_HOURS)).abs() < SignedDuration::from_secs(5));

    // The job ran long ago: touched 10 minutes in the past.
    std::fs::write(&file, "").expect("touch");
    let past = std::time::SystemTime::now() - Duration::from_secs(600);
    std::fs::File::options()
        .write(true)
        .open(&file)
        .expect("open")
        .set_modified(past)
        .expect("mtime");
    let doc = status(addr).await;
    assert_eq!(
        state_of(&doc),
        ("DEGRADED".into(), vec!["HEARTBEAT_STALE".into()])
    );
    assert!(doc["heartbeat"]["age_seconds"].as_f64().expect("age") >= 599.0);

    // The job runs again and touches the file: fresh.
    std::fs::File::options()
        .write(true)
        .open(&file)
        .expect("open")
        .set_modified(std::time::SystemTime::now())
        .expect("mtime");
    assert_eq!(state_of(&status(addr).await).0, "OK");
}

#[test]
fn the_document_as_bytes_for_other_stacks() {
    let p = probe("ops", MARKET_HOURS, &[]);
    let bytes = p.document_bytes().expect("in range");
    let doc = opsfloor_contract::parse_document(std::str::from_utf8(&bytes).expect("utf8"))
        .expect("JSON");
    assert!(doc.is_valid());
    let value = p.document_value().expect("in range");
    assert_eq!(value["service_kind"], "ops");
}

/// Polls the probe's state until it is `want`, for at most ten seconds; returns the last state seen.
async fn wait_for_state(addr: std::net::SocketAddr, want: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let seen = state_of(&status(addr).await).0;
        if seen == want || Instant::now() >= deadline {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
