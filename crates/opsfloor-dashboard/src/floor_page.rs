//! `/`: the floor. The banner (the floor's state, why, since when, the market) and
//! every service grouped by kind, built from the API's own views so that the page,
//! the API and the live stream always agree.

use askama::Template;
use jiff::Timestamp;
use opsfloor_contract::time::format_timestamp;
use opsfloor_contract::{ReasonCode, State};
use opsfloor_engine::FloorState;
use opsfloor_engine::view::{FloorView, ServiceView};

use crate::chrome::{Chrome, Page, Viewer};
use crate::clock::{Market, Zone, instant, seconds_between, utc_long};
use crate::words::{
    OK_FLOOR, OK_SERVICE, ago, codes_text, floor_reason_text, group, look, millis, reason_text,
    service_href, span, vocabulary_json,
};

/// What the floor page is rendered from: the views, taken under the floor's lock.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The floor's name.
    pub name: String,
    /// The calendar's zone.
    pub zone: Zone,
    /// The floor view.
    pub floor: FloorView,
    /// Every service, in inventory order.
    pub services: Vec<ServiceView>,
    /// The maintenance windows open now or starting within a day (none from
    /// [`Snapshot::of`]: they come from the inventory's text, read outside the lock).
    pub maintenance: Vec<opsfloor_alerts::WindowView>,
}

impl Snapshot {
    /// The views of `state` at `now`.
    pub fn of(state: &FloorState, now: Timestamp) -> Snapshot {
        Snapshot {
            name: state.inventory.floor.name.clone(),
            zone: Zone::of(&state.calendar),
            floor: FloorView::of(state, now),
            services: state
                .services()
                .iter()
                .map(|t| ServiceView::of(t, now))
                .collect(),
            maintenance: Vec::new(),
        }
    }
}

/// The banner.
#[derive(Debug, Clone)]
pub struct Banner {
    /// The look's class.
    pub class: &'static str,
    /// The state in words.
    pub word: &'static str,
    /// The wire state (`HALTED`).
    pub state: &'static str,
    /// The reason codes.
    pub codes: String,
    /// The reason in words.
    pub reason: String,
    /// The services that decided it.
    pub contributors: String,
    /// Since when, RFC 3339.
    pub since_iso: String,
    /// Since when, in the calendar's zone.
    pub since_zoned: String,
    /// Since when, in UTC.
    pub since_utc: String,
    /// For how long.
    pub since_for: String,
    /// How many services are in each state.
    pub counts: String,
}

/// One service row.
#[derive(Debug, Clone)]
pub struct Row {
    /// The name.
    pub name: String,
    /// Its page.
    pub href: String,
    /// The look's class.
    pub class: &'static str,
    /// The state in words.
    pub word: &'static str,
    /// The reason codes.
    pub codes: String,
    /// The reason in words (shown, at most two lines).
    pub reason: String,
    /// The cell's hover text: the codes, then the whole reason (`KILL_SWITCH — …`), so
    /// the state is said once in the row and a clamped reason can still be read whole.
    pub title: String,
    /// For how long.
    pub since: String,
    /// The last poll's age, or "last seen N s ago" while polls fail.
    pub poll: String,
    /// Polls are failing.
    pub late: bool,
    /// The last poll's latency.
    pub latency: String,
    /// The criticality.
    pub criticality: &'static str,
    /// In an open maintenance window: its note (the badge's hover text).
    pub maintenance: Option<String>,
}

/// The services of one kind.
#[derive(Debug, Clone)]
pub struct Group {
    /// The heading.
    pub title: &'static str,
    /// The rows, in inventory order.
    pub rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "floor.html")]
struct FloorPage {
    chrome: Chrome,
    banner: Banner,
    market: Market,
    groups: Vec<Group>,
    service_count: usize,
    vocabulary: String,
    maintenance: Vec<crate::maintenance::Notice>,
}

/// `N services: 3 OK · 1 Market closed · 1 Offline`, in the states' fixed order.
pub fn counts(floor: &FloorView) -> String {
    let total: usize = floor.counts.values().sum();
    let mut out = format!("{total} service{}", if total == 1 { "" } else { "s" });
    for state in State::ALL {
        if let Some(n) = floor.counts.get(&state).filter(|n| **n > 0) {
            let sep = if out.contains(':') { " · " } else { ": " };
            out.push_str(&format!("{sep}{n} {}", look(state, &[]).word));
        }
    }
    out
}

/// How many contributors the banner names before it says "and N more".
pub const CONTRIBUTORS_SHOWN: usize = 5;

/// `Decided by a, b and 3 more`; empty when nobody decided.
pub fn contributors(names: &[String]) -> String {
    if names.is_empty() {
        return String::new();
    }
    let shown = names.len().min(CONTRIBUTORS_SHOWN);
    let mut out = format!("Decided by {}", names[..shown].join(", "));
    if names.len() > shown {
        out.push_str(&format!(" and {} more", names.len() - shown));
    }
    out
}

