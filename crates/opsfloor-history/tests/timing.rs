//! Rough timings, run on demand:
//! `cargo test --release -p opsfloor-history --test timing -- --ignored --nocapture`.

use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use opsfloor_contract::{Calendar, ReasonCode, State};
use opsfloor_history::{History, Subject, Transition, TransitionQuery};

#[tokio::test]
#[ignore = "a timing, not a test: run with --release -- --ignored --nocapture"]
async fn record_10k_then_query_100() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("history.db");
    let h = History::open(&path).await.expect("open");
    let start: Timestamp = "2026-01-05T00:00:00Z".parse().expect("timestamp");
    let services = ["marketdata", "gamma", "whale", "execution", "bars-ingest"];
    let batch: Vec<Transition> = (0..10_000i64)
        .map(|i| Transition {
            subject: match i % 6 {
                5 => Subject::Floor,
                k => Subject::Service(services[k as usize].to_owned()),
            },
            from: Some(State::Ok),
            to: if i % 2 == 0 {
                State::Degraded
            } else {
                State::Ok
            },
            reason_codes: if i % 2 == 0 {
                vec![ReasonCode::HeartbeatStale]
            } else {
                vec![]
            },
            at: start + SignedDuration::from_secs(i * 30),
        })
        .collect();

    let t = Instant::now();
    h.record_all(&batch).await.expect("record_all");
    let record_all = t.elapsed();

    let q = TransitionQuery::for_subject(Subject::Service("gamma".into()), 100);
    let t = Instant::now();
    let got = h.transitions(&q).await.expect("query");
    let first_query = t.elapsed();
    assert_eq!(got.len(), 100);
    let t = Instant::now();
    for _ in 0..100 {
        h.transitions(&q).await.expect("query");
    }
    let warm_query = t.elapsed() / 100;

    let t = Instant::now();
    let last = h.last_states().await.expect("last");
    let last_states = t.elapsed();
    assert_eq!(last.len(), 6);

    let t = Instant::now();
    let now = start + SignedDuration::from_secs(10_000 * 30);
    let rows = h.slo(start, now, &Calendar::nyse()).await.expect("slo");
    let slo = t.elapsed();
    assert_eq!(rows.len(), 6);

    println!("record_all 10,000: {record_all:?}");
    println!("last 100 of one subject: first {first_query:?}, warm {warm_query:?}");
    println!("last_states (6 subjects): {last_states:?}");
    println!("slo over 10,000 transitions (NYSE, ~3.5 days): {slo:?}");
    h.close().await;
}
