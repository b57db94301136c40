//! [`History`]: the database handle and its queries.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use opsfloor_contract::{Calendar, State};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::row::{self, COLUMNS, Encoded, Stored};
use crate::{HistoryError, SloRow, Transition, TransitionQuery, migrations, slo};

/// How long a statement waits for another connection's (or process's) write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections to a file database: one writer at a time, readers alongside (WAL).
const FILE_CONNECTIONS: u32 = 4;

/// The name errors use for an in-memory database.
const IN_MEMORY: &str = ":memory:";

/// Ranks each subject's transitions, latest first (`rn = 1`: the latest).
const RANKED: &str = "ROW_NUMBER() OVER (PARTITION BY service ORDER BY at_ns DESC, id DESC)";

/// The transition history: a pool of SQLite connections. Cheap to clone; clones
/// share the pool.
#[derive(Debug, Clone)]
pub struct History {
    pool: SqlitePool,
    path: PathBuf,
}

impl History {
    /// Opens (creating the file and its parent directory if missing) and migrates
    /// the database at `path`, in WAL mode with `synchronous = NORMAL` (a power cut
    /// may lose the last transitions, never corrupt the file).
    pub async fn open(path: &Path) -> Result<History, HistoryError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|source| HistoryError::CreateDir {
                    path: path.to_owned(),
                    source,
                })?;
        }
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
            .map_err(|source| HistoryError::Sqlite {
                path: path.to_owned(),
                source,
            })?;
        History::migrated(pool, path.to_owned()).await
    }

    /// A fresh, empty database in memory, gone when the handle is closed or
    /// dropped: for tests and benchmarks.
    pub async fn open_in_memory() -> Result<History, HistoryError> {
        let path = PathBuf::from(IN_MEMORY);
        // Every connection to `:memory:` is its own database, so keep exactly one,
        // open for the pool's whole life.
        let pool = SqlitePoolOptions::new()
            .min_connections(1)
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(SqliteConnectOptions::new().in_memory(true))
            .await
            .map_err(|source| HistoryError::Sqlite {
                path: path.clone(),
                source,
            })?;
        History::migrated(pool, path).await
    }

    async fn migrated(pool: SqlitePool, path: PathBuf) -> Result<History, HistoryError> {
        if let Err(e) = migrations::migrate(&pool, &path).await {
            pool.close().await;
            return Err(e);
        }
        Ok(History { pool, path })
    }

    /// The database's path (`:memory:` for an in-memory database).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records one transition.
    pub async fn record(&self, t: &Transition) -> Result<(), HistoryError> {
        Encoded::new(t, &self.path)?
            .insert()
            .execute(&self.pool)
            .await
            .map_err(|e| self.sqlite(e))?;
        Ok(())
    }

    /// Records every transition in one transaction: all or none. Their order in
    /// the slice is their insertion order (which breaks ties between equal instants).
    pub async fn record_all(&self, ts: &[Transition]) -> Result<(), HistoryError> {
        if ts.is_empty() {
            return Ok(());
        }
        let rows = ts
            .iter()
            .map(|t| Encoded::new(t, &self.path))
            .collect::<Result<Vec<_>, _>>()?;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| self.sqlite(e))?;
        for chunk in rows.chunks(row::ROWS_PER_INSERT) {
            row::insert_many(chunk)
                .build()
                .execute(&mut *tx)
                .await
                .map_err(|e| self.sqlite(e))?;
        }
        tx.commit().await.map_err(|e| self.sqlite(e))
    }

    /// The transitions matching `q` (see [`TransitionQuery`]), newest first (equal
    /// instants: the later recorded first), at most `q.limit`.
    pub async fn transitions(&self, q: &TransitionQuery) -> Result<Vec<Transition>, HistoryError> {
        let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
        let since = q.since.map_or(i64::MIN, row::clamped_ns);
        // `until` is exclusive; the query's bound is inclusive.
        let until = match q.until.map(row::clamped_ns) {
            None => i64::MAX,
            Some(i64::MIN) => return Ok(Vec::new()),
            Some(until) => until - 1,
        };
        if limit == 0 || since > until {
            return Ok(Vec::new());
        }
        let rows: Vec<Stored> = match &q.subject {
            Some(subject) => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM transitions
                     WHERE service IS ?1 AND at_ns BETWEEN ?2 AND ?3
                     ORDER BY at_ns DESC, id DESC LIMIT ?4"
                );
                sqlx::query_as(&sql)
                    .bind(subject.service_name())
                    .bind(since)
                    .bind(until)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
            }
            None => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM transitions
                     WHERE at_ns BETWEEN ?1 AND ?2
                     ORDER BY at_ns DESC, id DESC LIMIT ?3"
                );
                sqlx::query_as(&sql)
                    .bind(since)
                    .bind(until)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
            }
        }
        .map_err(|e| self.sqlite(e))?;
        self.decode_all(rows)
    }

    /// The latest transition of every subject (latest instant; equal instants: the
    /// later recorded), the floor first, then services by name: what to resume from
    /// after a restart.
    pub async fn last_states(&self) -> Result<Vec<Transition>, HistoryError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM (SELECT *, {RANKED} AS rn FROM transitions)
             WHERE rn = 1 ORDER BY service"
        );
        let rows: Vec<Stored> = sqlx::query_as(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.sqlite(e))?;
        self.decode_all(rows)
    }

    /// Retention: deletes the transitions older than `older_than`, except, for each
    /// subject, the one in force at `older_than` (its latest at or before it). So a
    /// subject's latest transition is never deleted, however old, and SLO answers
    /// for windows starting at or after `older_than` do not change. Returns how many
    /// transitions were deleted.
    pub async fn prune(&self, older_than: Timestamp) -> Result<u64, HistoryError> {
        let sql = format!(
            "DELETE FROM transitions WHERE at_ns < ?1 AND id NOT IN (
                SELECT id FROM (SELECT id, {RANKED} AS rn FROM transitions WHERE at_ns <= ?1)
                WHERE rn = 1)"
        );
        let done = sqlx::query(&sql)
            .bind(row::clamped_ns(older_than))
            .execute(&self.pool)
            .await
            .map_err(|e| self.sqlite(e))?;
        Ok(done.rows_affected())
    }

    /// How each subject spent the market hours of `[window_start, now)`.
    ///
    /// For each subject with a known state at some instant of the window: the time
    /// between `window_start` and `now` that falls inside the market sessions of
    /// `calendar` (for [`Calendar::AlwaysOpen`], all of it), split by the state in
    /// force: the latest transition at or before each instant (equal instants: the
    /// later recorded). Time before the subject's first known transition is not
    /// counted, so `market_minutes` is the market time during which its state was
    /// known, and `share` holds each state's fraction of it (summing to 1; states
    /// with no time omitted; empty when `market_minutes` is 0). Rows come floor
    /// first, then services by name; an empty or inverted window gives no rows.
    ///
    /// Sessions are those of the calendar's dates (in its time zone) from
    /// `window_start`'s to `now`'s, so both must lie in the calendar's supported
    /// range (NYSE: 1990 to 2040), or this fails with [`HistoryError::Calendar`].
    /// `now` is a parameter: nothing here reads the clock. The arithmetic is
    /// [`slo_row`](crate::slo_row).
    pub async fn slo(
        &self,
        window_start: Timestamp,
        now: Timestamp,
        calendar: &Calendar,
    ) -> Result<Vec<SloRow>, HistoryError> {
        if window_start >= now {
            return Ok(Vec::new());
        }
        let tz = calendar.time_zone();
        let sessions = calendar
            .sessions(
                tz.to_datetime(window_start).date(),
                tz.to_datetime(now).date(),
            )
            .map_err(|source| HistoryError::Calendar {
                path: self.path.clone(),
                source,
            })?;
        // Each subject's transitions inside the window, plus the one in force at its start.
        let sql = format!(
            "SELECT service, to_state, at_ns, id FROM transitions WHERE at_ns > ?1 AND at_ns < ?2
             UNION ALL
             SELECT service, to_state, at_ns, id FROM (
                SELECT service, to_state, at_ns, id, {RANKED} AS rn
                FROM transitions WHERE at_ns <= ?1)
             WHERE rn = 1
             ORDER BY service, at_ns, id"
        );
        let rows: Vec<(Option<String>, String, i64, i64)> = sqlx::query_as(&sql)
            .bind(row::clamped_ns(window_start))
            .bind(row::clamped_ns(now))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.sqlite(e))?;

        let mut out = Vec::new();
        let mut current: Option<Option<String>> = None;
        let mut changes: Vec<(Timestamp, State)> = Vec::new();
        for (service, to, at_ns, id) in rows {
            if current.as_ref().is_some_and(|c| *c != service) {
                if let Some(done) = current.take() {
                    let subject = row::subject(done);
                    out.push(slo::slo_row(
                        subject,
                        window_start,
                        now,
                        &sessions,
                        &changes,
                    ));
                }
                changes.clear();
            }
            current = Some(service);
            changes.push((
                row::instant(at_ns, id, &self.path)?,
                row::state(&to, id, &self.path)?,
            ));
        }
        if let Some(done) = current {
            let subject = row::subject(done);
            out.push(slo::slo_row(
                subject,
                window_start,
                now,
                &sessions,
                &changes,
            ));
        }
        Ok(out)
    }

    /// Closes every connection (of every clone), waiting for running queries.
    pub async fn close(self) {
        self.pool.close().await;
    }

    fn sqlite(&self, source: sqlx::Error) -> HistoryError {
        HistoryError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn decode_all(&self, rows: Vec<Stored>) -> Result<Vec<Transition>, HistoryError> {
        rows.into_iter()
            .map(|r| row::decode(r, &self.path))
            .collect()
    }
}
