//! What alerts, and what never does: one pure function, [`alert_for`].
//!
//! The floor alerts when its displayed state is `DEGRADED`, `HALTED`, `OFFLINE` or
//! `UNKNOWN`; a critical or important service alerts when its displayed state is not
//! calm. Calm, and so never alerting: `OK`, `MARKET_CLOSED`, `OFFLINE` with
//! `EXECUTION_DISABLED`, any optional service, and anything in a maintenance window.
//!
//! Severity comes from the reason-code table: a critical reason pages, anything else
//! opens a ticket. With `page_only_when_market_open` (the default) a page becomes a
//! ticket while the subject's market is closed, unless a kill switch is among the
//! reasons: a kill switch always pages.

use std::collections::BTreeMap;

use jiff::Timestamp;
use opsfloor_contract::reason::Severity as ReasonSeverity;
use opsfloor_contract::time::format_timestamp;
use opsfloor_contract::{Criticality, ReasonCode, ServiceKind, State};
use serde::{Deserialize, Serialize};

/// The alert name of the floor's own state.
pub const FLOOR_ALERT: &str = "OpsfloorFloorState";
/// The alert name of one service's state.
pub const SERVICE_ALERT: &str = "OpsfloorServiceState";
/// The alert that always fires while the floor polls: route it to a dead man's switch.
pub const WATCHDOG_ALERT: &str = "OpsfloorWatchdog";

/// How many poll intervals without a completed cycle count as a stalled floor.
pub const STALLED_AFTER_INTERVALS: u32 = 3;

/// What an observation is about: the floor as a whole, or one of its services.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    /// The floor's rolled-up state.
    Floor {
        /// The floor's name (`[floor] name`).
        floor: String,
    },
    /// One service of the floor.
    Service {
        /// The floor's name.
        floor: String,
        /// The service's name in the inventory.
        service: String,
        /// Its kind.
        kind: ServiceKind,
        /// Its criticality; optional services never alert.
        criticality: Criticality,
    },
}

impl Subject {
    /// The floor this subject belongs to.
    pub fn floor(&self) -> &str {
        match self {
            Subject::Floor { floor } | Subject::Service { floor, .. } => floor,
        }
    }

    /// The service's name, or `None` for the floor.
    pub fn service(&self) -> Option<&str> {
        match self {
            Subject::Floor { .. } => None,
            Subject::Service { service, .. } => Some(service),
        }
    }

    /// The name shown in summaries: the service, or the floor.
    fn display_name(&self) -> &str {
        self.service().unwrap_or_else(|| self.floor())
    }
}

/// One displayed state, as the alert rules see it: everything [`alert_for`] needs,
/// gathered by the caller so that the rules read no clock and do no I/O.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// The floor or service.
    pub subject: Subject,
    /// The displayed (already debounced) state.
    pub state: State,
    /// Its reason codes, in the fixed listing order; the first is the `reason` label.
    pub reasons: Vec<ReasonCode>,
    /// The services that decided the state (for the floor), for the description.
    pub contributors: Vec<String>,
    /// When the displayed state began (the floor's clock, possibly simulated).
    pub since: Timestamp,
    /// Whether the subject's own market is open now.
    pub market_open: bool,
    /// Whether a maintenance window covers the subject now (see [`crate::maintenance`]).
    pub in_maintenance: bool,
    /// The URL of the subject's dashboard page, for the `dashboard` annotation.
    pub dashboard_url: String,
}

/// The settings the rules read (the pure part of `[alerts]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertSettings {
    /// Downgrade pages to tickets while the subject's market is closed (except a kill switch).
    pub page_only_when_market_open: bool,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            page_only_when_market_open: true,
        }
    }
}

/// How urgently a person is needed: the `severity` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Wake someone up.
    Page,
    /// Look at it during working hours.
    Ticket,
}

impl Severity {
    /// The label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Page => "page",
            Severity::Ticket => "ticket",
        }
    }
}

/// An alert as Alertmanager and the webhook see it: labels (its identity) and
/// annotations (its words). Both are sorted maps, so output order is fixed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Alert {
    /// Identity: `alertname`, `floor`, `service`, `kind`, `criticality`, `state`,
    /// `reason`, `severity` (the service ones only on service alerts).
    pub labels: BTreeMap<String, String>,
    /// `summary`, `description`, `runbook`, `dashboard`.
    pub annotations: BTreeMap<String, String>,
}

impl Alert {
    /// One label's value, if present.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.get(name).map(String::as_str)
    }
}

/// Whether a state never alerts, whoever reports it: `OK`, `MARKET_CLOSED`, and
/// `OFFLINE` because execution is disabled or scaled to zero.
pub fn is_calm(state: State, reasons: &[ReasonCode]) -> bool {
    match state {
        State::Ok | State::MarketClosed => true,
        State::Offline => reasons.contains(&ReasonCode::ExecutionDisabled),
        State::Degraded | State::Halted | State::Unknown => false,
    }
}

