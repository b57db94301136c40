//! Reason codes: the stable strings that say *why* a service is in its state.
//!
//! One table ([`ReasonCode::ALL`] with [`ReasonCode::info`]) holds every code the
//! contract knows, with a one-line human description, a severity and a runbook
//! hint. The dashboard and the report read this table; nothing else spells a
//! description out. The table's order is the fixed order in which codes are
//! listed wherever several appear together (gating reasons, floor rollups).

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How much a reason code should worry an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Expected and calm (market closed, execution scaled to zero).
    Info,
    /// Needs attention, trading may continue in part.
    Warning,
    /// Trading is stopped or cannot be trusted.
    Critical,
}

impl Severity {
    /// The lowercase wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// What the table says about one code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReasonInfo {
    /// The stable wire string, e.g. `KILL_SWITCH`.
    pub code: &'static str,
    /// One line for humans, e.g. "The kill switch is engaged".
    pub description: &'static str,
    /// How worried to be.
    pub severity: Severity,
    /// One line telling an operator what to look at first.
    pub runbook: &'static str,
    /// True when the condition is expected, not an alarm (the market is closed,
    /// execution is scaled to zero): the one place that decides what is calm.
    pub expected: bool,
}

macro_rules! reason_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $sev:ident, $expected:literal, $desc:literal, $runbook:literal; )*) => {
        /// A reason code known to this version of the contract, or one that a newer
        /// service sent and this version does not know yet (kept verbatim, never dropped).
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ReasonCode {
            $( $(#[$doc])* $variant, )*
            /// A code this version does not know, kept as received.
            Unrecognized(Box<str>),
        }

        impl ReasonCode {
            /// Every known code, in the fixed listing order.
            pub const ALL: &'static [ReasonCode] = &[ $( ReasonCode::$variant, )* ];

            /// The table row for this code; `None` for an unrecognized code.
            pub const fn info(&self) -> Option<&'static ReasonInfo> {
                match self {
                    $( ReasonCode::$variant => Some(&ReasonInfo {
                        code: $code,
                        description: $desc,
                        severity: Severity::$sev,
                        runbook: $runbook,
                        expected: $expected,
                    }), )*
                    ReasonCode::Unrecognized(_) => None,
                }
            }

            /// Parses a wire string. Never fails: unknown codes are kept as [`ReasonCode::Unrecognized`].
            pub fn from_wire(code: &str) -> ReasonCode {
                match code {
                    $( $code => ReasonCode::$variant, )*
                    other => ReasonCode::Unrecognized(other.into()),
                }
            }
        }
    };
}

reason_codes! {
    /// The process has not answered its own status query (reported by a probe that can tell).
    ProcessDown = "PROCESS_DOWN", Critical, false,
        "The process is not running",
        "Check the deployment: is the pod or process up, and is it crash-looping?";
    /// The floor could not reach the service at all.
    Unreachable = "UNREACHABLE", Critical, false,
        "The service did not answer its status endpoint",
        "Check that the service is running and that its URL and network path are right";
    /// The kill switch is engaged.
    KillSwitch = "KILL_SWITCH", Critical, false,
        "The kill switch is engaged: trading is stopped on purpose",
        "Find who engaged the kill switch and why before releasing it";
    /// The document lacks required fields, so its state cannot be trusted.
    RequiredFieldsMissing = "REQUIRED_FIELDS_MISSING", Warning, false,
        "The status document lacks required fields, so it cannot be trusted",
        "Run `opsfloor validate` on the service's /ops/status output and fix what it names";
    /// Market data is older than its stale threshold while the market is open.
    MarketdataStale = "MARKETDATA_STALE", Warning, false,
        "Market data is older than its stale threshold while the market is open",
        "Check the market data feed: its upstream connection and its last tick time";
    /// No market data has been seen while the market is open.
    MarketdataMissing = "MARKETDATA_MISSING", Warning, false,
        "No market data has been seen while the market is open",
        "Check that the feed is subscribed and that this service can reach it";
    /// The heartbeat is older than its TTL.
    HeartbeatStale = "HEARTBEAT_STALE", Warning, false,
        "The service's heartbeat is older than its time-to-live",
        "Check whether the service's main loop or job schedule is stuck";
    /// The document names another service than the inventory entry polled (a copied
    /// URL, a service answering on another's port): its state cannot be shown as this one's.
    IdentityMismatch = "IDENTITY_MISMATCH", Warning, false,
        "The status document is another service's: its service_name is not this entry's name",
        "Check the inventory entry's url and aliases against the service that answers there";
    /// The service reports a state that its own fields, re-evaluated, contradict.
    StateMismatch = "STATE_MISMATCH", Warning, false,
        "The reported state contradicts the document's own fields under the truth table",
        "Compare the service's build with this contract version: its status logic may be out of date";
    /// The inventory lists no services.
    NoServices = "NO_SERVICES", Warning, false,
        "The inventory lists no services",
        "Add the floor's services to the inventory file";
    /// The execution agent is disabled or scaled to zero. Expected, calm.
    ExecutionDisabled = "EXECUTION_DISABLED", Info, true,
        "Execution is disabled or scaled to zero (expected)",
        "Nothing to do unless orders should be flowing: then scale the execution agent up";
    /// The market is closed. Expected, calm.
    MarketClosed = "MARKET_CLOSED", Info, true,
        "The market is closed (expected)",
        "Nothing to do: the service rests until the next session";
    /// The deployment does not allow this execution service to place orders.
    OrdersNotPermitted = "ORDERS_NOT_PERMITTED", Info, true,
        "This deployment's policy does not allow order execution",
        "Nothing to do unless this deployment should trade: then enable its execution policy";
}

