//! Criterion benchmarks for the contract's budgets (see BENCHMARKS.md):
//! evaluate ≤ 10 ns, build and serialise ≤ 1 µs, parse and check ≤ 5 µs,
//! calendar open-at-instant ≤ 100 ns.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use opsfloor_contract::time::parse_timestamp;
use opsfloor_contract::{
    Calendar, Identity, Inputs, Observations, ServiceConfig, ServiceKind, Sessions, build_document,
    evaluate, parse_document,
};

fn contract(c: &mut Criterion) {
    let inputs = Inputs {
        marketdata_is_fresh: Some(false),
        ..Inputs::healthy(ServiceKind::Strategy)
    };
    c.bench_function("evaluate", |b| b.iter(|| evaluate(black_box(&inputs))));

    let nyse = Calendar::nyse();
    let config = ServiceConfig::new(Identity {
        service_name: "marketdata-mcp-server".into(),
        service_kind: ServiceKind::Marketdata,
        repo_id: "RichKingsASU/agent-trader-v2".into(),
        git_sha: Some("abc123".into()),
        build_id: None,
        agent_name: "marketdata-mcp-server".into(),
        agent_role: Some("marketdata".into()),
        agent_mode: Some("STREAM".into()),
    });
    let now = parse_timestamp("2026-01-07T15:00:00Z").expect("ts");
    let obs = Observations {
        last_heartbeat: Some(parse_timestamp("2026-01-07T14:59:58Z").expect("ts")),
        last_tick: Some(parse_timestamp("2026-01-07T14:59:59.5Z").expect("ts")),
        ..Observations::at(now)
    };
    c.bench_function("build_and_serialise", |b| {
        b.iter(|| {
            build_document(black_box(&config), black_box(&obs), &nyse)
                .expect("in range")
                .to_json_bytes()
        })
    });

    let text = String::from_utf8(
        build_document(&config, &obs, &nyse)
            .expect("in range")
            .to_json_bytes(),
    )
    .expect("utf8");
    c.bench_function("parse_and_check_valid", |b| {
        b.iter(|| parse_document(black_box(&text)).expect("JSON"))
    });
    let invalid = text.replace(
        "\"service_kind\":\"marketdata\"",
        "\"service_kind\":\"risk\"",
    );
    c.bench_function("parse_and_check_invalid", |b| {
        b.iter(|| parse_document(black_box(&invalid)).expect("JSON"))
    });

    let instants: Vec<_> = (0..1024)
        .map(|i| jiff::Timestamp::from_second(1_580_000_000 + i * 600_007).expect("ts"))
        .collect();
    let mut i = 0usize;
    c.bench_function("calendar_is_open", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            nyse.is_open(black_box(instants[i])).expect("in range")
        })
    });
}

/// `is_open` for every built-in calendar over 1,024 instants spread across
/// 2020–2035 (inside every calendar's range), and building every table.
fn calendars(c: &mut Criterion) {
    let instants: Vec<_> = (0..1024)
        .map(|i| jiff::Timestamp::from_second(1_580_000_000 + i * 490_007).expect("ts"))
        .collect();
    let mut group = c.benchmark_group("is_open");
    let extended = Calendar::by_name_with("XNYS", Sessions::Extended, &Default::default())
        .expect("XNYS extended");
    let mut every = Calendar::builtins().expect("built");
    every.push(extended);
    for calendar in every {
        let mut i = 0usize;
        group.bench_function(calendar.name(), |b| {
            b.iter(|| {
                i = (i + 1) & 1023;
                calendar.is_open(black_box(instants[i])).expect("in range")
            })
        });
    }
    group.finish();
    c.bench_function("build_every_calendar_table", |b| {
        b.iter(|| Calendar::build_all_tables().expect("built"))
    });
}

criterion_group!(benches, contract, calendars);
criterion_main!(benches);
