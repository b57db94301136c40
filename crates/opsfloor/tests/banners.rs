//! What the long-running commands tell a user at start, and what they leave
//! behind: the demo says which clock it runs on and whether the market is open
//! (from the calendar, never assumed) and removes its temporary directory on
//! SIGTERM and on Ctrl-C; `serve` prints the dashboard's URL.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::Spawned;

/// The entries of `dir` (its file names).
fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// Runs the demo at `now` with `TMPDIR` set to `tmp`, waits for its banner, stops
/// it with `signal`, and returns the banner once the demo has exited 0.
fn demo_banner(tmp: &Path, now: &str, signal: &str) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_opsfloor"));
    command
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--base-port",
            "0",
            "--now",
            now,
        ])
        .env("TMPDIR", tmp);
    let mut demo = Spawned::new(command);
    let addr = demo.printed_addr("dashboard");
    let made = entries(tmp);
    assert!(
        made.len() == 1 && made[0].starts_with("opsfloor-demo-"),
        "one temporary directory while it runs: {made:?}\n{}",
        demo.output()
    );
    assert!(
        tmp.join(&made[0]).join("control").is_dir(),
        "{}",
        demo.output()
    );
    let banner = demo.stdout();
    assert!(
        banner.contains(&format!("dashboard   http://{addr}/")),
        "{banner}"
    );
    let sent = Command::new("kill")
        .args([signal, &demo.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let status = demo.wait(Duration::from_secs(20));
    assert_eq!(status.code(), Some(0), "{}", demo.output());
    assert_eq!(
        entries(tmp),
        Vec::<String>::new(),
        "the demo removed its temporary directory on {signal}\n{}",
        demo.output()
    );
    banner
}

#[test]
fn the_demo_says_its_clock_and_the_market_and_cleans_up_on_sigterm() {
    let tmp = tempfile::tempdir().expect("tmp");
    let banner = demo_banner(tmp.path(), "2026-01-07T22:00:00Z", "-TERM");
    assert!(
        banner
            .contains("on a simulated clock from 2026-01-07T22:00:00Z; the market is closed then."),
        "{banner}"
    );
    assert!(!banner.contains("so the market is open"), "{banner}");
    assert!(
        banner.contains("Simulated clock: 22:00 UTC (real time "),
        "{banner}"
    );
}

#[test]
fn the_demo_in_market_hours_says_so_and_cleans_up_on_ctrl_c() {
    let tmp = tempfile::tempdir().expect("tmp");
    let banner = demo_banner(tmp.path(), "2026-01-07T15:00:00Z", "-INT");
    assert!(
        banner.contains("on a simulated clock from 2026-01-07T15:00:00Z, so the market is open."),
        "{banner}"
    );
    assert!(
        banner.contains("Simulated clock: 15:00 UTC (real time "),
        "{banner}"
    );
}

#[test]
fn serve_prints_the_dashboards_url() {
    let dir = tempfile::tempdir().expect("tmp");
    let inventory = dir.path().join("floor.toml");
    std::fs::write(
        &inventory,
        "[floor]\ncalendar = \"always-open\"\n\n[[services]]\nname = \"a\"\nkind = \"ops\"\nurl = \"http://127.0.0.1:9\"\n",
    )
    .expect("write");
    let mut command = Command::new(env!("CARGO_BIN_EXE_opsfloor"));
    command
        .args([
            "serve",
            "--no-history",
            "--listen",
            "127.0.0.1:0",
            "--config",
        ])
        .arg(&inventory);
    let mut floor = Spawned::new(command);
    let addr = floor.printed_addr("dashboard at");
    let out = floor.stdout();
    assert!(
        out.contains(&format!(
            "dashboard at http://{addr}/, API at http://{addr}/api/v1/floor"
        )),
        "{out}"
    );
    let page = floor.wait_for("the dashboard answers", Duration::from_secs(20), |_| {
        let mut stream = std::net::TcpStream::connect(addr.as_str()).ok()?;
        use std::io::{Read, Write};
        write!(
            stream,
            "GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut text = String::new();
        stream.read_to_string(&mut text).ok()?;
        Some(text)
    });
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("<html"), "{page}");
}