impl ReasonCode {
    /// The stable wire string.
    pub fn as_str(&self) -> &str {
        match self.info() {
            Some(info) => info.code,
            None => match self {
                ReasonCode::Unrecognized(code) => code,
                // `info()` is `Some` for every known variant.
                _ => "",
            },
        }
    }

    /// The human description; for an unrecognized code, the code itself.
    pub fn description(&self) -> &str {
        self.info().map_or_else(|| self.as_str(), |i| i.description)
    }

    /// The severity; an unrecognized code is a warning (unknown is never calm).
    pub fn severity(&self) -> Severity {
        self.info().map_or(Severity::Warning, |i| i.severity)
    }

    /// True when the table marks the condition as expected, not an alarm; an
    /// unrecognized code is never expected.
    pub fn is_expected(&self) -> bool {
        self.info().is_some_and(|i| i.expected)
    }

    /// Position in the fixed listing order; unrecognized codes sort last.
    pub fn rank(&self) -> usize {
        ReasonCode::ALL
            .iter()
            .position(|c| c == self)
            .unwrap_or(ReasonCode::ALL.len())
    }
}

impl PartialOrd for ReasonCode {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Codes order by the table (the fixed listing order), then unrecognized ones by text.
impl Ord for ReasonCode {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank()
            .cmp(&other.rank())
            .then_with(|| self.as_str().cmp(other.as_str()))
    }
}

impl std::fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ReasonCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ReasonCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text: Cow<'de, str> = Cow::deserialize(d)?;
        Ok(ReasonCode::from_wire(&text))
    }
}

impl JsonSchema for ReasonCode {
    fn schema_name() -> Cow<'static, str> {
        "ReasonCode".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let known: Vec<&str> = ReasonCode::ALL.iter().map(|c| c.as_str()).collect();
        json_schema!({
            "description": "A stable reason code. Known codes are listed in `examples`; receivers keep unknown codes verbatim (forward compatibility).",
            "type": "string",
            "pattern": "^[A-Z][A-Z0-9_]*$",
            "examples": known,
        })
    }
}

/// Is a state with these reason codes calm, that is, nothing for a person to do?
/// `OK` is; any other state is calm only when it has codes and every one is
/// expected in the table (`MARKET_CLOSED [MARKET_CLOSED]`, `OFFLINE
/// [EXECUTION_DISABLED]`). The rollup, the dashboard, the report and alerts all ask
/// this one question.
pub fn is_calm(state: crate::State, codes: &[ReasonCode]) -> bool {
    state == crate::State::Ok || (!codes.is_empty() && codes.iter().all(ReasonCode::is_expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_and_is_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in ReasonCode::ALL {
            let info = code.info().expect("known codes have a table row");
            assert!(seen.insert(info.code), "duplicate code {}", info.code);
            assert_eq!(&ReasonCode::from_wire(info.code), code);
            assert!(!info.description.is_empty() && !info.runbook.is_empty());
        }
    }

    #[test]
    fn the_issue_minimum_is_present() {
        for code in [
            "KILL_SWITCH",
            "MARKET_CLOSED",
            "MARKETDATA_STALE",
            "MARKETDATA_MISSING",
            "EXECUTION_DISABLED",
            "REQUIRED_FIELDS_MISSING",
            "HEARTBEAT_STALE",
            "PROCESS_DOWN",
        ] {
            assert!(ReasonCode::from_wire(code).info().is_some(), "{code}");
        }
    }

    #[test]
    fn unknown_codes_are_kept_and_sort_last() {
        let odd = ReasonCode::from_wire("SOLAR_FLARE");
        assert_eq!(odd.as_str(), "SOLAR_FLARE");
        assert_eq!(odd.severity(), Severity::Warning);
        let json = serde_json::to_string(&odd).expect("serialise");
        assert_eq!(json, "\"SOLAR_FLARE\"");
        assert!(ReasonCode::KillSwitch < odd);
        assert!(ReasonCode::ProcessDown < ReasonCode::MarketClosed);
    }

    #[test]
    fn calm_is_ok_or_only_expected_codes() {
        use crate::State;
        assert!(is_calm(State::Ok, &[]));
        assert!(is_calm(State::MarketClosed, &[ReasonCode::MarketClosed]));
        assert!(is_calm(State::Offline, &[ReasonCode::ExecutionDisabled]));
        assert!(!is_calm(State::Offline, &[ReasonCode::Unreachable]));
        assert!(!is_calm(State::Unknown, &[]));
        assert!(!is_calm(
            State::Offline,
            &[ReasonCode::ExecutionDisabled, ReasonCode::ProcessDown]
        ));
    }
}
