//! The floor rollup: one pure function from the states of a floor's services to the
//! state of the whole Trading Floor.
//!
//! A service is *expected to run* unless the inventory marks it scaled to zero or
//! disabled. *Optional* services are listed but never change the floor's state,
//! except that a kill switch reported by any service halts the floor, and they count
//! in rule 2. First match wins:
//!
//! | rule | when | floor state | reason codes |
//! |---|---|---|---|
//! | 1 | no services in the inventory | UNKNOWN | `NO_SERVICES` |
//! | 2 | at least one service is expected to run, and every one of them is OFFLINE | OFFLINE | `UNREACHABLE` |
//! | 3 | any service reports its kill switch engaged | HALTED | `KILL_SWITCH` |
//! | 4 | a critical service is HALTED; or, its own market open, a critical service is OFFLINE; or every (non-optional) strategy expected to run is HALTED | HALTED | theirs |
//! | 5 | a critical service is UNKNOWN | UNKNOWN | `REQUIRED_FIELDS_MISSING` |
//! | 6 | a critical service is DEGRADED or (its own market closed) OFFLINE; or an important service is DEGRADED, HALTED, OFFLINE or UNKNOWN | DEGRADED | theirs |
//! | 7 | every venue of the services expected to run is closed | MARKET_CLOSED | `MARKET_CLOSED` |
//! | 8 | otherwise | OK | none |
//!
//! "OFFLINE" in rules 4 and 6 means OFFLINE while expected to run, and never
//! `OFFLINE [EXECUTION_DISABLED]`: execution scaled to zero or disabled never
//! degrades the floor. Reason codes are deduplicated and listed in the fixed code
//! order; the services that decided the rule are the `contributors`, by name.
//!
//! "Market open" is per service ([`Member::market_open`]): each service is judged
//! by its own venue, so a Tokyo strategy offline at 15:00 UTC does not halt a floor
//! whose New York market is open. Rule 7 asks the services expected to run (all
//! services when none is): the floor is MARKET_CLOSED only when every one of their
//! venues is closed.

use serde::{Deserialize, Serialize};

use crate::kind::{ServiceKind, State};
use crate::reason::ReasonCode;

/// How much the floor depends on a service.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    Default,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Criticality {
    /// The floor cannot trade without it.
    Critical,
    /// The floor is degraded without it.
    #[default]
    Important,
    /// Listed, but never changes the floor's state (except by a kill switch).
    Optional,
}

impl Criticality {
    /// Every criticality, most important first.
    pub const ALL: [Criticality; 3] = [
        Criticality::Critical,
        Criticality::Important,
        Criticality::Optional,
    ];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Criticality::Critical => "critical",
            Criticality::Important => "important",
            Criticality::Optional => "optional",
        }
    }

    /// Parses a wire name.
    pub fn from_wire(name: &str) -> Option<Criticality> {
        Criticality::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// One service as the rollup sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member<'a> {
    /// The service's name.
    pub name: &'a str,
    /// Its kind.
    pub kind: ServiceKind,
    /// Its criticality.
    pub criticality: Criticality,
    /// False when the inventory marks it scaled to zero or disabled.
    pub expected_to_run: bool,
    /// Its current (calm, thresholded) state.
    pub state: State,
    /// Its current reason codes.
    pub reason_codes: &'a [ReasonCode],
    /// It reports its kill switch engaged.
    pub kill_switch: bool,
    /// Its own venue's market is open now (closed outside the calendar's range:
    /// the calm reading).
    pub market_open: bool,
}

impl Member<'_> {
    /// OFFLINE in a way that matters: expected to run, and not merely execution disabled.
    fn offline_unexpectedly(&self) -> bool {
        self.state == State::Offline
            && self.expected_to_run
            && !self.reason_codes.contains(&ReasonCode::ExecutionDisabled)
    }
}

/// Which rollup rule decided (numbered 1 to 8, as in the table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FloorRule {
    /// 1: no services.
    NoServices = 1,
    /// 2: everything expected to run is offline.
    AllOffline = 2,
    /// 3: a kill switch somewhere.
    KillSwitch = 3,
    /// 4: trading cannot go on.
    Halted = 4,
    /// 5: a critical service cannot be trusted.
    CriticalUnknown = 5,
    /// 6: something needs attention.
    Degraded = 6,
    /// 7: the market is closed.
    MarketClosed = 7,
    /// 8: all well.
    Healthy = 8,
}

impl FloorRule {
    /// The rule's number in the table.
    pub const fn number(self) -> u8 {
        self as u8
    }
}

