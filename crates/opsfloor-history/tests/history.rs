//! The history against a real SQLite file in a temporary directory and a real
//! PostgreSQL server (Debian's, started by `opsfloor_testkit`): every test of the
//! store's behaviour runs on both engines.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use opsfloor_contract::{Calendar, ReasonCode, State};
use opsfloor_history::{History, HistoryError, Subject, Transition, TransitionQuery};
use opsfloor_testkit::Postgres;
use sqlx::{Connection, SqliteConnection};

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn svc(name: &str) -> Subject {
    Subject::Service(name.to_owned())
}

fn tr(subject: Subject, from: Option<State>, to: State, at: &str) -> Transition {
    let reason_codes = match to {
        State::Ok => vec![],
        State::Degraded => vec![ReasonCode::MarketdataStale],
        State::Halted => vec![ReasonCode::KillSwitch],
        State::MarketClosed => vec![ReasonCode::MarketClosed],
        State::Offline => vec![ReasonCode::ProcessDown],
        State::Unknown => vec![ReasonCode::from_wire("SOMETHING_NEWER")],
    };
    Transition {
        subject,
        from,
        to,
        reason_codes,
        at: ts(at),
    }
}

/// A database path two directories below a fresh temporary directory (which the
/// caller keeps alive).
fn db_path() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("var").join("opsfloor").join("history.db");
    (dir, path)
}

/// Runs a test body against SQLite (a file) and against PostgreSQL (a fresh server).
macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {
        mod on {
            $(
            pub(super) mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let (_dir, path) = super::super::db_path();
                    super::super::$name(path.display().to_string()).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let pg = super::super::Postgres::start().expect("PostgreSQL");
                    let url = pg.create_database("history").expect("database");
                    super::super::$name(url).await;
                }
            }
            )*
        }
    };
}

both_engines!(
    record_and_query_by_subject_since_until_and_limit,
    record_all_is_all_or_nothing,
    last_states_survive_a_restart,
    prune_keeps_the_state_in_force_for_every_subject,
    slo_from_recorded_transitions,
    clones_write_concurrently,
    slo_counts_execution_disabled_as_expected,
    a_stale_leaders_late_write_is_refused,
    replicas_that_checked_in_lately_are_counted,
);

/// Reads the database directly, beside the library.
async fn raw(path: &Path) -> SqliteConnection {
    let url = format!("sqlite://{}", path.display());
    SqliteConnection::connect(&url)
        .await
        .expect("raw connection")
}

#[tokio::test]
async fn first_open_creates_and_migrates_reopen_keeps_everything() {
    let (_dir, path) = db_path();
    let h = History::open(&path).await.expect("first open");
    assert!(path.exists());
    assert_eq!(h.path(), path);
    h.record(&tr(svc("a"), None, State::Ok, "2026-01-07T14:00:00Z"))
        .await
        .expect("record");
    h.close().await;

    let mut c = raw(&path).await;
    let versions: Vec<(i64, String)> =
        sqlx::query_as("SELECT version, description FROM schema_version ORDER BY version")
            .fetch_all(&mut c)
            .await
            .expect("schema_version");
    assert_eq!(
        versions,
        vec![
            (1, "transitions table".to_owned()),
            (2, "leader lease".to_owned()),
            (3, "replicas checking in".to_owned())
        ]
    );
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut c)
        .await
        .expect("journal mode");
    assert_eq!(mode, "wal");
    c.close().await.expect("close");

    // Re-open: nothing re-applied, nothing lost.
    let h = History::open(&path).await.expect("re-open");
    assert_eq!(h.last_states().await.expect("last").len(), 1);
    h.close().await;
    let mut c = raw(&path).await;
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM schema_version")
        .fetch_one(&mut c)
        .await
        .expect("count");
    assert_eq!(n, 3);
}

