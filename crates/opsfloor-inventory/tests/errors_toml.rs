//! Every kind of problem in a TOML inventory, with its exact message, line and
//! column (golden strings: a change to any message shows up here).

use std::path::Path;

use opsfloor_inventory::{Format, Problem, parse};

/// The error for an invalid inventory, one problem per line.
fn err(text: &str) -> String {
    parse(text, Path::new("inventory.toml"), Format::Toml)
        .expect_err("the inventory is invalid")
        .to_string()
}

/// The error for a one-service inventory with this URL.
fn url_err(url: &str) -> String {
    err(&format!(
        "[[services]]\nname = \"a\"\nkind = \"ops\"\nurl = \"{url}\"\n"
    ))
}

fn lines(expected: &[&str]) -> String {
    expected.join("\n")
}

#[test]
fn unknown_kind() {
    let text = r#"[[services]]
name = "a"
kind = "ops"
url = "http://a"

[[services]]
name = "b"
kind = "ops"
url = "http://b"

[[services]]
kind = "risk"
name = "c"
url = "http://c"
"#;
    assert_eq!(
        err(text),
        "inventory.toml:12:8: services[2].kind: unknown kind \"risk\"; \
         expected one of marketdata, strategy, execution, ingest, ops, floor"
    );
}

#[test]
fn unknown_criticality_and_calendar() {
    let text = r#"[floor]
calendar = "lse"

[[services]]
name = "a"
kind = "ops"
url = "http://a"
criticality = "high"
"#;
    assert_eq!(
        err(text),
        lines(&[
            "inventory.toml:2:12: floor.calendar: unknown calendar \"lse\"; expected one of XNYS, XLON, XETR, XTKS, XHKG, XTSE, XASX, CMES, FX, XNYS extended, always-open",
            "inventory.toml:8:15: services[0].criticality: unknown criticality \"high\"; \
             expected one of critical, important, optional",
        ])
    );
}

#[test]
fn extended_sessions_need_a_venue_that_defines_them() {
    let text = r#"[[services]]
name = "tokyo"
kind = "strategy"
url = "http://t"
calendar = "XTKS"
sessions = "extended"

[[services]]
name = "b"
kind = "ops"
url = "http://b"
sessions = "overnight"
"#;
    assert_eq!(
        err(text),
        lines(&[
            "inventory.toml:6:12: services[0].sessions: the XTKS calendar defines no extended hours; only XNYS does",
            "inventory.toml:12:12: services[1].sessions: unknown sessions \"overnight\"; expected \"regular\" or \"extended\"",
        ])
    );
}

#[test]
fn extended_sessions_name_the_extended_calendar() {
    let text = r#"[[services]]
name = "us-premarket"
kind = "strategy"
url = "http://p"
sessions = "extended"

[[services]]
name = "us-regular"
kind = "strategy"
url = "http://r"
calendar = "nyse"
sessions = "regular"
"#;
    let inv = parse(text, Path::new("inventory.toml"), Format::Toml).expect("valid");
    assert_eq!(inv.services[0].calendar.as_deref(), Some("XNYS extended"));
    assert_eq!(inv.services[0].calendar_name(&inv.floor), "XNYS extended");
    assert_eq!(inv.services[1].calendar.as_deref(), Some("XNYS"));
}

#[test]
fn duplicate_name() {
    let text = r#"[[services]]
name = "gamma-strategy"
kind = "strategy"
url = "http://a"

[[services]]
name = "gamma-strategy"
kind = "strategy"
url = "http://b"
"#;
    assert_eq!(
        err(text),
        "inventory.toml:7:8: services[1].name: duplicate name \"gamma-strategy\" (first defined at line 2)"
    );
}

