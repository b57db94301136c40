//! `/history`: the floor's states over recent days (one lane per day in the
//! calendar's zone, market hours marked under each), and per service the share of
//! market-hours time in each state, from the history's SLO answer.

use askama::Template;
use jiff::Timestamp;
use jiff::civil::Date;
use opsfloor_contract::{Calendar, State};
use opsfloor_history::{HistoryError, SloRow, Subject};

use crate::chrome::{Chrome, Page, Viewer};
use crate::clock::Zone;
use crate::strip::{self, Mark};
use crate::timeline::Recorded;
use crate::words::{escape, look, percent, service_href, span};

/// Days shown unless `?days=` says otherwise.
pub const DEFAULT_DAYS: i64 = 7;
/// The most days one page shows.
pub const MAX_DAYS: i64 = 31;

/// What the page is rendered from, taken under the floor's lock.
#[derive(Debug, Clone)]
pub struct HistorySnapshot {
    /// The floor's name.
    pub floor_name: String,
    /// The calendar.
    pub calendar: Calendar,
    /// The calendar's zone.
    pub zone: Zone,
    /// The services in inventory order.
    pub services: Vec<String>,
    /// The floor's state now, its codes, and since when (for a floor without history).
    pub current: Mark,
}

/// The history's answers, or why there are none.
#[derive(Debug)]
pub enum Answers {
    /// The floor keeps no history.
    NoHistory,
    /// The floor's transitions and the SLO rows over the window.
    Loaded(Result<(Recorded, Vec<SloRow>), HistoryError>),
}

/// One day's lane.
#[derive(Debug, Clone)]
pub struct Lane {
    /// `Wed 7 Jan`.
    pub day: String,
    /// The strip.
    pub svg: String,
}

/// One row of the SLO table.
#[derive(Debug, Clone)]
pub struct Share {
    /// The subject's name (`Floor` for the floor).
    pub name: String,
    /// Its page, if it is a service in the inventory.
    pub href: Option<String>,
    /// Market-hours time counted.
    pub minutes: String,
    /// One cell per state, in the fixed order (`–` for none).
    pub cells: Vec<String>,
    /// A stacked bar.
    pub bar: String,
}

/// One of the windows the page offers (a day, 7 days, 30 days).
#[derive(Debug, Clone)]
pub struct Window {
    /// `?days=`.
    pub days: i64,
    /// `7 days`.
    pub label: &'static str,
    /// It is the window shown (`aria-current` and a visible mark).
    pub current: bool,
}

