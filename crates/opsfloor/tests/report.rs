//! `opsfloor report`: golden files over recorded fleets (replay, no network), exit
//! codes, bad inventories, `--since`, and a live run that replays byte for byte.

mod common;

use common::{Spawned, golden, inventory_urls};

use std::process::{Command, Output, Stdio};

fn opsfloor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_opsfloor"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run opsfloor")
}

fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("utf8")
}

/// Every recorded fleet, with the exit code its floor state gives. `hostile` is
/// `ok` edited by hand: ESC, BEL, NUL, CR/LF, HTML, pipes, backticks and a bidi
/// override in a build, and a status whose problem quotes such text back: the
/// table shows them escaped, markdown as inert text on one line.
const RECORDINGS: [(&str, i32); 8] = [
    ("ok", 0),
    ("market-closed", 0),
    ("stale-marketdata", 2),
    ("kill-switch", 2),
    ("execution-disabled", 0),
    ("service-down", 1),
    ("broken", 1),
    ("hostile", 4),
];

#[test]
fn every_format_over_every_recording() {
    for (name, code) in RECORDINGS {
        let recording = data(&format!("recordings/{name}.json"));
        for (format, ext) in [("markdown", "md"), ("json", "json"), ("table", "txt")] {
            let o = opsfloor(&["report", "--replay", &recording, "--format", format]);
            assert_eq!(
                o.status.code(),
                Some(code),
                "{name} {format}: {}",
                text(&o.stderr)
            );
            assert!(
                o.stderr.is_empty(),
                "replay never prints progress: {}",
                text(&o.stderr)
            );
            golden(&format!("report/{name}.{ext}"), &text(&o.stdout));
        }
    }
}

#[test]
fn the_json_report_is_the_api_shapes_and_deterministic() {
    let recording = data("recordings/broken.json");
    let a = opsfloor(&["report", "--replay", &recording, "--format", "json"]);
    let b = opsfloor(&["report", "--replay", &recording, "--format", "json"]);
    assert_eq!(a.stdout, b.stdout, "byte-identical");
    let report: serde_json::Value = serde_json::from_slice(&a.stdout).expect("JSON");
    assert_eq!(report["floor"]["service_kind"], "floor");
    let legacy = &report["services"][5];
    assert_eq!(legacy["service_name"], "legacy-risk");
    assert_eq!(legacy["status"]["state"], "UNKNOWN");
    assert!(
        legacy["problems"]
            .to_string()
            .contains("/service_name: required field is missing"),
        "{legacy}"
    );
    assert!(
        legacy.get("document").is_none(),
        "list entries carry no document"
    );
    assert!(
        !a.stdout.windows(6).any(|w| w == b"s3cr3t"),
        "never a secret in a report"
    );
}

