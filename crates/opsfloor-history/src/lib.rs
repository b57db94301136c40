//! The floor's transition history, in embedded SQLite (the default) or PostgreSQL.
//!
//! The floor aggregator records every state transition of every service, and of the
//! floor itself, so that "since when" survives restarts and operators can ask SLO
//! questions ("what share of market hours was the marketdata feed OK this month?").
//!
//! ```no_run
//! # async fn demo() -> Result<(), opsfloor_history::HistoryError> {
//! use opsfloor_contract::{Calendar, ReasonCode, State};
//! use opsfloor_history::{History, Subject, Transition, TransitionQuery};
//!
//! let history = History::open(std::path::Path::new("/var/lib/opsfloor/history.db")).await?;
//! let now = jiff::Timestamp::now();
//! history
//!     .record(&Transition {
//!         subject: Subject::Service("marketdata-mcp-server".into()),
//!         from: Some(State::Ok),
//!         to: State::Degraded,
//!         reason_codes: vec![ReasonCode::MarketdataStale],
//!         at: now,
//!     })
//!     .await?;
//! let resumed = history.last_states().await?; // after a restart: the state of every subject
//! let recent = history.transitions(&TransitionQuery::latest(100)).await?;
//! let slo = history
//!     .slo(now - jiff::SignedDuration::from_hours(24 * 7), now, &Calendar::nyse())
//!     .await?;
//! history.close().await;
//! # Ok(()) }
//! ```
//!
//! # Storage
//!
//! One table, `transitions`, created by the ordered migrations in `migrations.rs`
//! (tracked in `schema_version`, applied in one transaction on open):
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `id` | `INTEGER PRIMARY KEY AUTOINCREMENT` | insertion order: breaks ties between equal instants |
//! | `service` | `TEXT`, nullable | the service's name; `NULL` is the floor as a whole ([`Subject::Floor`]) |
//! | `from_state` | `TEXT`, nullable | the previous state's wire name (`OK`, ...); `NULL` when unknown |
//! | `to_state` | `TEXT NOT NULL` | the new state's wire name |
//! | `reason_codes` | `TEXT NOT NULL` | a JSON array of wire strings (unknown codes kept verbatim) |
//! | `at_ns` | `INTEGER NOT NULL` | the instant, Unix nanoseconds UTC (1677-09-21 to 2262-04-11) |
//!
//! Using `NULL` for the floor, rather than a reserved name, means no service name can
//! collide with it. Every "newest first" or "latest" order is `at_ns`, then `id`, so
//! answers are deterministic even when many transitions share an instant. A file
//! database runs in WAL mode (readers never block the writer); [`History::open`]
//! creates the file and its directory when missing.

mod engine;
mod error;
mod journal;
mod location;
mod migrations;
mod postgres;
mod row;
mod slo;
mod sqlite;
mod store;

use std::collections::BTreeMap;

use jiff::Timestamp;
use opsfloor_contract::State;
use serde::Serialize;

pub use engine::{Change, HistoryStore, Lease, SubjectChanges};
pub use error::HistoryError;
pub use journal::{Journal, JournalStatus, Receipt, WriteMode};
pub use location::{Location, PostgresUrl};
pub use opsfloor_engine::{Subject, Transition};
pub use postgres::PgStore;
pub use slo::{slo_row, slo_row_excluding};
pub use sqlite::SqliteStore;
pub use store::History;

/// Which transitions [`History::transitions`] returns: those matching every given
/// filter, newest first, at most `limit` of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionQuery {
    /// Only this subject's transitions; `None`: every subject.
    pub subject: Option<Subject>,
    /// Only transitions at or after this instant (inclusive).
    pub since: Option<Timestamp>,
    /// Only transitions strictly before this instant (exclusive).
    pub until: Option<Timestamp>,
    /// At most this many (the newest ones); 0 returns nothing.
    pub limit: usize,
}

impl TransitionQuery {
    /// The newest `limit` transitions of every subject.
    pub fn latest(limit: usize) -> TransitionQuery {
        TransitionQuery {
            subject: None,
            since: None,
            until: None,
            limit,
        }
    }

    /// The newest `limit` transitions of one subject.
    pub fn for_subject(subject: Subject, limit: usize) -> TransitionQuery {
        TransitionQuery {
            subject: Some(subject),
            ..TransitionQuery::latest(limit)
        }
    }
}

/// How one subject spent the market hours of an SLO window (see [`History::slo`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SloRow {
    /// Whose time this is.
    pub subject: Subject,
    /// Minutes of market-session time in the window during which the subject's state
    /// was known (time before its first transition is not counted).
    pub market_minutes: f64,
    /// The fraction (0..=1) of those minutes spent in each state; states never in
    /// force during market hours are omitted, so the map is empty when
    /// `market_minutes` is 0 and otherwise sums to 1 with `offline_expected`.
    /// Expected offline time (`EXECUTION_DISABLED`) is in no state's share.
    pub share: BTreeMap<State, f64>,
    /// The fraction (0..=1) of `market_minutes` that was expected offline time: a
    /// state whose reason codes include `EXECUTION_DISABLED` (scaled to zero on
    /// purpose). Neither an outage nor counted against `availability`.
    pub offline_expected: f64,
    /// The share of counted market time (`market_minutes` less the expected
    /// offline time) in `OK` or `MARKET_CLOSED`; `None` when nothing was counted.
    pub availability: Option<f64>,
}