/// The windows offered, the one showing `days` marked current.
pub fn windows(days: i64) -> Vec<Window> {
    [(1, "day"), (7, "7 days"), (30, "30 days")]
        .into_iter()
        .map(|(d, label)| Window {
            days: d,
            label,
            current: d == days,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage {
    chrome: Chrome,
    windows: Vec<Window>,
    days: i64,
    lanes: Vec<Lane>,
    note: String,
    states: Vec<&'static str>,
    shares: Vec<Share>,
}

/// The first instant of `date` in `zone`.
fn start_of(date: Date, zone: &Zone) -> Option<Timestamp> {
    date.to_zoned_datetime(zone.tz().clone())
        .ok()
        .map(|z| z.timestamp())
}

/// The days to show, oldest first: `(date, start, end)` in the zone, ending today.
pub fn days(now: Timestamp, zone: &Zone, count: i64) -> Vec<(Date, Timestamp, Timestamp)> {
    let today = now.to_zoned_datetime(zone.tz().clone()).date();
    let mut out = Vec::new();
    for back in (0..count.clamp(1, MAX_DAYS)).rev() {
        let Ok(date) = today.checked_sub(jiff::Span::new().days(back)) else {
            continue;
        };
        let Ok(next) = date.tomorrow() else { continue };
        if let (Some(start), Some(end)) = (start_of(date, zone), start_of(next, zone)) {
            out.push((date, start, end));
        }
    }
    out
}

/// The stacked bar of one SLO row: one rectangle per state with time, in the fixed
/// order, boundaries from the running total so the bar always tiles to the full width.
pub fn share_bar(row: &SloRow, name: &str) -> String {
    let mut out = format!(
        "<svg class=\"bar\" viewBox=\"0 0 {} 12\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"{}\">",
        strip::WIDTH,
        escape(&format!("{name}: share of market hours by state"))
    );
    let mut running = 0.0;
    let mut left: i64 = 0;
    for state in State::ALL {
        let Some(share) = row.share.get(&state).copied().filter(|s| *s > 0.0) else {
            continue;
        };
        running += share;
        let right =
            ((running * strip::WIDTH as f64 * 10.0).round() as i64).clamp(left, strip::WIDTH * 10);
        out.push_str(&format!(
            "<rect class=\"{}\" x=\"{}.{}\" y=\"0\" width=\"{}.{}\" height=\"12\"><title>{} {}</title></rect>",
            look(state, &[]).class,
            left / 10,
            left % 10,
            (right - left) / 10,
            (right - left) % 10,
            look(state, &[]).word,
            percent(share)
        ));
        left = right;
    }
    out.push_str("</svg>");
    out
}

/// The SLO rows in page order: the floor, then the inventory's services, then any
/// others the history remembers (by name).
pub fn ordered(rows: Vec<SloRow>, services: &[String]) -> Vec<SloRow> {
    let rank = |r: &SloRow| match &r.subject {
        Subject::Floor => (0, 0, String::new()),
        Subject::Service(name) => match services.iter().position(|s| s == name) {
            Some(i) => (1, i, String::new()),
            None => (2, 0, name.clone()),
        },
    };
    let mut rows = rows;
    rows.sort_by_key(|r| rank(r));
    rows
}

fn share(row: &SloRow, services: &[String]) -> Share {
    let (name, href) = match &row.subject {
        Subject::Floor => ("Floor".to_owned(), None),
        Subject::Service(name) => (
            name.clone(),
            services
                .iter()
                .any(|s| s == name)
                .then(|| service_href(name)),
        ),
    };
    let cells = State::ALL
        .iter()
        .map(|s| {
            row.share
                .get(s)
                .filter(|v| **v > 0.0)
                .map_or("–".to_owned(), |v| percent(*v))
        })
        .collect();
    Share {
        bar: share_bar(row, &name),
        minutes: span((row.market_minutes * 60.0).round() as i64),
        name,
        href,
        cells,
    }
}

/// Renders the page for the last `days` days at `now`.
pub fn render(
    s: &HistorySnapshot,
    answers: Answers,
    now: Timestamp,
    days_shown: i64,
    viewer: &Viewer,
) -> Result<String, askama::Error> {
    let zone = &s.zone;
    let (marks, slo, note) = match answers {
        Answers::NoHistory => (
            vec![s.current.clone()],
            Vec::new(),
            "This floor keeps no history (it was started without a database): the lanes show only the current state, and there are no market-hours shares.".to_owned(),
        ),
        Answers::Loaded(Err(e)) => (
            vec![s.current.clone()],
            Vec::new(),
            format!("The history could not be read: {e}"),
        ),
        Answers::Loaded(Ok((recorded, rows))) => {
            let note = if recorded.truncated {
                "More transitions than can be shown: the oldest are left out.".to_owned()
            } else {
                String::new()
            };
            (recorded.marks(), rows, note)
        }
    };
    let lanes = days(now, zone, days_shown)
        .into_iter()
        .map(|(date, start, end)| {
            let segments = strip::segments(&marks, start, end.min(now));
            let bounds = strip::layout(&segments, start, end);
            let session = s
                .calendar
                .session_on(date)
                .ok()
                .flatten()
                .and_then(|ses| strip::band(ses.open, ses.close, start, end));
            let day = zone.date(start);
            let label = format!("The floor on {day}: {}", strip::summary(&segments));
            Lane {
                svg: strip::svg(&segments, &bounds, session, zone, &label),
                day,
            }
        })
        .collect();
    let shares = ordered(slo, &s.services)
        .iter()
        .map(|r| share(r, &s.services))
        .collect();
    let page = HistoryPage {
        chrome: Chrome::new(
            Page::History,
            format!("History · {}", s.floor_name),
            &s.floor_name,
            zone,
            now,
            viewer,
        ),
        windows: windows(days_shown),
        days: days_shown,
        lanes,
        note,
        states: State::ALL.iter().map(|st| look(*st, &[]).word).collect(),
        shares,
    };
    page.render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn days_in_new_york_end_today() {
        let zone = Zone::of(&Calendar::nyse());
        let now: Timestamp = "2026-01-07T03:00:00Z".parse().expect("ts"); // 22:00 on the 6th in NY
        let d = days(now, &zone, 2);
        assert_eq!(d.len(), 2);
        assert_eq!(d[1].0.to_string(), "2026-01-06");
        assert_eq!(d[1].1.to_string(), "2026-01-06T05:00:00Z");
        assert_eq!(d[1].2.to_string(), "2026-01-07T05:00:00Z");
        assert_eq!(d[0].0.to_string(), "2026-01-05");
    }

    #[test]
    fn the_share_bar_tiles_and_rows_keep_inventory_order() {
        let mut share = BTreeMap::new();
        share.insert(State::Ok, 0.75);
        share.insert(State::Halted, 0.25);
        let row = SloRow {
            subject: Subject::Service("b".into()),
            market_minutes: 390.0,
            share,
            offline_expected: 0.0,
            availability: Some(0.75),
        };
        let bar = share_bar(&row, "<b>");
        assert!(bar.contains("aria-label=\"&#60;b&#62;: share"));
        assert!(
            bar.contains("class=\"st-ok\" x=\"0.0\" y=\"0\" width=\"750.0\""),
            "{bar}"
        );
        assert!(
            bar.contains("class=\"st-halted\" x=\"750.0\" y=\"0\" width=\"250.0\""),
            "{bar}"
        );
        let floor = SloRow {
            subject: Subject::Floor,
            market_minutes: 0.0,
            share: BTreeMap::new(),
            offline_expected: 0.0,
            availability: None,
        };
        let gone = SloRow {
            subject: Subject::Service("a-removed".into()),
            ..floor.clone()
        };
        let names: Vec<String> = ordered(vec![gone, row, floor], &["b".into()])
            .iter()
            .map(|r| r.subject.to_string())
            .collect();
        assert_eq!(names, ["floor", "b", "a-removed"]);
    }
}
