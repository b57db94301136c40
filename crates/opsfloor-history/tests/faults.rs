//! A store that cannot be written fails at open, naming its path, as an I/O error
//! (exit 74); rows that do not decode are bad data (exit 65).
//!
//! The tests run as root, which ignores permission bits, so "read-only" is made
//! real with the immutable attribute (`chattr +i`, which binds root too; removed
//! again on drop), a directory where the file should be, and a path under `/proc`.

use std::path::{Path, PathBuf};
use std::process::Command;

use opsfloor_contract::State;
use opsfloor_history::{History, HistoryError, Subject, Transition, TransitionQuery};
use sqlx::{Connection, SqliteConnection};

/// Makes a file or directory immutable until dropped.
struct Immutable(PathBuf);

impl Immutable {
    fn set(path: &Path) -> Immutable {
        let ok = Command::new("chattr")
            .arg("+i")
            .arg(path)
            .status()
            .expect("chattr")
            .success();
        assert!(ok, "chattr +i {}", path.display());
        Immutable(path.to_owned())
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

fn transition() -> Transition {
    Transition {
        subject: Subject::Service("md".into()),
        from: None,
        to: State::Ok,
        reason_codes: vec![],
        at: "2026-01-07T14:00:00Z".parse().expect("timestamp"),
    }
}

async fn created(path: &Path) {
    let h = History::open(path).await.expect("create");
    h.record(&transition()).await.expect("record");
    h.close().await;
}

fn assert_io_naming(err: &HistoryError, path: &Path) {
    assert!(err.is_io(), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&format!("history database {}:", path.display())),
        "{err}"
    );
}

#[tokio::test]
async fn a_read_only_file_fails_at_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("history.db");
    created(&path).await;
    let _ro = Immutable::set(&path);
    let err = History::open(&path).await.expect_err("read-only file");
    assert_io_naming(&err, &path);
}

#[tokio::test]
async fn a_read_only_directory_fails_at_open() {
    // A new database in a directory nothing can be created in. (An existing
    // database in such a directory whose WAL file is still there stays writable,
    // rightly: SQLite writes only existing files then.)
    let dir = tempfile::tempdir().expect("temp dir");
    let sub = dir.path().join("db");
    std::fs::create_dir(&sub).expect("mkdir");
    let _ro = Immutable::set(&sub);
    let fresh = sub.join("new.db");
    let err = History::open(&fresh).await.expect_err("cannot create");
    assert_io_naming(&err, &fresh);
}

#[tokio::test]
async fn a_directory_or_a_proc_path_fails_at_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let err = History::open(dir.path()).await.expect_err("a directory");
    assert_io_naming(&err, dir.path());
    let proc_path = Path::new("/proc/opsfloor-history-test.db");
    let err = History::open(proc_path).await.expect_err("/proc");
    assert_io_naming(&err, proc_path);
}

#[tokio::test]
async fn unreadable_rows_and_foreign_files_are_bad_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("history.db");
    created(&path).await;
    let mut c = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("raw");
    sqlx::query("UPDATE transitions SET to_state = 'SIDEWAYS'")
        .execute(&mut c)
        .await
        .expect("damage");
    c.close().await.expect("close");
    let h = History::open(&path).await.expect("open");
    let err = h
        .transitions(&TransitionQuery::latest(10))
        .await
        .expect_err("corrupt");
    assert!(matches!(err, HistoryError::Corrupt { .. }), "{err:?}");
    assert!(!err.is_io());
    h.close().await;

    let other = dir.path().join("notes.txt");
    std::fs::write(&other, vec![b'x'; 4096]).expect("write");
    let err = History::open(&other).await.expect_err("not a database");
    assert!(!err.is_io(), "{err:?}");
}

#[tokio::test]
async fn a_read_only_postgres_database_fails_at_open() {
    let pg = opsfloor_testkit::Postgres::start().expect("PostgreSQL");
    let url = pg.create_database("ro").expect("database");
    History::connect(&url).await.expect("migrate").close().await;
    pg.psql(
        "postgres",
        "ALTER DATABASE ro SET default_transaction_read_only = on",
    )
    .expect("read-only");
    let err = History::connect(&url)
        .await
        .expect_err("read-only database");
    assert!(err.is_io(), "{err:?}");
    assert!(err.to_string().contains("/ro:"), "{err}");
}
