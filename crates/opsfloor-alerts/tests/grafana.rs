//! The generated Grafana dashboard: a golden file, the dashboard model's required
//! fields, every query parsed by Debian's real promtool, and the state-code query
//! evaluated by `promtool test rules` on synthetic series.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use opsfloor_alerts::grafana::state_code_expr;
use opsfloor_alerts::{DashboardOptions, grafana_dashboard, grafana_dashboard_json};
use serde_json::Value;

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/grafana.json")
}

fn promtool(args: &[&str], dir: &Path) -> String {
    let bin = std::env::var_os("OPSFLOOR_PROMTOOL").unwrap_or_else(|| "/usr/bin/promtool".into());
    let out = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("promtool (Debian's prometheus package; run ./scripts/test)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?} failed:\n{text}");
    text
}

fn exprs(dashboard: &Value) -> Vec<String> {
    dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| t["expr"].as_str().expect("expr").to_owned())
        .collect()
}

#[test]
fn the_dashboard_matches_the_golden_file() {
    let text = grafana_dashboard_json(&DashboardOptions::default());
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(golden(), &text).expect("write golden");
    }
    let expected = std::fs::read_to_string(golden()).expect("golden (UPDATE_GOLDEN=1 writes it)");
    assert_eq!(
        text, expected,
        "dashboard changed: rerun with UPDATE_GOLDEN=1 and review"
    );
}

#[test]
fn the_dashboard_has_the_model_fields_grafana_requires() {
    let d = grafana_dashboard(&DashboardOptions::default());
    for field in [
        "uid",
        "title",
        "schemaVersion",
        "panels",
        "templating",
        "time",
    ] {
        assert!(!d[field].is_null(), "missing {field}");
    }
    assert!(d["schemaVersion"].as_u64().is_some_and(|v| v >= 36));
    let panels = d["panels"].as_array().expect("panels");
    let mut ids = BTreeSet::new();
    let mut cells = BTreeSet::new();
    let titles: Vec<&str> = panels
        .iter()
        .map(|p| p["title"].as_str().expect("title"))
        .collect();
    assert_eq!(
        titles,
        [
            "Floor state",
            "Service states",
            "Poll latency",
            "Poll lag (how late polls start)",
            "Poll failures"
        ]
    );
    for p in panels {
        assert!(ids.insert(p["id"].as_u64().expect("id")), "duplicate id");
        assert!(["state-timeline", "timeseries"].contains(&p["type"].as_str().expect("type")));
        assert_eq!(p["datasource"]["uid"], "${datasource}");
        let g = &p["gridPos"];
        let (x, y, w, h) = (
            g["x"].as_u64().expect("x"),
            g["y"].as_u64().expect("y"),
            g["w"].as_u64().expect("w"),
            g["h"].as_u64().expect("h"),
        );
        assert!(w > 0 && h > 0 && x + w <= 24, "grid {g}");
        for cx in x..x + w {
            for cy in y..y + h {
                assert!(cells.insert((cx, cy)), "panels overlap at {cx},{cy}");
            }
        }
        let targets = p["targets"].as_array().expect("targets");
        assert!(!targets.is_empty());
        let refs: BTreeSet<&str> = targets
            .iter()
            .map(|t| t["refId"].as_str().expect("refId"))
            .collect();
        assert_eq!(refs.len(), targets.len(), "refIds are unique in a panel");
    }
    let var = &d["templating"]["list"][0];
    assert_eq!(
        (var["name"].as_str(), var["type"].as_str()),
        (Some("datasource"), Some("datasource"))
    );
}

#[test]
fn promtool_parses_every_query() {
    // promtool has no query checker, but it parses every rule's expression.
    let d = grafana_dashboard(&DashboardOptions::default());
    let mut rules = String::from("groups:\n  - name: dashboard-queries\n    rules:\n");
    for (i, expr) in exprs(&d).iter().enumerate() {
        rules.push_str(&format!(
            "      - record: dashboard:query_{i}\n        expr: {}\n",
            serde_json::to_string(expr).expect("quote")
        ));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("queries.yml"), rules).expect("write");
    let text = promtool(&["check", "rules", "queries.yml"], dir.path());
    assert!(
        text.contains(&format!("SUCCESS: {} rules found", exprs(&d).len())),
        "{text}"
    );
}

/// Input series for `promtool test rules`: the services carry only their current
/// state's series (as the server writes them); the floor is fully one-hot.
fn state_series() -> String {
    let mut series = String::new();
    for (service, current) in [("md-feed", "OK"), ("whale", "HALTED"), ("exec", "OFFLINE")] {
        series.push_str(&format!(
            "      - series: 'opsfloor_service_state{{job=\"opsfloor\", service=\"{service}\", state=\"{current}\"}}'\n        values: '1x5'\n"
        ));
    }
    for state in [
        "OK",
        "DEGRADED",
        "HALTED",
        "MARKET_CLOSED",
        "OFFLINE",
        "UNKNOWN",
    ] {
        let value = if state == "HALTED" { 1 } else { 0 };
        series.push_str(&format!(
            "      - series: 'opsfloor_floor_state{{job=\"opsfloor\", instance=\"floor:8080\", state=\"{state}\"}}'\n        values: '{value}x5'\n"
        ));
    }
    series
}

#[test]
fn the_state_code_queries_give_each_row_its_state_number() {
    let services = state_code_expr("opsfloor_service_state", "opsfloor", "service");
    let floor = state_code_expr("opsfloor_floor_state", "opsfloor", "instance");
    let sample = |labels: &str, value: u32| {
        format!("          - labels: '{labels}'\n            value: {value}\n")
    };
    let mut tests = String::from("rule_files: []\ntests:\n  - interval: 1m\n    input_series:\n");
    tests.push_str(&state_series());
    tests.push_str("    promql_expr_test:\n");
    tests.push_str(&format!(
        "      - expr: {}\n        eval_time: 2m\n        exp_samples:\n",
        serde_json::to_string(&services).expect("quote")
    ));
    tests.push_str(&sample("{service=\"exec\"}", 5));
    tests.push_str(&sample("{service=\"md-feed\"}", 1));
    tests.push_str(&sample("{service=\"whale\"}", 3));
    tests.push_str(&format!(
        "      - expr: {}\n        eval_time: 2m\n        exp_samples:\n",
        serde_json::to_string(&floor).expect("quote")
    ));
    tests.push_str(&sample("{instance=\"floor:8080\"}", 3));
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("tests.yml"), tests).expect("write");
    let text = promtool(&["test", "rules", "tests.yml"], dir.path());
    assert!(text.contains("SUCCESS"), "{text}");
}
