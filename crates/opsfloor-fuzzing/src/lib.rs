//! The fuzz targets' entry points: one `fn(&[u8])` per parser that reads input the
//! floor does not write itself, each of which must never panic on any bytes.
//!
//! They live in this small workspace crate, not in `fuzz/` nor as hidden functions
//! of each crate, so that one body serves two drivers: the cargo-fuzz package in
//! `fuzz/` (libFuzzer, nightly only, outside the workspace) and the stable tests in
//! `tests/` (the committed corpus replayed, and a proptest twin per target) that CI
//! runs. The product crates keep no fuzz-only surface: every parser reached here is
//! already their public API. Like the crates it drives, nothing here does I/O or
//! reads the clock.
//!
//! | target | what it feeds |
//! |---|---|
//! | [`document`] | a service's `/ops/status` body: parse, check, redact |
//! | [`inventory_toml`], [`inventory_yaml`] | an inventory file, then its calendars |
//! | [`overrides`] | a calendar overrides file, then every venue's calendar |
//! | [`query`] | a query string through every API route's parameter parsing |
//! | [`recording`] | a `report --replay` file, through the whole report |
//! | [`since`] | a `report --since` file, compared with a fixed report |

use std::path::Path;
use std::sync::OnceLock;

use opsfloor_contract::calendar::VenueOverrides;
use opsfloor_contract::check::check_value;
use opsfloor_contract::time::parse_timestamp;
use opsfloor_contract::{Calendar, parse_document};
use opsfloor_engine::{Calendars, FloorState};
use opsfloor_inventory::{Format, Inventory};
use opsfloor_report::recording::Recording;
use opsfloor_report::since::{Previous, changes};
use opsfloor_report::{Report, markdown, table};
use opsfloor_server::query::{Params, parse_window};
use opsfloor_server::services::Filter;

/// A fuzz target: one input, any bytes; it must not panic.
pub type Target = fn(&[u8]);

/// Every target, by the name its corpus directory and fuzz binary carry.
pub const TARGETS: [(&str, Target); 7] = [
    ("document", document),
    ("inventory_toml", inventory_toml),
    ("inventory_yaml", inventory_yaml),
    ("overrides", overrides),
    ("query", query),
    ("recording", recording),
    ("since", since),
];

/// A service's status body, as the poller reads it (lossy UTF-8): parsed and
/// checked, what it reports taken, and the raw JSON checked and redacted as the
/// service page shows it.
pub fn document(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(received) = parse_document(&text) {
        let _ = received.reported();
        let _ = received.is_valid();
        for problem in &received.problems {
            let _ = problem.to_string();
        }
    }
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
        let _ = check_value(&value);
        let _ = opsfloor_engine::redact::redact(&value);
    }
}

/// An inventory in the TOML format.
pub fn inventory_toml(data: &[u8]) {
    inventory(data, Format::Toml);
}

/// An inventory in the YAML format.
pub fn inventory_yaml(data: &[u8]) {
    inventory(data, Format::Yaml);
}

