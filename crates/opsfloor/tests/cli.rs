//! The `opsfloor` binary, run as a user runs it: arguments, stdin, stdout, stderr, exit code.

mod common;

use common::{Spawned, golden, http_get, inventory_urls};

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn opsfloor(args: &[&str], stdin: &str) -> Output {
    opsfloor_bytes(args, stdin.as_bytes())
}

fn opsfloor_bytes(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_opsfloor"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn opsfloor");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf8 stderr")
}

fn repo(path: &str) -> String {
    format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn evaluate_answers_good_lines_and_names_bad_ones() {
    let input = concat!(
        r#"{"service_kind":"strategy","process_up":true,"kill_switch":true,"market_is_open":true}"#,
        "\n",
        "\n",
        r#"{"service_kind":"risk","process_up":true,"kill_switch":false,"market_is_open":true}"#,
        "\n",
        r#"{"service_kind":"execution","process_up":false,"kill_switch":false,"market_is_open":true,"execution_replicas":0}"#,
        "\n",
        "not json\n",
        r#"{"service_kind":"marketdata","process_up":true,"kill_switch":false,"market_is_open":false,"marketdata_is_fresh":true}"#,
        "\n",
    );
    let o = opsfloor(&["evaluate"], input);
    assert_eq!(o.status.code(), Some(1));
    golden("evaluate.jsonl", &stdout(&o));
    let err = stderr(&o);
    assert!(err.contains("opsfloor: error: <stdin>:3: column"), "{err}");
    assert!(err.contains("unknown variant `risk`"), "{err}");
    assert!(err.contains("opsfloor: error: <stdin>:5: column"), "{err}");
    assert_eq!(err.lines().count(), 2, "{err}");

    let ok = opsfloor(
        &["evaluate"],
        r#"{"service_kind":"ops","process_up":true,"kill_switch":false,"market_is_open":true}"#,
    );
    assert_eq!(ok.status.code(), Some(0));
    assert_eq!(
        stdout(&ok),
        "{\"line\":1,\"state\":\"OK\",\"reason_codes\":[],\"rule\":9,\"rule_name\":\"healthy\"}\n"
    );
}

#[test]
fn a_line_that_is_not_utf8_is_named_and_the_others_are_answered() {
    let good =
        r#"{"service_kind":"ops","process_up":true,"kill_switch":false,"market_is_open":true}"#;
    let mut input = format!("{good}\n").into_bytes();
    input.extend_from_slice(b"{\"service_kind\":\"op\xffs\"}\n");
    input.extend_from_slice(format!("{good}\n").as_bytes());

    let o = opsfloor_bytes(&["evaluate"], &input);
    assert_eq!(o.status.code(), Some(65), "{}", stderr(&o));
    let answered: Vec<&str> = std::str::from_utf8(&o.stdout)
        .expect("utf8")
        .lines()
        .collect();
    assert_eq!(answered.len(), 2, "{answered:?}");
    assert!(answered[0].starts_with("{\"line\":1,"), "{answered:?}");
    assert!(answered[1].starts_with("{\"line\":3,"), "{answered:?}");
    assert_eq!(
        stderr(&o),
        "opsfloor: error: <stdin>:2: not UTF-8 text (invalid at byte 20)\n"
    );

    let seed = std::fs::read_to_string(repo(
        "crates/opsfloor-contract/tests/data/seed-example.json",
    ))
    .expect("seed");
    let doc: serde_json::Value = serde_json::from_str(&seed).expect("json");
    let mut lines = format!("{doc}\n").into_bytes();
    lines.extend_from_slice(b"\xc3\x28\n");
    lines.extend_from_slice(format!("{doc}\n").as_bytes());
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("docs.jsonl");
    std::fs::write(&file, &lines).expect("write");
    let path = file.display().to_string();
    let o = opsfloor(&["validate", "--lines", &path], "");
    assert_eq!(o.status.code(), Some(65), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!(
            "{path}:1: valid (OK [])\n\
             {path}:2: invalid: not UTF-8 text (invalid at byte 1)\n\
             {path}:3: valid (OK [])\n"
        )
    );

    let o = opsfloor_bytes(&["validate"], b"{\"a\":\"\xff\"}");
    assert_eq!(o.status.code(), Some(65));
    assert_eq!(
        stdout(&o),
        "<stdin>: invalid: not UTF-8 text (invalid at byte 7)\n"
    );
}

#[test]
fn evaluate_agrees_with_every_conformance_vector() {
    let text = std::fs::read_to_string(repo("conformance/truth-table.json")).expect("vectors");
    let file: serde_json::Value = serde_json::from_str(&text).expect("json");
    let cases = file["cases"].as_array().expect("cases");
    let input: String = cases.iter().map(|c| format!("{}\n", c["input"])).collect();
    let o = opsfloor(&["evaluate"], &input);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let answers: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("answer"))
        .collect();
    assert_eq!(answers.len(), cases.len());
    for (case, answer) in cases.iter().zip(&answers) {
        assert_eq!(answer["state"], case["expect"]["state"], "{}", case["name"]);
        assert_eq!(
            answer["reason_codes"], case["expect"]["reason_codes"],
            "{}",
            case["name"]
        );
        assert_eq!(answer["rule"], case["expect"]["rule"], "{}", case["name"]);
    }
}

