//! [`History`]: the handle over one engine's store, and the SLO answer.

use std::path::Path;

use jiff::Timestamp;
use opsfloor_contract::Calendar;

use crate::engine::HistoryStore;
use crate::location::Location;
use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;
use crate::{HistoryError, SloRow, Subject, Transition, TransitionQuery, slo};

/// The transition history, in SQLite or PostgreSQL. Cheap to clone; clones share
/// the connections. `Debug` shows the location without a password.
#[derive(Debug, Clone)]
pub struct History {
    engine: Engine,
}

#[derive(Debug, Clone)]
enum Engine {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// Runs `$call` on whichever store `$h` holds.
macro_rules! each {
    ($h:expr, $s:ident => $call:expr) => {
        match &$h.engine {
            Engine::Sqlite($s) => $call,
            Engine::Postgres($s) => $call,
        }
    };
}

impl History {
    /// Opens (creating the file and its parent directory if missing) and migrates
    /// the SQLite database at `path`, in WAL mode with `synchronous = NORMAL` (a
    /// power cut may lose the last transitions, never corrupt the file).
    pub async fn open(path: &Path) -> Result<History, HistoryError> {
        History::open_location(&Location::sqlite(path)).await
    }

    /// Opens and migrates the store at a `--db` value: a path or `sqlite://path`
    /// (SQLite), `postgres://user@host:port/db` or `postgresql://...` (PostgreSQL;
    /// the password from the URL or `PGPASSWORD`).
    pub async fn connect(location: &str) -> Result<History, HistoryError> {
        History::open_location(&Location::parse(location)?).await
    }

    /// Opens and migrates the store at `location`. Opening writes (the migration
    /// check runs in a write transaction), so a store that cannot be written fails
    /// here, naming its location.
    pub async fn open_location(location: &Location) -> Result<History, HistoryError> {
        let engine = match location {
            Location::Sqlite(path) => Engine::Sqlite(SqliteStore::open(path).await?),
            Location::Memory => Engine::Sqlite(SqliteStore::open_in_memory().await?),
            Location::Postgres(url) => Engine::Postgres(PgStore::open(url).await?),
        };
        Ok(History { engine })
    }

    /// A fresh, empty SQLite database in memory, gone when the handle is closed or
    /// dropped: for tests and benchmarks.
    pub async fn open_in_memory() -> Result<History, HistoryError> {
        History::open_location(&Location::Memory).await
    }

    /// The store's location as messages show it: the path, `:memory:`, or the
    /// PostgreSQL URL without its password.
    pub fn location(&self) -> &str {
        each!(self, s => s.location())
    }

    /// The SQLite file's path (`:memory:` for memory); for PostgreSQL, the
    /// password-free URL as a path. Prefer [`History::location`].
    pub fn path(&self) -> &Path {
        Path::new(self.location())
    }

    /// Records one transition.
    pub async fn record(&self, t: &Transition) -> Result<(), HistoryError> {
        self.record_all(std::slice::from_ref(t)).await
    }

    /// Records every transition in one transaction: all or none. Their order in
    /// the slice is their insertion order (which breaks ties between equal instants).
    pub async fn record_all(&self, ts: &[Transition]) -> Result<(), HistoryError> {
        each!(self, s => s.record_all(ts).await)
    }

    /// The transitions matching `q` (see [`TransitionQuery`]), newest first (equal
    /// instants: the later recorded first), at most `q.limit`.
    pub async fn transitions(&self, q: &TransitionQuery) -> Result<Vec<Transition>, HistoryError> {
        each!(self, s => s.transitions(q).await)
    }

    /// The latest transition of every subject (latest instant; equal instants: the
    /// later recorded), the floor first, then services by name: what to resume from
    /// after a restart.
    pub async fn last_states(&self) -> Result<Vec<Transition>, HistoryError> {
        each!(self, s => s.last_states().await)
    }

    /// Retention: deletes the transitions older than `older_than`, except, for each
    /// subject, the one in force at `older_than` (its latest at or before it). So a
    /// subject's latest transition is never deleted, however old, and SLO answers
    /// for windows starting at or after `older_than` do not change. Returns how many
    /// transitions were deleted.
    pub async fn prune(&self, older_than: Timestamp) -> Result<u64, HistoryError> {
        each!(self, s => s.prune(older_than).await)
    }

    /// Every transition, oldest first in insertion order: what `export` writes.
    pub async fn all_in_order(&self) -> Result<Vec<Transition>, HistoryError> {
        each!(self, s => s.all_in_order().await)
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
        self.slo_excluding(window_start, now, calendar, |_| Vec::new())
            .await
    }

    /// As [`History::slo`], leaving out of each subject's counted time the stretches
    /// `excluded` gives for it (its maintenance windows within the window): they
    /// count in no share and not in `market_minutes`. The arithmetic is
    /// [`slo_row_excluding`](crate::slo_row_excluding).
    pub async fn slo_excluding(
        &self,
        window_start: Timestamp,
        now: Timestamp,
        calendar: &Calendar,
        excluded: impl Fn(&Subject) -> Vec<(Timestamp, Timestamp)>,
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
                location: self.location().to_owned(),
                source,
            })?;
        let subjects = each!(self, s => s.slo_changes(window_start, now).await)?;
        Ok(subjects
            .into_iter()
            .map(|sc| {
                let cuts = excluded(&sc.subject);
                slo::slo_row_excluding(sc.subject, window_start, now, &sessions, &sc.changes, &cuts)
            })
            .collect())
    }

    /// Takes or renews the leader lease (one per database) for `replica` until
    /// `now + ttl`. Returns the fencing token while this replica holds the lease
    /// (the same token on renewal; a higher one on each new acquisition), `None`
    /// while another replica's lease has not expired. `now` is a parameter, so
    /// replicas' clocks must agree within the lease's margin.
    pub async fn acquire_lease(
        &self,
        replica: &str,
        now: Timestamp,
        ttl: jiff::SignedDuration,
    ) -> Result<Option<i64>, HistoryError> {
        each!(self, s => s.acquire_lease(replica, now, ttl).await)
    }

    /// [`History::record_all`] for a leader holding fencing token `token`: refused
    /// with [`HistoryError::Fenced`] (storing nothing) when the lease has moved on,
    /// so a stale leader's late write cannot land.
    pub async fn record_all_fenced(
        &self,
        ts: &[Transition],
        token: i64,
    ) -> Result<(), HistoryError> {
        each!(self, s => s.record_all_fenced(ts, token).await)
    }

    /// True for a store replicas share (PostgreSQL): they elect one leader to write.
    /// A SQLite file belongs to one process.
    pub fn is_shared(&self) -> bool {
        matches!(self.engine, Engine::Postgres(_))
    }

    /// The leader lease as stored, if any replica ever took it.
    pub async fn lease(&self) -> Result<Option<crate::engine::Lease>, HistoryError> {
        each!(self, s => s.lease().await)
    }

    /// Records that `replica` is alive at `now` (the wall clock, as for the lease)
    /// and returns the names of every replica that checked in within `ttl` of
    /// `now`, itself included, sorted: how many replicas share this store.
    pub async fn check_in(
        &self,
        replica: &str,
        now: Timestamp,
        ttl: jiff::SignedDuration,
    ) -> Result<Vec<String>, HistoryError> {
        each!(self, s => s.check_in(replica, now, ttl).await)
    }

    /// Closes every connection (of every clone), waiting for running queries.
    pub async fn close(self) {
        each!(self, s => s.close().await)
    }
}