#[test]
fn bad_urls() {
    let at = "inventory.toml:4:7: services[0].url: ";
    let cases = [
        (
            "http://[::1",
            "invalid URL \"http://[::1\": invalid IPv6 address",
        ),
        (
            "http://host:99999",
            "invalid URL \"http://host:99999\": invalid port number",
        ),
        ("http://", "invalid URL \"http://\": empty host"),
        (
            "ftp://files.example",
            "invalid URL \"ftp://files.example\": scheme \"ftp\" is not http or https",
        ),
        (
            "file:///etc/hosts",
            "invalid URL \"file:///etc/hosts\": scheme \"file\" is not http or https",
        ),
        (
            "127.0.0.1:9100",
            "invalid URL \"127.0.0.1:9100\": no scheme; expected http:// or https://",
        ),
        (
            "http://ops:secret@host",
            "invalid URL \"http://ops:secret@host\": a base URL cannot carry a user name or password",
        ),
        (
            "http://host/?x=1",
            "invalid URL \"http://host/?x=1\": a base URL cannot have a query or a fragment",
        ),
        (" ", "must not be empty"),
    ];
    for (url, message) in cases {
        assert_eq!(url_err(url), format!("{at}{message}"), "{url}");
    }
}

#[test]
fn unknown_keys_anywhere() {
    let text = r#"title = "x"

[floor]
calender = "nyse"

[[services]]
name = "a"
kind = "ops"
url = "http://a"
critcality = "critical"
port = 80
"#;
    assert_eq!(
        err(text),
        lines(&[
            "inventory.toml:1:1: title: unknown key \"title\"; expected one of services, floor, alerts, maintenance",
            "inventory.toml:4:1: floor.calender: unknown key \"calender\"; did you mean \"calendar\"?",
            "inventory.toml:10:1: services[0].critcality: unknown key \"critcality\"; did you mean \"criticality\"?",
            "inventory.toml:11:1: services[0].port: unknown key \"port\"; expected one of name, kind, url, calendar, sessions, \
             criticality, replicas, enabled, timeout_ms, status_path, failure_threshold, expected_endpoints, aliases, \
             bearer_token_env, client_cert, client_key",
        ])
    );
}

#[test]
fn a_top_level_key_after_floor_gets_a_hint() {
    let text = "[floor]\nname = \"x\"\nservices = []\n";
    assert_eq!(
        err(text),
        lines(&[
            "inventory.toml:1:1: services: missing required field",
            "inventory.toml:3:1: floor.services: unknown key \"services\"; expected one of name, calendar, calendar_overrides, \
             poll_interval_ms, timeout_ms, max_in_flight, failure_threshold, body_limit_bytes, ca_file, client_cert, \
             client_key; \
             keys after [floor] belong to it, so put top-level keys before it",
        ])
    );
}

#[test]
fn missing_required_fields() {
    let text = r#"[[services]]
name = "a"

[[services]]
kind = "ops"
url = "http://b"
"#;
    assert_eq!(
        err(text),
        lines(&[
            "inventory.toml:1:1: services[0].kind: missing required field",
            "inventory.toml:1:1: services[0].url: missing required field",
            "inventory.toml:4:1: services[1].name: missing required field",
        ])
    );
    assert_eq!(
        err(""),
        "inventory.toml:1:1: services: missing required field"
    );
}

#[test]
fn wrong_types() {
    let text = r#"[floor]
poll_interval_ms = "5s"

[[services]]
name = 7
kind = "ops"
url = "http://a"
replicas = "two"
enabled = "yes"
timeout_ms = 1.5
expected_endpoints = "/health"

[[services]]
name = "b"
kind = "ops"
url = "http://b"
expected_endpoints = ["/health", 2]
status_path = 1979-05-27
"#;
    assert_eq!(
        err(text),
        lines(&[
            "inventory.toml:2:20: floor.poll_interval_ms: expected an integer, found a string (\"5s\")",
            "inventory.toml:5:8: services[0].name: expected a string, found an integer (7)",
            "inventory.toml:8:12: services[0].replicas: expected an integer, found a string (\"two\")",
            "inventory.toml:9:11: services[0].enabled: expected a boolean, found a string (\"yes\")",
            "inventory.toml:10:14: services[0].timeout_ms: expected an integer, found a float (1.5)",
            "inventory.toml:11:22: services[0].expected_endpoints: expected a list of strings, found a string (\"/health\")",
            "inventory.toml:17:34: services[1].expected_endpoints[1]: expected a string, found an integer (2)",
            "inventory.toml:18:15: services[1].status_path: expected a string, found a date-time (1979-05-27)",
        ])
    );
}

