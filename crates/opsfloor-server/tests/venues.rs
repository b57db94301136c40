//! A desk on three venues (`opsfloor fleet --venues`): US equities on XNYS, a Tokyo
//! strategy on XTKS and a crypto feed that never closes. Over real loopback HTTP,
//! at the three kinds of hour of a trading week, the floor is calm and right: each
//! service is judged by its own market, and the floor is never MARKET_CLOSED while
//! crypto trades.

mod common;

use common::*;
use opsfloor_contract::Calendar;
use opsfloor_fleet::{CRYPTO_FEED, GAMMA, MARKETDATA, MixedDesk, Scenario, TOKYO};
use opsfloor_server::server::Running;
use serde_json::Value;

/// Wednesday 10:00 New York, Thursday 00:00 Tokyo.
const NEW_YORK_TRADES: &str = "2026-01-07T15:00:00Z";
/// Thursday 10:00 Tokyo, Wednesday 20:00 New York.
const TOKYO_TRADES: &str = "2026-01-08T01:00:00Z";
/// Saturday: only crypto trades.
const WEEKEND: &str = "2026-01-10T12:00:00Z";

async fn mixed_desk(now: &str) -> (Setup, Running) {
    let xtks = Calendar::by_name("XTKS", &Default::default()).expect("XTKS");
    let setup = Setup::fleet_with(Scenario::Normal, now, Some(MixedDesk { xtks })).await;
    let floor = setup.floor(&setup.inventory(""), None).await;
    (setup, floor)
}

/// `market.venues` of `/api/v1/floor` as `(calendar, is_open)`.
fn venues(floor: &Value) -> Vec<(String, bool)> {
    floor["market"]["venues"]
        .as_array()
        .expect("market.venues")
        .iter()
        .map(|v| {
            (
                v["calendar"].as_str().expect("calendar").to_owned(),
                v["is_open"].as_bool().expect("is_open"),
            )
        })
        .collect()
}

fn open(pairs: &[(&str, bool)]) -> Vec<(String, bool)> {
    pairs.iter().map(|(c, o)| ((*c).to_owned(), *o)).collect()
}

#[tokio::test]
async fn new_york_trades_tokyo_sleeps() {
    let (setup, floor) = mixed_desk(NEW_YORK_TRADES).await;
    expect_service(&floor, TOKYO, "MARKET_CLOSED [MARKET_CLOSED]").await;
    expect_service(&floor, GAMMA, "OK []").await;
    expect_service(&floor, CRYPTO_FEED, "OK []").await;
    let body = expect_floor(&floor, "OK []").await;
    assert_eq!(
        venues(&body),
        open(&[("XNYS", true), ("XTKS", false), ("always-open", true)])
    );
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

#[tokio::test]
async fn tokyo_trades_new_york_sleeps() {
    let (setup, floor) = mixed_desk(TOKYO_TRADES).await;
    expect_service(&floor, TOKYO, "OK []").await;
    expect_service(&floor, MARKETDATA, "MARKET_CLOSED [MARKET_CLOSED]").await;
    expect_service(&floor, GAMMA, "MARKET_CLOSED [MARKET_CLOSED]").await;
    let body = expect_floor(&floor, "OK []").await;
    assert_eq!(
        venues(&body),
        open(&[("XNYS", false), ("XTKS", true), ("always-open", true)])
    );
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

#[tokio::test]
async fn at_the_weekend_only_crypto_trades_and_the_floor_stays_calm() {
    let (setup, floor) = mixed_desk(WEEKEND).await;
    expect_service(&floor, TOKYO, "MARKET_CLOSED [MARKET_CLOSED]").await;
    expect_service(&floor, MARKETDATA, "MARKET_CLOSED [MARKET_CLOSED]").await;
    expect_service(&floor, CRYPTO_FEED, "OK []").await;
    let body = expect_floor(&floor, "OK []").await;
    assert_eq!(
        venues(&body),
        open(&[("XNYS", false), ("XTKS", false), ("always-open", true)])
    );
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

#[tokio::test]
async fn the_tokyo_strategy_down_while_tokyo_is_closed_degrades_without_halting() {
    let (setup, floor) = mixed_desk(NEW_YORK_TRADES).await;
    expect_floor(&floor, "OK []").await;
    std::fs::write(
        setup.fleet.control().path().join("stopped"),
        "tokyo-strategy\n",
    )
    .expect("write");
    expect_service(&floor, TOKYO, "OFFLINE [UNREACHABLE]").await;
    let body = expect_floor(&floor, "DEGRADED [UNREACHABLE]").await;
    assert_eq!(body["contributors"], serde_json::json!([TOKYO]));
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}
