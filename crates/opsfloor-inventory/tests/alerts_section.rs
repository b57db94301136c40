//! The `[alerts]` section: allowed at the top level in both formats, kept raw (as
//! TOML text) for `opsfloor-alerts`, and refused when it is not a table.

use std::path::Path;

use opsfloor_inventory::{Format, parse};

const SERVICE_TOML: &str = "[[services]]\nname = \"gamma-strategy\"\nkind = \"strategy\"\nurl = \"http://127.0.0.1:9101\"\n";

#[test]
fn a_toml_alerts_table_is_kept_with_its_line() {
    let text = format!(
        "{SERVICE_TOML}\n[alerts]\nresend_interval = \"30s\"\n\n[[alerts.alertmanager]]\nurl = \"http://127.0.0.1:9093\"\n"
    );
    let inv = parse(&text, Path::new("inv.toml"), Format::Toml).expect("valid");
    let section = inv.alerts.expect("kept");
    assert_eq!(section.line, 6);
    let table: toml::Table = section.toml.parse().expect("the section is TOML");
    assert_eq!(table["resend_interval"].as_str(), Some("30s"));
    assert_eq!(
        table["alertmanager"][0]["url"].as_str(),
        Some("http://127.0.0.1:9093")
    );
}

#[test]
fn a_yaml_alerts_mapping_becomes_the_same_toml() {
    let text = "agents:\n  - agent_name: gamma-strategy\n    kind: strategy\n    service_dns: 127.0.0.1:9101\nalerts:\n  page_only_when_market_open: false\n  resend_interval: null\n  alertmanager:\n    - url: http://127.0.0.1:9093\n";
    let inv = parse(text, Path::new("inv.yaml"), Format::Yaml).expect("valid");
    let section = inv.alerts.expect("kept");
    assert_eq!(section.line, 6);
    let table: toml::Table = section.toml.parse().expect("the section is TOML");
    assert_eq!(table["page_only_when_market_open"].as_bool(), Some(false));
    assert!(!table.contains_key("resend_interval"), "nulls are left out");
    assert_eq!(
        table["alertmanager"][0]["url"].as_str(),
        Some("http://127.0.0.1:9093")
    );
}

#[test]
fn no_alerts_section_means_none_and_a_scalar_is_an_error() {
    let inv = parse(SERVICE_TOML, Path::new("inv.toml"), Format::Toml).expect("valid");
    assert_eq!(inv.alerts, None);
    let text = format!("alerts = 3\n{SERVICE_TOML}");
    let err = parse(&text, Path::new("inv.toml"), Format::Toml).expect_err("a scalar");
    assert_eq!(
        err.to_string(),
        "inv.toml:1:10: alerts: expected a table, found an integer (3)"
    );
}

#[test]
fn maintenance_windows_are_kept_as_a_whole_document() {
    let text = format!(
        "{SERVICE_TOML}\n[[maintenance]]\nservices = [\"gamma-strategy\"]\nstart = 2026-01-10T14:00:00Z\nend = \"2026-01-10T16:00:00Z\"\n"
    );
    let inv = parse(&text, Path::new("inv.toml"), Format::Toml).expect("valid");
    let section = inv.maintenance.expect("kept");
    let doc: toml::Table = section.toml.parse().expect("TOML");
    let first = &doc["maintenance"][0];
    assert_eq!(
        first["start"].as_str(),
        Some("2026-01-10T14:00:00Z"),
        "dates as text"
    );
    assert_eq!(first["services"][0].as_str(), Some("gamma-strategy"));
    let err = parse(
        &format!("maintenance = 1\n{SERVICE_TOML}"),
        Path::new("inv.toml"),
        Format::Toml,
    )
    .expect_err("not a list");
    assert!(
        err.to_string()
            .contains("maintenance: expected a list of tables"),
        "{err}"
    );
}