#[test]
fn fail_on_moves_the_threshold() {
    let degraded = data("recordings/service-down.json");
    let closed = data("recordings/market-closed.json");
    let ok = data("recordings/ok.json");
    let code = |args: &[&str]| opsfloor(args).status.code();
    assert_eq!(
        code(&["report", "--replay", &degraded, "--fail-on", "halted"]),
        Some(0),
        "post-deploy accepts DEGRADED"
    );
    assert_eq!(
        code(&["report", "--replay", &degraded, "--fail-on", "degraded"]),
        Some(1)
    );
    assert_eq!(
        code(&["report", "--replay", &closed, "--fail-on", "market_closed"]),
        Some(5),
        "strict go/no-go"
    );
    assert_eq!(
        code(&["report", "--replay", &ok, "--fail-on", "market_closed"]),
        Some(0)
    );
    let o = opsfloor(&["report", "--replay", &ok, "--fail-on", "green"]);
    assert_eq!(o.status.code(), Some(64));
    assert!(
        text(&o.stderr).contains("expected ok, market_closed"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn since_lists_what_changed() {
    let dir = tempfile::tempdir().expect("tmp");
    let previous = dir.path().join("ok.json");
    let o = opsfloor(&[
        "report",
        "--replay",
        &data("recordings/ok.json"),
        "--format",
        "json",
        "--out",
        previous.to_str().expect("path"),
    ]);
    assert_eq!(o.status.code(), Some(0));
    for (format, ext) in [("markdown", "md"), ("json", "json"), ("table", "txt")] {
        let o = opsfloor(&[
            "report",
            "--replay",
            &data("recordings/broken.json"),
            "--since",
            previous.to_str().expect("path"),
            "--format",
            format,
        ]);
        golden(&format!("report/since-broken.{ext}"), &text(&o.stdout));
    }
    let o = opsfloor(&[
        "report",
        "--replay",
        &data("recordings/ok.json"),
        "--since",
        "/nonexistent.json",
    ]);
    assert_eq!(o.status.code(), Some(66));
}

#[test]
fn bad_inventories_name_file_line_and_field() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("floor.toml");
    std::fs::write(
        &path,
        "[[services]]\nname = \"md\"\nkind = \"risk\"\nurl = \"http://127.0.0.1:1\"\n",
    )
    .expect("write");
    let o = opsfloor(&[
        "report",
        "--config",
        path.to_str().expect("path"),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(78));
    let err = text(&o.stderr);
    assert!(
        err.contains("floor.toml:3") && err.contains("kind") && err.contains("risk"),
        "{err}"
    );
    let o = opsfloor(&["report", "--config", "/nonexistent/floor.toml"]);
    assert_eq!(
        o.status.code(),
        Some(66),
        "a missing inventory is a missing input"
    );
    assert!(text(&o.stderr).contains("/nonexistent/floor.toml"));
    let o = opsfloor(&["report"]);
    assert_eq!(
        o.status.code(),
        Some(64),
        "--config or --replay is required"
    );
}

#[test]
fn a_live_report_replays_byte_for_byte() {
    let dir = tempfile::tempdir().expect("tmp");
    let inventory = dir.path().join("floor.toml");
    let mut command = Command::new(env!("CARGO_BIN_EXE_opsfloor"));
    command
        .args([
            "fleet",
            "--base-port",
            "0",
            "--now",
            "2026-01-07T15:00:00Z",
            "--scenario",
            "service-down",
        ])
        .arg("--dir")
        .arg(dir.path().join("control"))
        .arg("--write-inventory")
        .arg(&inventory);
    let mut fleet = Spawned::new(command);
    // Base port 0: wait for the inventory, then for marketdata (its first service) to answer.
    let urls = fleet.wait_for(
        "the inventory lists five services",
        std::time::Duration::from_secs(20),
        |_| {
            let urls = inventory_urls(&inventory);
            (urls.len() == 5).then_some(urls)
        },
    );
    let marketdata = urls[0].trim_start_matches("http://").to_owned();
    fleet.wait_for(
        "marketdata accepts connections",
        std::time::Duration::from_secs(20),
        |_| std::net::TcpStream::connect(marketdata.as_str()).ok(),
    );
    let recording = dir.path().join("rec.json");
    let inv = inventory.to_str().expect("path");
    let live = opsfloor(&[
        "report",
        "--config",
        inv,
        "--format",
        "json",
        "--now",
        "2026-01-07T15:00:05Z",
        "--record",
        recording.to_str().expect("path"),
        "--quiet",
    ]);
    assert_eq!(
        live.status.code(),
        Some(1),
        "whale-strategy down degrades the floor: {}\n{}",
        text(&live.stderr),
        fleet.output()
    );
    assert!(live.stderr.is_empty(), "--quiet");
    let replay = opsfloor(&[
        "report",
        "--replay",
        recording.to_str().expect("path"),
        "--format",
        "json",
    ]);
    assert_eq!(live.stdout, replay.stdout);
    let report: serde_json::Value = serde_json::from_slice(&live.stdout).expect("JSON");
    assert_eq!(report["services"][2]["status"]["state"], "OFFLINE");
    assert_eq!(
        report["services"][2]["status"]["reason_codes"][0],
        "UNREACHABLE"
    );
}

#[test]
fn report_exit_codes_follow_the_one_table() {
    let dir = tempfile::tempdir().expect("tmp");
    let o = opsfloor(&["report", "--config", "/nope/floor.toml"]);
    assert_eq!(
        o.status.code(),
        Some(66),
        "missing inventory: {}",
        text(&o.stderr)
    );
    assert!(
        text(&o.stderr).starts_with("opsfloor: error: "),
        "{}",
        text(&o.stderr)
    );
    let bad = dir.path().join("floor.toml");
    std::fs::write(&bad, "[[services]]\nname = 1\n").expect("write");
    let o = opsfloor(&["report", "--config", bad.to_str().expect("path")]);
    assert_eq!(
        o.status.code(),
        Some(78),
        "invalid inventory: {}",
        text(&o.stderr)
    );
    let rec = dir.path().join("rec.json");
    std::fs::write(&rec, b"{\"recording_format\": \"\xff\"}").expect("write");
    let o = opsfloor(&["report", "--replay", rec.to_str().expect("path")]);
    assert_eq!(
        o.status.code(),
        Some(65),
        "a recording not UTF-8: {}",
        text(&o.stderr)
    );
}

#[test]
fn the_report_applies_the_inventorys_calendar_overrides() {
    let dir = tempfile::tempdir().expect("tmp");
    let inventory = dir.path().join("floor.toml");
    std::fs::write(
        &inventory,
        "[floor]\ncalendar_overrides = \"overrides.toml\"\n\n\
         [[services]]\nname = \"md\"\nkind = \"ops\"\nurl = \"http://127.0.0.1:1\"\n\n\
         [[services]]\nname = \"tokyo\"\nkind = \"ops\"\nurl = \"http://127.0.0.1:1\"\ncalendar = \"XTKS\"\n",
    )
    .expect("write");
    let overrides = dir.path().join("overrides.toml");
    let report = |at: &str| {
        opsfloor(&[
            "report",
            "--config",
            inventory.to_str().expect("path"),
            "--now",
            at,
            "--format",
            "json",
            "--retries",
            "0",
            "--quiet",
        ])
    };
    // Wednesday 10:00 New York, closed by an unscheduled closure.
    std::fs::write(
        &overrides,
        "[[closures]]\ncalendar = \"XNYS\"\ndate = \"2026-01-07\"\n",
    )
    .expect("write");
    let o = report("2026-01-07T15:00:00Z");
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON report");
    let venues = &json["market"]["venues"];
    assert_eq!(venues[0]["calendar"], "XNYS", "{json}");
    assert_eq!(venues[0]["is_open"], false, "{json}");
    assert_eq!(venues[1]["calendar"], "XTKS", "{json}");

    // A duplicate is a configuration error naming the file and line.
    std::fs::write(
        &overrides,
        "[[closures]]\ncalendar = \"XNYS\"\ndate = \"2026-01-07\"\n\n[[closures]]\ncalendar = \"nyse\"\ndate = \"2026-01-07\"\n",
    )
    .expect("write");
    let o = report("2026-01-07T15:00:00Z");
    assert_eq!(o.status.code(), Some(78), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("overrides.toml:5: duplicate override for XNYS on 2026-01-07"),
        "{err}"
    );
}

/// The hostile recording's text reaches neither the terminal nor the markdown
/// raw: no control byte but the newline, no tag, no row broken by CR/LF.
#[test]
fn hostile_service_text_is_escaped_in_every_format() {
    let recording = data("recordings/hostile.json");
    for format in ["table", "markdown"] {
        let o = opsfloor(&["report", "--replay", &recording, "--format", format]);
        let out = text(&o.stdout);
        let bad: Vec<char> = out
            .chars()
            .filter(|c| (c.is_control() && *c != '\n') || *c == '\u{202e}')
            .collect();
        assert!(bad.is_empty(), "{format}: {bad:?} in\n{out}");
        assert!(
            out.contains("onerror"),
            "{format}: the text is shown, escaped"
        );
        if format == "markdown" {
            for raw in ["<img", "</textarea>", "<b>"] {
                assert!(!out.contains(raw), "{raw} reached the markdown:\n{out}");
            }
            for row in out
                .lines()
                .filter(|l| l.starts_with("| marketdata-mcp-server"))
            {
                // 10 columns: 11 unescaped pipes, the row whole on one line.
                let pipes = row
                    .replace("\\\\", "")
                    .replace("\\|", "")
                    .matches('|')
                    .count();
                assert_eq!(pipes, 11, "{row}");
            }
        }
    }
}

/// A maintenance window open at `--now` badges what it covers in every format (the
/// state is still reported as it is); a broken window is a configuration error.
#[test]
fn the_report_badges_a_service_in_an_open_maintenance_window() {
    let dir = tempfile::tempdir().expect("tmp");
    let inventory = dir.path().join("floor.toml");
    let write = |end: &str| {
        std::fs::write(
            &inventory,
            format!(
                "[floor]\n\n[[services]]\nname = \"md\"\nkind = \"ops\"\nurl = \"http://127.0.0.1:1\"\n\n\
                 [[services]]\nname = \"gamma\"\nkind = \"ops\"\nurl = \"http://127.0.0.1:1\"\n\n\
                 [[maintenance]]\nservices = [\"md\"]\nstart = \"2026-01-07T14:00:00Z\"\n\
                 end = \"{end}\"\nnote = \"Feed | upgrade\"\n"
            ),
        )
        .expect("write");
    };
    let report = |format: &str| {
        opsfloor(&[
            "report",
            "--config",
            inventory.to_str().expect("path"),
            "--now",
            "2026-01-07T15:00:00Z",
            "--format",
            format,
            "--retries",
            "0",
            "--quiet",
        ])
    };
    write("2026-01-07T16:00:00Z");
    let json: serde_json::Value =
        serde_json::from_slice(&report("json").stdout).expect("JSON report");
    let md = &json["services"][0];
    assert_eq!(md["service_name"], "md", "{json}");
    assert_eq!(
        md["maintenance"],
        serde_json::json!({"note": "Feed | upgrade", "until_utc": "2026-01-07T16:00:00Z"})
    );
    assert_eq!(md["status"]["state"], "OFFLINE", "still shown as it is");
    assert!(json["services"][1].get("maintenance").is_none(), "{json}");
    let markdown = text(&report("markdown").stdout);
    assert!(
        markdown.contains("(maintenance until 2026-01-07T16:00:00Z: Feed \\| upgrade)"),
        "{markdown}"
    );
    let table = text(&report("table").stdout);
    assert!(
        table.contains("(maintenance until 2026-01-07T16:00:00Z: Feed | upgrade)"),
        "{table}"
    );

    write("whenever");
    let o = report("json");
    assert_eq!(o.status.code(), Some(78), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("maintenance[0].end"),
        "{}",
        text(&o.stderr)
    );
}