/// The alert an observation calls for, or `None` when it calls for none.
///
/// Pure and total: same observation and settings, same answer.
pub fn alert_for(obs: &Observation, settings: &AlertSettings) -> Option<Alert> {
    if obs.in_maintenance || is_calm(obs.state, &obs.reasons) {
        return None;
    }
    let mut labels = BTreeMap::new();
    match &obs.subject {
        Subject::Floor { floor } => {
            labels.insert("alertname".to_owned(), FLOOR_ALERT.to_owned());
            labels.insert("floor".to_owned(), floor.clone());
        }
        Subject::Service {
            floor,
            service,
            kind,
            criticality,
        } => {
            if *criticality == Criticality::Optional {
                return None;
            }
            labels.insert("alertname".to_owned(), SERVICE_ALERT.to_owned());
            labels.insert("floor".to_owned(), floor.clone());
            labels.insert("service".to_owned(), service.clone());
            labels.insert("kind".to_owned(), kind.as_str().to_owned());
            labels.insert("criticality".to_owned(), criticality.as_str().to_owned());
        }
    }
    labels.insert("state".to_owned(), obs.state.as_str().to_owned());
    if let Some(first) = obs.reasons.first() {
        labels.insert("reason".to_owned(), first.as_str().to_owned());
    }
    let severity = severity_of(obs, settings);
    labels.insert("severity".to_owned(), severity.as_str().to_owned());
    Some(Alert {
        labels,
        annotations: annotations(obs),
    })
}

/// Page for a critical reason, ticket otherwise; downgraded while the market is
/// closed when the settings say so, but never for a kill switch.
pub fn severity_of(obs: &Observation, settings: &AlertSettings) -> Severity {
    // The worst reason decides, so a warning listed first cannot hide a critical one.
    let worst = obs.reasons.iter().map(ReasonCode::severity).max();
    let base = match worst {
        Some(ReasonSeverity::Critical) => Severity::Page,
        _ => Severity::Ticket,
    };
    let kill_switch = obs.reasons.contains(&ReasonCode::KillSwitch);
    if base == Severity::Page
        && settings.page_only_when_market_open
        && !obs.market_open
        && !kill_switch
    {
        Severity::Ticket
    } else {
        base
    }
}

/// The four annotations: the state in words, the contributors and since when, the
/// runbook hint of the first reason, and the dashboard link.
fn annotations(obs: &Observation) -> BTreeMap<String, String> {
    let name = obs.subject.display_name();
    let summary = match obs.reasons.first() {
        Some(first) => format!("{name} is {}: {}", obs.state.as_str(), first.description()),
        None => format!("{name} is {}", obs.state.as_str()),
    };
    let codes: Vec<&str> = obs.reasons.iter().map(ReasonCode::as_str).collect();
    let mut description = format!(
        "{name} has been {} since {}",
        obs.state.as_str(),
        format_timestamp(obs.since)
    );
    if !codes.is_empty() {
        description.push_str(&format!("; reasons: {}", codes.join(", ")));
    }
    if !obs.contributors.is_empty() {
        description.push_str(&format!("; contributors: {}", obs.contributors.join(", ")));
    }
    description.push('.');
    let runbook = match obs.reasons.first() {
        Some(first) => match first.info() {
            Some(info) => info.runbook.to_owned(),
            None => format!(
                "{} is a reason code this opsfloor does not know: see the service's own documentation",
                first.as_str()
            ),
        },
        None => "Open the dashboard and look at the services that decided this state".to_owned(),
    };
    BTreeMap::from([
        ("summary".to_owned(), summary),
        ("description".to_owned(), description),
        ("runbook".to_owned(), runbook),
        ("dashboard".to_owned(), obs.dashboard_url.clone()),
    ])
}

