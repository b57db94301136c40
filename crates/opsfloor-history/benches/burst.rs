//! Recording a burst: 10,000 transitions at once (a whole 10,000-service floor
//! changing state together, as when a shared dependency fails), through
//! `History::record_all` (one transaction, multi-row inserts), on SQLite and on a
//! real PostgreSQL on loopback (Debian's package, started by opsfloor-testkit).
//! Budgets (issue 11): ≤ 1 s on SQLite, ≤ 2 s on PostgreSQL. Each sample records
//! into an empty store, so samples do not grow the table for the next.
//!
//! `cargo bench -p opsfloor-history --bench burst`

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use opsfloor_contract::{ReasonCode, State};
use opsfloor_history::{History, Subject, Transition};
use tokio::runtime::Runtime;

const BURST: usize = 10_000;

/// 10,000 distinct services going OK → DEGRADED at one instant.
fn burst() -> Vec<Transition> {
    let at: jiff::Timestamp = "2026-01-07T15:00:00Z".parse().expect("instant");
    (0..BURST)
        .map(|i| Transition {
            subject: Subject::Service(format!("svc-{i:05}")),
            from: Some(State::Ok),
            to: State::Degraded,
            reason_codes: vec![ReasonCode::MarketdataStale],
            at,
        })
        .collect()
}

fn sqlite(c: &mut Criterion, rt: &Runtime) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut n = 0;
    let mut group = c.benchmark_group("record_burst_10000");
    group.sample_size(10);
    group.bench_function("sqlite", |b| {
        b.iter_batched(
            || {
                n += 1;
                let path = dir.path().join(format!("h{n}.sqlite"));
                let history = rt.block_on(History::open(&path)).expect("open");
                (history, burst())
            },
            |(history, ts)| {
                rt.block_on(history.record_all(black_box(&ts)))
                    .expect("record");
                history
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn postgres(c: &mut Criterion, rt: &Runtime) {
    let pg = opsfloor_testkit::Postgres::start().expect("PostgreSQL (scripts/test installs it)");
    let url = pg.create_database("burst").expect("database");
    let history = rt.block_on(History::connect(&url)).expect("connect");
    let mut group = c.benchmark_group("record_burst_10000");
    group.sample_size(10);
    group.bench_function("postgres", |b| {
        b.iter_batched(
            || {
                pg.psql("burst", "TRUNCATE transitions").expect("truncate");
                burst()
            },
            |ts| {
                rt.block_on(history.record_all(black_box(&ts)))
                    .expect("record")
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    sqlite(c, &rt);
    postgres(c, &rt);
}

criterion_group!(burst_benches, benches);
criterion_main!(burst_benches);
