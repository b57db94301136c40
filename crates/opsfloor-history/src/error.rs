//! What can go wrong with the history database. Every message names the database.

use std::path::PathBuf;

use jiff::Timestamp;
use opsfloor_contract::CalendarError;

/// A history operation that failed. Every message starts with the database's path
/// (`:memory:` for an in-memory database).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// The database's parent directory does not exist and cannot be created.
    #[error("history database {}: cannot create its directory: {source}", path.display())]
    CreateDir {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// SQLite refused an open, a query or a transaction.
    #[error("history database {}: {source}", path.display())]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// SQLite's (or the driver's) error.
        source: sqlx::Error,
    },
    /// A schema migration failed; the database is left at the previous version.
    #[error("history database {}: migration to schema version {version} ({description}) failed: {source}", path.display())]
    Migration {
        /// The database file.
        path: PathBuf,
        /// The schema version the migration would have reached.
        version: i64,
        /// What the migration does.
        description: &'static str,
        /// SQLite's error.
        source: sqlx::Error,
    },
    /// The database was written by a newer opsfloor whose schema this build does not know.
    #[error(
        "history database {}: schema version {found} is newer than this build supports ({supported}); use a newer opsfloor",
        path.display()
    )]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// The database's schema version.
        found: i64,
        /// The newest schema version this build knows.
        supported: i64,
    },
    /// A stored row that cannot be read back (edited by hand, or damaged).
    #[error("history database {}: transition {id} is unreadable: {detail}", path.display())]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// The row's `id`.
        id: i64,
        /// What is wrong with it.
        detail: String,
    },
    /// An instant outside what the database stores (Unix nanoseconds in 64 bits).
    #[error(
        "history database {}: cannot store {at}: instants must lie between 1677-09-21 and 2262-04-11",
        path.display()
    )]
    TimestampOutOfRange {
        /// The database file.
        path: PathBuf,
        /// The instant.
        at: Timestamp,
    },
    /// The SLO window lies outside the calendar's supported range.
    #[error("history database {}: SLO window: {source}", path.display())]
    Calendar {
        /// The database file.
        path: PathBuf,
        /// The calendar's error.
        source: CalendarError,
    },
}
