//! The JSON shapes of the API, built from a [`FloorState`]. Field order is fixed
//! by these structs, so the same state always serialises to the same bytes.

use std::collections::BTreeMap;

use jiff::Timestamp;
use opsfloor_contract::time::Seconds;
use opsfloor_contract::time::{age_seconds, format_timestamp};
use opsfloor_contract::{
    AgentIdentity, Calendar, Criticality, Document, Endpoints, Heartbeat, ReasonCode, Safety,
    ServiceKind, State, Status, UtcTimestamp,
};
use serde::Serialize;

use crate::redact::redact;
use crate::state::FloorState;
use crate::tracker::Tracked;

/// `/api/v1/floor`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct FloorView {
    /// The floor's own contract document (kind `floor`).
    pub floor: Document,
    /// The rollup rule that decided (1–8).
    pub rule: u8,
    /// The services that decided it.
    pub contributors: Vec<String>,
    /// Since when the floor's state holds.
    pub since: String,
    /// The market on the floor's calendar.
    pub market: MarketView,
    /// How many services are in each state.
    pub counts: BTreeMap<State, usize>,
    /// When the rollup was last computed (after any service's state changed, and at
    /// least once per poll interval).
    pub last_rollup_utc: Option<String>,
    /// Seconds since the oldest current poll result: how far behind the picture may
    /// be (`null` until every polled service has been polled once).
    pub oldest_result_age_seconds: Option<f64>,
    /// Present while a `floor = true` maintenance window is open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maintenance: Option<MaintenanceBadge>,
}

/// The market, as the floor's calendar sees it now.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct MarketView {
    /// The floor's default calendar's name (`[floor] calendar`).
    pub calendar: &'static str,
    /// Open now, on the floor's default calendar.
    pub is_open: Option<bool>,
    /// The next open.
    pub next_open_utc: Option<String>,
    /// The next close.
    pub next_close_utc: Option<String>,
    /// Every venue of the floor's services, by name: the floor is MARKET_CLOSED only
    /// when every venue of its services expected to run is closed.
    pub venues: Vec<VenueView>,
}

/// One venue of the floor, now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct VenueView {
    /// The calendar's canonical name (`XNYS`, `XTKS`, `always-open`).
    pub calendar: &'static str,
    /// Open now; `null` outside the calendar's supported range.
    pub is_open: Option<bool>,
    /// The next open; `null` when unknown or always open.
    pub next_open_utc: Option<String>,
    /// The next close; `null` when unknown or never closing.
    pub next_close_utc: Option<String>,
}

impl VenueView {
    /// `calendar` at `now`.
    pub fn of(calendar: &Calendar, now: Timestamp) -> VenueView {
        VenueView {
            calendar: calendar.name(),
            is_open: calendar.is_open(now).ok(),
            next_open_utc: calendar.next_open(now).ok().flatten().map(ts),
            next_close_utc: calendar.next_close(now).ok().flatten().map(ts),
        }
    }
}

/// The contract's own `status` block.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct StatusView {
    /// The state.
    pub state: State,
    /// The summary.
    pub summary: String,
    /// The reason codes.
    pub reason_codes: Vec<ReasonCode>,
    /// When the service last decided it.
    pub last_updated_utc: Option<String>,
}

/// What the truth table said about the document's own fields.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct EvaluatedView {
    /// The state.
    pub state: State,
    /// The reason codes.
    pub reason_codes: Vec<ReasonCode>,
}

/// Build information from the last valid document.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct BuildView {
    /// `git_sha`.
    pub git_sha: Option<String>,
    /// `build_id`.
    pub build_id: Option<String>,
    /// `agent_identity.agent_mode`.
    pub agent_mode: Option<String>,
}

