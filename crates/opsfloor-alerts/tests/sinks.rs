//! `Sinks`: from a `[alerts]` config to every sink receiving the same changes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use jiff::Timestamp;
use opsfloor_alerts::webhook::{SIGNATURE_HEADER, verify};
use opsfloor_alerts::{AlertBook, AlertsConfig, Observation, Sinks, Subject, SystemClock};
use opsfloor_contract::{ReasonCode, State};
use tokio::time::Instant;

type Seen = Arc<Mutex<Vec<(String, Option<String>, String)>>>;

/// One server for both kinds: records path, signature header and body.
async fn server() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let store = seen.clone();
    let app = axum::Router::new().fallback(axum::routing::post(
        move |uri: axum::http::Uri, headers: HeaderMap, body: String| {
            let store = store.clone();
            async move {
                let sig = headers
                    .get(SIGNATURE_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                store
                    .lock()
                    .expect("lock")
                    .push((uri.path().to_owned(), sig, body));
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

#[tokio::test]
async fn every_configured_sink_gets_the_changes() {
    let (base, seen) = server().await;
    let text = format!(
        r#"
[alerts]
[[alerts.alertmanager]]
url = "{base}/am"
[[alerts.webhook]]
url = "{base}/hook"
secret_env = "SINKS_TEST_SECRET"
"#
    );
    let resolved = AlertsConfig::from_toml(&text)
        .expect("parses")
        .resolve(|name| (name == "SINKS_TEST_SECRET").then(|| "k3y".to_owned()))
        .expect("valid");
    let sinks = Sinks::spawn(&resolved, Arc::new(SystemClock)).expect("sinks");
    assert_eq!(sinks.len(), 2);
    let mut book = AlertBook::new(resolved.rules);
    let obs = Observation {
        subject: Subject::Floor {
            floor: "trading-floor".into(),
        },
        state: State::Halted,
        reasons: vec![ReasonCode::KillSwitch],
        contributors: Vec::new(),
        since: Timestamp::UNIX_EPOCH,
        market_open: false,
        in_maintenance: false,
        dashboard_url: String::new(),
    };
    sinks.send(&book.observe(&obs, Timestamp::now()));
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen.lock().expect("lock").len() < 2 {
        assert!(Instant::now() < deadline, "not both sinks were posted to");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sinks.shutdown(Duration::from_secs(5)).await;
    let seen = seen.lock().expect("lock").clone();
    let am = seen
        .iter()
        .find(|s| s.0 == "/am/api/v2/alerts")
        .expect("alertmanager post");
    assert!(am.2.contains("\"KILL_SWITCH\""));
    let hooks: Vec<_> = seen.iter().filter(|s| s.0 == "/hook").collect();
    assert_eq!(hooks.len(), 1, "one webhook body per change");
    let sig = hooks[0].1.as_deref().expect("signed");
    assert_eq!(
        verify(
            b"k3y",
            sig,
            hooks[0].2.as_bytes(),
            Timestamp::now().as_second(),
            60
        ),
        Ok(())
    );
}
