//! The schema, as an ordered list of migrations, in each engine's SQL.
//!
//! Each migration is a few SQL statements with a version number. On open, every
//! migration newer than the database's version is applied, in order, inside one
//! transaction that first takes the database's write lock (SQLite: `BEGIN
//! IMMEDIATE`; PostgreSQL: a transaction-scoped advisory lock), so two processes
//! opening the same database cannot both migrate it, and recorded in
//! `schema_version`. That transaction is also the write probe: a store that cannot
//! be written fails here, at open. A database whose version is newer than this
//! build knows is refused rather than guessed at.
//!
//! Never edit a released migration: append a new one.

/// One step of the schema.
pub(crate) struct Migration {
    /// The schema version after this migration; 1, 2, 3, ... without gaps.
    pub(crate) version: i64,
    /// What it does, recorded in `schema_version`.
    pub(crate) description: &'static str,
    /// The statements for SQLite, run in order.
    pub(crate) sqlite: &'static [&'static str],
    /// The same for PostgreSQL.
    pub(crate) postgres: &'static [&'static str],
}

/// Every migration, oldest first.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "transitions table",
        sqlite: &[
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
        postgres: &[
            "CREATE TABLE transitions (
            id           BIGSERIAL PRIMARY KEY,
            service      TEXT,
            from_state   TEXT,
            to_state     TEXT NOT NULL,
            reason_codes TEXT NOT NULL,
            at_ns        BIGINT NOT NULL
        )",
            "CREATE INDEX transitions_by_subject ON transitions (service, at_ns, id)",
            "CREATE INDEX transitions_by_time ON transitions (at_ns, id)",
        ],
    },
    Migration {
        version: 2,
        description: "leader lease",
        sqlite: &["CREATE TABLE leader_lease (
            id         INTEGER PRIMARY KEY CHECK (id = 1),
            holder     TEXT NOT NULL,
            token      INTEGER NOT NULL,
            expires_ns INTEGER NOT NULL
        ) STRICT"],
        postgres: &["CREATE TABLE leader_lease (
            id         INTEGER PRIMARY KEY CHECK (id = 1),
            holder     TEXT NOT NULL,
            token      BIGINT NOT NULL,
            expires_ns BIGINT NOT NULL
        )"],
    },
    Migration {
        version: 3,
        description: "replicas checking in",
        sqlite: &["CREATE TABLE replicas (
            name    TEXT PRIMARY KEY NOT NULL,
            seen_ns INTEGER NOT NULL
        ) STRICT"],
        postgres: &["CREATE TABLE replicas (
            name    TEXT PRIMARY KEY NOT NULL,
            seen_ns BIGINT NOT NULL
        )"],
    },
];

/// `schema_version` in SQLite.
pub(crate) const SQLITE_SCHEMA_VERSION: &str = "CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER PRIMARY KEY NOT NULL,
    description TEXT NOT NULL,
    applied_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) STRICT";

/// `schema_version` in PostgreSQL.
pub(crate) const POSTGRES_SCHEMA_VERSION: &str = "CREATE TABLE IF NOT EXISTS schema_version (
    version     BIGINT PRIMARY KEY NOT NULL,
    description TEXT NOT NULL,
    applied_at  TEXT NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
)";

/// The advisory lock key PostgreSQL migrations hold (any constant; "opsfloor" in ASCII).
pub(crate) const POSTGRES_MIGRATION_LOCK: i64 = 0x6f70_7366_6c6f_6f72;

/// The schema version this build creates.
pub(crate) fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_up_from_one_without_gaps() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.description);
            assert!(!m.sqlite.is_empty());
            assert_eq!(m.sqlite.len(), m.postgres.len(), "{}", m.description);
        }
        assert_eq!(latest_version(), MIGRATIONS.len() as i64);
    }
}
