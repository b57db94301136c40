//! The truth table: one pure function from a service's inputs to its state.
//!
//! The rules are tried in priority order and the first match wins, so every input
//! has exactly one state, one rule and at most one reason code:
//!
//! | rule | when | state | reason |
//! |---|---|---|---|
//! | 1 | required fields missing | UNKNOWN | `REQUIRED_FIELDS_MISSING` |
//! | 2 | kind `execution` and (`execution_enabled` false or `execution_replicas` ≤ 0), even when the process is down | OFFLINE | `EXECUTION_DISABLED` |
//! | 3 | process not up | OFFLINE | `PROCESS_DOWN` |
//! | 4 | kill switch engaged | HALTED | `KILL_SWITCH` |
//! | 5 | market open and marketdata known stale | HALTED for strategy/execution, else DEGRADED | `MARKETDATA_STALE` |
//! | 6 | market open, freshness unknown, kind marketdata/strategy/execution | HALTED for strategy/execution, DEGRADED for marketdata | `MARKETDATA_MISSING` |
//! | 7 | heartbeat age and TTL known and age > TTL | DEGRADED | `HEARTBEAT_STALE` |
//! | 8 | market closed and kind marketdata/strategy/ingest/execution | MARKET_CLOSED | `MARKET_CLOSED` |
//! | 9 | otherwise | OK | none |
//!
//! A heartbeat age or TTL that is not a number (NaN) counts as unknown, so rule 7
//! does not fire on it.

use serde::{Deserialize, Serialize};

use crate::kind::{ServiceKind, State};
use crate::reason::ReasonCode;

/// Everything the truth table looks at. Field names are those of `opsfloor evaluate`'s input.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    /// What the service does.
    pub service_kind: ServiceKind,
    /// The process is up and answering.
    pub process_up: bool,
    /// The kill switch is engaged.
    pub kill_switch: bool,
    /// The market is in a regular session now.
    pub market_is_open: bool,
    /// The document carried every required field (default true).
    #[serde(default = "yes")]
    pub required_fields_present: bool,
    /// Seconds since the last heartbeat, if known.
    #[serde(default)]
    pub heartbeat_age_seconds: Option<f64>,
    /// How old the heartbeat may get, if known.
    #[serde(default)]
    pub heartbeat_ttl_seconds: Option<f64>,
    /// Market data is fresh (`Some(true)`), stale (`Some(false)`), or unknown (`None`).
    #[serde(default)]
    pub marketdata_is_fresh: Option<bool>,
    /// Execution is enabled, if known.
    #[serde(default)]
    pub execution_enabled: Option<bool>,
    /// How many execution replicas run, if known.
    #[serde(default)]
    pub execution_replicas: Option<i64>,
}

fn yes() -> bool {
    true
}

impl Inputs {
    /// Healthy inputs for `kind` with the market open: a starting point for tests and examples.
    pub const fn healthy(service_kind: ServiceKind) -> Inputs {
        Inputs {
            service_kind,
            process_up: true,
            kill_switch: false,
            market_is_open: true,
            required_fields_present: true,
            heartbeat_age_seconds: Some(0.0),
            heartbeat_ttl_seconds: Some(60.0),
            marketdata_is_fresh: Some(true),
            execution_enabled: None,
            execution_replicas: None,
        }
    }
}

/// Which rule of the table decided. Numbered as in the table (1 to 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// 1: required fields missing.
    RequiredFieldsMissing = 1,
    /// 2: execution disabled or scaled to zero.
    ExecutionDisabled = 2,
    /// 3: process not up.
    ProcessDown = 3,
    /// 4: kill switch engaged.
    KillSwitch = 4,
    /// 5: market data stale while the market is open.
    MarketdataStale = 5,
    /// 6: market data freshness unknown while the market is open.
    MarketdataMissing = 6,
    /// 7: heartbeat older than its TTL.
    HeartbeatStale = 7,
    /// 8: market closed.
    MarketClosed = 8,
    /// 9: nothing else matched.
    Healthy = 9,
}

impl Rule {
    /// The rule's number in the table.
    pub const fn number(self) -> u8 {
        self as u8
    }

    /// A stable snake_case name for the rule.
    pub const fn name(self) -> &'static str {
        match self {
            Rule::RequiredFieldsMissing => "required_fields_missing",
            Rule::ExecutionDisabled => "execution_disabled",
            Rule::ProcessDown => "process_down",
            Rule::KillSwitch => "kill_switch",
            Rule::MarketdataStale => "marketdata_stale",
            Rule::MarketdataMissing => "marketdata_missing",
            Rule::HeartbeatStale => "heartbeat_stale",
            Rule::MarketClosed => "market_closed",
            Rule::Healthy => "healthy",
        }
    }
}

