//! The floor against `opsfloor fleet`, in each scenario, over real loopback HTTP.

mod common;

use common::*;
use opsfloor_fleet::{EXECUTION, GAMMA, MARKETDATA, Scenario, WHALE};

#[tokio::test]
async fn ok_during_market_hours_with_execution_scaled_to_zero() {
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let floor = setup.floor(&setup.inventory(""), None).await;
    let body = expect_floor(&floor, "OK []").await;
    assert_eq!(body["floor"]["service_kind"], "floor");
    assert_eq!(body["market"]["is_open"], true);
    let exec = expect_service(&floor, EXECUTION, "OFFLINE [EXECUTION_DISABLED]").await;
    assert_eq!(exec["expected_to_run"], false);
    let (_, services) = get(&floor, "/api/v1/services").await;
    let names: Vec<&str> = services["services"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|s| s["service_name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "marketdata-mcp-server",
            "gamma-strategy",
            "whale-strategy",
            "execution-agent",
            "bars-ingest"
        ]
    );
    assert_eq!(services["services"][1]["build"]["git_sha"], "9b7e3d1");
    // The floor is itself a contract service.
    let (status, doc) = get(&floor, "/ops/status").await;
    assert_eq!(status, 200);
    let received = opsfloor_contract::parse_document(&doc.to_string()).expect("JSON");
    assert!(received.is_valid(), "{:?}", received.problems);
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

#[tokio::test]
async fn market_closed_after_hours() {
    let setup = Setup::fleet(Scenario::Normal, AFTER_HOURS).await;
    let floor = setup.floor(&setup.inventory(""), None).await;
    let body = expect_floor(&floor, "MARKET_CLOSED [MARKET_CLOSED]").await;
    assert_eq!(body["market"]["is_open"], false);
    assert_eq!(body["market"]["next_open_utc"], "2026-01-08T14:30:00Z");
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

#[tokio::test]
async fn kill_switch_halts_the_floor_and_releases() {
    let setup = Setup::fleet(Scenario::KillSwitch, MARKET_HOURS).await;
    let floor = setup.floor(&setup.inventory(""), None).await;
    let body = expect_floor(&floor, "HALTED [KILL_SWITCH]").await;
    assert_eq!(body["rule"], 3);
    std::fs::write(setup.fleet.control().kill_switch_file(), "off\n").expect("write");
    expect_floor(&floor, "OK []").await;
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

#[tokio::test]
async fn stale_marketdata_halts_the_floor() {
    let setup = Setup::fleet(Scenario::StaleMarketdata, MARKET_HOURS).await;
    let floor = setup.floor(&setup.inventory(""), None).await;
    let body = expect_floor(&floor, "HALTED [MARKETDATA_STALE]").await;
    let contributors = body["contributors"].as_array().expect("contributors");
    assert!(contributors.iter().any(|c| c == GAMMA), "{contributors:?}");
    expect_service(&floor, MARKETDATA, "DEGRADED [MARKETDATA_STALE]").await;
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_service_is_calm_until_the_threshold() {
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let floor = setup.floor(&setup.inventory(""), None).await;
    expect_floor(&floor, "OK []").await;
    std::fs::write(
        setup.fleet.control().path().join("stopped"),
        "whale-strategy\n",
    )
    .expect("write");
    // One failed poll keeps the last state, with an error and "last seen".
    let start = std::time::Instant::now();
    loop {
        let (_, whale) = get(&floor, &format!("/api/v1/services/{WHALE}")).await;
        if whale["consecutive_failures"] == 1 {
            assert_eq!(
                summary(&whale["status"]),
                "OK []",
                "one failure is not OFFLINE yet"
            );
            assert!(
                whale["last_error"]
                    .as_str()
                    .is_some_and(|e| e.contains("connection")),
                "{whale}"
            );
            assert!(whale["last_seen_seconds_ago"].as_f64().is_some());
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "never saw one failure: {whale}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    expect_service(&floor, WHALE, "OFFLINE [UNREACHABLE]").await;
    let body = expect_floor(&floor, "DEGRADED [UNREACHABLE]").await;
    assert_eq!(body["contributors"], serde_json::json!([WHALE]));
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

#[tokio::test]
async fn the_execution_agent_disabled_by_itself_is_calm() {
    let setup = Setup::fleet(Scenario::ExecutionDisabled, MARKET_HOURS).await;
    let inventory = setup.inventory("").to_string_lossy().into_owned();
    // This time the inventory expects it to run (replicas 1); the agent says it is disabled.
    let text = std::fs::read_to_string(&inventory)
        .expect("read")
        .replace("replicas = 0", "replicas = 1");
    std::fs::write(&inventory, text).expect("write");
    let floor = setup.floor(std::path::Path::new(&inventory), None).await;
    let exec = expect_service(&floor, EXECUTION, "OFFLINE [EXECUTION_DISABLED]").await;
    assert_eq!(
        exec["findings"],
        serde_json::json!([]),
        "taken at its word: {exec}"
    );
    expect_floor(&floor, "OK []").await;
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

#[tokio::test]
async fn reloads_when_the_inventory_file_changes() {
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let path = setup.inventory("");
    let floor = setup.floor(&path, None).await;
    expect_floor(&floor, "OK []").await;
    // Remove whale-strategy from the inventory; the floor follows within a couple of seconds.
    let text = std::fs::read_to_string(&path).expect("read");
    let kept: Vec<&str> = text
        .split("\n[[services]]")
        .filter(|block| !block.contains(WHALE))
        .collect();
    std::fs::write(&path, kept.join("\n[[services]]")).expect("write");
    let start = std::time::Instant::now();
    loop {
        let (_, services) = get(&floor, "/api/v1/services").await;
        if services["services"]
            .as_array()
            .is_some_and(|a| a.len() == 4)
        {
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "not reloaded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}
