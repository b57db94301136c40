//! The journal against real faults: another connection holding SQLite's write lock.

use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use opsfloor_contract::State;
use opsfloor_history::{History, Journal, JournalStatus, Subject, Transition, TransitionQuery};
use sqlx::{Connection, SqliteConnection};

fn transitions(n: i64, from: i64) -> Vec<Transition> {
    let start: Timestamp = "2026-01-07T14:00:00Z".parse().expect("timestamp");
    (from..from + n)
        .map(|i| Transition {
            subject: Subject::Service(format!("s{i}")),
            from: None,
            to: State::Ok,
            reason_codes: vec![],
            at: start + SignedDuration::from_secs(i),
        })
        .collect()
}

/// Waits on a condition with a deadline.
async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_write_lock_delays_but_loses_nothing_and_a_full_queue_keeps_the_oldest() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("history.db");
    let h = History::open(&path).await.expect("open");
    let journal = Journal::start(h.clone(), 50);
    assert!(
        journal
            .submit(&transitions(3, 0))
            .durable(Duration::from_secs(10))
            .await
    );
    assert_eq!(journal.status(), JournalStatus::Healthy);

    // Another process-like connection takes the exclusive write lock.
    let mut locker = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("locker");
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut locker)
        .await
        .expect("lock");

    let t = Instant::now();
    let receipt = journal.submit(&transitions(40, 3));
    assert!(t.elapsed() < Duration::from_millis(50), "submit blocked");
    let t = Instant::now();
    assert!(
        !receipt.durable(Duration::from_millis(300)).await,
        "durable while locked"
    );
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "deadline not honoured"
    );
    // The queue fills: 50 fit (40 + 10 of the next 20), the newest 10 are dropped.
    let over = journal.submit(&transitions(20, 43));
    assert_eq!(over.dropped, 10);
    assert_eq!(journal.dropped(), 10);
    assert_eq!(journal.pending(), 50);
    until("a failing status", || {
        matches!(journal.status(), JournalStatus::Failing { .. })
    })
    .await;
    if let JournalStatus::Failing { reason } = journal.status() {
        assert!(reason.contains(&path.display().to_string()), "{reason}");
    }

    sqlx::query("ROLLBACK")
        .execute(&mut locker)
        .await
        .expect("unlock");
    locker.close().await.expect("close");
    assert!(
        over.durable(Duration::from_secs(30)).await,
        "stored after the lock"
    );
    assert_eq!(journal.pending(), 0);
    until("healthy", || journal.status() == JournalStatus::Healthy).await;
    let stored = h
        .transitions(&TransitionQuery::latest(1000))
        .await
        .expect("read");
    // Every accepted transition, the oldest ones: s0..s52.
    assert_eq!(stored.len(), 53);
    let mut names: Vec<String> = stored.iter().map(|t| t.subject.to_string()).collect();
    names.sort_by_key(|n| n[1..].parse::<u32>().unwrap_or(u32::MAX));
    assert_eq!(names.first().map(String::as_str), Some("s0"));
    assert_eq!(names.last().map(String::as_str), Some("s52"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_queues_nothing_and_a_leader_stores_only_what_it_submitted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let h = History::open(&dir.path().join("history.db"))
        .await
        .expect("open");
    let journal = Journal::start(h.clone(), 50);
    journal.set_mode(opsfloor_history::WriteMode::Follower);
    // Acknowledged at once, counted nowhere: the leader stores the floor.
    assert!(
        journal
            .submit(&transitions(3, 0))
            .durable(Duration::ZERO)
            .await
    );
    assert_eq!((journal.accepted(), journal.pending()), (0, 0));

    // Leading now: only what is submitted from here on is stored, never the
    // follower's three, late and out of turn.
    let token = h
        .acquire_lease("a", Timestamp::now(), SignedDuration::from_secs(10))
        .await
        .expect("lease")
        .expect("free");
    journal.set_mode(opsfloor_history::WriteMode::Leader(token));
    assert!(
        journal
            .submit(&transitions(2, 10))
            .durable(Duration::from_secs(10))
            .await
    );
    assert_eq!(journal.accepted(), 2);
    let stored = h
        .transitions(&TransitionQuery::latest(10))
        .await
        .expect("read");
    let mut names: Vec<String> = stored.iter().map(|t| t.subject.to_string()).collect();
    names.sort();
    assert_eq!(names, ["s10", "s11"]);
    h.close().await;
}
