//! The Ops Status Contract, as a pure library.
//!
//! Every service on the trading floor serves one JSON document at `GET /ops/status`
//! ([`Document`]). Its state is one of six ([`State`]), decided by a truth table
//! ([`evaluate`]) that is a pure function of its inputs, with a stable reason code
//! from one table ([`ReasonCode`]). Whether the market is open comes from a
//! calendar ([`Calendar`]).
//!
//! This crate does no I/O, spawns nothing and never reads the clock: `now` is
//! always a parameter. That is what makes every answer reproducible and every
//! function here cheap to test. The probe, the floor and the CLI are thin shells
//! around it.
//!
//! ```
//! use opsfloor_contract::{evaluate, Inputs, ServiceKind, State};
//!
//! let inputs = Inputs { kill_switch: true, ..Inputs::healthy(ServiceKind::Strategy) };
//! let verdict = evaluate(&inputs);
//! assert_eq!(verdict.state, State::Halted);
//! assert_eq!(verdict.reason.unwrap().as_str(), "KILL_SWITCH");
//! ```

pub mod builder;
pub mod calendar;
pub mod check;
pub mod document;
mod duplicate;
pub mod kind;
pub mod reason;
pub mod rollup;
pub mod schema;
pub mod time;
pub mod truth;

pub use builder::{Identity, Observations, ServiceConfig, build_document};
pub use calendar::{Calendar, CalendarError, MarketStatus, Session, Sessions};
pub use check::{MalformedJson, Problem, ProblemKind, Received, parse_document};
pub use document::{
    AgentIdentity, Document, Endpoints, Heartbeat, Market, Marketdata, Safety, Status,
};
pub use kind::{ServiceKind, State};
pub use reason::{ReasonCode, ReasonInfo, Severity, is_calm};
pub use rollup::{Criticality, FloorRule, FloorVerdict, Member, rollup};
pub use time::UtcTimestamp;
pub use truth::{Inputs, Rule, Verdict, evaluate};