/// The truth table's answer: a state, its reason (none for `OK`), and the rule that fired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The state.
    pub state: State,
    /// The one reason code; `None` exactly when the state is `OK`.
    pub reason: Option<ReasonCode>,
    /// The rule that decided.
    pub rule: Rule,
}

impl Verdict {
    const fn new(state: State, reason: ReasonCode, rule: Rule) -> Verdict {
        Verdict {
            state,
            reason: Some(reason),
            rule,
        }
    }

    /// The reason codes as the document lists them (empty or one).
    pub fn reason_codes(&self) -> Vec<ReasonCode> {
        self.reason.iter().cloned().collect()
    }
}

/// Applies the truth table to `inputs`. Pure, total and allocation-free.
pub fn evaluate(inputs: &Inputs) -> Verdict {
    let kind = inputs.service_kind;
    let halts = kind.halts_without_marketdata();

    if !inputs.required_fields_present {
        return Verdict::new(
            State::Unknown,
            ReasonCode::RequiredFieldsMissing,
            Rule::RequiredFieldsMissing,
        );
    }
    let execution_off = inputs.execution_enabled == Some(false)
        || inputs.execution_replicas.is_some_and(|r| r <= 0);
    if kind == ServiceKind::Execution && execution_off {
        return Verdict::new(
            State::Offline,
            ReasonCode::ExecutionDisabled,
            Rule::ExecutionDisabled,
        );
    }
    if !inputs.process_up {
        return Verdict::new(State::Offline, ReasonCode::ProcessDown, Rule::ProcessDown);
    }
    if inputs.kill_switch {
        return Verdict::new(State::Halted, ReasonCode::KillSwitch, Rule::KillSwitch);
    }
    if inputs.market_is_open {
        let worse = if halts {
            State::Halted
        } else {
            State::Degraded
        };
        match inputs.marketdata_is_fresh {
            Some(false) => {
                return Verdict::new(worse, ReasonCode::MarketdataStale, Rule::MarketdataStale);
            }
            None if kind.uses_marketdata() => {
                return Verdict::new(
                    worse,
                    ReasonCode::MarketdataMissing,
                    Rule::MarketdataMissing,
                );
            }
            _ => {}
        }
    }
    if let (Some(age), Some(ttl)) = (inputs.heartbeat_age_seconds, inputs.heartbeat_ttl_seconds) {
        // `>` is false when either side is NaN: an unreadable age is not "stale".
        if age > ttl {
            return Verdict::new(
                State::Degraded,
                ReasonCode::HeartbeatStale,
                Rule::HeartbeatStale,
            );
        }
    }
    if !inputs.market_is_open && kind.follows_market_hours() {
        return Verdict::new(
            State::MarketClosed,
            ReasonCode::MarketClosed,
            Rule::MarketClosed,
        );
    }
    Verdict {
        state: State::Ok,
        reason: None,
        rule: Rule::Healthy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ServiceKind::*;

    fn check(inputs: Inputs, state: State, code: Option<&str>, rule: Rule) {
        let v = evaluate(&inputs);
        assert_eq!(v.state, state, "{inputs:?}");
        assert_eq!(v.reason.as_ref().map(|r| r.as_str()), code, "{inputs:?}");
        assert_eq!(v.rule, rule, "{inputs:?}");
    }

    #[test]
    fn rule_1_required_fields_missing_beats_everything() {
        let i = Inputs {
            required_fields_present: false,
            process_up: false,
            kill_switch: true,
            ..Inputs::healthy(Execution)
        };
        check(
            i,
            State::Unknown,
            Some("REQUIRED_FIELDS_MISSING"),
            Rule::RequiredFieldsMissing,
        );
    }

    #[test]
    fn rule_2_execution_scaled_to_zero_is_offline_even_when_down() {
        let i = Inputs {
            execution_replicas: Some(0),
            process_up: false,
            kill_switch: true,
            ..Inputs::healthy(Execution)
        };
        check(
            i,
            State::Offline,
            Some("EXECUTION_DISABLED"),
            Rule::ExecutionDisabled,
        );
        let i = Inputs {
            execution_enabled: Some(false),
            ..Inputs::healthy(Execution)
        };
        check(
            i,
            State::Offline,
            Some("EXECUTION_DISABLED"),
            Rule::ExecutionDisabled,
        );
        let i = Inputs {
            execution_replicas: Some(-1),
            ..Inputs::healthy(Execution)
        };
        check(
            i,
            State::Offline,
            Some("EXECUTION_DISABLED"),
            Rule::ExecutionDisabled,
        );
        // Only execution services are disabled this way.
        let i = Inputs {
            execution_replicas: Some(0),
            ..Inputs::healthy(Strategy)
        };
        check(i, State::Ok, None, Rule::Healthy);
        // Enabled with replicas is not disabled.
        let i = Inputs {
            execution_enabled: Some(true),
            execution_replicas: Some(2),
            ..Inputs::healthy(Execution)
        };
        check(i, State::Ok, None, Rule::Healthy);
    }

    #[test]
    fn rule_3_process_down() {
        let i = Inputs {
            process_up: false,
            kill_switch: true,
            ..Inputs::healthy(Marketdata)
        };
        check(i, State::Offline, Some("PROCESS_DOWN"), Rule::ProcessDown);
    }

    #[test]
    fn rule_4_kill_switch() {
        let i = Inputs {
            kill_switch: true,
            marketdata_is_fresh: Some(false),
            ..Inputs::healthy(Strategy)
        };
        check(i, State::Halted, Some("KILL_SWITCH"), Rule::KillSwitch);
    }

    #[test]
    fn rule_5_stale_marketdata_halts_traders_and_degrades_the_rest() {
        for (kind, state) in [
            (Strategy, State::Halted),
            (Execution, State::Halted),
            (Marketdata, State::Degraded),
            (Ingest, State::Degraded),
            (Ops, State::Degraded),
        ] {
            let i = Inputs {
                marketdata_is_fresh: Some(false),
                ..Inputs::healthy(kind)
            };
            check(i, state, Some("MARKETDATA_STALE"), Rule::MarketdataStale);
        }
        // Stale data does not matter while the market is closed.
        let i = Inputs {
            marketdata_is_fresh: Some(false),
            market_is_open: false,
            ..Inputs::healthy(Strategy)
        };
        check(
            i,
            State::MarketClosed,
            Some("MARKET_CLOSED"),
            Rule::MarketClosed,
        );
    }

    #[test]
    fn rule_6_missing_marketdata_only_for_consumers() {
        for (kind, state) in [
            (Strategy, State::Halted),
            (Execution, State::Halted),
            (Marketdata, State::Degraded),
        ] {
            let i = Inputs {
                marketdata_is_fresh: None,
                ..Inputs::healthy(kind)
            };
            check(
                i,
                state,
                Some("MARKETDATA_MISSING"),
                Rule::MarketdataMissing,
            );
        }
        for kind in [Ingest, Ops] {
            let i = Inputs {
                marketdata_is_fresh: None,
                ..Inputs::healthy(kind)
            };
            check(i, State::Ok, None, Rule::Healthy);
        }
    }

    #[test]
    fn rule_7_heartbeat_stale_only_strictly_past_ttl() {
        let i = Inputs {
            heartbeat_age_seconds: Some(60.0),
            ..Inputs::healthy(Ingest)
        };
        check(i, State::Ok, None, Rule::Healthy);
        let i = Inputs {
            heartbeat_age_seconds: Some(60.001),
            ..Inputs::healthy(Ingest)
        };
        check(
            i,
            State::Degraded,
            Some("HEARTBEAT_STALE"),
            Rule::HeartbeatStale,
        );
        let i = Inputs {
            heartbeat_age_seconds: Some(600.0),
            heartbeat_ttl_seconds: None,
            ..Inputs::healthy(Ingest)
        };
        check(i, State::Ok, None, Rule::Healthy);
        let i = Inputs {
            heartbeat_age_seconds: Some(f64::NAN),
            ..Inputs::healthy(Ingest)
        };
        check(i, State::Ok, None, Rule::Healthy);
        // A stale heartbeat is reported even when the market is closed.
        let i = Inputs {
            heartbeat_age_seconds: Some(61.0),
            market_is_open: false,
            ..Inputs::healthy(Ingest)
        };
        check(
            i,
            State::Degraded,
            Some("HEARTBEAT_STALE"),
            Rule::HeartbeatStale,
        );
    }

    #[test]
    fn rule_8_market_closed_for_session_kinds_only() {
        for kind in [Marketdata, Strategy, Ingest, Execution] {
            let i = Inputs {
                market_is_open: false,
                ..Inputs::healthy(kind)
            };
            check(
                i,
                State::MarketClosed,
                Some("MARKET_CLOSED"),
                Rule::MarketClosed,
            );
        }
        let i = Inputs {
            market_is_open: false,
            ..Inputs::healthy(Ops)
        };
        check(i, State::Ok, None, Rule::Healthy);
    }

    #[test]
    fn evaluate_input_json_defaults() {
        let i: Inputs = serde_json::from_str(
            r#"{"service_kind":"strategy","process_up":true,"kill_switch":false,"market_is_open":true,"marketdata_is_fresh":true}"#,
        )
        .expect("parse inputs");
        assert!(i.required_fields_present);
        assert_eq!(i.heartbeat_age_seconds, None);
        assert_eq!(evaluate(&i).state, State::Ok);
        let typo = serde_json::from_str::<Inputs>(
            r#"{"service_kind":"strategy","process_up":true,"kill_switch":false,"market_is_open":true,"execution_replica":0}"#,
        );
        assert!(typo.is_err(), "unknown fields are rejected");
    }
}
