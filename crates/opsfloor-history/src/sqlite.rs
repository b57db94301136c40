//! The SQLite engine: an embedded file in WAL mode, or memory.

use std::path::Path;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::HistoryError;
use crate::engine::sql_store;

/// How long a statement waits for another connection's (or process's) write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections to a file database: one writer at a time, readers alongside (WAL).
const FILE_CONNECTIONS: u32 = 4;

/// The history in SQLite.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    location: String,
}

impl SqliteStore {
    /// Opens (creating the file and its parent directory if missing) and migrates
    /// the database at `path`, in WAL mode with `synchronous = NORMAL`.
    pub async fn open(path: &Path) -> Result<SqliteStore, HistoryError> {
        let location = path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|source| HistoryError::CreateDir {
                    location: location.clone(),
                    source,
                })?;
        }
        writable(path, &location)?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(FILE_CONNECTIONS)
            .connect_with(options)
            .await
            .map_err(|source| HistoryError::Database {
                location: location.clone(),
                source,
            })?;
        SqliteStore { pool, location }.migrated().await
    }

    /// A fresh, empty database in memory, gone when closed or dropped.
    pub async fn open_in_memory() -> Result<SqliteStore, HistoryError> {
        let location = ":memory:".to_owned();
        // Every connection to `:memory:` is its own database, so keep exactly one,
        // open for the pool's whole life.
        let pool = SqlitePoolOptions::new()
            .min_connections(1)
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(SqliteConnectOptions::new().in_memory(true))
            .await
            .map_err(|source| HistoryError::Database {
                location: location.clone(),
                source,
            })?;
        SqliteStore { pool, location }.migrated().await
    }

    async fn migrated(self) -> Result<SqliteStore, HistoryError> {
        if let Err(e) = self.migrate().await {
            self.pool.close().await;
            return Err(e);
        }
        // The write probe's second half: the migration transaction may have gone
        // only to the WAL file; a checkpoint writes the database file itself.
        // (A checkpoint that is merely busy is not a failure: only errors count.)
        let probe: Result<(i64, i64, i64), _> = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&self.pool)
            .await;
        if let Err(source) = probe {
            let e = HistoryError::Database {
                location: self.location.clone(),
                source,
            };
            self.pool.close().await;
            return Err(e);
        }
        Ok(self)
    }
}

/// The write probe's first half: an existing file must open for writing. SQLite
/// alone would not tell: with its WAL file still beside it, a read-only or
/// immutable database accepts writes into the WAL until the first checkpoint.
fn writable(path: &Path, location: &str) -> Result<(), HistoryError> {
    match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(HistoryError::NotWritable {
            location: location.to_owned(),
            source,
        }),
    }
}

sql_store!(SqliteStore, sqlx::Sqlite, false, "BEGIN IMMEDIATE");
