//! The two small vocabularies of the contract: what a service is, and what state it is in.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a service does on the floor. Decides which truth-table rules apply to it.
///
/// Marked non-exhaustive: the aggregate Trading Floor, and kinds added later, get
/// variants of their own without breaking code that matches on this type.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ServiceKind {
    /// A market data feed (ticks and bars).
    Marketdata,
    /// A strategy engine: consumes market data, proposes orders.
    Strategy,
    /// The execution agent: the only kind that may place orders. Often scaled to zero.
    Execution,
    /// A batch or streaming ingest job.
    Ingest,
    /// Any other operational service (dashboards, schedulers, tooling).
    Ops,
    /// A whole trading floor (an opsfloor aggregator), listed as one service of
    /// another floor so that desks and regions nest.
    Floor,
}

impl ServiceKind {
    /// Every kind, in the seed's display order (then the others).
    pub const ALL: [ServiceKind; 6] = [
        ServiceKind::Marketdata,
        ServiceKind::Strategy,
        ServiceKind::Execution,
        ServiceKind::Ingest,
        ServiceKind::Ops,
        ServiceKind::Floor,
    ];

    /// The wire name, as written in `service_kind`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ServiceKind::Marketdata => "marketdata",
            ServiceKind::Strategy => "strategy",
            ServiceKind::Execution => "execution",
            ServiceKind::Ingest => "ingest",
            ServiceKind::Ops => "ops",
            ServiceKind::Floor => "floor",
        }
    }

    /// Parses a wire name; `None` for anything else (names are case-sensitive).
    pub fn from_wire(name: &str) -> Option<ServiceKind> {
        ServiceKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Strategy and execution services cannot act on stale data: the truth table
    /// halts them where it only degrades other kinds.
    pub const fn halts_without_marketdata(self) -> bool {
        matches!(self, ServiceKind::Strategy | ServiceKind::Execution)
    }

    /// Kinds that consume market data and so carry a `marketdata` block.
    pub const fn uses_marketdata(self) -> bool {
        matches!(
            self,
            ServiceKind::Marketdata | ServiceKind::Strategy | ServiceKind::Execution
        )
    }

    /// Kinds whose work follows the trading session, and so rest when the market is closed.
    pub const fn follows_market_hours(self) -> bool {
        matches!(
            self,
            ServiceKind::Marketdata
                | ServiceKind::Strategy
                | ServiceKind::Ingest
                | ServiceKind::Execution
        )
    }
}

impl std::fmt::Display for ServiceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The six states of the contract.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum State {
    /// Working as intended.
    Ok,
    /// Working, but something needs attention.
    Degraded,
    /// Deliberately or defensively stopped (kill switch, no market data).
    Halted,
    /// Healthy and resting because the market is closed. Expected, not an alarm.
    MarketClosed,
    /// Not running: down, unreachable, or scaled to zero.
    Offline,
    /// The contract cannot be trusted (required fields missing).
    Unknown,
}

impl State {
    /// Every state, in the seed's order.
    pub const ALL: [State; 6] = [
        State::Ok,
        State::Degraded,
        State::Halted,
        State::MarketClosed,
        State::Offline,
        State::Unknown,
    ];

    /// The wire name, as written in `status.state`.
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Ok => "OK",
            State::Degraded => "DEGRADED",
            State::Halted => "HALTED",
            State::MarketClosed => "MARKET_CLOSED",
            State::Offline => "OFFLINE",
            State::Unknown => "UNKNOWN",
        }
    }

    /// Parses a wire name; `None` for anything else.
    pub fn from_wire(name: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The human summary written in `status.summary`.
    pub const fn summary(self) -> &'static str {
        match self {
            State::Ok => "Healthy",
            State::Degraded => "Degraded",
            State::Halted => "Halted",
            State::MarketClosed => "Market closed",
            State::Offline => "Offline",
            State::Unknown => "Unknown",
        }
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for k in ServiceKind::ALL {
            assert_eq!(ServiceKind::from_wire(k.as_str()), Some(k));
            let json = serde_json::to_string(&k).expect("serialise kind");
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
        for s in State::ALL {
            assert_eq!(State::from_wire(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).expect("serialise state");
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert_eq!(ServiceKind::from_wire("Marketdata"), None);
        assert_eq!(State::from_wire("ok"), None);
    }
}