#[tokio::test]
async fn a_newer_schema_is_refused_and_errors_name_the_path() {
    let (_dir, path) = db_path();
    History::open(&path).await.expect("open").close().await;
    let mut c = raw(&path).await;
    sqlx::query("INSERT INTO schema_version (version, description) VALUES (99, 'future')")
        .execute(&mut c)
        .await
        .expect("insert");
    c.close().await.expect("close");
    let err = History::open(&path).await.expect_err("too new");
    assert!(matches!(
        err,
        HistoryError::SchemaTooNew {
            found: 99,
            supported: 3,
            ..
        }
    ));
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );

    // A directory that cannot be created (its parent is a file).
    let blocker = path.with_file_name("not-a-dir");
    std::fs::write(&blocker, b"").expect("write");
    let bad = blocker.join("history.db");
    let err = History::open(&bad).await.expect_err("cannot create");
    assert!(matches!(err, HistoryError::CreateDir { .. }));
    assert!(
        err.to_string()
            .starts_with(&format!("history database {}:", bad.display())),
        "{err}"
    );
}

async fn record_and_query_by_subject_since_until_and_limit(loc: String) {
    let h = History::connect(&loc).await.expect("open");
    h.record_all(&[
        tr(svc("md"), None, State::Ok, "2026-01-07T14:00:00Z"),
        tr(Subject::Floor, None, State::Ok, "2026-01-07T14:00:00Z"),
        tr(
            svc("md"),
            Some(State::Ok),
            State::Degraded,
            "2026-01-07T15:00:00Z",
        ),
        tr(svc("gamma"), None, State::Halted, "2026-01-07T15:00:00Z"),
        tr(
            svc("md"),
            Some(State::Degraded),
            State::Ok,
            "2026-01-07T16:00:00Z",
        ),
        tr(
            Subject::Floor,
            Some(State::Ok),
            State::Unknown,
            "2026-01-07T16:00:00Z",
        ),
    ])
    .await
    .expect("record_all");
    h.record(&tr(
        svc("md"),
        Some(State::Ok),
        State::Halted,
        "2026-01-07T17:00:00Z",
    ))
    .await
    .expect("record");

    let all = h
        .transitions(&TransitionQuery::latest(100))
        .await
        .expect("all");
    assert_eq!(all.len(), 7);
    // Newest first; equal instants: the later recorded first.
    let order: Vec<(String, State)> = all.iter().map(|t| (t.subject.to_string(), t.to)).collect();
    assert_eq!(
        order[..3],
        [
            ("md".to_owned(), State::Halted),
            ("floor".to_owned(), State::Unknown),
            ("md".to_owned(), State::Ok),
        ]
    );
    assert_eq!(
        order[5..],
        [
            ("floor".to_owned(), State::Ok),
            ("md".to_owned(), State::Ok)
        ]
    );
    assert_eq!(
        all[1].reason_codes,
        vec![ReasonCode::from_wire("SOMETHING_NEWER")]
    );

    let md = h
        .transitions(&TransitionQuery::for_subject(svc("md"), 2))
        .await
        .expect("md");
    assert_eq!(
        md.iter().map(|t| t.to).collect::<Vec<_>>(),
        [State::Halted, State::Ok]
    );
    assert_eq!(
        md[0],
        tr(
            svc("md"),
            Some(State::Ok),
            State::Halted,
            "2026-01-07T17:00:00Z"
        )
    );

    let floor = h
        .transitions(&TransitionQuery::for_subject(Subject::Floor, 10))
        .await
        .expect("floor");
    assert_eq!(floor.len(), 2);
    assert!(floor.iter().all(|t| t.subject == Subject::Floor));

    // `since` inclusive, `until` exclusive.
    let q = TransitionQuery {
        subject: Some(svc("md")),
        since: Some(ts("2026-01-07T15:00:00Z")),
        until: Some(ts("2026-01-07T17:00:00Z")),
        limit: 10,
    };
    let window = h.transitions(&q).await.expect("window");
    assert_eq!(
        window.iter().map(|t| t.to).collect::<Vec<_>>(),
        [State::Ok, State::Degraded]
    );
    let q = TransitionQuery {
        subject: None,
        until: None,
        ..q
    };
    assert_eq!(h.transitions(&q).await.expect("since").len(), 5);
    assert!(
        h.transitions(&TransitionQuery::latest(0))
            .await
            .expect("none")
            .is_empty()
    );
    let nobody = TransitionQuery::for_subject(svc("nobody"), 10);
    assert!(h.transitions(&nobody).await.expect("nobody").is_empty());
}

