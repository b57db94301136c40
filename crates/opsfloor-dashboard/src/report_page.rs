//! `/report`: the deployment report as a page, rendered from the report's own data
//! ([`opsfloor_report::Report`]), never from its markdown: the floor's banner, the
//! top issues once per reason code with the services under each, every service in a
//! table that turns into cards on a phone, and links to the markdown and JSON forms
//! (`/api/v1/report?format=markdown|json`).

use std::cmp::Reverse;

use askama::Template;
use jiff::Timestamp;
use opsfloor_alerts::MaintenanceWindow;
use opsfloor_contract::ReasonCode;
use opsfloor_engine::FloorState;
use opsfloor_engine::view::ServiceView;
use opsfloor_report::Report;

use crate::chrome::{Chrome, Page, Viewer};
use crate::clock::{Zone, instant};
use crate::floor_page::{all_unreachable, contributors};
use crate::words::{OK_FLOOR, codes_text, floor_reason_text, hint, look, service_href};

/// The markdown download.
pub const MARKDOWN_HREF: &str = "/api/v1/report?format=markdown";
/// The JSON download.
pub const JSON_HREF: &str = "/api/v1/report?format=json";

/// A service named under an issue, with its page.
#[derive(Debug, Clone)]
pub struct Named {
    /// The name.
    pub name: String,
    /// Its page.
    pub href: String,
}

/// One top issue: a reason code, once, with every service it applies to.
#[derive(Debug, Clone)]
pub struct IssueGroup {
    /// The code (`KILL_SWITCH`).
    pub code: String,
    /// `critical`, `warning` or `info`.
    pub severity: String,
    /// What it means.
    pub description: String,
    /// What to look at first, as plain text.
    pub hint: String,
    /// The services, most severe first (the report's order).
    pub services: Vec<Named>,
}

/// One row of the services table.
#[derive(Debug, Clone)]
pub struct ServiceRow {
    /// The name.
    pub name: String,
    /// Its page.
    pub href: String,
    /// The kind.
    pub kind: String,
    /// The criticality.
    pub criticality: &'static str,
    /// The look's class.
    pub class: &'static str,
    /// The state in words.
    pub word: &'static str,
    /// The reason codes.
    pub codes: String,
    /// `sha / id / mode`.
    pub build: String,
    /// The heartbeat's age.
    pub heartbeat: String,
    /// Market data freshness.
    pub marketdata: String,
    /// The safety gates.
    pub safety: String,
    /// The status URL.
    pub url: String,
    /// "until …. note" while a maintenance window covers the service.
    pub maintenance: Option<String>,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    chrome: Chrome,
    class: &'static str,
    word: &'static str,
    codes: String,
    reason: String,
    decided: String,
    market: String,
    generated: String,
    issues: Vec<IssueGroup>,
    /// "until …. note" while a `floor = true` window is open.
    floor_maintenance: Option<String>,
    services: Vec<ServiceRow>,
    problems: Vec<(String, String)>,
    markdown_href: &'static str,
    json_href: &'static str,
}

/// The code an issue is filed under: its most severe code, first in the table's
/// order among equals (as the report picks its description).
fn worst(codes: &[ReasonCode]) -> Option<&ReasonCode> {
    codes
        .iter()
        .max_by_key(|c| (c.severity(), Reverse(c.rank())))
}

/// The report's top issues, one per reason code in the report's order (most severe
/// first), each listing its services once.
pub fn issue_groups(report: &Report) -> Vec<IssueGroup> {
    let mut groups: Vec<IssueGroup> = Vec::new();
    for issue in &report.top_issues {
        let Some(code) = worst(&issue.reason_codes) else {
            continue;
        };
        let named = Named {
            name: issue.service_name.clone(),
            href: service_href(&issue.service_name),
        };
        match groups.iter_mut().find(|g| g.code == code.as_str()) {
            Some(g) => {
                if !g.services.iter().any(|n| n.name == named.name) {
                    g.services.push(named);
                }
            }
            None => groups.push(IssueGroup {
                code: code.as_str().to_owned(),
                severity: issue.severity.clone(),
                description: issue.description.clone(),
                hint: hint(&issue.runbook, "/ops/status"),
                services: vec![named],
            }),
        }
    }
    groups
}

fn dash(value: Option<String>) -> String {
    value.unwrap_or_else(|| "–".to_owned())
}

