//! `opsfloor history` end to end with the real binary: SQLite -> PostgreSQL.

use std::process::{Command, Output};

use opsfloor_contract::{ReasonCode, State};
use opsfloor_history::{History, Subject, Transition};
use opsfloor_testkit::Postgres;

fn opsfloor(args: &[&str], pgpassword: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_opsfloor"));
    c.args(args).env_remove("PGPASSWORD");
    if let Some(pw) = pgpassword {
        c.env("PGPASSWORD", pw);
    }
    c.output().expect("run opsfloor")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_moves_from_sqlite_to_postgres() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = dir.path().join("history.db");
    let h = History::open(&sqlite).await.expect("open");
    let at = |s: &str| s.parse().expect("timestamp");
    h.record_all(&[
        Transition {
            subject: Subject::Floor,
            from: None,
            to: State::Ok,
            reason_codes: vec![],
            at: at("2026-01-07T14:00:00.123456789Z"),
        },
        Transition {
            subject: Subject::Service("md".into()),
            from: Some(State::Ok),
            to: State::Degraded,
            reason_codes: vec![ReasonCode::MarketdataStale, ReasonCode::from_wire("NEWER")],
            at: at("2026-01-07T15:00:00Z"),
        },
        // Recorded later but earlier in time: export keeps insertion order.
        Transition {
            subject: Subject::Service("md".into()),
            from: None,
            to: State::Ok,
            reason_codes: vec![],
            at: at("2026-01-07T13:00:00Z"),
        },
    ])
    .await
    .expect("record");
    h.close().await;

    let sqlite_arg = sqlite.display().to_string();
    let out = opsfloor(
        &[
            "history",
            "export",
            "--db",
            &sqlite_arg,
            "--format",
            "jsonl",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exported = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(exported.lines().count(), 3, "{exported}");
    assert!(
        exported
            .lines()
            .next()
            .is_some_and(|l| l.contains("14:00:00.123456789Z"))
    );
    let file = dir.path().join("export.jsonl");
    std::fs::write(&file, &exported).expect("write");
    let file_arg = file.display().to_string();

    let pg = Postgres::start().expect("PostgreSQL");
    pg.create_database("desk").expect("database");
    // No password in the URL: PGPASSWORD supplies it.
    let bare = pg.url_without_password("desk");
    let pw = Some(pg.password());
    let out = opsfloor(&["history", "migrate", "--db", &bare], pw);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = opsfloor(&["history", "import", "--db", &bare, &file_arg], pw);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = opsfloor(&["history", "export", "--db", &bare], pw);
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).expect("utf-8"), exported);

    // A second import is refused (no duplicates), as bad data.
    let out = opsfloor(&["history", "import", "--db", &bare, &file_arg], pw);
    assert_eq!(
        out.status.code(),
        Some(65),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A wrong password: I/O (74), and neither password appears.
    let wrong = pg.url("desk").replace(pg.password(), "wrong-pw-123");
    let out = opsfloor(&["history", "migrate", "--db", &wrong], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(74), "{stderr}");
    assert!(
        !stderr.contains("wrong-pw-123") && !stderr.contains(pg.password()),
        "{stderr}"
    );
    assert!(stderr.contains("postgres://postgres@127.0.0.1"), "{stderr}");
}
