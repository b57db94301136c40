//! The store seam: [`HistoryStore`], implemented once per engine by one macro over
//! the same queries, written in SQL both SQLite and PostgreSQL accept (the few
//! differences are rewritten by [`dialect`]).

use std::future::Future;

use jiff::Timestamp;
use opsfloor_contract::{ReasonCode, State};

use crate::{HistoryError, Subject, Transition, TransitionQuery};

/// One change of state, as the SLO arithmetic needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// When.
    pub at: Timestamp,
    /// The new state.
    pub state: State,
    /// Its reason codes (to tell expected offline time from outages).
    pub reason_codes: Vec<ReasonCode>,
}

/// A subject's changes inside an SLO window, plus the one in force at its start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectChanges {
    /// Whose.
    pub subject: Subject,
    /// In insertion order within equal instants, oldest first.
    pub changes: Vec<Change>,
}

/// What a history engine does. [`crate::History`] is the handle over one; every
/// method has the meaning documented on `History`'s method of the same name.
pub trait HistoryStore: Send + Sync {
    /// The location, as messages show it (no password).
    fn location(&self) -> &str;
    /// Records every transition in one transaction, in slice order.
    fn record_all(
        &self,
        ts: &[Transition],
    ) -> impl Future<Output = Result<(), HistoryError>> + Send;
    /// The transitions matching `q`, newest first.
    fn transitions(
        &self,
        q: &TransitionQuery,
    ) -> impl Future<Output = Result<Vec<Transition>, HistoryError>> + Send;
    /// The latest transition of every subject, the floor first.
    fn last_states(&self) -> impl Future<Output = Result<Vec<Transition>, HistoryError>> + Send;
    /// Deletes transitions older than `older_than` except those in force then.
    fn prune(
        &self,
        older_than: Timestamp,
    ) -> impl Future<Output = Result<u64, HistoryError>> + Send;
    /// Every subject's changes in `(window_start, now)` plus the one in force at
    /// `window_start`; the floor first, then services by name.
    fn slo_changes(
        &self,
        window_start: Timestamp,
        now: Timestamp,
    ) -> impl Future<Output = Result<Vec<SubjectChanges>, HistoryError>> + Send;
    /// Every transition, oldest first (insertion order): for export.
    fn all_in_order(&self) -> impl Future<Output = Result<Vec<Transition>, HistoryError>> + Send;
    /// Takes or renews the leader lease for `replica` until `now + ttl`: the
    /// fencing token when this replica holds it, `None` when another does. The
    /// token changes only when the holder does: a holder renewing late (its store
    /// was down) keeps it, since nobody else can have written in between.
    fn acquire_lease(
        &self,
        replica: &str,
        now: Timestamp,
        ttl: jiff::SignedDuration,
    ) -> impl Future<Output = Result<Option<i64>, HistoryError>> + Send;
    /// [`HistoryStore::record_all`], refused with [`HistoryError::Fenced`] unless
    /// `token` is the lease's current token.
    fn record_all_fenced(
        &self,
        ts: &[Transition],
        token: i64,
    ) -> impl Future<Output = Result<(), HistoryError>> + Send;
    /// The leader lease as stored: who holds it, its token, until when.
    fn lease(&self) -> impl Future<Output = Result<Option<Lease>, HistoryError>> + Send;
    /// Records that `replica` is alive at `now` and returns the names of every
    /// replica seen since `now - ttl` (itself included), sorted.
    fn check_in(
        &self,
        replica: &str,
        now: Timestamp,
        ttl: jiff::SignedDuration,
    ) -> impl Future<Output = Result<Vec<String>, HistoryError>> + Send;
    /// Closes every connection.
    fn close(&self) -> impl Future<Output = ()> + Send;
}

/// The leader lease as stored (one per database).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The replica that took or last renewed it.
    pub holder: String,
    /// The fencing token: higher on every new acquisition.
    pub token: i64,
    /// Until when it holds unless renewed.
    pub expires: jiff::Timestamp,
}

/// Ranks each subject's transitions, latest first (`rn = 1`: the latest).
pub(crate) const RANKED: &str =
    "ROW_NUMBER() OVER (PARTITION BY service ORDER BY at_ns DESC, id DESC)";

