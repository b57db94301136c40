//! History that loses nothing, and a store that never stalls the floor: another
//! process holds the SQLite database's write lock for 15 s while states change.

mod common;

use std::time::{Duration, Instant};

use common::{MARKET_HOURS, Setup, expect_floor, get};
use opsfloor_engine::Transition;
use opsfloor_fleet::Scenario;
use sqlx::Connection;

/// The lock is held this long, as in the reproduction.
const LOCK: Duration = Duration::from_secs(15);

/// No service's latest result may be older than this while the store is locked:
/// interval (0.2 s) + timeout (0.5 s) + generous slack for a loaded CI machine,
/// still far below the 5 s busy timeout that used to stall every poll.
const ON_TIME: f64 = 3.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_store_stalls_nothing_and_loses_nothing() {
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let db = setup.dir.path().join("history.db");
    let floor = setup.floor(&setup.inventory(""), Some(db.clone())).await;
    expect_floor(&floor, "OK []").await;
    let mut seen = floor.floor.subscribe();

    let mut lock = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("second connection");
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut lock)
        .await
        .expect("take the write lock");
    let locked_at = Instant::now();

    // States change while the store is locked: the floor shows them at once.
    std::fs::write(setup.fleet.control().kill_switch_file(), "on\n").expect("write");
    expect_floor(&floor, "HALTED [KILL_SWITCH]").await;

    // The live stream gets them (the store is failing, so they are not held back
    // for ever), /health says why, and polling stays on time throughout.
    let mut shown: Vec<Transition> = Vec::new();
    let mut degraded = false;
    let mut worst_age: f64 = 0.0;
    while locked_at.elapsed() < LOCK {
        while let Ok(t) = seen.try_recv() {
            shown.push(t);
        }
        let (status, health) = get(&floor, "/health").await;
        if status == 503 {
            assert_eq!(health["status"], "degraded", "{health}");
            let reason = health["reason"].as_str().unwrap_or_default();
            assert!(
                reason.starts_with("history not being recorded: "),
                "{health}"
            );
            degraded = true;
        }
        let (_, view) = get(&floor, "/api/v1/floor").await;
        if let Some(age) = view["oldest_result_age_seconds"].as_f64() {
            worst_age = worst_age.max(age);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        degraded,
        "/health never said degraded during a {LOCK:?} lock"
    );
    assert!(
        worst_age <= ON_TIME,
        "a poll result was {worst_age} s old while the store was locked"
    );
    assert!(
        shown
            .iter()
            .any(|t| t.to == opsfloor_contract::State::Halted),
        "the live stream never showed the halt: {shown:?}"
    );

    sqlx::query("ROLLBACK")
        .execute(&mut lock)
        .await
        .expect("release");
    lock.close().await.expect("close");

    // Everything the stream showed is stored once the lock is gone.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, body) = get(&floor, "/api/v1/transitions?limit=1000").await;
        let stored = body["transitions"].as_array().cloned().unwrap_or_default();
        let missing: Vec<&Transition> = shown
            .iter()
            .filter(|t| {
                !stored.iter().any(|r| {
                    r["service"].as_str() == t.subject.service_name()
                        && r["to"] == t.to.as_str()
                        && r["at"] == opsfloor_contract::time::format_timestamp(t.at)
                })
            })
            .collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "shown but never stored: {missing:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, health) = get(&floor, "/health").await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["history"]["pending"], 0, "{health}");
    assert_eq!(health["history"]["dropped"], 0, "{health}");
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}