#[test]
fn validate_a_file_and_json_lines() {
    let seed = repo("crates/opsfloor-contract/tests/data/seed-example.json");
    let o = opsfloor(&["validate", &seed], "");
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).ends_with("seed-example.json: valid (OK [])\n"),
        "{}",
        stdout(&o)
    );

    let lines = concat!(
        r#"{"service_name":"md","service_kind":"marketdata","repo_id":"r","agent_identity":{"agent_name":"md"},"status":{"state":"MARKET_CLOSED","reason_codes":["MARKET_CLOSED"]},"heartbeat":{},"safety":{"kill_switch":false}}"#,
        "\n",
        r#"{"service_kind":"risk","repo_id":"","agent_identity":{},"status":{"state":"GREEN"},"heartbeat":{"age_seconds":"old"}}"#,
        "\n",
        "\n",
        "{\"service_name\": \n",
    );
    let o = opsfloor(&["validate", "--lines"], lines);
    assert_eq!(o.status.code(), Some(1));
    golden("validate-lines.txt", &stdout(&o));
}

#[test]
fn validate_exit_codes() {
    let o = opsfloor(&["validate", "/nonexistent/doc.json"], "");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/nonexistent/doc.json"),
        "{}",
        stderr(&o)
    );
    let o = opsfloor(&["validate"], "{\n  \"a\": 1,\n  oops\n}");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stdout(&o),
        "<stdin>: invalid: malformed JSON at line 3, column 3: key must be a string\n"
    );
}

#[test]
fn schema_prints_the_committed_file() {
    let o = opsfloor(&["schema"], "");
    assert_eq!(o.status.code(), Some(0));
    let committed = std::fs::read_to_string(repo("schema/ops-status.schema.json")).expect("schema");
    assert_eq!(stdout(&o), committed);
}

#[test]
fn calendar_status_in_text_and_json() {
    let o = opsfloor(&["calendar", "status", "--at", "2026-11-25T06:10:00Z"], "");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    golden("calendar-status.txt", &stdout(&o));
    let o = opsfloor(
        &[
            "calendar",
            "status",
            "--at",
            "2026-11-26T10:00:00-05:00",
            "--format",
            "json",
        ],
        "",
    );
    golden("calendar-status-thanksgiving.json", &stdout(&o));
    let o = opsfloor(
        &[
            "calendar",
            "status",
            "--calendar",
            "always-open",
            "--now",
            "2026-12-25T00:00:00Z",
        ],
        "",
    );
    assert!(stdout(&o).contains("market      OPEN"), "{}", stdout(&o));
}