/// SQL written for SQLite (`?N` parameters, `IS`) as PostgreSQL needs it (`$N`,
/// `IS NOT DISTINCT FROM`); unchanged for SQLite.
pub(crate) fn dialect(sql: &str, postgres: bool) -> String {
    if !postgres {
        return sql.to_owned();
    }
    sql.replace(" IS ?", " IS NOT DISTINCT FROM ?")
        .replace('?', "$")
}

/// Implements [`HistoryStore`] for `$store` (fields `pool: $pool`, `location:
/// String`) over database `$db`.
macro_rules! sql_store {
    ($store:ident, $db:ty, $postgres:expr, $begin:expr) => {
        impl $store {
            fn err(&self, source: sqlx::Error) -> $crate::HistoryError {
                $crate::HistoryError::Database {
                    location: self.location.clone(),
                    source,
                }
            }

            fn sql(sql: &str) -> String {
                $crate::engine::dialect(sql, $postgres)
            }

            fn decode_all(
                &self,
                rows: Vec<$crate::row::Stored>,
            ) -> Result<Vec<$crate::Transition>, $crate::HistoryError> {
                rows.into_iter()
                    .map(|r| $crate::row::decode(r, &self.location))
                    .collect()
            }

            /// Applies the migrations this database lacks (see `migrations.rs`).
            pub(crate) async fn migrate(&self) -> Result<(), $crate::HistoryError> {
                use $crate::migrations as m;
                let mut tx = self.pool.begin_with($begin).await.map_err(|e| self.err(e))?;
                if $postgres {
                    sqlx::query("SELECT pg_advisory_xact_lock($1)")
                        .bind(m::POSTGRES_MIGRATION_LOCK)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| self.err(e))?;
                }
                let create = if $postgres {
                    m::POSTGRES_SCHEMA_VERSION
                } else {
                    m::SQLITE_SCHEMA_VERSION
                };
                sqlx::query(create)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| self.err(e))?;
                let current: i64 =
                    sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_version")
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(|e| self.err(e))?;
                let supported = m::latest_version();
                if current > supported {
                    return Err($crate::HistoryError::SchemaTooNew {
                        location: self.location.clone(),
                        found: current,
                        supported,
                    });
                }
                for mig in m::MIGRATIONS.iter().filter(|mig| mig.version > current) {
                    let failed = |source| $crate::HistoryError::Migration {
                        location: self.location.clone(),
                        version: mig.version,
                        description: mig.description,
                        source,
                    };
                    let statements = if $postgres { mig.postgres } else { mig.sqlite };
                    for statement in statements {
                        sqlx::query(statement)
                            .execute(&mut *tx)
                            .await
                            .map_err(failed)?;
                    }
                    sqlx::query(&Self::sql(
                        "INSERT INTO schema_version (version, description) VALUES (?1, ?2)",
                    ))
                    .bind(mig.version)
                    .bind(mig.description)
                    .execute(&mut *tx)
                    .await
                    .map_err(failed)?;
                }
                {
                    // The write probe: a read-only file passes the reads above, and
                    // a statement that changes nothing writes nothing.
                    sqlx::query(
                        "UPDATE schema_version SET description = description
                         WHERE version = (SELECT MAX(version) FROM schema_version)",
                    )
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| self.err(e))?;
                }
                // Dropping `tx` on any error above rolls everything back.
                tx.commit().await.map_err(|e| self.err(e))
            }
        }

        impl $store {
            async fn insert_all(
                &self,
                ts: &[$crate::Transition],
                token: Option<i64>,
            ) -> Result<(), $crate::HistoryError> {
                use $crate::row;
                if ts.is_empty() {
                    return Ok(());
                }
                let rows = ts
                    .iter()
                    .map(|t| row::Encoded::new(t, &self.location))
                    .collect::<Result<Vec<_>, _>>()?;
                let mut tx = self.pool.begin_with($begin).await.map_err(|e| self.err(e))?;
                if let Some(token) = token {
                    let lock = if $postgres { " FOR UPDATE" } else { "" };
                    let current: Option<i64> = sqlx::query_scalar(&format!(
                        "SELECT token FROM leader_lease WHERE id = 1{lock}"
                    ))
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(|e| self.err(e))?;
                    let current = current.unwrap_or(0);
                    if current != token {
                        return Err($crate::HistoryError::Fenced {
                            location: self.location.clone(),
                            token,
                            current,
                        });
                    }
                }
                for chunk in rows.chunks(row::ROWS_PER_INSERT) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO transitions (service, from_state, to_state, reason_codes, at_ns) ",
                    );
                    insert.push_values(chunk, |mut values, r| {
                        values
                            .push_bind(r.service)
                            .push_bind(r.from)
                            .push_bind(r.to)
                            .push_bind(r.reason_codes.as_str())
                            .push_bind(r.at_ns);
                    });
                    insert
                        .build()
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| self.err(e))?;
                }
                tx.commit().await.map_err(|e| self.err(e))
            }
        }

        impl $crate::engine::HistoryStore for $store {
            async fn record_all_fenced(
                &self,
                ts: &[$crate::Transition],
                token: i64,
            ) -> Result<(), $crate::HistoryError> {
                self.insert_all(ts, Some(token)).await
            }

            async fn record_all(
                &self,
                ts: &[$crate::Transition],
            ) -> Result<(), $crate::HistoryError> {
                self.insert_all(ts, None).await
            }

            async fn acquire_lease(
                &self,
                replica: &str,
                now: jiff::Timestamp,
                ttl: jiff::SignedDuration,
            ) -> Result<Option<i64>, $crate::HistoryError> {
                let now_ns = $crate::row::storable_ns(now, &self.location)?;
                let until = $crate::row::storable_ns(now.saturating_add(ttl).unwrap_or(jiff::Timestamp::MAX), &self.location)?;
                let sql = Self::sql(
                    "INSERT INTO leader_lease (id, holder, token, expires_ns) VALUES (1, ?1, 1, ?2)
                     ON CONFLICT (id) DO UPDATE SET
                       token = CASE WHEN leader_lease.holder = excluded.holder
                                    THEN leader_lease.token ELSE leader_lease.token + 1 END,
                       holder = excluded.holder,
                       expires_ns = excluded.expires_ns
                     WHERE leader_lease.holder = excluded.holder OR leader_lease.expires_ns <= ?3
                     RETURNING token",
                );
                sqlx::query_scalar(&sql)
                    .bind(replica)
                    .bind(until)
                    .bind(now_ns)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(|e| self.err(e))
            }
            fn location(&self) -> &str {
                &self.location
            }

            async fn transitions(
                &self,
                q: &$crate::TransitionQuery,
            ) -> Result<Vec<$crate::Transition>, $crate::HistoryError> {
                use $crate::row::{self, COLUMNS, Stored};
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
                        let sql = Self::sql(&format!(
                            "SELECT {COLUMNS} FROM transitions
                             WHERE service IS ?1 AND at_ns BETWEEN ?2 AND ?3
                             ORDER BY at_ns DESC, id DESC LIMIT ?4"
                        ));
                        sqlx::query_as(&sql)
                            .bind(subject.service_name())
                            .bind(since)
                            .bind(until)
                            .bind(limit)
                            .fetch_all(&self.pool)
                            .await
                    }
                    None => {
                        let sql = Self::sql(&format!(
                            "SELECT {COLUMNS} FROM transitions
                             WHERE at_ns BETWEEN ?1 AND ?2
                             ORDER BY at_ns DESC, id DESC LIMIT ?3"
                        ));
                        sqlx::query_as(&sql)
                            .bind(since)
                            .bind(until)
                            .bind(limit)
                            .fetch_all(&self.pool)
                            .await
                    }
                }
                .map_err(|e| self.err(e))?;
                self.decode_all(rows)
            }

            async fn last_states(&self) -> Result<Vec<$crate::Transition>, $crate::HistoryError> {
                use $crate::engine::RANKED;
                use $crate::row::{COLUMNS, Stored};
                let sql = format!(
                    "SELECT {COLUMNS} FROM (SELECT *, {RANKED} AS rn FROM transitions) AS ranked
                     WHERE rn = 1 ORDER BY service NULLS FIRST"
                );
                let rows: Vec<Stored> = sqlx::query_as(&sql)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| self.err(e))?;
                self.decode_all(rows)
            }

            async fn prune(&self, older_than: jiff::Timestamp) -> Result<u64, $crate::HistoryError> {
                use $crate::engine::RANKED;
                let sql = Self::sql(&format!(
                    "DELETE FROM transitions WHERE at_ns < ?1 AND id NOT IN (
                        SELECT id FROM (SELECT id, {RANKED} AS rn FROM transitions WHERE at_ns <= ?1) AS ranked
                        WHERE rn = 1)"
                ));
                let done = sqlx::query(&sql)
                    .bind($crate::row::clamped_ns(older_than))
                    .execute(&self.pool)
                    .await
                    .map_err(|e| self.err(e))?;
                Ok(done.rows_affected())
            }

            async fn slo_changes(
                &self,
                window_start: jiff::Timestamp,
                now: jiff::Timestamp,
            ) -> Result<Vec<$crate::engine::SubjectChanges>, $crate::HistoryError> {
                use $crate::engine::{Change, RANKED, SubjectChanges};
                use $crate::row;
                let sql = Self::sql(&format!(
                    "SELECT service, to_state, reason_codes, at_ns, id FROM transitions
                     WHERE at_ns > ?1 AND at_ns < ?2
                     UNION ALL
                     SELECT service, to_state, reason_codes, at_ns, id FROM (
                        SELECT service, to_state, reason_codes, at_ns, id, {RANKED} AS rn
                        FROM transitions WHERE at_ns <= ?1) AS ranked
                     WHERE rn = 1
                     ORDER BY service NULLS FIRST, at_ns, id"
                ));
                let rows: Vec<(Option<String>, String, String, i64, i64)> = sqlx::query_as(&sql)
                    .bind(row::clamped_ns(window_start))
                    .bind(row::clamped_ns(now))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| self.err(e))?;
                let mut out: Vec<SubjectChanges> = Vec::new();
                let mut current: Option<Option<String>> = None;
                for (service, to, codes, at_ns, id) in rows {
                    let change = Change {
                        at: row::instant(at_ns, id, &self.location)?,
                        state: row::state(&to, id, &self.location)?,
                        reason_codes: row::reason_codes(&codes, id, &self.location)?,
                    };
                    match out.last_mut() {
                        Some(last) if current.as_ref() == Some(&service) => last.changes.push(change),
                        _ => {
                            out.push(SubjectChanges {
                                subject: row::subject(service.clone()),
                                changes: vec![change],
                            });
                            current = Some(service);
                        }
                    }
                }
                Ok(out)
            }

            async fn all_in_order(&self) -> Result<Vec<$crate::Transition>, $crate::HistoryError> {
                use $crate::row::{COLUMNS, Stored};
                let sql = format!("SELECT {COLUMNS} FROM transitions ORDER BY id");
                let rows: Vec<Stored> = sqlx::query_as(&sql)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| self.err(e))?;
                self.decode_all(rows)
            }

            async fn lease(&self) -> Result<Option<$crate::engine::Lease>, $crate::HistoryError> {
                let row: Option<(String, i64, i64)> = sqlx::query_as(
                    "SELECT holder, token, expires_ns FROM leader_lease WHERE id = 1",
                )
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| self.err(e))?;
                Ok(row.map(|(holder, token, expires_ns)| $crate::engine::Lease {
                    holder,
                    token,
                    expires: jiff::Timestamp::from_nanosecond(i128::from(expires_ns))
                        .unwrap_or(jiff::Timestamp::MAX),
                }))
            }

            async fn check_in(
                &self,
                replica: &str,
                now: jiff::Timestamp,
                ttl: jiff::SignedDuration,
            ) -> Result<Vec<String>, $crate::HistoryError> {
                let now_ns = $crate::row::storable_ns(now, &self.location)?;
                let since = $crate::row::clamped_ns(now.saturating_sub(ttl).unwrap_or(jiff::Timestamp::MIN));
                let upsert = Self::sql(
                    "INSERT INTO replicas (name, seen_ns) VALUES (?1, ?2)
                     ON CONFLICT (name) DO UPDATE SET seen_ns = excluded.seen_ns",
                );
                sqlx::query(&upsert)
                    .bind(replica)
                    .bind(now_ns)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| self.err(e))?;
                let live = Self::sql("SELECT name FROM replicas WHERE seen_ns >= ?1 ORDER BY name");
                sqlx::query_scalar(&live)
                    .bind(since)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| self.err(e))
            }

            async fn close(&self) {
                self.pool.close().await;
            }
        }
    };
}

pub(crate) use sql_store;