/// The floor's state, why, and which services decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FloorVerdict {
    /// The floor's state.
    pub state: State,
    /// Deduplicated, in the fixed code order.
    pub reason_codes: Vec<ReasonCode>,
    /// The rule that fired.
    pub rule: FloorRule,
    /// The services that decided it, by name.
    pub contributors: Vec<String>,
}

/// Applies the rollup table. Pure and deterministic: the order of `members` does not
/// matter. Each member's `market_open` is its own venue's.
pub fn rollup(members: &[Member<'_>]) -> FloorVerdict {
    if members.is_empty() {
        return verdict(
            State::Unknown,
            FloorRule::NoServices,
            vec![ReasonCode::NoServices],
            &[],
        );
    }

    let expected: Vec<&Member<'_>> = members.iter().filter(|m| m.expected_to_run).collect();
    if !expected.is_empty() && expected.iter().all(|m| m.state == State::Offline) {
        return verdict(
            State::Offline,
            FloorRule::AllOffline,
            vec![ReasonCode::Unreachable],
            &expected,
        );
    }

    let killed: Vec<&Member<'_>> = members.iter().filter(|m| m.kill_switch).collect();
    if !killed.is_empty() {
        return verdict(
            State::Halted,
            FloorRule::KillSwitch,
            vec![ReasonCode::KillSwitch],
            &killed,
        );
    }

    // From here on, optional services never change the floor's state.
    let counted: Vec<&Member<'_>> = members
        .iter()
        .filter(|m| m.criticality != Criticality::Optional)
        .collect();
    let critical = |m: &&&Member<'_>| m.criticality == Criticality::Critical;

    let mut halting: Vec<&Member<'_>> = counted
        .iter()
        .filter(critical)
        .filter(|m| m.state == State::Halted || (m.market_open && m.offline_unexpectedly()))
        .copied()
        .collect();
    let strategies: Vec<&Member<'_>> = counted
        .iter()
        .filter(|m| m.kind == ServiceKind::Strategy && m.expected_to_run)
        .copied()
        .collect();
    if !strategies.is_empty() && strategies.iter().all(|m| m.state == State::Halted) {
        halting.extend(strategies);
    }
    if !halting.is_empty() {
        return verdict(
            State::Halted,
            FloorRule::Halted,
            codes_of(&halting),
            &halting,
        );
    }

    let unknown: Vec<&Member<'_>> = counted
        .iter()
        .filter(critical)
        .filter(|m| m.state == State::Unknown)
        .copied()
        .collect();
    if !unknown.is_empty() {
        return verdict(
            State::Unknown,
            FloorRule::CriticalUnknown,
            vec![ReasonCode::RequiredFieldsMissing],
            &unknown,
        );
    }

    let degrading: Vec<&Member<'_>> = counted
        .iter()
        .filter(|m| match m.criticality {
            Criticality::Critical => {
                m.state == State::Degraded || (!m.market_open && m.offline_unexpectedly())
            }
            Criticality::Important => match m.state {
                State::Degraded | State::Halted | State::Unknown => true,
                State::Offline => m.offline_unexpectedly(),
                State::Ok | State::MarketClosed => false,
            },
            Criticality::Optional => false,
        })
        .copied()
        .collect();
    if !degrading.is_empty() {
        return verdict(
            State::Degraded,
            FloorRule::Degraded,
            codes_of(&degrading),
            &degrading,
        );
    }

    // Every venue the floor depends on is closed (all services when none is
    // expected to run, so a floor scaled to zero still follows its markets).
    let judged: &[&Member<'_>] = if expected.is_empty() {
        &members.iter().collect::<Vec<_>>()
    } else {
        &expected
    };
    if judged.iter().all(|m| !m.market_open) {
        return verdict(
            State::MarketClosed,
            FloorRule::MarketClosed,
            vec![ReasonCode::MarketClosed],
            &[],
        );
    }
    verdict(State::Ok, FloorRule::Healthy, Vec::new(), &[])
}

fn codes_of(members: &[&Member<'_>]) -> Vec<ReasonCode> {
    members
        .iter()
        .flat_map(|m| m.reason_codes.iter().cloned())
        .collect()
}

fn verdict(
    state: State,
    rule: FloorRule,
    mut codes: Vec<ReasonCode>,
    members: &[&Member<'_>],
) -> FloorVerdict {
    codes.sort();
    codes.dedup();
    let mut contributors: Vec<String> = members.iter().map(|m| m.name.to_owned()).collect();
    contributors.sort();
    contributors.dedup();
    FloorVerdict {
        state,
        reason_codes: codes,
        rule,
        contributors,
    }
}
