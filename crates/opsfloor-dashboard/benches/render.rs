//! The dashboard's budget (issue 5): the floor page for 1,000 services renders
//! server-side in at most 20 ms and weighs at most 300 KB.
//!
//! `cargo bench -p opsfloor-dashboard --bench render` prints the page's size once,
//! then criterion's timings.

use criterion::{Criterion, criterion_group, criterion_main};

#[path = "../tests/common/synthetic.rs"]
mod synthetic;

fn render(c: &mut Criterion) {
    let now: jiff::Timestamp = synthetic::MARKET_HOURS.parse().expect("now");
    let mut group = c.benchmark_group("floor page");
    for n in [100, 1_000] {
        let state = synthetic::floor(n, synthetic::MARKET_HOURS, &[]);
        let page = opsfloor_dashboard::render_floor(&state, now, false).expect("render");
        println!(
            "floor page, {n} services: {} bytes ({:.1} KiB)",
            page.len(),
            page.len() as f64 / 1024.0
        );
        group.bench_function(format!("{n} services"), |b| {
            b.iter(|| opsfloor_dashboard::render_floor(std::hint::black_box(&state), now, false))
        });
    }
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
