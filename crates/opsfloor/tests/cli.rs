//! The `opsfloor` binary, run as a user runs it: arguments, stdin, stdout, stderr, exit code.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn opsfloor(args: &[&str], stdin: &str) -> Output {
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
        .write_all(stdin.as_bytes())
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

/// Compares with a golden file; `UPDATE_GOLDEN=1` rewrites it.
fn golden(name: &str, actual: &str) {
    let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write golden");
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "{name} differs from its golden file:\n--- expected\n{expected}\n--- actual\n{actual}"
    );
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
    assert!(err.contains("line 3, column"), "{err}");
    assert!(err.contains("unknown variant `risk`"), "{err}");
    assert!(err.contains("line 5, column"), "{err}");
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
        stderr(&o).contains("outside the nyse calendar's supported range 1990-01-01 to 2040-12-31"),
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
