//! Rendering without a network: determinism, escaping, the calm and late rows, the
//! budget's size for 1,000 services.

mod common;

use common::synthetic::{self, MARKET_HOURS};
use jiff::{SignedDuration, Timestamp};
use opsfloor_dashboard::chrome::Viewer;
use opsfloor_dashboard::history_page::{self, Answers, HistorySnapshot};
use opsfloor_dashboard::service_page::{self, ServiceSnapshot};
use opsfloor_dashboard::strip::Mark;
use opsfloor_dashboard::{render_floor, render_report};

const EVIL: &str = "<script>alert('x')</script>";

fn now() -> Timestamp {
    MARKET_HOURS.parse().expect("now")
}

#[test]
fn the_same_state_and_clock_render_the_same_bytes() {
    let state = synthetic::floor(200, MARKET_HOURS, &[EVIL]);
    let a = render_floor(&state, now(), false).expect("render");
    let b = render_floor(&state.clone(), now(), false).expect("render");
    assert_eq!(a, b);
    let later = render_floor(&state, now() + SignedDuration::from_secs(61), false).expect("render");
    assert_ne!(a, later, "the clock is part of the page");

    let snap = ServiceSnapshot::of(&state, "strategy-0001-svc", now()).expect("service");
    let one = service_page::render(&snap, None, now(), &Viewer::default()).expect("render");
    assert_eq!(
        one,
        service_page::render(&snap, None, now(), &Viewer::default()).expect("render")
    );

    let history = HistorySnapshot {
        floor_name: "bench-floor".into(),
        calendar: state.calendar.clone(),
        zone: opsfloor_dashboard::clock::Zone::of(&state.calendar),
        services: state.services().iter().map(|t| t.name.clone()).collect(),
        current: Mark {
            at: state.since,
            state: state.verdict.state,
            codes: state.verdict.reason_codes.clone(),
        },
    };
    let h1 = history_page::render(&history, Answers::NoHistory, now(), 7, &Viewer::default())
        .expect("render");
    let h2 = history_page::render(&history, Answers::NoHistory, now(), 7, &Viewer::default())
        .expect("render");
    assert_eq!(h1, h2);
    assert_eq!(
        render_report(&state, &[], now()).expect("render"),
        render_report(&state, &[], now()).expect("render")
    );
}

