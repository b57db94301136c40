//! The schema, as an ordered list of migrations.
//!
//! Each migration is a few SQL statements with a version number. On open, every
//! migration newer than the database's version is applied, in order, inside one
//! `BEGIN IMMEDIATE` transaction (so two processes opening the same file cannot both
//! migrate it), and recorded in `schema_version`. A database whose version is newer
//! than this build knows is refused rather than guessed at.
//!
//! Never edit a released migration: append a new one.

use std::path::Path;

use sqlx::SqlitePool;

use crate::HistoryError;

/// One step of the schema.
pub(crate) struct Migration {
    /// The schema version after this migration; 1, 2, 3, ... without gaps.
    pub(crate) version: i64,
    /// What it does, recorded in `schema_version`.
    pub(crate) description: &'static str,
    /// The statements, run in order.
    pub(crate) statements: &'static [&'static str],
}

/// Every migration, oldest first.
pub(crate) const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    description: "transitions table",
    statements: &[
        "CREATE TABLE transitions (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            service      TEXT,
            from_state   TEXT,
            to_state     TEXT NOT NULL,
            reason_codes TEXT NOT NULL,
            at_ns        INTEGER NOT NULL
        ) STRICT",
        // A subject's transitions in time order (id, the rowid, is implied last).
        "CREATE INDEX transitions_by_subject ON transitions (service, at_ns)",
        // Every subject's transitions in time order.
        "CREATE INDEX transitions_by_time ON transitions (at_ns)",
    ],
}];

/// The schema version this build creates.
pub(crate) fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Brings the database up to [`latest_version`].
pub(crate) async fn migrate(pool: &SqlitePool, path: &Path) -> Result<(), HistoryError> {
    let sqlite = |source| HistoryError::Sqlite {
        path: path.to_owned(),
        source,
    };
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(sqlite)?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_version (
            version     INTEGER PRIMARY KEY NOT NULL,
            description TEXT NOT NULL,
            applied_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
        ) STRICT",
    )
    .execute(&mut *tx)
    .await
    .map_err(sqlite)?;
    let current: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_version")
        .fetch_one(&mut *tx)
        .await
        .map_err(sqlite)?;
    let supported = latest_version();
    if current > supported {
        return Err(HistoryError::SchemaTooNew {
            path: path.to_owned(),
            found: current,
            supported,
        });
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        let failed = |source| HistoryError::Migration {
            path: path.to_owned(),
            version: m.version,
            description: m.description,
            source,
        };
        for statement in m.statements {
            sqlx::query(statement)
                .execute(&mut *tx)
                .await
                .map_err(failed)?;
        }
        sqlx::query("INSERT INTO schema_version (version, description) VALUES (?1, ?2)")
            .bind(m.version)
            .bind(m.description)
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
    }
    // Dropping `tx` on any error above rolls everything back.
    tx.commit().await.map_err(sqlite)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_up_from_one_without_gaps() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.description);
            assert!(!m.statements.is_empty());
        }
        assert_eq!(latest_version(), MIGRATIONS.len() as i64);
    }
}
