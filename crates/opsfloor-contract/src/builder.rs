//! Building a service's own document from what it has observed.
//!
//! The probe calls this on every `GET /ops/status`: static configuration plus a
//! snapshot of observations (and `now`, read once by the caller) in, a whole
//! document out. The state comes from [`crate::truth::evaluate`]; nothing here
//! decides a state on its own.

use jiff::Timestamp;

use crate::calendar::{Calendar, CalendarError};
use crate::document::{
    AgentIdentity, Document, Endpoints, Heartbeat, Market, Marketdata, Safety, Status,
};
use crate::kind::{ServiceKind, State};
use crate::reason::ReasonCode;
use crate::time::{Seconds, UtcTimestamp, age_seconds};
use crate::truth::{Inputs, Verdict, evaluate};

/// Default heartbeat TTL, in seconds.
pub const DEFAULT_HEARTBEAT_TTL_SECONDS: f64 = 60.0;
/// Default market data stale threshold, in seconds.
pub const DEFAULT_STALE_THRESHOLD_SECONDS: f64 = 120.0;

/// Who a service is: fixed for the life of the process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `service_name`.
    pub service_name: String,
    /// `service_kind`.
    pub service_kind: ServiceKind,
    /// `repo_id`.
    pub repo_id: String,
    /// `git_sha`.
    pub git_sha: Option<String>,
    /// `build_id`.
    pub build_id: Option<String>,
    /// `agent_identity.agent_name`.
    pub agent_name: String,
    /// `agent_identity.agent_role`.
    pub agent_role: Option<String>,
    /// `agent_identity.agent_mode`.
    pub agent_mode: Option<String>,
}

/// A service's static configuration: identity, thresholds and policy.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceConfig {
    /// Who the service is.
    pub identity: Identity,
    /// How old a heartbeat may get (default 60 s).
    pub heartbeat_ttl_seconds: f64,
    /// How old a tick may get before market data is stale (default 120 s).
    pub stale_threshold_seconds: f64,
    /// The deployment allows this (execution) service to place orders. Off by
    /// default, so a fresh install always reports `safe_to_execute_orders: false`.
    pub orders_permitted: bool,
    /// The `endpoints` block (default: `healthz` at `/health`).
    pub endpoints: Option<Endpoints>,
}

impl ServiceConfig {
    /// A configuration with every default: TTL 60 s, threshold 120 s, orders not permitted.
    pub fn new(identity: Identity) -> ServiceConfig {
        ServiceConfig {
            identity,
            heartbeat_ttl_seconds: DEFAULT_HEARTBEAT_TTL_SECONDS,
            stale_threshold_seconds: DEFAULT_STALE_THRESHOLD_SECONDS,
            orders_permitted: false,
            endpoints: Some(Endpoints {
                healthz: Some("/health".into()),
                heartbeat: None,
                metrics: None,
            }),
        }
    }
}

/// What the service has observed, as of `now`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observations {
    /// The instant the document is built for (read once, at the edge).
    pub now: Timestamp,
    /// The last heartbeat recorded; `None` means "none yet", and then `now` is
    /// reported: serving the document is itself a sign of life.
    pub last_heartbeat: Option<Timestamp>,
    /// The last market data tick seen.
    pub last_tick: Option<Timestamp>,
    /// The last bar seen.
    pub last_bar: Option<Timestamp>,
    /// The kill switch is engaged.
    pub kill_switch: bool,
    /// The process is up (a probe answering for itself always says yes).
    pub process_up: bool,
    /// Execution is enabled, if the service knows.
    pub execution_enabled: Option<bool>,
    /// Execution replicas, if the service knows.
    pub execution_replicas: Option<i64>,
}

impl Observations {
    /// A service that is up and has observed nothing yet.
    pub const fn at(now: Timestamp) -> Observations {
        Observations {
            now,
            last_heartbeat: None,
            last_tick: None,
            last_bar: None,
            kill_switch: false,
            process_up: true,
            execution_enabled: None,
            execution_replicas: None,
        }
    }
}

