//! Two `opsfloor serve` replicas on one real PostgreSQL while the fleet flaps (its
//! kill switch toggles every 700 ms). The leader is killed with SIGKILL five times
//! at seeded random moments, and restarted under its name (as a follower) once
//! the other leads. Each time:
//! - the survivor leads within the documented bound: the lease's time to live
//!   plus one attempt period (here the 200 ms poll interval);
//! - both replicas count two replicas, and the dashboard's footer says
//!   "replica a of 2, leader b".
//!
//! Afterwards the history on PostgreSQL is what the replicas saw:
//! - no gap: every transition a replica showed on its live stream while it led is
//!   stored;
//! - no flap nobody saw: every stored transition is one a replica showed, or (a
//!   new leader reconciling) the state the new leader showed last for it;
//! - no duplicate: per subject, each row starts in the state the one before
//!   ended in, and changes it.

mod common;

use std::collections::HashMap;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{FlappingFleet, Seen, Spawned, follow, http_get};
use jiff::Timestamp;
use opsfloor_engine::Transition;
use opsfloor_history::History;

const KILLS: usize = 5;
/// `--lease-ttl`: shorter than the default 10 s so five failovers take seconds.
const LEASE_TTL: Duration = Duration::from_secs(4);
/// The inventory's `poll_interval_ms`.
const POLL: Duration = Duration::from_millis(200);
/// What the README promises: the lease's time to live plus one attempt period
/// (the poll interval, here shorter than a third of the lease), within the issue's
/// "two poll intervals plus the lease time". SLACK is room for a loaded CI machine.
const BOUND: Duration = Duration::from_millis((LEASE_TTL.as_millis() + POLL.as_millis()) as u64);
const SLACK: Duration = Duration::from_millis(1_500);

/// One `opsfloor serve` process and what its stream showed.
struct Replica {
    name: &'static str,
    addr: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    reader: std::thread::JoinHandle<()>,
    /// When the test first saw it lead: from then on its stream shows only what
    /// is stored.
    led_from: Option<Timestamp>,
    process: Spawned,
}

/// A replica that is gone: what it showed, and when it led.
struct Life {
    seen: Vec<Seen>,
    led: Option<(Timestamp, Timestamp)>,
}

fn spawn(name: &'static str, db: &str, fleet: &FlappingFleet) -> Replica {
    let mut serve = Command::new(env!("CARGO_BIN_EXE_opsfloor"));
    serve
        .args(["serve", "--listen", "127.0.0.1:0", "--db", db])
        .args(["--replica-name", name])
        .args(["--lease-ttl", &LEASE_TTL.as_secs().to_string()])
        .arg("--config")
        .arg(&fleet.inventory);
    let mut process = Spawned::new(serve);
    let addr = process.printed_addr("API at");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let follower = follow(addr.clone(), Arc::clone(&seen));
    process.wait_for(
        "the live stream's snapshot",
        Duration::from_secs(10),
        |_| follower.connected.load(Ordering::SeqCst).then_some(()),
    );
    Replica {
        name,
        addr,
        seen,
        reader: follower.handle,
        led_from: None,
        process,
    }
}

/// Kills the replica (SIGKILL) and keeps what it showed.
fn kill(replica: Replica) -> Life {
    let died = Timestamp::now();
    let Replica {
        seen,
        reader,
        led_from,
        process,
        ..
    } = replica;
    drop(process); // SIGKILL, then reaped
    let _ = reader.join();
    let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
    Life {
        seen,
        led: led_from.map(|from| (from, died)),
    }
}

fn cluster(r: &Replica) -> serde_json::Value {
    http_get(&format!("http://{}/api/v1/cluster", r.addr))
        .ok()
        .and_then(|body| serde_json::from_str(&body).ok())
        .unwrap_or_default()
}

