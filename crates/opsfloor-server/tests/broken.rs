//! The floor against deliberately broken services: slow, garbage, huge, a redirect,
//! a wrong content type, a 500, a reset connection, one that never answers.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use common::*;
use opsfloor_fleet::Scenario;
use tokio::io::AsyncReadExt;

const SEED: &str = include_str!("../../opsfloor-contract/tests/data/seed-example.json");

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}

/// A listener that accepts and then does `behaviour` with each connection.
async fn raw(reset: bool) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = [0u8; 1024];
            let _ = socket.read(&mut buf).await;
            if reset {
                // Linger 0: close with a TCP reset instead of a clean FIN.
                let _ = socket.set_zero_linger();
                drop(socket);
            } else {
                held.push(socket); // never answer
            }
        }
    });
    addr
}

#[tokio::test]
async fn every_kind_of_broken_service_gets_its_calm_state() {
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let bad = serve(
        Router::new()
            .route("/slow/ops/status", get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                SEED
            }))
            .route("/fine/ops/status", get(|| async { SEED }))
            .route("/garbage/ops/status", get(|| async { "<html>hello</html>" }))
            .route("/huge/ops/status", get(|| async { format!("{{\"pad\": \"{}\"}}", "x".repeat(200_000)) }))
            .route("/redirect/ops/status", get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/elsewhere")]) }))
            .route("/wrongtype/ops/status", get(|| async { ([(header::CONTENT_TYPE, "text/html")], SEED.replacen("marketdata-mcp-server", "wrongtype", 1)).into_response() }))
            .route("/fivehundred/ops/status", get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "oops") }))
            .route("/missing/ops/status", get(|| async { (StatusCode::NOT_FOUND, "no such thing") }))
            .route("/secret/ops/status", get(|| async {
                let mut doc: serde_json::Value = serde_json::from_str(SEED).expect("seed");
                doc["service_name"] = "secret".into();
                doc["debug"] = serde_json::json!({
                    "api_key": "sk-123", "db_password": "hunter2", "region": "us-east-1",
                    // The gaps, each shown verbatim before the written rule.
                    "accessKey": "AKIA1", "privateKey": "pk", "AccessKeyId": "AKIA2", "pwd": "p1",
                    "passphrase": "p2", "auth": "p3", "bearer": "p4", "jwt": "p5", "signing_key": "p6",
                    "dsn": "postgres://app:hunter3@db/app", "url": "postgres://app:hunter4@db/app",
                    "headers": [["Authorization", "Bearer tok-1"]],
                    "env": [{"name": "API_KEY", "value": "k-1"}],
                });
                ([(header::CONTENT_TYPE, "application/json")], doc.to_string())
            })),
    )
    .await;
    let reset = raw(true).await;
    let never = raw(false).await;
    let mut extra = String::new();
    for name in [
        "slow",
        "garbage",
        "huge",
        "redirect",
        "wrongtype",
        "fivehundred",
        "missing",
        "secret",
    ] {
        extra.push_str(&format!(
            "\n[[services]]\nname = \"{name}\"\nkind = \"ops\"\nurl = \"http://{bad}/{name}\"\ncriticality = \"optional\"\n"
        ));
    }
    extra.push_str(&format!("\n[[services]]\nname = \"copy-paste\"\nkind = \"ops\"\nurl = \"http://{bad}/fine\"\ncriticality = \"optional\"\n"));
    extra.push_str(&format!("\n[[services]]\nname = \"reset\"\nkind = \"ops\"\nurl = \"http://{reset}\"\ncriticality = \"optional\"\n"));
    extra.push_str(&format!("\n[[services]]\nname = \"never\"\nkind = \"ops\"\nurl = \"http://{never}\"\ncriticality = \"optional\"\n"));
    let floor = setup.floor(&setup.inventory(&extra), None).await;

    // No answer: OFFLINE after the threshold.
    for name in ["slow", "reset", "never", "fivehundred"] {
        let s = expect_service(&floor, name, "OFFLINE [UNREACHABLE]").await;
        assert!(s["last_error"].as_str().is_some(), "{name}: {s}");
    }
    // An answer that is not a document: UNKNOWN, with the problem kept.
    for (name, problem) in [
        ("garbage", "not JSON"),
        ("huge", "body larger than 65536 bytes"),
        ("redirect", "redirect to /elsewhere not followed"),
        ("missing", "HTTP 404"),
    ] {
        let s = expect_service(&floor, name, "UNKNOWN [REQUIRED_FIELDS_MISSING]").await;
        let problems = s["problems"].to_string();
        assert!(problems.contains(problem), "{name}: {problems}");
    }
    // A valid document with the wrong content type is still a document.
    expect_service(&floor, "wrongtype", "OK []").await;
    // A document that names another service is that service's, not this entry's.
    let s = expect_service(&floor, "copy-paste", "UNKNOWN [IDENTITY_MISMATCH]").await;
    assert!(
        s["problems"].to_string().contains("marketdata-mcp-server"),
        "{s}"
    );
    // Secrets are redacted in the detail view.
    let s = expect_service(&floor, "secret", "OK []").await;
    assert_eq!(s["document"]["debug"]["api_key"], "[redacted]");
    assert_eq!(s["document"]["debug"]["db_password"], "[redacted]");
    assert_eq!(s["document"]["debug"]["region"], "us-east-1");
    let shown = s["document"].to_string();
    for secret in [
        "sk-123", "hunter", "AKIA", "\"pk\"", "\"p1\"", "\"p2\"", "\"p3\"", "\"p4\"", "\"p5\"",
        "\"p6\"", "tok-1", "k-1",
    ] {
        assert!(!shown.contains(secret), "{secret} shown: {shown}");
    }
    assert_eq!(
        s["document"]["debug"]["url"],
        "postgres://app:[redacted]@db/app"
    );
    // All of them optional: the floor stays OK.
    expect_floor(&floor, "OK []").await;
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}
