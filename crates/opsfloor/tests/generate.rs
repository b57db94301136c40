//! `opsfloor rules`, `opsfloor grafana`, and `[alerts]` errors at `opsfloor serve`,
//! run as a user runs them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn opsfloor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_opsfloor"))
        .args(args)
        .output()
        .expect("run opsfloor")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("utf8")
}

/// The alerts crate's golden files are the one record of the generated output.
fn alerts_golden(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../opsfloor-alerts/tests/golden")
        .join(name);
    std::fs::read_to_string(&path).expect("read the alerts crate's golden file")
}

fn promtool() -> PathBuf {
    let path = std::env::var_os("OPSFLOOR_PROMTOOL")
        .map_or_else(|| PathBuf::from("/usr/bin/promtool"), PathBuf::from);
    assert!(
        path.is_file(),
        "promtool is not installed ({}): run ./scripts/test, which installs Debian's prometheus package",
        path.display()
    );
    path
}

#[test]
fn rules_prints_the_golden_rules_and_promtool_accepts_them() {
    let o = opsfloor(&["rules"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let rules = text(&o.stdout);
    assert_eq!(rules, alerts_golden("rules.yml"));

    let dir = tempfile::tempdir().expect("tmp");
    let o = opsfloor(&["rules", "--job", "floor-a", "--latency-budget", "0.25"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let tuned = text(&o.stdout);
    // The expressions are YAML double-quoted scalars: `job=\"floor-a\"`.
    assert!(tuned.contains(r#"job=\"floor-a\""#), "{tuned}");
    assert!(!tuned.contains(r#"job=\"opsfloor\""#), "{tuned}");
    assert!(tuned.contains("0.25"), "{tuned}");
    let file = dir.path().join("rules.yml");
    std::fs::write(&file, &tuned).expect("write");
    let check = Command::new(promtool())
        .args(["check", "rules"])
        .arg(&file)
        .output()
        .expect("run promtool");
    assert!(
        check.status.success(),
        "promtool check rules:\n{}{}",
        text(&check.stdout),
        text(&check.stderr)
    );
}

#[test]
fn grafana_prints_the_golden_dashboard() {
    let o = opsfloor(&["grafana"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), alerts_golden("grafana.json"));
    let o = opsfloor(&["grafana", "--title", "Floor A", "--uid", "floor-a"]);
    let dashboard: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(dashboard["title"], "Floor A");
    assert_eq!(dashboard["uid"], "floor-a");
}

#[test]
fn a_bad_budget_is_a_usage_error() {
    let o = opsfloor(&["rules", "--lag-budget", "0"]);
    assert_eq!(o.status.code(), Some(64));
    assert!(text(&o.stderr).contains("--lag-budget: 0 is not a positive number"));
}

#[test]
fn serve_names_the_file_line_and_field_of_a_bad_alerts_table() {
    let dir = tempfile::tempdir().expect("tmp");
    let inventory = dir.path().join("inv.toml");
    std::fs::write(
        &inventory,
        "[[services]]\nname = \"gamma-strategy\"\nkind = \"strategy\"\nurl = \"http://127.0.0.1:9\"\n\n\
         [alerts]\nresend_interval = \"soon\"\n\n[[alerts.webhook]]\nurl = \"http://127.0.0.1:9/hook\"\nsecret_env = \"OPSFLOOR_TEST_UNSET_SECRET\"\n",
    )
    .expect("write");
    let path = inventory.to_str().expect("utf8 path");
    let o = opsfloor(&[
        "serve",
        "--config",
        path,
        "--no-history",
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(o.status.code(), Some(78), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains(&format!(
            "{path}:6: alerts.resend_interval: \"soon\" is not a duration"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{path}:6: alerts.webhook[0].secret_env: environment variable OPSFLOOR_TEST_UNSET_SECRET is not set"
        )),
        "{err}"
    );
}

#[test]
fn serve_names_the_field_of_a_bad_maintenance_window() {
    let dir = tempfile::tempdir().expect("tmp");
    let inventory = dir.path().join("inv.toml");
    std::fs::write(
        &inventory,
        "[[services]]\nname = \"gamma-strategy\"\nkind = \"strategy\"\nurl = \"http://127.0.0.1:9\"\n\n\
         [[maintenance]]\nfloor = true\nstart = \"2026-01-10T14:00:00Z\"\nend = \"tomorrow\"\n",
    )
    .expect("write");
    let path = inventory.to_str().expect("utf8 path");
    let o = opsfloor(&[
        "serve",
        "--config",
        path,
        "--no-history",
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(o.status.code(), Some(78), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains(&format!("{path}:6: maintenance[0].end: ")),
        "{err}"
    );
}