#[test]
fn wrong_types_of_tables() {
    assert_eq!(
        err("floor = 3\nservices = \"none\"\n"),
        lines(&[
            "inventory.toml:1:9: floor: expected a table, found an integer (3)",
            "inventory.toml:2:12: services: expected a list, found a string (\"none\")",
        ])
    );
    assert_eq!(
        err("services = [\"a\"]\n"),
        "inventory.toml:1:13: services[0]: expected a table, found a string (\"a\")"
    );
}

#[test]
fn negative_replicas() {
    let text =
        "[[services]]\nname = \"x\"\nkind = \"execution\"\nurl = \"http://x\"\nreplicas = -1\n";
    assert_eq!(
        err(text),
        "inventory.toml:5:12: services[0].replicas: must be at least 0, found -1"
    );
}

#[test]
fn zero_and_out_of_range_numbers() {
    let text = r#"[floor]
failure_threshold = 0
timeout_ms = 0
max_in_flight = -3

[[services]]
name = "a"
kind = "ops"
url = "http://a"
failure_threshold = 0
timeout_ms = 0

[[services]]
name = "b"
kind = "ops"
url = "http://b"
failure_threshold = 5_000_000_000
"#;
    assert_eq!(
        err(text),
        lines(&[
            "inventory.toml:2:21: floor.failure_threshold: must be at least 1, found 0",
            "inventory.toml:3:14: floor.timeout_ms: must be at least 1, found 0",
            "inventory.toml:4:17: floor.max_in_flight: must be at least 1, found -3",
            "inventory.toml:10:21: services[0].failure_threshold: must be at least 1, found 0",
            "inventory.toml:11:14: services[0].timeout_ms: must be at least 1, found 0",
            "inventory.toml:17:21: services[1].failure_threshold: must be at most 4294967295, found 5000000000",
        ])
    );
}

#[test]
fn empty_names_and_bad_status_paths() {
    let text = r#"[floor]
name = ""

[[services]]
name = "  "
kind = "ops"
url = "http://a"
status_path = "ops/status"
"#;
    assert_eq!(
        err(text),
        lines(&[
            "inventory.toml:2:8: floor.name: must not be empty",
            "inventory.toml:5:8: services[0].name: must not be empty",
            "inventory.toml:8:15: services[0].status_path: must start with \"/\", found \"ops/status\"",
        ])
    );
}

#[test]
fn malformed_toml() {
    assert_eq!(
        err("[[services]]\nname = \"a\nkind = \"ops\"\n"),
        "inventory.toml:2:10: invalid TOML: invalid basic string, expected `\"`"
    );
    assert_eq!(
        err("[[services]]\nname = \"a\"\nname = \"b\"\n"),
        "inventory.toml:3:1: invalid TOML: duplicate key \"name\""
    );
    assert_eq!(
        err("[floor\n"),
        "inventory.toml:1:7: invalid TOML: unclosed table, expected `]`"
    );
    // Recovery: every syntax error is reported, not only the first.
    assert_eq!(
        err("a = = 1\n[[services]]\nname = \"a\"\nb = \n"),
        lines(&[
            "inventory.toml:1:5: invalid TOML: extra `=`, expected nothing",
            "inventory.toml:1:7: invalid TOML: unexpected key or value, expected newline, `#`",
            "inventory.toml:4:5: invalid TOML: string values must be quoted, expected literal string",
        ])
    );
}

#[test]
fn all_problems_are_collected_with_their_parts() {
    let text = r#"[[services]]
name = "a"
kind = "risk"
url = "ftp://a"

[[services]]
name = "a"
kind = "ops"
url = "http://a"
"#;
    let e = parse(text, Path::new("dir/inventory.toml"), Format::Toml).expect_err("invalid");
    let problem = |line, column, field: &str, message: &str| Problem {
        file: "dir/inventory.toml".into(),
        line,
        column: Some(column),
        field: field.into(),
        message: message.into(),
    };
    assert_eq!(
        e.problems,
        [
            problem(
                3,
                8,
                "services[0].kind",
                "unknown kind \"risk\"; expected one of marketdata, strategy, execution, ingest, ops, floor"
            ),
            problem(
                4,
                7,
                "services[0].url",
                "invalid URL \"ftp://a\": scheme \"ftp\" is not http or https"
            ),
            problem(
                7,
                8,
                "services[1].name",
                "duplicate name \"a\" (first defined at line 2)"
            ),
        ]
    );
}
