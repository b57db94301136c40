//! The JSON Schema (draft 2020-12) of the document, generated from the types.
//!
//! The committed copy lives at `schema/ops-status.schema.json`; a test fails when
//! it differs from what [`document_schema_json`] produces.

use crate::document::Document;

/// The document's JSON Schema as a value.
pub fn document_schema() -> serde_json::Value {
    let mut schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<Document>();
    schema.insert(
        "$id".into(),
        "https://opsfloor.dev/schema/ops-status.schema.json".into(),
    );
    schema.to_value()
}

/// The schema as pretty-printed JSON with a trailing newline, exactly as committed.
pub fn document_schema_json() -> String {
    let mut text = serde_json::to_string_pretty(&document_schema()).unwrap_or_default();
    text.push('\n');
    text
}