/// Builds the whole document. Fails only when `now` lies outside the calendar's supported range.
pub fn build_document(
    config: &ServiceConfig,
    obs: &Observations,
    calendar: &Calendar,
) -> Result<Document, CalendarError> {
    let id = &config.identity;
    let kind = id.service_kind;
    let now = obs.now;
    let market_is_open = calendar.is_open(now)?;

    let last_heartbeat = obs.last_heartbeat.unwrap_or(now);
    let heartbeat_age = age_seconds(last_heartbeat, now);
    let is_fresh = obs
        .last_tick
        .map(|tick| age_seconds(tick, now) <= config.stale_threshold_seconds);
    let marketdata_is_fresh = if kind.uses_marketdata() {
        is_fresh
    } else {
        None
    };

    let verdict = evaluate(&Inputs {
        service_kind: kind,
        process_up: obs.process_up,
        kill_switch: obs.kill_switch,
        market_is_open,
        required_fields_present: true,
        heartbeat_age_seconds: Some(heartbeat_age),
        heartbeat_ttl_seconds: Some(config.heartbeat_ttl_seconds),
        marketdata_is_fresh,
        execution_enabled: obs.execution_enabled,
        execution_replicas: obs.execution_replicas,
    });

    let marketdata = kind.uses_marketdata().then(|| Marketdata {
        last_tick_utc: obs.last_tick.map(UtcTimestamp),
        last_bar_utc: obs.last_bar.map(UtcTimestamp),
        stale_threshold_seconds: Some(Seconds(config.stale_threshold_seconds)),
        is_fresh,
    });

    Ok(Document {
        service_name: id.service_name.clone(),
        service_kind: kind,
        repo_id: id.repo_id.clone(),
        git_sha: id.git_sha.clone(),
        build_id: id.build_id.clone(),
        agent_identity: AgentIdentity {
            agent_name: id.agent_name.clone(),
            agent_role: id.agent_role.clone(),
            agent_mode: id.agent_mode.clone(),
        },
        safety: safety(
            config,
            obs.kill_switch,
            market_is_open,
            marketdata_is_fresh,
            &verdict,
        ),
        status: Status {
            state: verdict.state,
            summary: verdict.state.summary().to_owned(),
            reason_codes: verdict.reason_codes(),
            last_updated_utc: Some(UtcTimestamp(now)),
        },
        heartbeat: Heartbeat {
            last_heartbeat_utc: Some(UtcTimestamp(last_heartbeat)),
            age_seconds: Some(heartbeat_age),
            ttl_seconds: Some(Seconds(config.heartbeat_ttl_seconds)),
        },
        marketdata,
        endpoints: config.endpoints.clone(),
        market: Some(Market {
            calendar: calendar.name().to_owned(),
            is_open: market_is_open,
            next_open_utc: calendar.next_open(now)?.map(UtcTimestamp),
            next_close_utc: calendar.next_close(now)?.map(UtcTimestamp),
        }),
    })
}