/// One entry of `/api/v1/services` (and, with `document`, of `/api/v1/services/{name}`).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ServiceView {
    /// The name.
    pub service_name: String,
    /// The kind.
    pub service_kind: ServiceKind,
    /// The criticality.
    pub criticality: Criticality,
    /// The base URL.
    pub url: String,
    /// False when scaled to zero or disabled by the inventory.
    pub expected_to_run: bool,
    /// The contract's status block.
    pub status: StatusView,
    /// Since when this state holds.
    pub since: String,
    /// The last poll.
    pub last_poll_utc: Option<String>,
    /// The last poll that got an answer.
    pub last_seen_utc: Option<String>,
    /// Seconds since then.
    pub last_seen_seconds_ago: Option<f64>,
    /// The last poll's latency, milliseconds.
    pub latency_ms: Option<f64>,
    /// The last poll's problem.
    pub last_error: Option<String>,
    /// Failed polls in a row.
    pub consecutive_failures: u32,
    /// The service reports its kill switch engaged.
    pub kill_switch: bool,
    /// Findings beyond the state, e.g. `STATE_MISMATCH`.
    pub findings: Vec<ReasonCode>,
    /// The truth table on the document's own fields.
    pub evaluated: Option<EvaluatedView>,
    /// Problems with the last document, by JSON pointer.
    pub problems: Vec<String>,
    /// Build information.
    pub build: Option<BuildView>,
    /// Set while the last poll got no answer: the build, heartbeat, market data and
    /// safety shown are from the last document, received at this instant, not current.
    pub document_as_of_utc: Option<String>,
    /// The heartbeat's age when the last document was built, seconds.
    pub heartbeat_age_seconds: Option<f64>,
    /// Market data freshness from the last document (`null`: unknown or not a consumer).
    pub marketdata_is_fresh: Option<bool>,
    /// The safety gates from the last document.
    pub safety: Option<Safety>,
    /// The last document received, redacted (detail view only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<serde_json::Value>,
    /// Present while a maintenance window covers the service: its state is still
    /// shown as it is, but nothing alerts and the SLO leaves the time out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maintenance: Option<MaintenanceBadge>,
}

/// The maintenance window open over a service or the floor, for its badge. The
/// engine knows no windows: the shell that reads the inventory's
/// `[[maintenance]]` fills it in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct MaintenanceBadge {
    /// The window's `note` (may be empty).
    pub note: String,
    /// When this occurrence of the window ends.
    pub until_utc: UtcTimestamp,
}

fn ts(t: Timestamp) -> String {
    format_timestamp(t)
}

impl ServiceView {
    /// The list entry for a tracked service.
    pub fn of(t: &Tracked, now: Timestamp) -> ServiceView {
        ServiceView {
            service_name: t.name.clone(),
            service_kind: t.kind,
            criticality: t.criticality,
            url: t.url.clone(),
            expected_to_run: t.expected_to_run,
            status: StatusView {
                state: t.state,
                summary: t.summary.clone(),
                reason_codes: t.reason_codes.clone(),
                last_updated_utc: t.last_updated.map(ts),
            },
            since: ts(t.since),
            last_poll_utc: t.last_poll.map(ts),
            last_seen_utc: t.last_seen.map(ts),
            last_seen_seconds_ago: t
                .last_seen
                .map(|seen| (age_seconds(seen, now) * 10.0).round() / 10.0),
            latency_ms: t.latency_ms.map(|ms| (ms * 100.0).round() / 100.0),
            last_error: t.last_error.clone(),
            consecutive_failures: t.consecutive_failures,
            kill_switch: t.kill_switch,
            findings: t.findings.clone(),
            evaluated: t
                .evaluated
                .clone()
                .map(|(state, reason_codes)| EvaluatedView {
                    state,
                    reason_codes,
                }),
            problems: t.problems.clone(),
            build: t.typed.as_ref().map(|d| BuildView {
                git_sha: d.git_sha.clone(),
                build_id: d.build_id.clone(),
                agent_mode: d.agent_identity.agent_mode.clone(),
            }),
            document_as_of_utc: t.out_of_contact().then_some(t.last_seen).flatten().map(ts),
            heartbeat_age_seconds: t.typed.as_ref().and_then(|d| d.heartbeat.age_seconds),
            marketdata_is_fresh: t
                .typed
                .as_ref()
                .and_then(|d| d.marketdata.as_ref())
                .and_then(|m| m.is_fresh),
            safety: t.typed.as_ref().map(|d| d.safety.clone()),
            document: None,
            maintenance: None,
        }
    }