fn inventory(data: &[u8], format: Format) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = match format {
        Format::Toml => "fuzz.toml",
        Format::Yaml => "fuzz.yaml",
    };
    match opsfloor_inventory::parse(text, Path::new(path), format) {
        Ok(inventory) => {
            let _ = inventory.warnings();
            for e in &inventory.services {
                let _ = (e.status_url(), e.expected_to_run());
                let _ = e.timeout_ms(&inventory.floor);
            }
            // A validated inventory names only calendars that exist.
            let _ = Calendars::for_inventory(&inventory, &VenueOverrides::default());
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

/// A calendar overrides file; when valid, every venue it names is built and asked
/// whether it is open at a few instants.
pub fn overrides(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match VenueOverrides::parse(text) {
        Ok(file) => {
            for venue in file.venues() {
                let _ = file.overrides(venue);
                if let Ok(calendar) = file.calendar(venue) {
                    ask_calendar(&calendar);
                }
            }
        }
        Err(e) => {
            let _ = e.in_file("fuzz.toml");
        }
    }
}

fn ask_calendar(calendar: &Calendar) {
    for at in ["2026-01-02T15:00:00Z", "2026-12-24T18:30:00Z"] {
        if let Ok(at) = parse_timestamp(at) {
            let _ = calendar.is_open(at);
        }
    }
}

/// A query string (without `?`), through the parameter parsing of every route
/// that takes parameters: `/api/v1/services`, `/api/v1/transitions`,
/// `/api/v1/slo`, `/api/v1/report`; and the whole text as a window.
pub fn query(data: &[u8]) {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let raw = Some(raw);
    let _ = Filter::parse(raw);
    if let Ok(p) = Params::parse(raw, &["service", "since", "limit"]) {
        let _ = p.get("since").map(parse_timestamp);
        let _ = p.limit(100);
    }
    let _ = Params::parse(raw, &["window"]).and_then(|p| p.window("30d"));
    let _ = Params::parse(raw, &["format"]).map(|p| p.get("format").map(str::len));
    let _ = Params::parse(raw, &[]);
    let _ = raw.map(parse_window);
}

/// A `report --replay` file, replayed as the CLI does (without reading the
/// overrides file it may name): the inventory it carries, its responses checked
/// again, the floor evaluated and the report rendered in every format.
pub fn recording(data: &[u8]) {
    let Ok(recording) = serde_json::from_slice::<Recording>(data) else {
        return;
    };
    let path = Path::new(&recording.inventory.path);
    let Ok(inventory) = opsfloor_inventory::parse(
        &recording.inventory.text,
        path,
        recording.inventory_format(),
    ) else {
        return;
    };
    let Ok(now) = parse_timestamp(&recording.recorded_at) else {
        return;
    };
    let Ok(calendars) = Calendars::for_inventory(&inventory, &VenueOverrides::default()) else {
        return;
    };
    // The CLI refuses an instant outside a calendar's table (exit 65) before this.
    if calendars.venues().any(|c| c.is_open(now).is_err()) {
        return;
    }
    let outcomes = recording.outcomes_for(&inventory);
    let state = FloorState::evaluate(inventory, calendars, outcomes, now);
    render(&Report::of(&state, now));
}

fn render(report: &Report) {
    let _ = report.to_json();
    let _ = markdown::render(report);
    let _ = table::render(report, true);
    let _ = table::render(report, false);
}

/// A `report --since` file (an earlier JSON report), compared with a fixed report
/// of two services and rendered as the report shows the changes.
pub fn since(data: &[u8]) {
    let Ok(previous) = serde_json::from_slice::<Previous>(data) else {
        return;
    };
    let Some(current) = fixed_report() else {
        return;
    };
    let found = changes(&previous, current);
    let _ = found.lines(|name| name.to_owned(), "->");
    let mut report = current.clone();
    report.changes = Some(found);
    render(&report);
}

/// The report `since` compares with: two services, neither answering.
fn fixed_report() -> Option<&'static Report> {
    static REPORT: OnceLock<Option<Report>> = OnceLock::new();
    REPORT
        .get_or_init(|| {
            let text = "[floor]\ncalendar = \"always-open\"\n\n\
                [[services]]\nname = \"md\"\nkind = \"marketdata\"\nurl = \"http://127.0.0.1:9\"\n\n\
                [[services]]\nname = \"ex\"\nkind = \"execution\"\nurl = \"http://127.0.0.1:9\"\n";
            let inventory: Inventory =
                opsfloor_inventory::parse(text, Path::new("fixed.toml"), Format::Toml).ok()?;
            let now = parse_timestamp("2026-06-01T14:00:00Z").ok()?;
            let calendars =
                Calendars::for_inventory(&inventory, &VenueOverrides::default()).ok()?;
            let state = FloorState::evaluate(inventory, calendars, Vec::new(), now);
            Some(Report::of(&state, now))
        })
        .as_ref()
}
