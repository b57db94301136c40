//! The one transition type: produced by the engine, recorded by history, shown by
//! the API and the live stream, and (later) handed to alert sinks.

use jiff::Timestamp;
use opsfloor_contract::{ReasonCode, State};
use serde::Serialize;

/// What a transition is about: one service, or the floor as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// The floor's own, rolled-up state.
    Floor,
    /// One service, by its inventory name.
    Service(String),
}

impl Subject {
    /// The service's name; `None` for the floor.
    pub fn service_name(&self) -> Option<&str> {
        match self {
            Subject::Floor => None,
            Subject::Service(name) => Some(name),
        }
    }
}

impl From<Option<String>> for Subject {
    /// `None` is the floor, as the history stores it (`service = NULL`).
    fn from(service: Option<String>) -> Subject {
        match service {
            None => Subject::Floor,
            Some(name) => Subject::Service(name),
        }
    }
}

impl std::fmt::Display for Subject {
    /// The service's name, or `floor`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::Floor => f.write_str("floor"),
            Subject::Service(name) => f.write_str(name),
        }
    }
}

/// One state change of a subject: a change of state or of reason codes, nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transition {
    /// Whose state changed.
    pub subject: Subject,
    /// The state before; `None` when unknown (the first observation).
    pub from: Option<State>,
    /// The state from `at` on.
    pub to: State,
    /// The reason codes of the new state, in the contract's listing order.
    pub reason_codes: Vec<ReasonCode>,
    /// When the change was observed.
    pub at: Timestamp,
}