    /// The detail entry: the list entry plus the redacted last document.
    pub fn detail(t: &Tracked, now: Timestamp) -> ServiceView {
        let mut view = ServiceView::of(t, now);
        // Parsed only here, on request. The text was JSON when it arrived.
        view.document = t
            .document
            .as_deref()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
            .map(|v| redact(&v));
        view
    }
}

/// The floor's own contract document, so a floor can be a service of another floor.
pub fn floor_document(s: &FloorState, now: Timestamp) -> Document {
    let v = &s.verdict;
    let name = s.inventory.floor.name.clone();
    let kill_switch = s.services().iter().any(|t| t.kill_switch);
    let beat = s.last_rollup.unwrap_or(s.started);
    let runs = matches!(v.state, State::Ok | State::Degraded | State::MarketClosed);
    let executes = v.state == State::Ok
        && s.services().iter().any(|t| {
            t.typed
                .as_ref()
                .is_some_and(|d| d.safety.safe_to_execute_orders)
        });
    let gating_reasons = if runs && executes {
        Vec::new()
    } else {
        v.reason_codes.clone()
    };
    Document {
        service_name: name.clone(),
        service_kind: ServiceKind::Floor,
        repo_id: "opsfloor".to_owned(),
        git_sha: None,
        build_id: Some(concat!("opsfloor-", env!("CARGO_PKG_VERSION")).to_owned()),
        agent_identity: AgentIdentity {
            agent_name: name,
            agent_role: Some("floor".to_owned()),
            agent_mode: Some("AGGREGATE".to_owned()),
        },
        status: Status {
            state: v.state,
            summary: v.state.summary().to_owned(),
            reason_codes: v.reason_codes.clone(),
            last_updated_utc: Some(UtcTimestamp(now)),
        },
        heartbeat: Heartbeat {
            last_heartbeat_utc: Some(UtcTimestamp(beat)),
            age_seconds: Some(age_seconds(beat, now)),
            ttl_seconds: Some(Seconds(
                3.0 * s.inventory.floor.poll_interval_ms as f64 / 1000.0,
            )),
        },
        marketdata: None,
        safety: Safety {
            kill_switch,
            safe_to_run_strategies: runs && !kill_switch,
            safe_to_execute_orders: executes && !kill_switch,
            gating_reasons,
        },
        endpoints: Some(Endpoints {
            healthz: Some("/health".to_owned()),
            heartbeat: None,
            metrics: Some("/metrics".to_owned()),
        }),
        // The floor has a market per venue: `/api/v1/floor` lists them.
        market: None,
    }
}

impl FloorView {
    /// The floor view at `now`.
    pub fn of(s: &FloorState, now: Timestamp) -> FloorView {
        let mut counts = BTreeMap::new();
        for t in s.services() {
            *counts.entry(t.state).or_insert(0) += 1;
        }
        FloorView {
            floor: floor_document(s, now),
            rule: s.verdict.rule.number(),
            contributors: s.verdict.contributors.clone(),
            since: ts(s.since),
            market: MarketView {
                calendar: s.calendar.name(),
                is_open: s.market_open_at(now),
                next_open_utc: s.calendar.next_open(now).ok().flatten().map(ts),
                next_close_utc: s.calendar.next_close(now).ok().flatten().map(ts),
                venues: s
                    .venues()
                    .into_iter()
                    .map(|c| VenueView::of(c, now))
                    .collect(),
            },
            counts,
            last_rollup_utc: s.last_rollup.map(ts),
            oldest_result_age_seconds: s.oldest_result_age(now).map(|a| (a * 10.0).round() / 10.0),
            maintenance: None,
        }
    }
}
