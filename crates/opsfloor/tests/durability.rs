//! History that loses nothing: the fleet flaps (its kill switch toggles every
//! 150 ms) while `opsfloor serve` is killed with SIGKILL 20 times at seeded random
//! moments and restarted, on SQLite and then on PostgreSQL. Every transition a
//! client saw on the live stream is in the store afterwards: a transition is
//! published only once it is stored.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{FlappingFleet, Seen, Spawned, follow};
use opsfloor_history::History;

const KILLS: usize = 20;

/// xorshift: the kill moments, the same on every run.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// Runs the fleet, flaps it, and kills and restarts the floor on `db`; returns
/// what the stream showed.
fn kill_and_restart(dir: &Path, db: &str) -> Vec<Seen> {
    let mut fleet = FlappingFleet::start(dir, Duration::from_millis(150));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut seed = 0x00d1_5ea5_e5ee_d5ed_u64;
    for _ in 0..KILLS {
        let mut serve = Command::new(env!("CARGO_BIN_EXE_opsfloor"));
        serve
            .args(["serve", "--listen", "127.0.0.1:0", "--db", db])
            .arg("--config")
            .arg(&fleet.inventory);
        let mut floor = Spawned::new(serve);
        let addr = floor.printed_addr("API at");
        let reader = follow(addr, Arc::clone(&seen)).handle;
        std::thread::sleep(Duration::from_millis(400 + next(&mut seed) % 800));
        drop(floor); // SIGKILL, then reaped
        let _ = reader.join();
    }
    fleet.stop_flapping();
    drop(fleet);
    let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert!(
        seen.len() >= KILLS,
        "the flapping fleet should show transitions: {seen:?}"
    );
    seen
}

/// Every seen transition is stored (as many times as it was seen, at most).
fn all_stored(seen: &[Seen], db: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let stored = runtime.block_on(async {
        let history = History::connect(db).await.expect("history");
        let all = history.all_in_order().await.expect("read");
        history.close().await;
        all
    });
    let mut counts: HashMap<Seen, usize> = HashMap::new();
    for t in &stored {
        let key = (
            t.subject.to_string(),
            t.to.as_str().to_owned(),
            opsfloor_contract::time::format_timestamp(t.at),
        );
        *counts.entry(key).or_default() += 1;
    }
    let mut missing = Vec::new();
    for s in seen {
        match counts.get_mut(s) {
            Some(n) if *n > 0 => *n -= 1,
            _ => missing.push(s.clone()),
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} transitions shown on the stream are not in {db}: {missing:?}",
        missing.len(),
        seen.len()
    );
}

#[test]
fn killed_twenty_times_on_sqlite_nothing_shown_is_lost() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("history.sqlite").display().to_string();
    let seen = kill_and_restart(dir.path(), &db);
    all_stored(&seen, &db);
}

#[test]
fn killed_twenty_times_on_postgres_nothing_shown_is_lost() {
    let pg = opsfloor_testkit::Postgres::start().expect("PostgreSQL");
    let db = pg.create_database("durability").expect("database");
    let dir = tempfile::tempdir().expect("tmp");
    let seen = kill_and_restart(dir.path(), &db);
    all_stored(&seen, &db);
}