#[test]
fn calendar_sessions_csv_and_json() {
    let o = opsfloor(
        &[
            "calendar",
            "sessions",
            "--from",
            "2026-11-20",
            "--to",
            "2026-12-01",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(0));
    golden("calendar-sessions.csv", &stdout(&o));
    let o = opsfloor(
        &[
            "calendar",
            "sessions",
            "--from",
            "2025-07-03",
            "--to",
            "2025-07-03",
            "--format",
            "json",
        ],
        "",
    );
    let rows: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(rows[0]["close_utc"], "2025-07-03T17:00:00Z");
    assert_eq!(rows[0]["early_close"], true);
}

/// The issue's example: Tokyo's 2026 sessions, with the lunch break columns.
#[test]
fn calendar_sessions_of_a_venue_with_breaks() {
    let args = [
        "calendar",
        "sessions",
        "--calendar",
        "XTKS",
        "--from",
        "2026-01-01",
        "--to",
        "2026-12-31",
        "--format",
        "csv",
    ];
    let o = opsfloor(&args, "");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    golden("calendar-sessions-xtks-2026.csv", &stdout(&o));
    // Sydney: a session opening at 23:00 UTC is dated by Sydney (the next day).
    let args = [
        "calendar",
        "sessions",
        "--calendar",
        "xasx",
        "--from",
        "2026-01-05",
        "--to",
        "2026-01-05",
    ];
    let o = opsfloor(&args, "");
    assert_eq!(
        stdout(&o),
        "date,open_utc,close_utc,break_start_utc,break_end_utc\n\
         2026-01-05,2026-01-04T23:00:00Z,2026-01-05T05:00:00Z,,\n"
    );
    // Outside the supported range: an error, exit 65.
    let args = [
        "calendar",
        "sessions",
        "--calendar",
        "XTKS",
        "--from",
        "2035-12-01",
        "--to",
        "2036-01-31",
    ];
    let o = opsfloor(&args, "");
    assert_eq!(o.status.code(), Some(65));
    assert!(
        stderr(&o).contains("outside the XTKS calendar's supported range 2000-01-01 to 2035-12-31"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn calendar_list_and_status_of_any_venue() {
    let o = opsfloor(&["calendar", "list"], "");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    golden("calendar-list.txt", &stdout(&o));
    let o = opsfloor(&["calendar", "list", "--format", "json"], "");
    let rows: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(rows.as_array().map(Vec::len), Some(10));
    assert_eq!(rows[3]["name"], "XTKS");
    assert_eq!(rows[3]["time_zone"], "Asia/Tokyo");
    assert_eq!(rows[9]["first_date"], serde_json::Value::Null);
    // Tokyo at lunch on 2026-03-02: closed, reopens at 12:30 JST.
    let o = opsfloor(
        &[
            "calendar",
            "status",
            "--calendar",
            "xtks",
            "--at",
            "2026-03-02T03:00:00Z",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    golden("calendar-status-xtks-lunch.txt", &stdout(&o));
    // CME's Monday session opens on Sunday evening.
    let o = opsfloor(
        &[
            "calendar",
            "status",
            "--calendar",
            "CMES",
            "--at",
            "2026-03-01T23:30:00Z",
            "--format",
            "json",
        ],
        "",
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(v["is_open"], true);
    assert_eq!(v["date"], "2026-03-02");
    assert_eq!(v["next_close_utc"], "2026-03-02T22:00:00Z");
    let o = opsfloor(
        &[
            "calendar",
            "status",
            "--calendar",
            "FX",
            "--at",
            "2041-01-01T00:00:00Z",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(65));
}

#[test]
fn calendar_overrides_from_toml() {
    let dir = std::env::temp_dir().join(format!("opsfloor-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let good = dir.join("overrides.toml");
    std::fs::write(
        &good,
        "[[closures]]\ndate = \"2027-01-04\"\nnote = \"Day of mourning\"\n",
    )
    .expect("write");
    let o = opsfloor(
        &[
            "calendar",
            "status",
            "--at",
            "2027-01-04T15:00:00Z",
            "--overrides",
            good.to_str().expect("path"),
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("none on 2027-01-04 (Day of mourning)"),
        "{}",
        stdout(&o)
    );
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[[closures]]\ndate = \"2027-01-04\"\nwhen = 1\n").expect("write");
    let o = opsfloor(
        &[
            "calendar",
            "status",
            "--overrides",
            bad.to_str().expect("path"),
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(65));
    let err = stderr(&o);
    assert!(
        err.contains("bad.toml") && err.contains("line 3") && err.contains("when"),
        "{err}"
    );
}

#[test]
fn bad_queries_and_usage_get_clear_errors() {
    let o = opsfloor(&["calendar", "status", "--at", "2050-01-01T00:00:00Z"], "");
    assert_eq!(o.status.code(), Some(65));
    assert!(
        stderr(&o).contains("outside the XNYS calendar's supported range 1990-01-01 to 2040-12-31"),
        "{}",
        stderr(&o)
    );
    let o = opsfloor(&["calendar", "status", "--at", "yesterday"], "");
    assert_eq!(o.status.code(), Some(64));
    assert!(stderr(&o).contains("--at"), "{}", stderr(&o));
    let o = opsfloor(&["calendar", "sessions", "--from", "2026-01-01"], "");
    assert_eq!(o.status.code(), Some(64));
    let o = opsfloor(&["calendar", "status", "--calendar", "lse"], "");
    assert_eq!(o.status.code(), Some(65));
    assert!(
        stderr(&o).contains("unknown calendar \"lse\""),
        "{}",
        stderr(&o)
    );
    let o = opsfloor(&["--help"], "");
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("Exit codes"));
}

/// Polls `url` until it answers 200, for at most ten seconds; a failure shows the child's output.
fn get_when_up(child: &mut Spawned, url: &str) -> String {
    child.wait_for(
        &format!("{url} answers 200"),
        std::time::Duration::from_secs(10),
        |_| http_get(url).ok(),
    )
}

#[test]
fn probe_sidecar_serves_a_cron_job_from_the_environment() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut command = Command::new(env!("CARGO_BIN_EXE_opsfloor"));
    command
        .args([
            "probe",
            "--listen",
            "127.0.0.1:0",
            "--now",
            "2026-01-07T15:00:00Z",
        ])
        .env("SERVICE_NAME", "bars-ingest")
        .env("SERVICE_KIND", "ingest")
        .env("REPO_ID", "acme/ingest")
        .env("OPS_HEARTBEAT_FILE", dir.path().join("ok"))
        .env("OPS_HEARTBEAT_TTL_S", "420");
    let mut child = Spawned::new(command);
    let addr = child.printed_addr("serving");
    let body = get_when_up(&mut child, &format!("http://{addr}/ops/status"));
    let doc: serde_json::Value =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("JSON: {e}\n{}", child.output()));
    assert_eq!(doc["service_name"], "bars-ingest");
    assert_eq!(doc["status"]["state"], "OK");
    assert_eq!(doc["heartbeat"]["ttl_seconds"], 420);
}

#[test]
fn probe_sidecar_rejects_a_malformed_variable_at_startup() {
    let o = Command::new(env!("CARGO_BIN_EXE_opsfloor"))
        .args(["probe", "--listen", "127.0.0.1:0"])
        .env("SERVICE_NAME", "x")
        .env("SERVICE_KIND", "execution")
        .env("REPO_ID", "r")
        .env("EXECUTION_REPLICAS", "abc")
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(64));
    let err = stderr(&o);
    assert!(err.contains("EXECUTION_REPLICAS=\"abc\""), "{err}");
}

#[test]
fn fleet_command_runs_the_floor_and_writes_its_inventory() {
    let dir = tempfile::tempdir().expect("tmp");
    let inventory = dir.path().join("inventory.toml");
    let mut command = Command::new(env!("CARGO_BIN_EXE_opsfloor"));
    command
        .args([
            "fleet",
            "--base-port",
            "0",
            "--now",
            "2026-01-07T15:00:00Z",
            "--scenario",
            "kill-switch",
        ])
        .arg("--dir")
        .arg(dir.path().join("control"))
        .arg("--write-inventory")
        .arg(&inventory);
    let mut child = Spawned::new(command);
    // Base port 0: every member binds a port of its own; the inventory says which.
    let urls = child.wait_for(
        "the inventory lists five services",
        Duration::from_secs(20),
        |_| {
            let urls = inventory_urls(&inventory);
            (urls.len() == 5).then_some(urls)
        },
    );
    let body = get_when_up(&mut child, &format!("{}/ops/status", urls[1]));
    let doc: serde_json::Value =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("JSON: {e}\n{}", child.output()));
    assert_eq!(doc["service_name"], "gamma-strategy", "{}", child.output());
    assert_eq!(doc["status"]["state"], "HALTED", "{}", child.output());
    let text = std::fs::read_to_string(&inventory).expect("inventory");
    let ports: std::collections::BTreeSet<&str> = urls
        .iter()
        .map(|u| {
            u.strip_prefix("http://127.0.0.1:")
                .unwrap_or_else(|| panic!("{u}\n{text}"))
        })
        .collect();
    assert_eq!(ports.len(), 5, "five distinct real ports: {text}");
    assert!(
        !ports.contains("0"),
        "no member is listed on port 0: {text}"
    );
    // The banner comes after the inventory is written: wait for it, do not race it.
    let first = format!("{}/ops/status", urls[0]);
    child.wait_for(
        "the banner prints the real URLs",
        Duration::from_secs(20),
        |c| c.stdout().contains(&first).then_some(()),
    );

    let o = opsfloor(&["fleet", "--scenario", "meteor-strike"], "");
    assert_eq!(o.status.code(), Some(64));
    assert!(
        stderr(&o).contains("expected one of normal, kill-switch"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn serve_reloads_on_sighup_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().expect("tmp");
    let inventory = dir.path().join("floor.toml");
    let one = "[floor]\npoll_interval_ms = 200\n\n[[services]]\nname = \"a\"\nkind = \"ops\"\nurl = \"http://127.0.0.1:9\"\n";
    std::fs::write(&inventory, one).expect("write");
    let mut command = Command::new(env!("CARGO_BIN_EXE_opsfloor"));
    command
        .args([
            "serve",
            "--no-history",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
        ])
        .arg("--config")
        .arg(&inventory);
    let mut child = Spawned::new(command);
    let pid = child.id().to_string();
    let addr = child.printed_addr("API at");
    let services = |body: &str| -> serde_json::Value { serde_json::from_str(body).expect("JSON") };
    let count = |v: &serde_json::Value| v["services"].as_array().map_or(0, Vec::len);
    let url = format!("http://{addr}/api/v1/services");
    assert_eq!(count(&services(&get_when_up(&mut child, &url))), 1);

    // Change the file but keep its modification time, so only SIGHUP can reload it.
    let mtime = std::fs::metadata(&inventory)
        .and_then(|m| m.modified())
        .expect("mtime");
    let two = format!(
        "{one}\n[[services]]\nname = \"b\"\nkind = \"ops\"\nurl = \"http://127.0.0.1:9\"\n"
    );
    std::fs::write(&inventory, two).expect("write");
    std::fs::File::options()
        .write(true)
        .open(&inventory)
        .expect("open")
        .set_modified(mtime)
        .expect("set mtime");
    // The file is watched once a second. Wait until the floor's last poll has taken
    // three different (whole-second) values, so the watcher has run since the edit,
    // and check on every answer that nothing was reloaded.
    let mut polls = std::collections::BTreeSet::new();
    child.wait_for(
        "three polls after the edit",
        Duration::from_secs(10),
        |_| {
            let v = services(&http_get(&url).ok()?);
            assert_eq!(count(&v), 1, "no reload without a signal or a new mtime");
            let poll = v["services"][0]["last_poll_utc"].as_str().unwrap_or("");
            polls.insert(poll.chars().take(19).collect::<String>());
            (polls.len() >= 3).then_some(())
        },
    );
    let hup = Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .expect("kill -HUP");
    assert!(hup.success());
    child.wait_for("SIGHUP reloads", Duration::from_secs(10), |_| {
        let v = services(&http_get(&url).ok()?);
        (count(&v) == 2).then_some(())
    });

    let term = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill -TERM");
    assert!(term.success());
    let status = child.wait(Duration::from_secs(10));
    assert_eq!(
        status.code(),
        Some(0),
        "graceful shutdown exits 0\n{}",
        child.output()
    );
    let log = child.stderr();
    assert!(
        log.lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()),
        "JSON logs: {log}"
    );
    assert!(
        log.contains("inventory reloaded") && log.contains("shutting down"),
        "{log}"
    );
}

#[test]
fn logs_to_a_pipe_are_plain_text() {
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
        .arg(&inventory)
        .env_remove("NO_COLOR");
    let mut child = Spawned::new(command);
    child.wait_for("a log line on stderr", Duration::from_secs(20), |c| {
        c.stderr().contains("floor started").then_some(())
    });
    assert!(
        !child.stderr().contains('\u{1b}'),
        "no terminal escapes in a piped log:\n{}",
        child.stderr()
    );
}
