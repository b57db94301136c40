//! History that loses nothing, and a store that never stalls the floor: another
//! process holds the SQLite database's write lock for 15 s while states change;
//! PostgreSQL turns read-only in the middle of a run and comes back.

mod common;

use std::time::{Duration, Instant};

use common::{MARKET_HOURS, Setup, expect_floor, get};
use opsfloor_engine::Transition;
use opsfloor_fleet::Scenario;
use opsfloor_server::cluster::LEASE_TTL;
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
    all_stored(&floor, &shown).await;
    let (status, health) = get(&floor, "/health").await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["history"]["pending"], 0, "{health}");
    assert_eq!(health["history"]["dropped"], 0, "{health}");
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

/// Waits until every transition in `shown` is among the floor's stored ones.
async fn all_stored(floor: &opsfloor_server::server::Running, shown: &[Transition]) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, body) = get(floor, "/api/v1/transitions?limit=1000").await;
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
            return;
        }
        assert!(
            Instant::now() < deadline,
            "shown but never stored: {missing:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Makes database `db` read-only for new sessions (or writable again) and ends
/// the sessions open now, so the floor's next write meets the change.
fn read_only(pg: &opsfloor_testkit::Postgres, db: &str, on: bool) {
    let set = if on {
        format!("ALTER DATABASE {db} SET default_transaction_read_only = on")
    } else {
        format!("ALTER DATABASE {db} RESET default_transaction_read_only")
    };
    pg.psql("postgres", &set).expect("alter database");
    pg.psql(
        "postgres",
        &format!(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{db}'"
        ),
    )
    .expect("end sessions");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_failing_mid_run_is_said_and_loses_nothing() {
    let pg = opsfloor_testkit::Postgres::start().expect("PostgreSQL");
    let url = pg.create_database("midrun").expect("database");
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let floor = setup
        .floor(&setup.inventory(""), Some(url.clone().into()))
        .await;
    expect_floor(&floor, "OK []").await;
    let mut seen = floor.floor.subscribe();

    // The database turns read-only mid-run; states change meanwhile.
    read_only(&pg, "midrun", true);
    let switch = setup.fleet.control().kill_switch_file();
    std::fs::write(&switch, "on\n").expect("write");
    expect_floor(&floor, "HALTED [KILL_SWITCH]").await;

    // The floor says so: /health is degraded with the store's error, and the
    // metric counts what is not yet stored.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, health) = get(&floor, "/health").await;
        let reason = health["reason"].as_str().unwrap_or_default().to_owned();
        if status == 503 && reason.starts_with("history not being recorded: ") {
            assert!(!reason.contains(pg.password()), "{reason}");
            break;
        }
        assert!(Instant::now() < deadline, "never degraded: {health}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let metrics = reqwest::get(format!("http://{}/metrics", floor.addr))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("body");
    let pending: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("opsfloor_history_pending_transitions "))
        .and_then(|v| v.parse().ok())
        .expect("the pending gauge");
    assert!(pending > 0, "nothing pending while the store fails");
    // Longer than the lease: the floor no longer says it leads, yet keeps its queue
    // (nobody else took the lease, so its token still holds).
    let deadline = Instant::now() + LEASE_TTL * 2;
    while get(&floor, "/api/v1/cluster").await.1["leader"] != false {
        assert!(Instant::now() < deadline, "still leading unrenewed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    std::fs::write(&switch, "off\n").expect("write");
    expect_floor(&floor, "OK []").await;

    // Back: everything the live stream showed is stored, nothing was dropped.
    read_only(&pg, "midrun", false);
    // The stream shows the halt and the recovery (published without waiting for
    // the failing store, oldest first).
    let mut shown: Vec<Transition> = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let floor_reached = |shown: &[Transition], state| {
        shown
            .iter()
            .any(|t| t.subject == opsfloor_engine::Subject::Floor && t.to == state)
    };
    while !(floor_reached(&shown, opsfloor_contract::State::Halted)
        && floor_reached(&shown, opsfloor_contract::State::Ok))
    {
        match tokio::time::timeout_at(deadline, seen.recv()).await {
            Ok(Ok(t)) => shown.push(t),
            other => panic!("the stream stopped at {other:?}, after {shown:?}"),
        }
    }
    all_stored(&floor, &shown).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, health) = get(&floor, "/health").await;
        let leads = get(&floor, "/api/v1/cluster").await.1["leader"] == true;
        if status == 200 && leads {
            assert_eq!(health["history"]["pending"], 0, "{health}");
            assert_eq!(health["history"]["dropped"], 0, "{health}");
            break;
        }
        assert!(Instant::now() < deadline, "never healthy again: {health}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}