#[test]
fn every_value_is_escaped() {
    let state = synthetic::floor(5, MARKET_HOURS, &[EVIL]);
    let page = render_floor(&state, now(), false).expect("render");
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(page.contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;</a>"));
    assert!(page.contains("href=\"/services/%3Cscript%3Ealert%28%27x%27%29%3C%2Fscript%3E\""));
    // Exactly two script elements: the script file and the vocabulary (JSON data).
    assert_eq!(page.matches("<script").count(), 2);

    let snap = ServiceSnapshot::of(&state, EVIL, now()).expect("service");
    let page = service_page::render(&snap, None, now(), &Viewer::default()).expect("render");
    assert!(!page.contains("<script>alert"));
    // The document's own text is escaped too, and secrets are redacted.
    assert!(page.contains("&#60;b&#62;bold&#60;/b&#62;"), "{page}");
    assert!(!page.contains("sk-secret"));
    assert!(page.contains("[redacted]"));

    let report = render_report(&state, &[], now()).expect("render");
    assert!(!report.contains("<script>alert"));
}

#[test]
fn a_service_that_stopped_answering_shows_when_it_was_last_seen() {
    let mut state = synthetic::floor(5, MARKET_HOURS, &[]);
    let t = state
        .services_mut()
        .iter_mut()
        .find(|t| t.name == "strategy-0001-svc")
        .expect("service");
    t.consecutive_failures = 1;
    t.last_seen = Some(now() - SignedDuration::from_secs(12));
    t.last_poll = Some(now());
    let page = render_floor(&state, now(), false).expect("render");
    let row = page
        .lines()
        .find(|l| l.contains(">strategy-0001-svc</a>"))
        .expect("row");
    // Still its last state (calm until the failure threshold), marked late.
    assert!(row.starts_with("<tr class=\"st-ok late\">"), "{row}");
    assert!(row.contains("<td>last seen 12 s ago</td>"), "{row}");
}

#[test]
fn execution_scaled_to_zero_is_calm_and_kiosk_is_large() {
    let state = synthetic::floor(60, MARKET_HOURS, &[]);
    let page = render_floor(&state, now(), true).expect("render");
    let row = page
        .lines()
        .find(|l| l.contains(">execution-0003-svc</a>"))
        .expect("row");
    assert!(row.starts_with("<tr class=\"st-asleep\">"), "{row}");
    assert!(
        row.contains("<td title=\"EXECUTION_DISABLED \u{2014} Offline: scaled to zero, expected\"><span class=\"rs\">Offline: scaled to zero, expected</span></td>"),
        "{row}"
    );
    assert!(page.contains("<body class=\"page-floor kiosk\""));
    assert!(!page.contains("<nav"));
}

#[test]
fn the_page_for_1000_services_stays_within_300_kb() {
    let state = synthetic::floor(1_000, MARKET_HOURS, &[]);
    let page = render_floor(&state, now(), false).expect("render");
    println!("the floor page for 1,000 services: {} bytes", page.len());
    assert!(page.len() <= 300_000, "{} bytes", page.len());
    assert_eq!(page.matches("<tr class=\"st-").count(), 1_000);
}

#[test]
fn a_long_list_of_contributors_is_shortened() {
    use opsfloor_dashboard::floor_page::contributors;
    let names: Vec<String> = (0..8).map(|i| format!("s{i}")).collect();
    assert_eq!(contributors(&names[..2]), "Decided by s0, s1");
    assert_eq!(
        contributors(&names),
        "Decided by s0, s1, s2, s3, s4 and 3 more"
    );
    assert_eq!(contributors(&[]), "");
}

/// A floor of three services, none of which answered.
fn all_down() -> opsfloor_engine::FloorState {
    use opsfloor_engine::Outcome;
    let mut toml = String::from("[floor]\nname = \"down-floor\"\n");
    let mut outcomes = Vec::new();
    for (i, kind) in ["marketdata", "strategy", "ingest"].iter().enumerate() {
        let name = format!("{kind}-svc");
        toml.push_str(&format!(
            "\n[[services]]\nname = \"{name}\"\nkind = \"{kind}\"\nurl = \"http://127.0.0.1:{}\"\ncriticality = \"critical\"\n",
            9000 + i
        ));
        outcomes.push((
            name,
            Some(Outcome::NoAnswer {
                error: "connection failed: Connection refused".into(),
            }),
        ));
    }
    let inventory = opsfloor_inventory::parse(
        &toml,
        std::path::Path::new("down.toml"),
        opsfloor_inventory::Format::Toml,
    )
    .expect("inventory");
    opsfloor_engine::FloorState::evaluate(
        inventory,
        opsfloor_contract::Calendar::nyse(),
        outcomes,
        now(),
    )
}

#[test]
fn when_no_service_answers_the_floor_says_so_in_the_plural() {
    let state = all_down();
    let page = render_floor(&state, now(), false).expect("render");
    let reason = page
        .lines()
        .find(|l| l.starts_with("<p class=\"b-reason\">"))
        .expect("banner reason");
    assert_eq!(
        reason,
        "<p class=\"b-reason\">No service answered its status endpoint</p>"
    );
    assert!(!page.contains("<p class=\"b-reason\">The service did not answer"));
    let report = render_report(&state, &[], now()).expect("render");
    assert!(
        report.contains("<p class=\"b-reason\">No service answered its status endpoint</p>"),
        "{report}"
    );
    // The report lists UNREACHABLE once, with the three services under it.
    assert_eq!(
        report
            .matches("<p class=\"i-head\"><code>UNREACHABLE</code>")
            .count(),
        1,
        "{report}"
    );
    assert!(
        report.contains("<p class=\"i-who\">3 services: "),
        "{report}"
    );
}

#[test]
fn a_simulated_clock_is_said_on_the_page() {
    use opsfloor_dashboard::chrome::SimClock;
    let state = synthetic::floor(5, MARKET_HOURS, &[]);
    let real: Timestamp = "2026-01-07T06:12:00Z".parse().expect("now");
    let viewer = Viewer {
        simulated: SimClock::of(now(), real),
        ..Viewer::default()
    };
    let snapshot = opsfloor_dashboard::floor_page::Snapshot::of(&state, now());
    let page = opsfloor_dashboard::floor_page::render(&snapshot, now(), &viewer).expect("render");
    assert!(page.contains("Simulated clock: <span class=\"sim-floor\">15:00 UTC</span> (real time <span class=\"sim-real\">06:12 UTC</span>)"), "{page}");
    // The real clock: no badge.
    let plain = render_floor(&state, now(), false).expect("render");
    assert!(!plain.contains("sim-clock"));
}

#[test]
fn the_service_page_draws_24_hour_7_day_and_30_day_strips_from_one_history() {
    let state = synthetic::floor(3, MARKET_HOURS, &[]);
    let zone = opsfloor_dashboard::clock::Zone::of(&state.calendar);
    let days = |d: i64| now() - SignedDuration::from_hours(24 * d);
    // Halted ten days ago, OK for the last two: each window sees its own part.
    let marks = [
        Mark {
            at: days(10),
            state: opsfloor_contract::State::Halted,
            codes: vec![opsfloor_contract::ReasonCode::KillSwitch],
        },
        Mark {
            at: days(2),
            state: opsfloor_contract::State::Ok,
            codes: vec![],
        },
    ];
    let strips = service_page::strips(&marks, &zone, "svc", now());
    let titles: Vec<&str> = strips.iter().map(|s| s.title).collect();
    assert_eq!(titles, ["Last 24 hours", "Last 7 days", "Last 30 days"]);
    let has = |i: usize, class: &str| strips[i].svg.contains(&format!("<rect class=\"{class}\""));
    assert!(has(0, "st-ok") && !has(0, "st-halted") && !has(0, "st-none"));
    assert!(has(1, "st-ok") && has(1, "st-halted") && !has(1, "st-none"));
    assert!(has(2, "st-ok") && has(2, "st-halted") && has(2, "st-none"));
    assert!(
        strips[2]
            .svg
            .contains("aria-label=\"svc over the last 30 days: ")
    );
    assert_eq!(strips[1].axis[0], "7 d ago");
}
