//! The deployment report: one deterministic page that says what is deployed, where,
//! with which build, whether it is healthy and whether it may run.
//!
//! A [`Report`] is built from an `opsfloor_engine::FloorState` (live, replayed, or the running
//! floor's) and rendered as JSON (the API's own shapes), GitHub-flavoured markdown
//! ([`markdown`]) or a terminal table ([`table`]). Nothing in it depends on timing:
//! latencies are left out, and the clock is the `now` it is given.

mod cells;
pub mod markdown;
pub mod recording;
pub mod since;
pub mod table;

use jiff::Timestamp;
use opsfloor_contract::time::format_timestamp;
use opsfloor_contract::{Document, ReasonCode, Severity, State};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use opsfloor_engine::FloorState;
use opsfloor_engine::view::{FloorView, MaintenanceBadge, MarketView, ServiceView};

pub use since::Changes;

/// The report's JSON form (`schema/report.schema.json`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Report {
    /// The version of this shape.
    pub report_format: u32,
    /// The instant the report describes.
    pub generated_at: String,
    /// The floor's own contract document, as at `/ops/status`.
    pub floor: Document,
    /// The rollup rule that decided (1–8).
    pub rule: u8,
    /// The services that decided it.
    pub contributors: Vec<String>,
    /// The market on the floor's calendar.
    pub market: MarketView,
    /// Every service, as in `/api/v1/services`.
    pub services: Vec<ServiceView>,
    /// The services that are not calm, most severe first, then by name.
    pub top_issues: Vec<Issue>,
    /// Present while a `floor = true` maintenance window is open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maintenance: Option<MaintenanceBadge>,
    /// What changed since an earlier report (`--since`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<Changes>,
}

/// One service that needs attention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Issue {
    /// The service.
    pub service_name: String,
    /// Its state.
    pub state: State,
    /// Its reason codes.
    pub reason_codes: Vec<ReasonCode>,
    /// The most severe of its codes: `info`, `warning` or `critical`.
    pub severity: String,
    /// What the code means, in words.
    pub description: String,
    /// What to look at first (from the reason-code table).
    pub runbook: String,
}

/// One issue of [`Report::issue_groups`] and every service it concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueGroup<'a> {
    /// The group's first issue (its state, codes, description and runbook).
    pub issue: &'a Issue,
    /// The services with this issue, in the top issues' order.
    pub services: Vec<&'a str>,
}

/// The shape version written in `report_format`.
pub const REPORT_FORMAT: u32 = 1;

impl Report {
    /// The report on `state` as of `now`.
    pub fn of(state: &FloorState, now: Timestamp) -> Report {
        let view = FloorView::of(state, now);
        let mut services: Vec<ServiceView> = state
            .services()
            .iter()
            .map(|t| ServiceView::of(t, now))
            .collect();
        for s in &mut services {
            // Timing is not part of a deterministic report.
            s.latency_ms = None;
        }
        let mut top_issues: Vec<(u8, u8, Issue)> = services.iter().filter_map(issue).collect();
        top_issues.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then(b.1.cmp(&a.1))
                .then(a.2.service_name.cmp(&b.2.service_name))
        });
        Report {
            report_format: REPORT_FORMAT,
            generated_at: format_timestamp(now),
            floor: view.floor,
            rule: view.rule,
            contributors: view.contributors,
            market: view.market,
            services,
            top_issues: top_issues.into_iter().map(|(_, _, i)| i).collect(),
            maintenance: None,
            changes: None,
        }
    }

    /// The report with maintenance badges: `badge(Some(service))` for each service,
    /// `badge(None)` for the floor. The report knows no windows; the caller that
    /// read the inventory's `[[maintenance]]` does.
    pub fn with_maintenance(
        mut self,
        badge: impl Fn(Option<&str>) -> Option<MaintenanceBadge>,
    ) -> Report {
        for s in &mut self.services {
            s.maintenance = badge(Some(&s.service_name));
        }
        self.maintenance = badge(None);
        self
    }

    /// The top issues with each issue once: issues that say the same thing (state,
    /// reason codes and runbook) are one group naming all their services, in the
    /// order of each group's first (most severe) issue. Five services under one
    /// kill switch are one issue, not five.
    pub fn issue_groups(&self) -> Vec<IssueGroup<'_>> {
        let mut groups: Vec<IssueGroup<'_>> = Vec::new();
        for issue in &self.top_issues {
            let same = |g: &&mut IssueGroup<'_>| {
                g.issue.state == issue.state
                    && g.issue.reason_codes == issue.reason_codes
                    && g.issue.runbook == issue.runbook
            };
            match groups.iter_mut().find(same) {
                Some(group) => group.services.push(&issue.service_name),
                None => groups.push(IssueGroup {
                    issue,
                    services: vec![&issue.service_name],
                }),
            }
        }
        groups
    }

    /// The floor's state.
    pub fn state(&self) -> State {
        self.floor.status.state
    }

    /// The report as pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        // Invariant: the report is plain data (strings, numbers, maps with string
        // keys), which serde_json always serialises.
        #[allow(clippy::expect_used)]
        let mut text = serde_json::to_string_pretty(self).expect("a report always serialises");
        text.push('\n');
        text
    }

    /// The JSON Schema of the report, as committed at `schema/report.schema.json`.
    pub fn schema_json() -> String {
        let schema = schemars::generate::SchemaSettings::draft2020_12()
            .into_generator()
            .into_root_schema_for::<Report>();
        #[allow(clippy::expect_used)]
        let mut text = serde_json::to_string_pretty(&schema).expect("a schema always serialises");
        text.push('\n');
        text
    }
}

