//! What can go wrong with the history database. Every message names the database
//! (its path, `:memory:`, or its PostgreSQL URL without the password).

use jiff::Timestamp;
use opsfloor_contract::CalendarError;

/// A history operation that failed. Every message starts with the database's
/// location; none contains a password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// A `--db` value that is not a usable location.
    #[error("history database {location}: {detail}")]
    InvalidLocation {
        /// The location as given, with any password hidden.
        location: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The database's parent directory does not exist and cannot be created.
    #[error("history database {location}: cannot create its directory: {source}")]
    CreateDir {
        /// The database file.
        location: String,
        /// Why.
        source: std::io::Error,
    },
    /// The database file exists but cannot be opened for writing (read-only,
    /// immutable, wrong owner, or a directory).
    #[error("history database {location}: cannot be written: {source}")]
    NotWritable {
        /// The database file.
        location: String,
        /// Why.
        source: std::io::Error,
    },
    /// The database refused an open, a query or a transaction.
    #[error("history database {location}: {source}")]
    Database {
        /// The database.
        location: String,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// A schema migration failed; the database is left at the previous version.
    #[error(
        "history database {location}: migration to schema version {version} ({description}) failed: {source}"
    )]
    Migration {
        /// The database.
        location: String,
        /// The schema version the migration would have reached.
        version: i64,
        /// What the migration does.
        description: &'static str,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// The database was written by a newer opsfloor whose schema this build does not know.
    #[error(
        "history database {location}: schema version {found} is newer than this build supports ({supported}); use a newer opsfloor"
    )]
    SchemaTooNew {
        /// The database.
        location: String,
        /// The database's schema version.
        found: i64,
        /// The newest schema version this build knows.
        supported: i64,
    },
    /// A stored row that cannot be read back (edited by hand, or damaged).
    #[error("history database {location}: transition {id} is unreadable: {detail}")]
    Corrupt {
        /// The database.
        location: String,
        /// The row's `id`.
        id: i64,
        /// What is wrong with it.
        detail: String,
    },
    /// An instant outside what the database stores (Unix nanoseconds in 64 bits).
    #[error(
        "history database {location}: cannot store {at}: instants must lie between 1677-09-21 and 2262-04-11"
    )]
    TimestampOutOfRange {
        /// The database.
        location: String,
        /// The instant.
        at: Timestamp,
    },
    /// A leader's write carrying a fencing token older than the lease's: a stale
    /// leader's late write, refused.
    #[error(
        "history database {location}: write refused: fencing token {token} is stale (the lease is at {current})"
    )]
    Fenced {
        /// The database.
        location: String,
        /// The writer's token.
        token: i64,
        /// The lease's token now.
        current: i64,
    },
    /// The SLO window lies outside the calendar's supported range.
    #[error("history database {location}: SLO window: {source}")]
    Calendar {
        /// The database.
        location: String,
        /// The calendar's error.
        source: CalendarError,
    },
}

impl HistoryError {
    /// Whether this is an input/output failure (exit 74: the store cannot be
    /// reached, opened or written: read-only, wrong owner, a directory, a server
    /// down, a lock held too long) rather than bad data (exit 65: rows that do not
    /// decode, a schema from a newer build, an instant out of range).
    pub fn is_io(&self) -> bool {
        match self {
            HistoryError::CreateDir { .. } | HistoryError::NotWritable { .. } => true,
            HistoryError::Database { source, .. } | HistoryError::Migration { source, .. } => {
                sqlx_is_io(source)
            }
            HistoryError::InvalidLocation { .. }
            | HistoryError::SchemaTooNew { .. }
            | HistoryError::Corrupt { .. }
            | HistoryError::TimestampOutOfRange { .. }
            | HistoryError::Fenced { .. }
            | HistoryError::Calendar { .. } => false,
        }
    }

    /// The database's location as the message shows it (no password).
    pub fn location(&self) -> &str {
        match self {
            HistoryError::InvalidLocation { location, .. }
            | HistoryError::CreateDir { location, .. }
            | HistoryError::NotWritable { location, .. }
            | HistoryError::Database { location, .. }
            | HistoryError::Migration { location, .. }
            | HistoryError::SchemaTooNew { location, .. }
            | HistoryError::Corrupt { location, .. }
            | HistoryError::TimestampOutOfRange { location, .. }
            | HistoryError::Fenced { location, .. }
            | HistoryError::Calendar { location, .. } => location,
        }
    }
}

/// SQLite's primary result codes that mean bad data rather than I/O.
const SQLITE_DATA_CODES: &[i64] = &[
    11, // SQLITE_CORRUPT
    19, // SQLITE_CONSTRAINT
    20, // SQLITE_MISMATCH
    26, // SQLITE_NOTADB
];

/// Whether a driver error is about reaching or writing the store.
fn sqlx_is_io(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => {
            let Some(code) = db.code() else {
                return true;
            };
            if let Ok(n) = code.parse::<i64>() {
                // SQLite: extended codes carry the primary code in the low byte.
                return !SQLITE_DATA_CODES.contains(&(n & 0xff));
            }
            // PostgreSQL SQLSTATE classes: connection (08), resources (53),
            // operator intervention (57), system (58), authorization (28), and
            // read-only transactions (25006).
            matches!(&code[..2.min(code.len())], "08" | "53" | "57" | "58" | "28")
                || code == "25006"
        }
        _ => false,
    }
}
