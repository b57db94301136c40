//! A real outage shows fast, and honestly: a service that stops answering is
//! `OFFLINE [UNREACHABLE]` within `failure_threshold` × interval + timeout, and
//! until then and after, its last document is shown as of its last contact, never
//! as current, with no latency.

mod common;

use std::time::{Duration, Instant};

use common::{MARKET_HOURS, Setup, expect_floor, expect_service, get};
use opsfloor_fleet::{GAMMA, Scenario};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_service_is_offline_within_the_bound_and_shown_as_of_last_contact() {
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    // The shared test inventory: interval 200 ms, timeout 500 ms, threshold 2.
    let floor = setup.floor(&setup.inventory(""), None).await;
    expect_floor(&floor, "OK []").await;
    let live = expect_service(&floor, GAMMA, "OK []").await;
    assert!(live["document_as_of_utc"].is_null(), "{live}");
    assert!(live["latency_ms"].is_number(), "{live}");

    let stopped = Instant::now();
    std::fs::write(
        setup.fleet.control().path().join("stopped"),
        format!("{GAMMA}\n"),
    )
    .expect("write");
    let down = expect_service(&floor, GAMMA, "OFFLINE [UNREACHABLE]").await;
    let took = stopped.elapsed();
    // threshold × interval + timeout = 0.9 s, plus the fleet's control poll (50 ms)
    // and slack for a loaded machine.
    assert!(
        took < Duration::from_millis(2_500),
        "OFFLINE after {took:?}"
    );
    assert!(down["latency_ms"].is_null(), "{down}");
    let as_of = down["document_as_of_utc"]
        .as_str()
        .expect("as of last contact");
    assert_eq!(down["last_seen_utc"].as_str(), Some(as_of), "{down}");

    // The report says "at last contact" where it shows the old document's facts.
    let (_, report) = get(&floor, "/api/v1/report?format=json").await;
    let gamma = report["services"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["service_name"] == GAMMA))
        .expect("gamma in the report");
    assert_eq!(gamma["document_as_of_utc"].as_str(), Some(as_of));
    let markdown = reqwest::get(format!(
        "http://{}/api/v1/report?format=markdown",
        floor.addr
    ))
    .await
    .expect("GET")
    .text()
    .await
    .expect("text");
    // The services table comes last; its row for gamma has the facts.
    let row = markdown
        .lines()
        .rev()
        .find(|l| l.starts_with('|') && l.contains(GAMMA))
        .expect("gamma's row");
    assert!(row.contains("at last contact"), "{row}");

    // Back: current again.
    std::fs::write(setup.fleet.control().path().join("stopped"), "").expect("write");
    let back = expect_service(&floor, GAMMA, "OK []").await;
    assert!(back["document_as_of_utc"].is_null(), "{back}");
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}