/// How bad a state is for the go/no-go: the exit-code ladder.
pub fn badness(state: State) -> u8 {
    match state {
        State::Ok => 0,
        State::MarketClosed => 1,
        State::Degraded => 2,
        State::Halted => 3,
        State::Offline => 4,
        State::Unknown => 5,
    }
}

/// The exit code for a floor in `state` when states from `fail_on` up fail:
/// 0 passes; otherwise 1 DEGRADED, 2 HALTED, 3 OFFLINE, 4 UNKNOWN, 5 MARKET_CLOSED
/// (the last only when `fail_on` is MARKET_CLOSED).
pub fn exit_code(state: State, fail_on: State) -> u8 {
    if badness(state) < badness(fail_on) {
        return 0;
    }
    match state {
        State::Ok => 0,
        State::Degraded => 1,
        State::Halted => 2,
        State::Offline => 3,
        State::Unknown => 4,
        State::MarketClosed => 5,
    }
}

/// A service that is not calm, with sort keys (severity, state badness).
fn issue(s: &ServiceView) -> Option<(u8, u8, Issue)> {
    let state = s.status.state;
    let codes = &s.status.reason_codes;
    if opsfloor_contract::is_calm(state, codes) && s.findings.is_empty() {
        return None;
    }
    let mut all: Vec<ReasonCode> = codes.clone();
    all.extend(s.findings.iter().cloned());
    let worst = all
        .iter()
        .max_by_key(|c| (c.severity(), std::cmp::Reverse(c.rank())))?
        .clone();
    let severity = worst.severity();
    let rank = match severity {
        Severity::Info => 0,
        Severity::Warning => 1,
        Severity::Critical => 2,
    };
    let runbook = worst
        .info()
        .map_or("Check the service's logs", |i| i.runbook)
        .to_owned();
    Some((
        rank,
        badness(state),
        Issue {
            service_name: s.service_name.clone(),
            state,
            reason_codes: all,
            severity: severity.as_str().to_owned(),
            description: worst.description().to_owned(),
            runbook,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exit_code_ladder() {
        use State::*;
        for (state, code) in [
            (Ok, 0),
            (MarketClosed, 0),
            (Degraded, 1),
            (Halted, 2),
            (Offline, 3),
            (Unknown, 4),
        ] {
            assert_eq!(exit_code(state, Degraded), code, "{state}");
        }
        // A post-deploy check that accepts DEGRADED.
        assert_eq!(exit_code(Degraded, Halted), 0);
        assert_eq!(exit_code(Halted, Halted), 2);
        // A strict go/no-go that passes only on OK.
        assert_eq!(exit_code(MarketClosed, MarketClosed), 5);
        assert_eq!(exit_code(Ok, MarketClosed), 0);
    }
}
