//! `/api/v1/maintenance` over loopback: the inventory's windows open now and those
//! starting within the window, by start, following a reload.

mod common;

use common::*;
use opsfloor_fleet::Scenario;
use serde_json::{Value, json};

/// Two one-off windows and a weekly one around Wednesday 2026-01-07 15:00 UTC: the
/// whale strategy is in a window now, the floor's weekly patching is on Saturday,
/// and a migration is next month.
const WINDOWS: &str = r#"
[[maintenance]]
services = ["whale-strategy"]
start = "2026-01-07T14:00:00Z"
end = "2026-01-07T16:00:00Z"
note = "Broker migration"

[[maintenance]]
floor = true
start = "sat 06:00"
end = "sat 10:00"
timezone = "America/New_York"
note = "Weekly patching"

[[maintenance]]
floor = true
start = "2026-02-20T00:00:00Z"
end = "2026-02-21T00:00:00Z"
note = "Data-centre move"
"#;

fn notes(body: &Value) -> Vec<(String, bool)> {
    body["windows"]
        .as_array()
        .expect("windows")
        .iter()
        .map(|w| {
            (
                w["note"].as_str().expect("note").to_owned(),
                w["active"].as_bool().expect("active"),
            )
        })
        .collect()
}

#[tokio::test]
async fn lists_the_open_and_upcoming_windows_by_start() {
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let floor = setup.floor(&setup.inventory(WINDOWS), None).await;

    let (status, body) = get(&floor, "/api/v1/maintenance").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["window"], "7d");
    assert_eq!(
        notes(&body),
        [
            ("Broker migration".to_owned(), true),
            ("Weekly patching".to_owned(), false)
        ]
    );
    assert_eq!(
        body["windows"][0],
        json!({
            "floor": false,
            "services": ["whale-strategy"],
            "start": "2026-01-07T14:00:00Z",
            "end": "2026-01-07T16:00:00Z",
            "active": true,
            "note": "Broker migration"
        })
    );
    // Saturday 06:00 New York (EST) is 11:00 UTC.
    assert_eq!(body["windows"][1]["start"], "2026-01-10T11:00:00Z");
    assert_eq!(body["windows"][1]["floor"], true);

    let (_, wide) = get(&floor, "/api/v1/maintenance?window=60d").await;
    assert_eq!(notes(&wide).len(), 3, "{wide}");
    let (status, bad) = get(&floor, "/api/v1/maintenance?window=soon").await;
    assert_eq!(status, 400);
    assert_eq!(bad["parameter"], "window", "{bad}");

    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

#[tokio::test]
async fn an_inventory_without_windows_lists_none() {
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let floor = setup.floor(&setup.inventory(""), None).await;
    let (status, body) = get(&floor, "/api/v1/maintenance").await;
    assert_eq!(status, 200);
    assert_eq!(body["windows"], json!([]));
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

/// `/api/v1/slo` of `service` (`None`: the floor): its market minutes.
fn market_minutes(slo: &Value, service: Option<&str>) -> Option<f64> {
    slo["services"]
        .as_array()?
        .iter()
        .find(|row| row["service"].as_str() == service)?["market_minutes"]
        .as_f64()
}

#[tokio::test]
async fn the_slo_leaves_a_services_window_out_of_its_time_only() {
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let db = setup.dir.path().join("history.sqlite");
    let floor = setup.floor(&setup.inventory(WINDOWS), Some(db)).await;
    expect_floor(&floor, "OK []").await;
    // Wait until the gamma strategy has counted some market time; the whale
    // strategy, in its window since 14:00, counts none the whole while.
    let start = std::time::Instant::now();
    loop {
        let (status, slo) = get(&floor, "/api/v1/slo?window=1d").await;
        assert_eq!(status, 200, "{slo}");
        let whale = market_minutes(&slo, Some("whale-strategy"));
        let gamma = market_minutes(&slo, Some("gamma-strategy"));
        if let (Some(whale), Some(gamma)) = (whale, gamma)
            && gamma > 0.0
        {
            assert_eq!(whale, 0.0, "{slo}");
            assert!(market_minutes(&slo, None).is_some_and(|m| m > 0.0), "{slo}");
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "{slo}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

/// The service `name` in a `/api/v1/services` answer.
fn listed<'a>(body: &'a Value, name: &str) -> &'a Value {
    body["services"]
        .as_array()
        .expect("services")
        .iter()
        .find(|s| s["service_name"] == name)
        .unwrap_or_else(|| panic!("{name} not listed: {body}"))
}

#[tokio::test]
async fn the_views_and_the_report_badge_what_an_open_window_covers_and_nothing_else() {
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let floor = setup.floor(&setup.inventory(WINDOWS), None).await;
    expect_floor(&floor, "OK []").await;
    let badge = json!({"note": "Broker migration", "until_utc": "2026-01-07T16:00:00Z"});

    let (status, list) = get(&floor, "/api/v1/services").await;
    assert_eq!(status, 200, "{list}");
    let whale = listed(&list, "whale-strategy");
    assert_eq!(whale["maintenance"], badge, "{whale}");
    // The state is still shown as it is.
    assert_eq!(whale["status"]["state"], "OK", "{whale}");
    let gamma = listed(&list, "gamma-strategy");
    assert!(gamma.get("maintenance").is_none(), "{gamma}");

    let (_, detail) = get(&floor, "/api/v1/services/whale-strategy").await;
    assert_eq!(detail["maintenance"], badge, "{detail}");
    // The floor's weekly window is on Saturday: not open now.
    let (_, view) = get(&floor, "/api/v1/floor").await;
    assert!(view.get("maintenance").is_none(), "{view}");
    let (_, report) = get(&floor, "/api/v1/report").await;
    assert_eq!(listed(&report, "whale-strategy")["maintenance"], badge);
    assert!(report.get("maintenance").is_none(), "{report}");
    let markdown = get_text(&floor, "/api/v1/report?format=markdown").await;
    assert!(
        markdown.contains("(maintenance until 2026-01-07T16:00:00Z: Broker migration)"),
        "{markdown}"
    );
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

#[tokio::test]
async fn a_floor_window_badges_the_floor_and_every_service() {
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let windows = "\n[[maintenance]]\nfloor = true\nstart = \"2026-01-07T14:00:00Z\"\n\
                   end = \"2026-01-07T18:00:00Z\"\nnote = \"\"\n";
    let floor = setup.floor(&setup.inventory(windows), None).await;
    expect_floor(&floor, "OK []").await;
    let badge = json!({"note": "", "until_utc": "2026-01-07T18:00:00Z"});
    let (_, view) = get(&floor, "/api/v1/floor").await;
    assert_eq!(view["maintenance"], badge, "{view}");
    let (_, list) = get(&floor, "/api/v1/services").await;
    for s in list["services"].as_array().expect("services") {
        assert_eq!(s["maintenance"], badge, "{s}");
    }
    let markdown = get_text(&floor, "/api/v1/report?format=markdown").await;
    assert!(
        markdown.contains("The whole floor is in maintenance until 2026-01-07T18:00:00Z."),
        "{markdown}"
    );
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}