async fn record_all_is_all_or_nothing(loc: String) {
    let h = History::connect(&loc).await.expect("open");
    let err = h
        .record_all(&[
            tr(svc("a"), None, State::Ok, "2026-01-07T14:00:00Z"),
            tr(svc("a"), None, State::Ok, "2300-01-01T00:00:00Z"),
        ])
        .await
        .expect_err("out of range");
    assert!(matches!(err, HistoryError::TimestampOutOfRange { .. }));
    assert!(
        err.to_string()
            .starts_with(&format!("history database {}:", h.location())),
        "{err}"
    );
    assert!(h.last_states().await.expect("last").is_empty());
    h.record_all(&[]).await.expect("empty batch");
}

async fn last_states_survive_a_restart(loc: String) {
    let h = History::connect(&loc).await.expect("open");
    h.record_all(&[
        tr(svc("whale"), None, State::Ok, "2026-01-07T14:00:00Z"),
        tr(svc("md"), None, State::Ok, "2026-01-07T14:00:00Z"),
        tr(Subject::Floor, None, State::Ok, "2026-01-07T14:00:00Z"),
        tr(
            svc("md"),
            Some(State::Ok),
            State::Degraded,
            "2026-01-07T15:00:00Z",
        ),
        // Recorded late, but older: not the latest.
        tr(svc("whale"), None, State::Unknown, "2026-01-07T13:00:00Z"),
        // Equal instants: the later recorded is the latest.
        tr(
            Subject::Floor,
            Some(State::Ok),
            State::Halted,
            "2026-01-07T15:00:00Z",
        ),
        tr(
            Subject::Floor,
            Some(State::Halted),
            State::Degraded,
            "2026-01-07T15:00:00Z",
        ),
    ])
    .await
    .expect("record_all");
    h.close().await;

    let h = History::connect(&loc).await.expect("reopen");
    let last = h.last_states().await.expect("last");
    let got: Vec<(Subject, State)> = last.iter().map(|t| (t.subject.clone(), t.to)).collect();
    assert_eq!(
        got,
        [
            (Subject::Floor, State::Degraded),
            (svc("md"), State::Degraded),
            (svc("whale"), State::Ok),
        ]
    );
    assert_eq!(last[1].at, ts("2026-01-07T15:00:00Z"));
    assert_eq!(last[1].from, Some(State::Ok));
    h.close().await;
}

async fn prune_keeps_the_state_in_force_for_every_subject(loc: String) {
    let h = History::connect(&loc).await.expect("open");
    h.record_all(&[
        tr(svc("old"), None, State::Ok, "2026-01-01T00:00:00Z"),
        tr(
            svc("old"),
            Some(State::Ok),
            State::Offline,
            "2026-01-02T00:00:00Z",
        ),
        tr(svc("busy"), None, State::Ok, "2026-01-01T00:00:00Z"),
        tr(
            svc("busy"),
            Some(State::Ok),
            State::Degraded,
            "2026-01-03T00:00:00Z",
        ),
        tr(
            svc("busy"),
            Some(State::Degraded),
            State::Ok,
            "2026-01-10T00:00:00Z",
        ),
        tr(
            svc("busy"),
            Some(State::Ok),
            State::Halted,
            "2026-01-11T00:00:00Z",
        ),
    ])
    .await
    .expect("record_all");
    let deleted = h.prune(ts("2026-01-05T00:00:00Z")).await.expect("prune");
    // old: its first (the second is its latest); busy: its first (the Degraded at
    // 01-03 was in force at the cutoff and stays).
    assert_eq!(deleted, 2);
    let left = h
        .transitions(&TransitionQuery::latest(100))
        .await
        .expect("left");
    let got: Vec<(String, State)> = left.iter().map(|t| (t.subject.to_string(), t.to)).collect();
    assert_eq!(
        got,
        [
            ("busy".to_owned(), State::Halted),
            ("busy".to_owned(), State::Ok),
            ("busy".to_owned(), State::Degraded),
            ("old".to_owned(), State::Offline),
        ]
    );
    // Far in the future: only the latest of each subject remains.
    assert_eq!(h.prune(ts("2030-01-01T00:00:00Z")).await.expect("prune"), 2);
    assert_eq!(h.prune(ts("2030-01-01T00:00:00Z")).await.expect("prune"), 0);
    let last = h.last_states().await.expect("last");
    assert_eq!(
        last.iter().map(|t| t.to).collect::<Vec<_>>(),
        [State::Halted, State::Offline]
    );
}

