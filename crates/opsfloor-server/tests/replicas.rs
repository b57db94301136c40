//! Two replicas on one real PostgreSQL: exactly one leads and records; when it
//! stops, the other takes the lease within its time to live plus one renewal,
//! reconciles what it sees, and the history holds every state change once, with
//! no duplicate.

mod common;

use std::time::{Duration, Instant};

use common::{MARKET_HOURS, Setup, expect_floor, get};
use opsfloor_fleet::Scenario;
use opsfloor_history::{History, TransitionQuery};
use opsfloor_server::cluster::LEASE_TTL;
use opsfloor_server::server::Running;
use serde_json::Value;

async fn cluster(r: &Running) -> Value {
    get(r, "/api/v1/cluster").await.1
}

/// Waits until exactly one of `replicas` leads; returns its index.
async fn one_leader(replicas: &[&Running], within: Duration) -> usize {
    let start = Instant::now();
    loop {
        let mut views = Vec::new();
        for r in replicas {
            views.push(cluster(r).await);
        }
        let leaders: Vec<usize> = (0..views.len())
            .filter(|&i| views[i]["leader"] == true)
            .collect();
        if leaders.len() == 1 {
            let name = &views[leaders[0]]["replica"];
            if views.iter().all(|v| &v["leader_name"] == name) {
                return leaders[0];
            }
        }
        assert!(leaders.len() <= 1, "two leaders at once: {views:?}");
        assert!(
            start.elapsed() < within,
            "no single leader after {within:?}: {views:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_leader_records_and_a_follower_takes_over() {
    let pg = opsfloor_testkit::Postgres::start().expect("PostgreSQL");
    let url = pg.create_database("replicas").expect("database");
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let inventory = setup.inventory("");
    let a = setup
        .floor_named(&inventory, Some(url.clone().into()), "a")
        .await;
    let b = setup
        .floor_named(&inventory, Some(url.clone().into()), "b")
        .await;
    expect_floor(&a, "OK []").await;
    expect_floor(&b, "OK []").await;
    let first = one_leader(&[&a, &b], LEASE_TTL * 2).await;
    // Each counts both (a check-in comes with every renewal).
    for r in [&a, &b] {
        let deadline = Instant::now() + LEASE_TTL;
        while cluster(r).await["replicas"] != serde_json::json!(["a", "b"]) {
            assert!(Instant::now() < deadline, "{}", cluster(r).await);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // A flap while both run.
    let kill_switch = setup.fleet.control().kill_switch_file();
    std::fs::write(&kill_switch, "on\n").expect("write");
    expect_floor(&a, "HALTED [KILL_SWITCH]").await;
    expect_floor(&b, "HALTED [KILL_SWITCH]").await;
    std::fs::write(&kill_switch, "off\n").expect("write");
    expect_floor(&a, "OK []").await;
    expect_floor(&b, "OK []").await;

    // The leader stops (its lease is not released, as after a crash); the floor
    // halts while nobody leads.
    let (leader, survivor) = if first == 0 { (a, b) } else { (b, a) };
    leader.shutdown().await;
    let stopped = Instant::now();
    std::fs::write(&kill_switch, "on\n").expect("write");
    expect_floor(&survivor, "HALTED [KILL_SWITCH]").await;
    one_leader(
        &[&survivor],
        LEASE_TTL + LEASE_TTL / 3 + Duration::from_secs(5),
    )
    .await;
    let took = stopped.elapsed();
    assert!(
        took <= LEASE_TTL + LEASE_TTL / 3 + Duration::from_secs(5),
        "failover took {took:?}"
    );

    // The history: the halt seen during the gap is recorded (reconciled), and no
    // subject has the same state twice in a row.
    let history = History::connect(&url).await.expect("connect");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let floor_rows = history
            .transitions(&TransitionQuery {
                subject: Some(opsfloor_engine::Subject::Floor),
                since: None,
                until: None,
                limit: 1000,
            })
            .await
            .expect("read");
        if floor_rows.first().map(|t| t.to) == Some(opsfloor_contract::State::Halted) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the halt was never recorded: {floor_rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all = history.all_in_order().await.expect("all");
    let mut last: std::collections::HashMap<_, _> = std::collections::HashMap::new();
    for t in &all {
        let state = (t.to, t.reason_codes.clone());
        assert_ne!(
            last.insert(t.subject.clone(), state.clone()),
            Some(state),
            "{} recorded the same state twice in a row: {all:?}",
            t.subject
        );
    }
    history.close().await;
    survivor.shutdown().await;
    setup.fleet.shutdown().await;
}
