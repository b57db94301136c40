//! `/services/{name}`: one service in full. Identity and build, heartbeat and market
//! data freshness, the safety gates, the last document (redacted, pretty-printed) and
//! the last 24 hours of transitions as a strip and as a table.

use askama::Template;
use jiff::{SignedDuration, Timestamp};
use opsfloor_engine::FloorState;
use opsfloor_engine::view::ServiceView;
use opsfloor_history::HistoryError;
use serde_json::Value;

use crate::chrome::{Chrome, Page, Viewer};
use crate::clock::{Zone, instant, seconds_between, utc_long};
use crate::strip;
use crate::timeline::{Recorded, current_only};
use crate::words::{
    OK_SERVICE, ago, codes_text, escape, hint, look, millis, reason_text, seconds, span, yes_no,
};

/// The window of the service page's transitions table and first strip.
pub const WINDOW: SignedDuration = SignedDuration::from_hours(24);

/// The longest strip's window: the history the page reads (30 days).
pub const LONG_WINDOW: SignedDuration = SignedDuration::from_hours(30 * 24);

/// The strips' windows: a label, the window, and the axis's five ticks.
const STRIPS: [(&str, SignedDuration, [&str; 5]); 3] = [
    (
        "Last 24 hours",
        WINDOW,
        ["24 h ago", "18 h ago", "12 h ago", "6 h ago", "now"],
    ),
    (
        "Last 7 days",
        SignedDuration::from_hours(7 * 24),
        [
            "7 d ago",
            "5 d 6 h ago",
            "3 d 12 h ago",
            "1 d 18 h ago",
            "now",
        ],
    ),
    (
        "Last 30 days",
        LONG_WINDOW,
        [
            "30 d ago",
            "22 d 12 h ago",
            "15 d ago",
            "7 d 12 h ago",
            "now",
        ],
    ),
];