async fn slo_from_recorded_transitions(loc: String) {
    let h = History::connect(&loc).await.expect("open");
    h.record_all(&[
        // Before the window: in force at its start.
        tr(Subject::Floor, None, State::Ok, "2026-01-06T12:00:00Z"),
        tr(svc("md"), None, State::Unknown, "2026-01-05T12:00:00Z"),
        tr(
            svc("md"),
            Some(State::Unknown),
            State::Ok,
            "2026-01-06T12:00:00Z",
        ),
        // Wednesday 2026-01-07's session is 14:30-21:00 UTC.
        tr(
            svc("md"),
            Some(State::Ok),
            State::Degraded,
            "2026-01-07T17:00:00Z",
        ),
        tr(
            svc("md"),
            Some(State::Degraded),
            State::Ok,
            "2026-01-07T17:30:00Z",
        ),
        // First known halfway through the session.
        tr(svc("late"), None, State::Halted, "2026-01-07T17:45:00Z"),
        // After `now`: ignored.
        tr(svc("future"), None, State::Ok, "2026-01-09T00:00:00Z"),
    ])
    .await
    .expect("record_all");
    let (start, now) = (ts("2026-01-07T00:00:00Z"), ts("2026-01-08T00:00:00Z"));
    let rows = h.slo(start, now, &Calendar::nyse()).await.expect("slo");
    let subjects: Vec<String> = rows.iter().map(|r| r.subject.to_string()).collect();
    assert_eq!(subjects, ["floor", "late", "md"]);
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    assert!(close(rows[0].market_minutes, 390.0));
    assert_eq!(rows[0].share.get(&State::Ok), Some(&1.0));
    assert!(close(rows[1].market_minutes, 195.0));
    assert_eq!(rows[1].share.get(&State::Halted), Some(&1.0));
    assert!(close(rows[2].market_minutes, 390.0));
    assert!(close(rows[2].share[&State::Degraded], 30.0 / 390.0));
    assert!(close(rows[2].share[&State::Ok], 360.0 / 390.0));

    // The same window on a 24/7 calendar counts the whole day.
    let rows = h
        .slo(start, now, &Calendar::AlwaysOpen)
        .await
        .expect("24/7");
    assert!(close(rows[2].market_minutes, 1440.0));
    assert!(close(rows[2].share[&State::Degraded], 30.0 / 1440.0));

    // Outside the calendar's range is an error, an inverted window is empty.
    let err = h
        .slo(ts("1980-01-01T00:00:00Z"), now, &Calendar::nyse())
        .await
        .expect_err("range");
    assert!(matches!(err, HistoryError::Calendar { .. }));
    assert!(
        h.slo(now, start, &Calendar::nyse())
            .await
            .expect("inverted")
            .is_empty()
    );

    // Pruning up to the window's start does not change the answer.
    let before = h.slo(start, now, &Calendar::nyse()).await.expect("slo");
    assert_eq!(h.prune(start).await.expect("prune"), 1);
    assert_eq!(
        h.slo(start, now, &Calendar::nyse()).await.expect("slo"),
        before
    );
}