/// The watchdog: an alert that fires as long as the floor's polling is healthy
/// (the last completed poll cycle at most [`STALLED_AFTER_INTERVALS`] intervals
/// ago), the kube-prometheus pattern. Route it to a dead man's switch, which pages
/// when it *stops*: a floor that died, hung, or lost its way to Alertmanager.
///
/// `last_cycle` and `now` are on the floor's own clock (simulated or not); `None`
/// before the first cycle, which counts as healthy for the first three intervals
/// from `started`.
pub fn watchdog_alert(
    floor: &str,
    started: Timestamp,
    last_cycle: Option<Timestamp>,
    now: Timestamp,
    poll_interval: std::time::Duration,
    dashboard_url: &str,
) -> Option<Alert> {
    let since = last_cycle.unwrap_or(started);
    let allowed = poll_interval.saturating_mul(STALLED_AFTER_INTERVALS);
    let allowed = jiff::SignedDuration::try_from(allowed).unwrap_or(jiff::SignedDuration::MAX);
    if now.duration_since(since) > allowed {
        return None;
    }
    let labels = BTreeMap::from([
        ("alertname".to_owned(), WATCHDOG_ALERT.to_owned()),
        ("floor".to_owned(), floor.to_owned()),
        ("severity".to_owned(), "none".to_owned()),
    ]);
    let annotations = BTreeMap::from([
        (
            "summary".to_owned(),
            format!("{floor} is polling: its alerting pipeline works"),
        ),
        (
            "description".to_owned(),
            format!(
                "This alert always fires while {floor} completes poll cycles. It stops when \
                 polling stalls for more than {STALLED_AFTER_INTERVALS} intervals, or when \
                 the floor or its path to Alertmanager is gone."
            ),
        ),
        (
            "runbook".to_owned(),
            "Route this alert to a dead man's switch; if the switch fires, check that the floor runs and polls".to_owned(),
        ),
        ("dashboard".to_owned(), dashboard_url.to_owned()),
    ]);
    Some(Alert {
        labels,
        annotations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floor(state: State, reasons: &[ReasonCode]) -> Observation {
        Observation {
            subject: Subject::Floor {
                floor: "trading-floor".into(),
            },
            state,
            reasons: reasons.to_vec(),
            contributors: vec!["whale-strategy".into()],
            since: "2026-01-07T15:00:00Z".parse().expect("timestamp"),
            market_open: true,
            in_maintenance: false,
            dashboard_url: "http://floor.example/".into(),
        }
    }

    #[test]
    fn a_kill_switch_pages_with_every_label_and_annotation() {
        let mut obs = floor(State::Halted, &[ReasonCode::KillSwitch]);
        obs.market_open = false;
        let alert = alert_for(&obs, &AlertSettings::default()).expect("alerts");
        let labels: Vec<(&str, &str)> = alert
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            labels,
            [
                ("alertname", "OpsfloorFloorState"),
                ("floor", "trading-floor"),
                ("reason", "KILL_SWITCH"),
                ("severity", "page"),
                ("state", "HALTED"),
            ]
        );
        assert_eq!(
            alert.annotations["summary"],
            "trading-floor is HALTED: The kill switch is engaged: trading is stopped on purpose"
        );
        assert_eq!(
            alert.annotations["description"],
            "trading-floor has been HALTED since 2026-01-07T15:00:00Z; reasons: KILL_SWITCH; contributors: whale-strategy."
        );
        assert_eq!(
            alert.annotations["runbook"],
            "Find who engaged the kill switch and why before releasing it"
        );
        assert_eq!(alert.annotations["dashboard"], "http://floor.example/");
    }

    #[test]
    fn a_closed_market_downgrades_pages_unless_told_not_to() {
        let mut obs = floor(State::Offline, &[ReasonCode::Unreachable]);
        let on = AlertSettings::default();
        let off = AlertSettings {
            page_only_when_market_open: false,
        };
        assert_eq!(severity_of(&obs, &on), Severity::Page);
        obs.market_open = false;
        assert_eq!(severity_of(&obs, &on), Severity::Ticket);
        assert_eq!(severity_of(&obs, &off), Severity::Page);
        let warn = floor(State::Degraded, &[ReasonCode::MarketdataStale]);
        assert_eq!(severity_of(&warn, &off), Severity::Ticket);
    }

    #[test]
    fn the_watchdog_fires_until_polling_stalls_for_three_intervals() {
        let t0: Timestamp = "2026-01-07T15:00:00Z".parse().expect("ts");
        let at = |s: i64| t0 + jiff::SignedDuration::from_secs(s);
        let second = std::time::Duration::from_secs(1);
        let dog = |last: Option<Timestamp>, now| watchdog_alert("f", t0, last, now, second, "");
        let alert = dog(None, at(2)).expect("healthy at start");
        assert_eq!(alert.label("alertname"), Some(WATCHDOG_ALERT));
        assert_eq!(alert.label("severity"), Some("none"));
        assert!(
            dog(None, at(4)).is_none(),
            "no first cycle after 3 intervals"
        );
        assert!(dog(Some(at(10)), at(13)).is_some());
        assert!(dog(Some(at(10)), at(14)).is_none());
    }

    #[test]
    fn services_carry_their_kind_and_criticality_and_optional_ones_never_alert() {
        let mut obs = floor(State::Degraded, &[ReasonCode::HeartbeatStale]);
        obs.subject = Subject::Service {
            floor: "trading-floor".into(),
            service: "ingest-job".into(),
            kind: ServiceKind::Ingest,
            criticality: Criticality::Important,
        };
        let alert = alert_for(&obs, &AlertSettings::default()).expect("alerts");
        assert_eq!(alert.label("alertname"), Some(SERVICE_ALERT));
        assert_eq!(alert.label("kind"), Some("ingest"));
        assert_eq!(alert.label("criticality"), Some("important"));
        assert_eq!(alert.label("service"), Some("ingest-job"));
        assert_eq!(alert.label("severity"), Some("ticket"));
        if let Subject::Service { criticality, .. } = &mut obs.subject {
            *criticality = Criticality::Optional;
        }
        assert_eq!(alert_for(&obs, &AlertSettings::default()), None);
    }
}
