//! `opsfloor serve` and `opsfloor fleet` fail to start with the documented exit code
//! and a message naming the place: 66 for a missing inventory, 78 for an invalid
//! one, 74 for a history store that cannot be written or a port in use.

use std::path::Path;
use std::process::{Command, Output};

fn serve(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_opsfloor"))
        .arg("serve")
        .args(args)
        .output()
        .expect("run opsfloor serve")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn inventory(dir: &Path) -> String {
    let path = dir.join("floor.toml");
    std::fs::write(
        &path,
        "[floor]\ncalendar = \"XNYS\"\n\n[[services]]\nname = \"md\"\nkind = \"marketdata\"\nurl = \"http://127.0.0.1:9\"\n",
    )
    .expect("write inventory");
    path.display().to_string()
}

#[test]
fn a_missing_inventory_is_66() {
    let o = serve(&["--config", "/nope/floor.toml", "--no-history"]);
    assert_eq!(o.status.code(), Some(66), "{}", stderr(&o));
    assert!(stderr(&o).contains("/nope/floor.toml"), "{}", stderr(&o));
}

#[test]
fn an_invalid_inventory_is_78() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("floor.toml");
    std::fs::write(&path, "[floor]\ncalender = \"nyse\"\n").expect("write");
    let o = serve(&["--config", &path.display().to_string(), "--no-history"]);
    assert_eq!(o.status.code(), Some(78), "{}", stderr(&o));
    assert!(stderr(&o).contains("floor.toml:2"), "{}", stderr(&o));
}

#[test]
fn a_history_path_that_is_a_directory_is_74() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = inventory(dir.path());
    let db = dir.path().join("a-directory");
    std::fs::create_dir(&db).expect("mkdir");
    let o = serve(&["--config", &config, "--db", &db.display().to_string()]);
    assert_eq!(o.status.code(), Some(74), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains(&db.display().to_string()), "{err}");
    assert!(
        err.contains("--no-history"),
        "the message says how to go on: {err}"
    );
}

#[test]
fn a_port_in_use_is_74() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = inventory(dir.path());
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let o = serve(&["--config", &config, "--no-history", "--listen", &addr]);
    assert_eq!(o.status.code(), Some(74), "{}", stderr(&o));
    assert!(stderr(&o).contains(&addr), "{}", stderr(&o));
}

#[test]
fn a_clock_outside_the_calendar_is_65_never_a_guess() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = inventory(dir.path());
    let report = Command::new(env!("CARGO_BIN_EXE_opsfloor"))
        .args(["report", "--config", &config, "--retries", "0", "--quiet"])
        .args(["--now", "2042-06-01T00:00:00Z"])
        .output()
        .expect("run opsfloor report");
    assert_eq!(report.status.code(), Some(65), "{}", stderr(&report));
    assert!(
        stderr(&report).contains("supported range"),
        "{}",
        stderr(&report)
    );
    let fleet = Command::new(env!("CARGO_BIN_EXE_opsfloor"))
        .args(["fleet", "--base-port", "0", "--now", "2042-06-01T00:00:00Z"])
        .arg("--dir")
        .arg(dir.path().join("control"))
        .output()
        .expect("run opsfloor fleet");
    assert_eq!(fleet.status.code(), Some(65), "{}", stderr(&fleet));
}