/// One state strip of the service page, drawn from the same marks as the others.
#[derive(Debug, Clone)]
pub struct StripView {
    /// `Last 7 days`.
    pub title: &'static str,
    /// The time in each state, in words.
    pub summary: String,
    /// The inline SVG.
    pub svg: String,
    /// The axis's ticks, oldest first.
    pub axis: [&'static str; 5],
}

/// The 24 h, 7 d and 30 d strips of `marks` (ascending) for `name` at `now`.
pub fn strips(marks: &[strip::Mark], zone: &Zone, name: &str, now: Timestamp) -> Vec<StripView> {
    STRIPS
        .iter()
        .map(|(title, window, axis)| {
            let from = now.checked_sub(*window).unwrap_or(now);
            let segments = strip::segments(marks, from, now);
            let bounds = strip::layout(&segments, from, now);
            let summary = strip::summary(&segments);
            let label = format!("{name} over the {}: {summary}", title.to_lowercase());
            StripView {
                title,
                svg: strip::svg(&segments, &bounds, None, zone, &label),
                summary,
                axis: *axis,
            }
        })
        .collect()
}

/// What the page is rendered from, taken under the floor's lock.
#[derive(Debug, Clone)]
pub struct ServiceSnapshot {
    /// The floor's name.
    pub floor_name: String,
    /// The calendar's zone.
    pub zone: Zone,
    /// The service, with its redacted last document.
    pub view: ServiceView,
    /// The path its status document is polled at (`/ops/status` unless the
    /// inventory says otherwise), for the hints.
    pub status_path: String,
    /// The last polls' latencies, oldest first (`None`: no answer), for the sparkline.
    pub latencies: Vec<Option<f64>>,
}

impl ServiceSnapshot {
    /// The service `name` of `state` at `now`; `None` when the inventory lacks it.
    pub fn of(state: &FloorState, name: &str, now: Timestamp) -> Option<ServiceSnapshot> {
        let t = state.service(name)?;
        Some(ServiceSnapshot {
            floor_name: state.inventory.floor.name.clone(),
            zone: Zone::of(&state.calendar),
            view: ServiceView::detail(t, now),
            status_path: state
                .inventory
                .services
                .iter()
                .find(|e| e.name == name)
                .map_or_else(|| "/ops/status".to_owned(), |e| e.status_path.clone()),
            latencies: t.recent_latency_ms.iter().copied().collect(),
        })
    }
}

/// A label and a value.
#[derive(Debug, Clone)]
pub struct Fact {
    /// The label.
    pub label: &'static str,
    /// The value, as text.
    pub value: String,
    /// The value as markup already escaped (a `<time>`, a URL with break points),
    /// shown instead of `value` when present.
    pub markup: Option<String>,
    /// Prose or a long URL: it may wrap (between words; a URL at its slashes and
    /// dots only). Every other value keeps its width.
    pub wrap: bool,
}

/// A fact whose value is prose, which may wrap between words.
fn prose(label: &'static str, value: impl Into<String>) -> Fact {
    Fact {
        wrap: true,
        ..fact(label, value)
    }
}

fn fact(label: &'static str, value: impl Into<String>) -> Fact {
    Fact {
        label,
        value: value.into(),
        markup: None,
        wrap: false,
    }
}

/// A fact whose value is an instant: venue time shown, UTC in the title, and its
/// age when `with_age` (`Wed 7 Jan 10:00:05 EST (12 s ago)`); `–` when absent.
fn stamp_fact(label: &'static str, zone: &Zone, at: Option<Timestamp>, now: Timestamp) -> Fact {
    match at {
        Some(t) => {
            let shown = format!("{} ({})", stamp(zone, t), ago(seconds_between(t, now)));
            Fact {
                markup: Some(format!(
                    "<time datetime=\"{}\" title=\"{}\">{}</time>",
                    opsfloor_contract::time::format_timestamp(t),
                    escape(&utc_long(t)),
                    escape(&shown)
                )),
                ..fact(label, shown)
            }
        }
        None => fact(label, "–"),
    }
}

/// The page's one timestamp format: the venue's local date and time to the second.
pub fn stamp(zone: &Zone, t: Timestamp) -> String {
    format!("{} {}", zone.date(t), zone.clock(t))
}

/// A URL as markup that may wrap only after `/`, `.`, `:`, `?`, `&` and `=`.
pub fn url_markup(url: &str) -> String {
    let mut out = String::with_capacity(url.len() + 16);
    for c in url.chars() {
        out.push_str(&escape(&c.to_string()));
        if matches!(c, '/' | '.' | ':' | '?' | '&' | '=') {
            out.push_str("<wbr>");
        }
    }
    out
}

/// A reason code with its table row.
#[derive(Debug, Clone)]
pub struct Reason {
    /// The code.
    pub code: String,
    /// What it means.
    pub description: String,
    /// What to look at first.
    pub runbook: String,
}

/// One transition in the table.
#[derive(Debug, Clone)]
pub struct TransitionRow {
    /// When, in the calendar's zone and UTC.
    pub at: String,
    /// RFC 3339.
    pub at_iso: String,
    /// The state before, in words.
    pub from: String,
    /// The look's class after.
    pub class: &'static str,
    /// The state after, in words.
    pub to: &'static str,
    /// The reason codes after.
    pub codes: String,
}

#[derive(Template)]
#[template(path = "service.html")]
struct ServicePage {
    chrome: Chrome,
    name: String,
    class: &'static str,
    word: &'static str,
    codes: String,
    reason: String,
    since: String,
    /// "until …. note" while a maintenance window covers the service.
    maintenance: Option<String>,
    reasons: Vec<Reason>,
    identity: Vec<Fact>,
    build: Vec<Fact>,
    polling: Vec<Fact>,
    freshness: Vec<Fact>,
    gates: Vec<Fact>,
    gating: Vec<Reason>,
    findings: Vec<Reason>,
    problems: Vec<String>,
    document: Option<String>,
    strips: Vec<StripView>,
    sparkline: Option<String>,
    history_note: String,
    transitions: Vec<TransitionRow>,
}

fn text(doc: Option<&Value>, pointer: &str) -> Option<String> {
    match doc?.pointer(pointer)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn or_dash(value: Option<String>) -> String {
    value.unwrap_or_else(|| "–".to_owned())
}

fn reasons_of(codes: &[opsfloor_contract::ReasonCode], status_path: &str) -> Vec<Reason> {
    codes
        .iter()
        .map(|c| Reason {
            code: c.as_str().to_owned(),
            description: c.description().to_owned(),
            runbook: hint(
                c.info().map_or("Check the service's logs", |i| i.runbook),
                status_path,
            ),
        })
        .collect()
}

/// An instant in the page's one format (see [`stamp`]).
fn when(zone: &Zone, t: Timestamp) -> String {
    stamp(zone, t)
}

/// Renders the page. `history` is `None` when the floor keeps no history.
pub fn render(
    s: &ServiceSnapshot,
    history: Option<Result<Recorded, HistoryError>>,
    now: Timestamp,
    viewer: &Viewer,
) -> Result<String, askama::Error> {
    let v = &s.view;
    let zone = &s.zone;
    let status = &v.status;
    let l = look(status.state, &status.reason_codes);
    let since = instant(Some(&v.since)).unwrap_or(now);
    let doc = v.document.as_ref();

    let identity = vec![
        fact("Kind", v.service_kind.as_str()),
        fact("Criticality", v.criticality.as_str()),
        Fact {
            markup: Some(url_markup(&v.url)),
            wrap: true,
            ..fact("URL", v.url.clone())
        },
        prose(
            "Expected to run",
            if v.expected_to_run {
                "Yes"
            } else {
                "No: scaled to zero or disabled by the inventory"
            },
        ),
        fact(
            "Agent name",
            or_dash(text(doc, "/agent_identity/agent_name")),
        ),
        fact(
            "Agent role",
            or_dash(text(doc, "/agent_identity/agent_role")),
        ),
        fact("Repository", or_dash(text(doc, "/repo_id"))),
    ];
    let b = v.build.as_ref();
    let build = vec![
        fact("Git SHA", or_dash(b.and_then(|b| b.git_sha.clone()))),
        fact("Build ID", or_dash(b.and_then(|b| b.build_id.clone()))),
        fact("Agent mode", or_dash(b.and_then(|b| b.agent_mode.clone()))),
    ];
    let mut polling = vec![
        stamp_fact("Last poll", zone, instant(v.last_poll_utc.as_deref()), now),
        stamp_fact(
            "Last answer",
            zone,
            instant(v.last_seen_utc.as_deref()),
            now,
        ),
        fact("Latency", millis(v.latency_ms)),
        fact("Failed polls in a row", v.consecutive_failures.to_string()),
    ];
    if let Some(e) = &v.last_error {
        polling.push(prose("Last problem", e.clone()));
    }
    let fresh = match v.marketdata_is_fresh {
        Some(true) => "Fresh",
        Some(false) => "Stale",
        None => "Unknown or not used",
    };
    // While the service does not answer, its last document is history: say so.
    let (fresh, heartbeat_age) = match v.document_as_of_utc {
        Some(_) => (
            format!("{fresh} at last contact"),
            v.heartbeat_age_seconds.map_or_else(
                || seconds(None),
                |age| format!("{} at last contact", seconds(Some(age))),
            ),
        ),
        None => (fresh.to_owned(), seconds(v.heartbeat_age_seconds)),
    };
    let freshness = vec![
        fact("Heartbeat age", heartbeat_age),
        fact(
            "Heartbeat TTL",
            or_dash(text(doc, "/heartbeat/ttl_seconds").map(|t| format!("{t} s"))),
        ),
        stamp_fact(
            "Last heartbeat",
            zone,
            instant(text(doc, "/heartbeat/last_heartbeat_utc").as_deref()),
            now,
        ),
        fact("Market data", fresh),
        stamp_fact(
            "Last tick",
            zone,
            instant(text(doc, "/marketdata/last_tick_utc").as_deref()),
            now,
        ),
        stamp_fact(
            "Last bar",
            zone,
            instant(text(doc, "/marketdata/last_bar_utc").as_deref()),
            now,
        ),
        fact(
            "Stale after",
            or_dash(text(doc, "/marketdata/stale_threshold_seconds").map(|t| format!("{t} s"))),
        ),
    ];
    let (gates, gating) = match &v.safety {
        Some(g) => (
            vec![
                prose(
                    "Kill switch",
                    if g.kill_switch {
                        "Engaged: trading stopped on purpose"
                    } else {
                        "Released"
                    },
                ),
                fact("Safe to run strategies", yes_no(g.safe_to_run_strategies)),
                fact("Safe to execute orders", yes_no(g.safe_to_execute_orders)),
            ],
            reasons_of(&g.gating_reasons, &s.status_path),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let mut findings = reasons_of(&v.findings, &s.status_path);
    if let Some(e) = &v.evaluated {
        for f in &mut findings {
            f.description = format!(
                "{} (the document's own fields say {} {})",
                f.description,
                e.state,
                codes_text(&e.reason_codes)
            );
        }
    }
    let document = doc.map(|d| {
        serde_json::to_string_pretty(d)
            .unwrap_or_else(|e| format!("(the document could not be shown: {e})"))
    });

    let from = now.checked_sub(WINDOW).unwrap_or(now);
    let (marks, history_note, rows) = match history {
        None => (
            current_only(status.state, &status.reason_codes, since),
            "This floor keeps no history (it was started without a database): the strip shows only the current state.".to_owned(),
            Vec::new(),
        ),
        Some(Err(e)) => (
            current_only(status.state, &status.reason_codes, since),
            format!("The history could not be read: {e}"),
            Vec::new(),
        ),
        Some(Ok(recorded)) => {
            let note = if recorded.truncated {
                "More transitions than can be shown: the oldest are left out.".to_owned()
            } else {
                String::new()
            };
            let rows = recorded
                .inside
                .iter()
                .rev()
                .filter(|t| t.at >= from)
                .map(|t| {
                    let to = look(t.to, &t.reason_codes);
                    TransitionRow {
                        at: when(zone, t.at),
                        at_iso: opsfloor_contract::time::format_timestamp(t.at),
                        from: t.from.map_or("–", |f| look(f, &[]).word).to_owned(),
                        class: to.class,
                        to: to.word,
                        codes: codes_text(&t.reason_codes),
                    }
                })
                .collect();
            (recorded.marks(), note, rows)
        }
    };
    let strips = strips(&marks, zone, &v.service_name, now);

    let page = ServicePage {
        chrome: Chrome::new(
            Page::Service,
            format!("{} · {}", v.service_name, s.floor_name),
            &s.floor_name,
            zone,
            now,
            viewer,
        ),
        name: v.service_name.clone(),
        class: l.class,
        word: l.word,
        codes: codes_text(&status.reason_codes),
        reason: reason_text(status.state, &status.reason_codes, OK_SERVICE),
        since: format!(
            "{} (for {})",
            when(zone, since),
            span(seconds_between(since, now))
        ),
        maintenance: v
            .maintenance
            .as_ref()
            .map(|b| crate::maintenance::badge_text(b, zone)),
        reasons: reasons_of(&status.reason_codes, &s.status_path),
        identity,
        build,
        polling,
        freshness,
        gates,
        gating,
        findings,
        problems: v.problems.clone(),
        document,
        strips,
        sparkline: (!s.latencies.is_empty()).then(|| strip::sparkline(&s.latencies)),
        history_note,
        transitions: rows,
    };
    page.render()
}