fn as_of(s: &ServiceView) -> &'static str {
    if s.document_as_of_utc.is_some() {
        " at last contact"
    } else {
        ""
    }
}

/// The table row for one service.
pub fn service_row(s: &ServiceView, zone: &Zone) -> ServiceRow {
    let l = look(s.status.state, &s.status.reason_codes);
    let yes = |b: bool| if b { "yes" } else { "no" };
    ServiceRow {
        name: s.service_name.clone(),
        href: service_href(&s.service_name),
        kind: s.service_kind.as_str().to_owned(),
        criticality: s.criticality.as_str(),
        class: l.class,
        word: l.word,
        codes: codes_text(&s.status.reason_codes),
        build: dash(s.build.as_ref().map(|b| {
            format!(
                "{} / {} / {}",
                b.git_sha.as_deref().unwrap_or("–"),
                b.build_id.as_deref().unwrap_or("–"),
                b.agent_mode.as_deref().unwrap_or("–")
            )
        })),
        heartbeat: dash(
            s.heartbeat_age_seconds
                .filter(|a| a.is_finite())
                .map(|a| format!("{a:.1} s{}", as_of(s))),
        ),
        marketdata: dash(
            s.marketdata_is_fresh
                .map(|f| format!("{}{}", if f { "fresh" } else { "stale" }, as_of(s))),
        ),
        safety: dash(s.safety.as_ref().map(|g| {
            format!(
                "run {}, orders {}{}",
                yes(g.safe_to_run_strategies),
                yes(g.safe_to_execute_orders),
                if g.kill_switch {
                    ", kill switch engaged"
                } else {
                    ""
                }
            )
        })),
        url: s.url.clone(),
        maintenance: s
            .maintenance
            .as_ref()
            .map(|b| crate::maintenance::badge_text(b, zone)),
    }
}

fn market_line(report: &Report, zone: &Zone) -> String {
    let m = &report.market;
    let at = |iso: Option<&str>| {
        instant(iso).map(|t| {
            if zone.is_utc() {
                crate::clock::utc_day_time(t)
            } else {
                format!("{} ({})", zone.day_time(t), crate::clock::utc_day_time(t))
            }
        })
    };
    match m.is_open {
        Some(true) => format!(
            "Market {}: open; closes {}.",
            m.calendar,
            dash(at(m.next_close_utc.as_deref()))
        ),
        Some(false) => format!(
            "Market {}: closed; opens {}.",
            m.calendar,
            dash(at(m.next_open_utc.as_deref()))
        ),
        None => format!(
            "Market {}: unknown (outside the calendar's range).",
            m.calendar
        ),
    }
}

/// The report page for `state` at `now`.
///
/// # Errors
/// When the template cannot be rendered.
pub fn render(
    state: &FloorState,
    windows: &[MaintenanceWindow],
    now: Timestamp,
    viewer: &Viewer,
) -> Result<String, askama::Error> {
    let zone = Zone::of(&state.calendar);
    let name = &state.inventory.floor.name;
    let report = Report::of(state, now)
        .with_maintenance(|service| opsfloor_server::maintenance::badge(windows, service, now));
    let status = &report.floor.status;
    let l = look(status.state, &status.reason_codes);
    let decided = contributors(&report.contributors);
    ReportPage {
        chrome: Chrome::new(
            Page::Report,
            format!("Report · {name}"),
            name,
            &zone,
            now,
            viewer,
        ),
        class: l.class,
        word: l.word,
        codes: codes_text(&status.reason_codes),
        reason: floor_reason_text(
            status.state,
            &status.reason_codes,
            OK_FLOOR,
            all_unreachable(&report.services),
        ),
        decided: if decided.is_empty() {
            format!("Rule {}.", report.rule)
        } else {
            format!("Rule {}: {decided}.", report.rule)
        },
        market: market_line(&report, &zone),
        generated: report.generated_at.clone(),
        issues: issue_groups(&report),
        floor_maintenance: report
            .maintenance
            .as_ref()
            .map(|b| crate::maintenance::badge_text(b, &zone)),
        services: report
            .services
            .iter()
            .map(|s| service_row(s, &zone))
            .collect(),
        problems: report
            .services
            .iter()
            .flat_map(|s| {
                s.problems
                    .iter()
                    .map(|p| (s.service_name.clone(), p.clone()))
            })
            .collect(),
        markdown_href: MARKDOWN_HREF,
        json_href: JSON_HREF,
    }
    .render()
}
