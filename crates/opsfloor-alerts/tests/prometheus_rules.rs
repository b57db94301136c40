//! The generated Prometheus rules: a golden file, Debian's real `promtool check
//! rules`, and `promtool test rules` evaluating them on synthetic series (the
//! floor-not-OK rule fires on a halted floor, never on a closed market).

use std::path::{Path, PathBuf};
use std::process::Command;

use opsfloor_alerts::{RulesOptions, prometheus_rules};

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/rules.yml")
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

fn run(args: &[&str], dir: &Path) -> String {
    let out = Command::new(promtool())
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run promtool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?} failed:\n{text}");
    text
}

#[test]
fn the_rules_match_the_golden_file() {
    let rules = prometheus_rules(&RulesOptions::default());
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(golden(), &rules).expect("write golden");
    }
    let expected =
        std::fs::read_to_string(golden()).expect("read golden (UPDATE_GOLDEN=1 writes it)");
    assert_eq!(
        rules, expected,
        "rules changed: rerun with UPDATE_GOLDEN=1 and review the diff"
    );
}

#[test]
fn promtool_checks_the_rules() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("rules.yml"),
        prometheus_rules(&RulesOptions::default()),
    )
    .expect("write");
    let text = run(&["check", "rules", "rules.yml"], dir.path());
    assert!(text.contains("SUCCESS: 8 rules found"), "{text}");
}

const UNIT_TESTS: &str = r#"
rule_files:
  - rules.yml
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'opsfloor_floor_state{job="opsfloor", instance="floor:8080", state="HALTED"}'
        values: '1x10'
      - series: 'opsfloor_floor_state{job="opsfloor", instance="floor:8080", state="OK"}'
        values: '0x10'
      - series: 'opsfloor_floor_state{job="opsfloor", instance="closed:8080", state="MARKET_CLOSED"}'
        values: '1x10'
      - series: 'up{job="opsfloor", instance="floor:8080"}'
        values: '1 1 0 0 0 0'
      # Every poll starts between 1.024 s and 2.048 s late: p99 lag is over 1 s.
      - series: 'opsfloor_poll_lag_seconds_bucket{job="opsfloor", instance="floor:8080", le="1.024"}'
        values: '0x20'
      - series: 'opsfloor_poll_lag_seconds_bucket{job="opsfloor", instance="floor:8080", le="2.048"}'
        values: '0+60x20'
      - series: 'opsfloor_poll_lag_seconds_bucket{job="opsfloor", instance="floor:8080", le="+Inf"}'
        values: '0+60x20'
    alert_rule_test:
      - eval_time: 1m
        alertname: OpsfloorFloorNotOk
        exp_alerts: []
      - eval_time: 3m
        alertname: OpsfloorFloorNotOk
        exp_alerts:
          - exp_labels:
              severity: page
              job: opsfloor
              instance: "floor:8080"
              state: HALTED
            exp_annotations:
              summary: "The trading floor at floor:8080 has been HALTED for 2m"
              description: "Open the floor's dashboard: the floor's reason codes and the services that decided its state are there."
      - eval_time: 8m
        alertname: OpsfloorPollLagHigh
        exp_alerts: []
      - eval_time: 16m
        alertname: OpsfloorPollLagHigh
        exp_alerts:
          - exp_labels:
              severity: ticket
              job: opsfloor
              instance: "floor:8080"
            exp_annotations:
              summary: "Polls at floor:8080 start 2.038s late (p99), over the 1 s budget"
              description: "The floor cannot keep its poll schedule: states shown are older than the poll interval says. Check the floor's CPU and its max_in_flight against the number of services."
      - eval_time: 5m
        alertname: OpsfloorDown
        exp_alerts:
          - exp_labels:
              severity: page
              job: opsfloor
              instance: "floor:8080"
            exp_annotations:
              summary: "Prometheus cannot scrape the opsfloor floor at floor:8080"
              description: "Nobody is watching the floor: check that opsfloor serve runs and that its /metrics answers."
"#;

#[test]
fn promtool_evaluates_the_rules_on_a_halted_floor_and_a_closed_market() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("rules.yml"),
        prometheus_rules(&RulesOptions::default()),
    )
    .expect("write");
    std::fs::write(dir.path().join("tests.yml"), UNIT_TESTS).expect("write");
    let text = run(&["test", "rules", "tests.yml"], dir.path());
    assert!(text.contains("SUCCESS"), "{text}");
}
