//! Calendar overrides reach the running floor: a closure written for today turns
//! an open floor MARKET_CLOSED within one poll interval plus a second, with no
//! restart; a broken overrides file on reload keeps the last good one.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::header;
use axum::routing::get;
use opsfloor_probe::Clock;
use opsfloor_server::server::{Running, ServeConfig, start};
use serde_json::Value;

/// Wednesday 2026-01-07 10:00 New York: the NYSE is open.
const OPEN: &str = "2026-01-07T15:00:00Z";
const POLL_MS: u64 = 200;

/// An ops service (its state does not follow market hours) answering OK.
fn ops_document(name: &str) -> String {
    format!(
        r#"{{"service_name":"{name}","service_kind":"ops","repo_id":"desk/ops","git_sha":"abc123","build_id":null,
        "agent_identity":{{"agent_name":"{name}","agent_role":"ops","agent_mode":"WATCH"}},
        "status":{{"state":"OK","summary":"Healthy","reason_codes":[],"last_updated_utc":"{OPEN}"}},
        "heartbeat":{{"last_heartbeat_utc":null,"age_seconds":null,"ttl_seconds":null}},
        "marketdata":null,
        "safety":{{"kill_switch":false,"safe_to_run_strategies":true,"safe_to_execute_orders":false,"gating_reasons":[]}},
        "endpoints":{{"healthz":"/health","heartbeat":null,"metrics":null}}}}"#
    )
}

async fn serve_ops(name: &'static str) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let body = ops_document(name);
    let router = Router::new().route(
        "/ops/status",
        get(move || {
            let body = body.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], body) }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}

fn inventory_text(name: &str, addr: SocketAddr) -> String {
    format!(
        "[floor]\nname = \"{name}\"\ncalendar = \"XNYS\"\ncalendar_overrides = \"overrides.toml\"\n\
         poll_interval_ms = {POLL_MS}\ntimeout_ms = 500\nfailure_threshold = 2\n\n\
         [[services]]\nname = \"ny-ops\"\nkind = \"ops\"\nurl = \"http://{addr}\"\ncriticality = \"critical\"\n"
    )
}

async fn floor_json(running: &Running) -> Value {
    let url = format!("http://{}/api/v1/floor", running.addr);
    reqwest::get(&url)
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON")
}

/// Polls `/api/v1/floor` until `ok` holds, failing after `within`.
async fn wait_for(
    running: &Running,
    within: Duration,
    what: &str,
    ok: impl Fn(&Value) -> bool,
) -> Value {
    let start = Instant::now();
    loop {
        let body = floor_json(running).await;
        if ok(&body) {
            return body;
        }
        assert!(
            start.elapsed() < within,
            "{what}: not within {within:?}; floor is {}",
            body["floor"]["status"]
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn state(body: &Value) -> &str {
    body["floor"]["status"]["state"].as_str().unwrap_or("?")
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write");
}

#[tokio::test]
async fn a_closure_written_for_today_closes_the_running_floor() {
    let dir = tempfile::tempdir().expect("tmp");
    let addr = serve_ops("ny-ops").await;
    let inventory = dir.path().join("inventory.toml");
    let overrides = dir.path().join("overrides.toml");
    write(&inventory, &inventory_text("venues-floor", addr));
    write(&overrides, "# no overrides yet\n");
    let clock = Clock::simulated_from(OPEN.parse().expect("ts"));
    let running = start(ServeConfig {
        inventory: inventory.clone(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        db: None,
        retention: Duration::from_secs(86_400),
        now: Arc::new(move || clock.now()),
        pages: None,
        subscribers: Vec::new(),
        replica: "test".into(),
        guard: None,
        limits: opsfloor_server::listener::Limits::default(),
        tls: None,
    })
    .await
    .expect("floor starts");

    let body = wait_for(
        &running,
        Duration::from_secs(10),
        "OK on an open session",
        |b| state(b) == "OK",
    )
    .await;
    assert_eq!(body["market"]["venues"][0]["calendar"], "XNYS");
    assert_eq!(body["market"]["venues"][0]["is_open"], true);

    // An unscheduled closure for today, written while the floor runs.
    write(
        &overrides,
        "[[closures]]\ncalendar = \"XNYS\"\ndate = \"2026-01-07\"\nnote = \"drill\"\n",
    );
    let budget = Duration::from_millis(POLL_MS) + Duration::from_secs(1);
    let written = Instant::now();
    let body = wait_for(&running, budget, "MARKET_CLOSED after the closure", |b| {
        state(b) == "MARKET_CLOSED"
    })
    .await;
    eprintln!(
        "MARKET_CLOSED {:?} after the closure was written",
        written.elapsed()
    );
    assert_eq!(body["market"]["venues"][0]["is_open"], false);

    // A broken file on reload keeps the last good one: the closure stays in force
    // through a reload that did happen (the floor's new name shows it).
    write(
        &overrides,
        "[[closures]]\ncalendar = \"XNYS\"\ndate = \"2041-01-07\"\n",
    );
    write(&inventory, &inventory_text("renamed-floor", addr));
    let body = wait_for(
        &running,
        Duration::from_secs(10),
        "the inventory reloaded",
        |b| b["floor"]["service_name"] == "renamed-floor",
    )
    .await;
    assert_eq!(state(&body), "MARKET_CLOSED");

    // Fixing the file (the closure removed) reopens the market.
    write(&overrides, "# closure lifted\n");
    wait_for(&running, budget, "OK once the closure is lifted", |b| {
        state(b) == "OK"
    })
    .await;
    running.shutdown().await;
}