async fn clones_write_concurrently(loc: String) {
    let h = History::connect(&loc).await.expect("open");
    let mut tasks = Vec::new();
    for i in 0..4 {
        let h = h.clone();
        tasks.push(tokio::spawn(async move {
            for j in 0..25 {
                let t = tr(
                    svc(&format!("s{i}")),
                    None,
                    State::Ok,
                    "2026-01-07T14:00:00Z",
                );
                if j % 5 == 0 {
                    h.record_all(&[t.clone(), t]).await.expect("record_all");
                } else {
                    h.record(&t).await.expect("record");
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let all = h
        .transitions(&TransitionQuery::latest(1000))
        .await
        .expect("all");
    assert_eq!(all.len(), 4 * 30);
    assert_eq!(h.last_states().await.expect("last").len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passwords_stay_out_of_messages_and_errors() {
    let pg = Postgres::start().expect("PostgreSQL");
    let url = pg.create_database("secret").expect("database");
    let password = pg.password();
    let h = History::connect(&url)
        .await
        .expect("open with the URL's password");
    assert!(!h.location().contains(password), "{}", h.location());
    assert!(!format!("{h:?}").contains(password), "{h:?}");
    h.record(&tr(svc("a"), None, State::Ok, "2026-01-07T14:00:00Z"))
        .await
        .expect("record");
    // A bad instant's error names the URL without the password.
    let err = h
        .record(&tr(svc("a"), None, State::Ok, "2300-01-01T00:00:00Z"))
        .await
        .expect_err("out of range");
    assert!(
        err.to_string().starts_with(&format!(
            "history database postgres://postgres@127.0.0.1:{}/secret:",
            pg.port()
        )),
        "{err}"
    );
    h.close().await;
    assert_eq!(
        pg.psql(
            "secret",
            "SELECT version || ' ' || description FROM schema_version"
        )
        .expect("schema_version")
        .trim(),
        "1 transitions table\n2 leader lease\n3 replicas checking in"
    );

    // A wrong password: refused, an I/O error (74), and the password is not shown.
    let wrong = url.replace(password, "not-the-password-xyz");
    let err = History::connect(&wrong).await.expect_err("wrong password");
    let text = format!("{err} {err:?}");
    assert!(!text.contains("not-the-password-xyz"), "{text}");
    assert!(err.is_io(), "{err:?}");

    // No password in the URL and none in PGPASSWORD: refused. (That PGPASSWORD
    // supplies it is tested through the binary, whose environment a test can set:
    // `set_var` is unsafe, which this workspace forbids.)
    let bare = pg.url_without_password("secret");
    assert!(!bare.contains(password));
    let err = History::connect(&bare).await.expect_err("no password");
    assert!(err.is_io(), "{err:?}");

    // A server that is not there: an I/O error naming the URL.
    let port = pg.port();
    drop(pg);
    let err = History::connect(&url).await.expect_err("server stopped");
    assert!(err.is_io(), "{err:?}");
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
    assert!(!err.to_string().contains(password), "{err}");
}

async fn slo_counts_execution_disabled_as_expected(loc: String) {
    let h = History::connect(&loc).await.expect("open");
    let mut off = tr(
        svc("exec"),
        Some(State::Ok),
        State::Offline,
        "2026-01-07T15:30:00Z",
    );
    off.reason_codes = vec![ReasonCode::ExecutionDisabled];
    h.record_all(&[
        tr(svc("exec"), None, State::Ok, "2026-01-07T14:30:00Z"),
        off,
        tr(
            svc("exec"),
            Some(State::Offline),
            State::Ok,
            "2026-01-07T20:30:00Z",
        ),
    ])
    .await
    .expect("record_all");
    let (start, now) = (ts("2026-01-07T00:00:00Z"), ts("2026-01-08T00:00:00Z"));
    let rows = h.slo(start, now, &Calendar::nyse()).await.expect("slo");
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    assert!(close(rows[0].offline_expected, 300.0 / 390.0), "{rows:?}");
    assert!(!rows[0].share.contains_key(&State::Offline));
    assert_eq!(rows[0].availability, Some(1.0));
    h.close().await;
}

async fn a_stale_leaders_late_write_is_refused(loc: String) {
    // Two handles on one database: two replicas.
    let a = History::connect(&loc).await.expect("replica a");
    let b = History::connect(&loc).await.expect("replica b");
    let ttl = jiff::SignedDuration::from_secs(10);
    let t0 = ts("2026-01-07T14:00:00Z");
    let token_a = a
        .acquire_lease("a", t0, ttl)
        .await
        .expect("lease")
        .expect("a leads");
    // Renewal keeps the token; b cannot take an unexpired lease.
    let t1 = ts("2026-01-07T14:00:05Z");
    assert_eq!(
        a.acquire_lease("a", t1, ttl).await.expect("renew"),
        Some(token_a)
    );
    assert_eq!(b.acquire_lease("b", t1, ttl).await.expect("try"), None);
    a.record_all_fenced(
        &[tr(svc("md"), None, State::Ok, "2026-01-07T14:00:01Z")],
        token_a,
    )
    .await
    .expect("leader writes");
    // a stops renewing; after expiry b takes over with a newer token.
    let t2 = ts("2026-01-07T14:00:16Z");
    let token_b = b
        .acquire_lease("b", t2, ttl)
        .await
        .expect("lease")
        .expect("b leads");
    assert!(token_b > token_a);
    let err = a
        .record_all_fenced(
            &[tr(
                svc("md"),
                Some(State::Ok),
                State::Halted,
                "2026-01-07T14:00:17Z",
            )],
            token_a,
        )
        .await
        .expect_err("stale leader");
    assert!(matches!(err, HistoryError::Fenced { .. }), "{err:?}");
    b.record_all_fenced(
        &[tr(
            svc("md"),
            Some(State::Ok),
            State::Degraded,
            "2026-01-07T14:00:18Z",
        )],
        token_b,
    )
    .await
    .expect("new leader writes");
    let all = b
        .transitions(&TransitionQuery::latest(10))
        .await
        .expect("all");
    assert_eq!(
        all.iter().map(|t| t.to).collect::<Vec<_>>(),
        [State::Degraded, State::Ok]
    );
    // a, back, gets a newer token still once b's lease expires.
    assert_eq!(a.acquire_lease("a", t2, ttl).await.expect("try"), None);
    let t3 = ts("2026-01-07T14:00:30Z");
    let again = a
        .acquire_lease("a", t3, ttl)
        .await
        .expect("lease")
        .expect("a again");
    assert!(again > token_b);
    a.close().await;
    b.close().await;
}

async fn replicas_that_checked_in_lately_are_counted(loc: String) {
    let a = History::connect(&loc).await.expect("replica a");
    let b = History::connect(&loc).await.expect("replica b");
    let ttl = jiff::SignedDuration::from_secs(10);
    let t0 = ts("2026-01-07T14:00:00Z");
    assert_eq!(a.check_in("a", t0, ttl).await.expect("a"), ["a"]);
    let t1 = ts("2026-01-07T14:00:03Z");
    assert_eq!(b.check_in("b", t1, ttl).await.expect("b"), ["a", "b"]);
    // a checks in again; b goes quiet and, past the time to live, is not counted.
    let t2 = ts("2026-01-07T14:00:13Z");
    assert_eq!(a.check_in("a", t2, ttl).await.expect("a"), ["a", "b"]);
    let t3 = ts("2026-01-07T14:00:14Z");
    assert_eq!(a.check_in("a", t3, ttl).await.expect("a"), ["a"]);
    // b is back under the same name: one row, not two.
    assert_eq!(b.check_in("b", t3, ttl).await.expect("b"), ["a", "b"]);
    a.close().await;
    b.close().await;
}
