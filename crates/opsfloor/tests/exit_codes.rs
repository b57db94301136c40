//! One table of exit codes, command by command, as a user meets them: a port in
//! use, a missing input, an output path that cannot be written, an invalid
//! inventory, bad data; and every error said with the same `opsfloor: error: `.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn opsfloor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_opsfloor"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run opsfloor")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts the exit code and that stderr has an `opsfloor: error: ` line naming `names`.
fn fails(o: &Output, code: i32, names: &str, what: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "{what}: {err}");
    // (A long-running command may have logged its start before it failed.)
    assert!(
        err.lines()
            .any(|l| l.starts_with("opsfloor: error: ") && l.contains(names)),
        "{what}: an `opsfloor: error: ` line naming {names:?}: {err}"
    );
}

fn recording(name: &str) -> String {
    format!(
        "{}/tests/data/recordings/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn write(dir: &Path, name: &str, text: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}

#[test]
fn a_port_in_use_is_74_for_serve_demo_fleet_and_probe() {
    let dir = tempfile::tempdir().expect("tmp");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr");
    let (listen, port) = (addr.to_string(), addr.port().to_string());
    let inventory = write(
        dir.path(),
        "floor.toml",
        b"[floor]\ncalendar = \"XNYS\"\n\n[[services]]\nname = \"md\"\nkind = \"marketdata\"\nurl = \"http://127.0.0.1:9\"\n",
    );
    let serve = opsfloor(&[
        "serve",
        "--no-history",
        "--config",
        &inventory,
        "--listen",
        &listen,
    ]);
    fails(&serve, 74, &listen, "serve");

    let demo_dir = dir.path().join("demo").display().to_string();
    let demo = opsfloor(&[
        "demo",
        "--listen",
        &listen,
        "--base-port",
        "0",
        "--dir",
        &demo_dir,
        "--now",
        "2026-01-07T15:00:00Z",
    ]);
    fails(&demo, 74, &listen, "demo");

    let control = dir.path().join("control").display().to_string();
    let fleet = opsfloor(&[
        "fleet",
        "--base-port",
        &port,
        "--dir",
        &control,
        "--now",
        "2026-01-07T15:00:00Z",
    ]);
    fails(&fleet, 74, &listen, "fleet");

    let probe = Command::new(env!("CARGO_BIN_EXE_opsfloor"))
        .args(["probe", "--listen", &listen])
        .env("SERVICE_NAME", "bars-ingest")
        .env("SERVICE_KIND", "ingest")
        .env("REPO_ID", "acme/ingest")
        .stdin(Stdio::null())
        .output()
        .expect("run probe");
    fails(&probe, 74, &listen, "probe");
    drop(taken);
}

#[test]
fn missing_inputs_are_66_and_unwritable_outputs_74() {
    let dir = tempfile::tempdir().expect("tmp");
    fails(
        &opsfloor(&["report", "--config", "/nope/floor.toml"]),
        66,
        "/nope/floor.toml",
        "report --config /nope",
    );
    fails(
        &opsfloor(&["serve", "--no-history", "--config", "/nope/floor.toml"]),
        66,
        "/nope/floor.toml",
        "serve --config /nope",
    );
    fails(
        &opsfloor(&["report", "--replay", "/nope/rec.json"]),
        66,
        "/nope/rec.json",
        "report --replay /nope",
    );
    let ok = recording("ok");
    fails(
        &opsfloor(&["report", "--replay", &ok, "--out", "/nope/dir/r.md"]),
        74,
        "/nope/dir/r.md",
        "report --out /nope/dir",
    );
    let control = dir.path().join("control").display().to_string();
    fails(
        &opsfloor(&[
            "fleet",
            "--base-port",
            "0",
            "--dir",
            &control,
            "--now",
            "2026-01-07T15:00:00Z",
            "--write-inventory",
            "/nope/dir/x.toml",
        ]),
        74,
        "/nope/dir/x.toml",
        "fleet --write-inventory /nope/dir",
    );
}

#[test]
fn the_same_invalid_inventory_is_78_for_report_and_serve() {
    let dir = tempfile::tempdir().expect("tmp");
    let bad = write(
        dir.path(),
        "floor.toml",
        b"[[services]]\nname = \"md\"\nkind = \"risk\"\nurl = \"http://127.0.0.1:1\"\n",
    );
    let report = opsfloor(&["report", "--config", &bad, "--quiet"]);
    fails(&report, 78, "floor.toml:3", "report");
    let serve = opsfloor(&["serve", "--no-history", "--config", &bad]);
    fails(&serve, 78, "floor.toml:3", "serve");
}

#[test]
fn a_recording_or_since_file_that_is_not_utf8_is_bad_data() {
    let dir = tempfile::tempdir().expect("tmp");
    let rec = write(dir.path(), "rec.json", b"{\"recorded_at\": \"\xff\"}");
    fails(
        &opsfloor(&["report", "--replay", &rec]),
        65,
        "rec.json",
        "a recording not UTF-8",
    );
    let since = write(dir.path(), "prev.json", b"{\"generated_at\": \"\xfe\"}");
    let ok = recording("ok");
    fails(
        &opsfloor(&["report", "--replay", &ok, "--since", &since]),
        65,
        "prev.json",
        "a --since file not UTF-8",
    );
}

#[test]
fn a_replay_needs_no_config() {
    let o = opsfloor(&["report", "--replay", &recording("ok"), "--format", "table"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).starts_with("trading-floor at "),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn usage_errors_are_64_with_the_same_prefix() {
    fails(
        &opsfloor(&["report", "--no-such-flag"]),
        64,
        "--no-such-flag",
        "an unknown flag",
    );
    fails(
        &opsfloor(&["calendar", "status", "--at", "yesterday"]),
        64,
        "yesterday",
        "a malformed argument",
    );
    let help = opsfloor(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8_lossy(&help.stdout);
    for code in ["64", "65", "66", "74", "78"] {
        assert!(
            text.contains(&format!("\n  {code}  ")),
            "{code} in --help: {text}"
        );
    }
}