/// Waits until exactly one replica leads and every replica agrees on it, and
/// both count each other; returns the leader's index. Two leaders at once fail.
fn settled(replicas: &mut [Replica], within: Duration) -> usize {
    let start = Instant::now();
    loop {
        let views: Vec<serde_json::Value> = replicas.iter().map(cluster).collect();
        let leaders: Vec<usize> = (0..views.len())
            .filter(|&i| views[i]["leader"] == true)
            .collect();
        assert!(leaders.len() <= 1, "two leaders at once: {views:?}");
        if let [i] = leaders[..] {
            let name = &views[i]["replica"];
            let agreed = views.iter().all(|v| &v["leader_name"] == name);
            let counted = views
                .iter()
                .all(|v| v["replicas"] == serde_json::json!(["a", "b"]));
            if agreed && counted {
                replicas[i].led_from.get_or_insert_with(Timestamp::now);
                return i;
            }
        }
        assert!(
            start.elapsed() < within,
            "no settled leader within {within:?}: {views:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until `survivor` says it leads; returns how long that took from `since`.
fn takes_over(survivor: &mut Replica, since: Instant) -> Duration {
    loop {
        if cluster(survivor)["leader"] == true {
            survivor.led_from = Some(Timestamp::now());
            return since.elapsed();
        }
        assert!(
            since.elapsed() < BOUND + SLACK * 4,
            "{} never took over: {}",
            survivor.name,
            cluster(survivor)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn footer_says(r: &Replica, leader: &str) {
    let page = http_get(&format!("http://{}/", r.addr)).expect("the floor page");
    let want = format!("replica {} of 2, leader {leader}", r.name);
    assert!(page.contains(&want), "the footer lacks {want:?}");
}

fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

fn stored(db: &str) -> Vec<Transition> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let history = History::connect(db).await.expect("history");
        let all = history.all_in_order().await.expect("read");
        history.close().await;
        all
    })
}

fn key(t: &Transition) -> Seen {
    (
        t.subject.to_string(),
        t.to.as_str().to_owned(),
        opsfloor_contract::time::format_timestamp(t.at),
    )
}

fn at(s: &Seen) -> Timestamp {
    s.2.parse().expect("an RFC 3339 instant on the stream")
}

/// Per subject, each row starts where the one before ended and changes it.
fn no_duplicate_no_hole(rows: &[Transition]) {
    let mut last: HashMap<String, &Transition> = HashMap::new();
    for t in rows {
        if let Some(before) = last.insert(t.subject.to_string(), t) {
            assert_eq!(
                t.from,
                Some(before.to),
                "{} jumps from {before:?} to {t:?}",
                t.subject
            );
            assert!(
                (t.to, &t.reason_codes) != (before.to, &before.reason_codes),
                "{} recorded the same state twice in a row: {before:?} then {t:?}",
                t.subject
            );
        }
    }
}

/// Every transition shown by a leader is stored; every stored transition (after
/// `watching`) was shown by some replica, or is the last state a replica showed.
fn history_is_what_was_seen(rows: &[Transition], lives: &[Life], watching: Timestamp) {
    let keys: std::collections::HashSet<Seen> = rows.iter().map(key).collect();
    for life in lives {
        let Some((from, to)) = life.led else { continue };
        let shown_while_leading = life.seen.iter().filter(|s| (from..=to).contains(&at(s)));
        for s in shown_while_leading {
            assert!(keys.contains(s), "shown by a leader, not stored: {s:?}");
        }
    }
    let all_seen: std::collections::HashSet<&Seen> =
        lives.iter().flat_map(|l| l.seen.iter()).collect();
    for t in rows.iter().filter(|t| t.at >= watching) {
        let k = key(t);
        if all_seen.contains(&k) {
            continue;
        }
        // The stream's instants are whole seconds: a change in the same second as
        // the reconciling may be listed before it, so the one before counts too.
        let second = t.at.as_second();
        let reconciled = lives.iter().any(|life| {
            let before: Vec<&Seen> = life
                .seen
                .iter()
                .filter(|s| s.0 == k.0 && at(s).as_second() <= second)
                .collect();
            match before.as_slice() {
                [.., prev, last] if at(last).as_second() == second => {
                    last.1 == k.1 || prev.1 == k.1
                }
                [.., last] => last.1 == k.1,
                [] => false,
            }
        });
        if !reconciled {
            for (i, l) in lives.iter().enumerate() {
                let mine: Vec<_> = l.seen.iter().filter(|s| s.0 == k.0).collect();
                eprintln!("life {i} led {:?}: {mine:?}", l.led);
            }
            let rows: Vec<_> = rows
                .iter()
                .filter(|r| r.subject == t.subject)
                .map(key)
                .collect();
            eprintln!("stored: {rows:?}");
        }
        assert!(reconciled, "stored, yet no replica showed it: {t:?}");
    }
}

#[test]
fn the_leader_killed_five_times_fails_over_in_bound_and_history_is_what_replicas_saw() {
    let pg = opsfloor_testkit::Postgres::start().expect("PostgreSQL");
    let db = pg.create_database("failover").expect("database");
    let dir = tempfile::tempdir().expect("tmp");
    let mut fleet = FlappingFleet::start(dir.path(), Duration::from_millis(700));
    let mut replicas = vec![spawn("a", &db, &fleet), spawn("b", &db, &fleet)];
    let watching = Timestamp::now();
    let mut lives = Vec::new();
    let mut took = Vec::new();
    let mut seed = 0x5eed_fa11_0e55_u64;
    for _ in 0..KILLS {
        let leader = settled(&mut replicas, LEASE_TTL * 3);
        footer_says(&replicas[1 - leader], replicas[leader].name);
        std::thread::sleep(Duration::from_millis(300 + next(&mut seed) % 1_200));
        let name = replicas[leader].name;
        let killed = Instant::now();
        lives.push(kill(replicas.remove(leader)));
        took.push(takes_over(&mut replicas[0], killed));
        // Restarted under its name once the other leads, as a supervisor would.
        replicas.insert(leader, spawn(name, &db, &fleet));
    }
    let leader = settled(&mut replicas, LEASE_TTL * 3);
    footer_says(&replicas[1 - leader], replicas[leader].name);
    eprintln!("failovers: {took:?} (bound {BOUND:?})");
    for t in &took {
        assert!(*t <= BOUND + SLACK, "failover took {t:?}, bound {BOUND:?}");
    }

    // Calm again: wait until what the leader showed last is what is stored.
    fleet.stop_flapping();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let rows = stored(&db);
        let shown = replicas[leader]
            .seen
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default();
        let mut last_shown: HashMap<&str, &Seen> = HashMap::new();
        for s in &shown {
            last_shown.insert(&s.0, s);
        }
        let mut last_stored: HashMap<String, Seen> = HashMap::new();
        for t in &rows {
            last_stored.insert(t.subject.to_string(), key(t));
        }
        if last_shown
            .iter()
            .all(|(subject, s)| last_stored.get(*subject).is_some_and(|k| k.1 == s.1))
        {
            break;
        }
        assert!(Instant::now() < deadline, "the store never caught up");
        std::thread::sleep(Duration::from_millis(100));
    }
    for replica in replicas {
        lives.push(kill(replica));
    }
    drop(fleet);

    let rows = stored(&db);
    assert!(
        rows.len() > 20,
        "the flapping fleet made too few transitions: {rows:?}"
    );
    no_duplicate_no_hole(&rows);
    history_is_what_was_seen(&rows, &lives, watching);
}
