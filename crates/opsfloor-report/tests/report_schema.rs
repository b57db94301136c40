//! The committed report schema must be what the types generate.
//! Refresh: `cargo run -p opsfloor -- schema --report > schema/report.schema.json`
//! (or run this test with `UPDATE_SCHEMA=1`).

use opsfloor_report::Report;

#[test]
fn committed_report_schema_is_up_to_date() {
    let path = format!(
        "{}/../../schema/report.schema.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let generated = Report::schema_json();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).expect("write schema");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schema/report.schema.json is out of date: run `cargo run -p opsfloor -- schema --report > schema/report.schema.json`"
    );
    let schema: serde_json::Value = serde_json::from_str(&generated).expect("JSON");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
}