/// The safety gates.
///
/// - `safe_to_run_strategies`: no kill switch, and market data is not known stale
///   while the market is open.
/// - `safe_to_execute_orders`: only for an execution service in state OK whose
///   deployment policy permits orders. For other kinds the gate does not apply, so
///   it is false without a gating reason (as in the seed's example).
/// - `gating_reasons`: why each closed gate is closed, deduplicated, in the fixed
///   reason-code order. For an execution service that is not OK, its state's reason
///   closes the order gate; a policy that does not permit orders adds
///   `ORDERS_NOT_PERMITTED`.
fn safety(
    config: &ServiceConfig,
    kill_switch: bool,
    market_is_open: bool,
    fresh: Option<bool>,
    verdict: &Verdict,
) -> Safety {
    let stale = market_is_open && fresh == Some(false);
    let is_execution = config.identity.service_kind == ServiceKind::Execution;
    let mut reasons = Vec::new();
    if kill_switch {
        reasons.push(ReasonCode::KillSwitch);
    }
    if stale {
        reasons.push(ReasonCode::MarketdataStale);
    }
    if is_execution {
        if let Some(reason) = &verdict.reason {
            reasons.push(reason.clone());
        }
        if !config.orders_permitted {
            reasons.push(ReasonCode::OrdersNotPermitted);
        }
    }
    reasons.sort();
    reasons.dedup();
    Safety {
        kill_switch,
        safe_to_run_strategies: !kill_switch && !stale,
        safe_to_execute_orders: is_execution
            && verdict.state == State::Ok
            && config.orders_permitted,
        gating_reasons: reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_timestamp;

    fn ts(s: &str) -> Timestamp {
        parse_timestamp(s).expect("timestamp")
    }

    fn identity(name: &str, kind: ServiceKind) -> Identity {
        Identity {
            service_name: name.into(),
            service_kind: kind,
            repo_id: "RichKingsASU/agent-trader-v2".into(),
            git_sha: Some("abc123".into()),
            build_id: None,
            agent_name: name.into(),
            agent_role: Some(kind.as_str().into()),
            agent_mode: Some("STREAM".into()),
        }
    }

    #[test]
    fn reproduces_the_seed_example_byte_for_value() {
        let config = ServiceConfig::new(identity("marketdata-mcp-server", ServiceKind::Marketdata));
        let now = ts("2026-01-07T12:00:00Z");
        let obs = Observations {
            last_tick: Some(now),
            ..Observations::at(now)
        };
        let doc = build_document(&config, &obs, &Calendar::always_open()).expect("in range");
        let mut built: serde_json::Value =
            serde_json::from_slice(&doc.to_json_bytes()).expect("json");
        // The seed predates the optional `market` extension; everything else matches.
        let market = built
            .as_object_mut()
            .and_then(|o| o.remove("market"))
            .expect("a built document says its market");
        assert_eq!(
            market,
            serde_json::json!({"calendar": "always-open", "is_open": true,
                               "next_open_utc": null, "next_close_utc": null})
        );
        let seed: serde_json::Value =
            serde_json::from_str(include_str!("../tests/data/seed-example.json")).expect("seed");
        assert_eq!(built, seed);
    }

    #[test]
    fn the_market_block_names_the_calendar_and_its_next_edges() {
        let config = ServiceConfig::new(identity("tokyo-strategy", ServiceKind::Strategy));
        // 2026-01-07 is a Wednesday; XTKS trades 09:00-11:30 and 12:30-15:30 Tokyo (UTC+9).
        let now = ts("2026-01-07T01:00:00Z");
        let xtks = Calendar::by_name("XTKS", &Default::default()).expect("XTKS");
        let doc = build_document(&config, &Observations::at(now), &xtks).expect("in range");
        let market = doc.market.expect("market block");
        assert_eq!(market.calendar, "XTKS");
        assert!(market.is_open);
        assert_eq!(
            market.next_close_utc,
            Some(UtcTimestamp(ts("2026-01-07T02:30:00Z")))
        );
        assert_eq!(
            market.next_open_utc,
            Some(UtcTimestamp(ts("2026-01-07T03:30:00Z")))
        );
    }

    #[test]
    fn heartbeat_age_is_clamped_and_defaults_to_now() {
        let config = ServiceConfig::new(identity("ingest", ServiceKind::Ingest));
        let now = ts("2026-01-07T15:00:00Z");
        let future = Observations {
            last_heartbeat: Some(ts("2026-01-07T15:00:05Z")),
            ..Observations::at(now)
        };
        let doc = build_document(&config, &future, &Calendar::nyse()).expect("in range");
        assert_eq!(doc.heartbeat.age_seconds, Some(0.0));
        let none =
            build_document(&config, &Observations::at(now), &Calendar::nyse()).expect("in range");
        assert_eq!(none.heartbeat.last_heartbeat_utc, Some(UtcTimestamp(now)));
        assert!(
            none.marketdata.is_none(),
            "ingest carries no marketdata block"
        );
    }

    #[test]
    fn freshness_is_age_within_threshold() {
        let config = ServiceConfig::new(identity("gamma", ServiceKind::Strategy));
        let now = ts("2026-01-07T15:00:00Z"); // 10:00 New York, a Wednesday: open
        let at = |tick: &str| {
            let obs = Observations {
                last_tick: Some(ts(tick)),
                ..Observations::at(now)
            };
            build_document(&config, &obs, &Calendar::nyse()).expect("in range")
        };
        let fresh = at("2026-01-07T14:58:00Z");
        assert_eq!(
            fresh.marketdata.as_ref().and_then(|m| m.is_fresh),
            Some(true)
        );
        assert_eq!(fresh.status.state, State::Ok);
        let stale = at("2026-01-07T14:57:59Z");
        assert_eq!(
            stale.marketdata.as_ref().and_then(|m| m.is_fresh),
            Some(false)
        );
        assert_eq!(stale.status.state, State::Halted);
        assert_eq!(stale.status.summary, "Halted");
        assert!(!stale.safety.safe_to_run_strategies);
        assert_eq!(stale.safety.gating_reasons, [ReasonCode::MarketdataStale]);
    }

    #[test]
    fn execution_gate_needs_ok_and_policy() {
        let mut config = ServiceConfig::new(identity("exec", ServiceKind::Execution));
        let now = ts("2026-01-07T15:00:00Z");
        let obs = Observations {
            last_tick: Some(now),
            execution_replicas: Some(1),
            ..Observations::at(now)
        };
        let doc = build_document(&config, &obs, &Calendar::nyse()).expect("in range");
        assert_eq!(doc.status.state, State::Ok);
        assert!(!doc.safety.safe_to_execute_orders);
        assert_eq!(doc.safety.gating_reasons, [ReasonCode::OrdersNotPermitted]);
        config.orders_permitted = true;
        let doc = build_document(&config, &obs, &Calendar::nyse()).expect("in range");
        assert!(doc.safety.safe_to_execute_orders);
        assert!(doc.safety.gating_reasons.is_empty());
        let halted = Observations {
            kill_switch: true,
            ..obs
        };
        let doc = build_document(&config, &halted, &Calendar::nyse()).expect("in range");
        assert!(!doc.safety.safe_to_execute_orders);
        assert_eq!(doc.safety.gating_reasons, [ReasonCode::KillSwitch]);
    }
}
