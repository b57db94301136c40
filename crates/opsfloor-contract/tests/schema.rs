//! The committed JSON Schema must be what the types generate.
//!
//! To refresh it after changing the types:
//! `cargo run -p opsfloor -- schema > schema/ops-status.schema.json`
//! (or run this test with `UPDATE_SCHEMA=1`).

use opsfloor_contract::schema::{document_schema, document_schema_json};

#[test]
fn committed_schema_is_up_to_date() {
    let path = format!(
        "{}/../../schema/ops-status.schema.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let generated = document_schema_json();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).expect("write schema");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schema/ops-status.schema.json is out of date: run `cargo run -p opsfloor -- schema > schema/ops-status.schema.json`"
    );
}

#[test]
fn schema_is_draft_2020_12_and_requires_the_contract_fields() {
    let schema = document_schema();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let required: Vec<&str> = schema["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    for field in [
        "service_name",
        "service_kind",
        "repo_id",
        "agent_identity",
        "status",
        "heartbeat",
        "safety",
    ] {
        assert!(
            required.contains(&field),
            "{field} missing from {required:?}"
        );
    }
    for optional in ["git_sha", "build_id", "marketdata", "endpoints"] {
        assert!(
            !required.contains(&optional),
            "{optional} should be optional"
        );
    }
}