fn banner(s: &Snapshot, now: Timestamp) -> Banner {
    let status = &s.floor.floor.status;
    let l = look(status.state, &status.reason_codes);
    let since = instant(Some(&s.floor.since)).unwrap_or(now);
    Banner {
        class: l.class,
        word: l.word,
        state: status.state.as_str(),
        codes: codes_text(&status.reason_codes),
        reason: floor_reason_text(
            status.state,
            &status.reason_codes,
            OK_FLOOR,
            all_unreachable(&s.services),
        ),
        contributors: contributors(&s.floor.contributors),
        since_iso: format_timestamp(since),
        since_zoned: if s.zone.is_utc() {
            String::new()
        } else {
            s.zone.day_time(since)
        },
        since_utc: utc_long(since),
        since_for: format!("for {}", span(seconds_between(since, now))),
        counts: counts(&s.floor),
    }
}

/// True when the inventory has services and every one of them is UNREACHABLE.
pub fn all_unreachable(services: &[ServiceView]) -> bool {
    !services.is_empty()
        && services
            .iter()
            .all(|v| v.status.reason_codes.contains(&ReasonCode::Unreachable))
}

/// The row for one service at `now`.
pub fn row(v: &ServiceView, now: Timestamp) -> Row {
    let status = &v.status;
    let l = look(status.state, &status.reason_codes);
    let since = instant(Some(&v.since)).unwrap_or(now);
    let late = v.consecutive_failures > 0;
    let codes = codes_text(&status.reason_codes);
    let reason = reason_text(status.state, &status.reason_codes, OK_SERVICE);
    let poll = if late {
        // From the written instant, as the script does, so both read the same.
        match instant(v.last_seen_utc.as_deref()) {
            Some(t) => format!("last seen {}", ago(seconds_between(t, now))),
            None => "never seen".to_owned(),
        }
    } else {
        match instant(v.last_poll_utc.as_deref()) {
            Some(t) => ago(seconds_between(t, now)),
            None if !v.expected_to_run => "not polled".to_owned(),
            None => "not yet polled".to_owned(),
        }
    };
    Row {
        name: v.service_name.clone(),
        href: service_href(&v.service_name),
        class: l.class,
        word: l.word,
        title: row_title(&codes, &reason),
        codes,
        reason,
        since: span(seconds_between(since, now)),
        poll,
        late,
        latency: millis(v.latency_ms),
        criticality: v.criticality.as_str(),
        maintenance: None,
    }
}

/// A row's hover text: `CODES — reason`, or the reason alone when there is no code.
pub fn row_title(codes: &str, reason: &str) -> String {
    if codes.is_empty() {
        reason.to_owned()
    } else {
        format!("{codes} \u{2014} {reason}")
    }
}

/// The services grouped by kind, in the seed's order; inventory order inside a group.
pub fn groups(services: &[ServiceView], now: Timestamp) -> Vec<Group> {
    let mut buckets: Vec<(usize, &'static str, Vec<Row>)> = Vec::new();
    for v in services {
        let (rank, title) = group(v.service_kind);
        let row = row(v, now);
        match buckets
            .iter_mut()
            .find(|(r, t, _)| *r == rank && *t == title)
        {
            Some((_, _, rows)) => rows.push(row),
            None => buckets.push((rank, title, vec![row])),
        }
    }
    // Stable: groups of equal rank keep the order they first appear in.
    buckets.sort_by_key(|(rank, _, _)| *rank);
    buckets
        .into_iter()
        .map(|(_, title, rows)| Group { title, rows })
        .collect()
}

/// Renders the floor page for `snapshot` at `now`.
pub fn render(s: &Snapshot, now: Timestamp, viewer: &Viewer) -> Result<String, askama::Error> {
    let page = FloorPage {
        chrome: Chrome::new(
            Page::Floor,
            format!("{} · Trading Floor", s.name),
            &s.name,
            &s.zone,
            now,
            viewer,
        ),
        banner: banner(s, now),
        market: Market::of(&s.floor.market, &s.zone, now),
        groups: badged(groups(&s.services, now), &s.maintenance),
        service_count: s.services.len(),
        vocabulary: vocabulary_json(),
        maintenance: crate::maintenance::notices(&s.maintenance, &s.zone),
    };
    page.render()
}

/// `groups` with the maintenance badge on every row an open window covers.
fn badged(mut groups: Vec<Group>, windows: &[opsfloor_alerts::WindowView]) -> Vec<Group> {
    if windows.is_empty() {
        return groups;
    }
    for row in groups.iter_mut().flat_map(|g| g.rows.iter_mut()) {
        row.maintenance = crate::maintenance::badge(windows, &row.name).map(str::to_owned);
    }
    groups
}
