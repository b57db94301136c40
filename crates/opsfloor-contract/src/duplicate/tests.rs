//! The duplicate watch changes nothing for documents without duplicates.

use proptest::prelude::*;
use serde_json::Value;

use crate::check::{Received, check_value, empty_names, parse_document};

/// `parse_document` as it was before duplicates were watched (malformed JSON as
/// `None`): the typed parse, else the field table over a `Value`.
fn parse_document_before(text: &str) -> Option<Received> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut de = serde_json::Deserializer::from_str(text);
    let typed = crate::document::map_only::required(&mut de)
        .and_then(|d: crate::document::Document| de.end().map(|()| d));
    match typed {
        Ok(document) => {
            let problems = empty_names(&document);
            Some(Received {
                document: Some(document),
                problems,
            })
        }
        Err(_) => serde_json::from_str::<Value>(text)
            .ok()
            .map(|v| check_value(&v)),
    }
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::from),
        "[A-Za-z_ :.0-9-]{0,12}".prop_map(Value::String),
        Just(Value::String("HALTED".into())),
        Just(Value::String("2026-01-07T12:00:00.123456789123Z".into())),
        Just(serde_json::json!(["KILL_SWITCH", 1])),
        Just(serde_json::json!({"a": [1, {"b": null}]})),
        Just(serde_json::json!([])),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Without duplicate keys (a `Value` cannot hold any), the answer is the
    /// one the parser gave before the watch existed, field for field.
    #[test]
    fn without_duplicates_the_answer_is_as_before(
        edits in prop::collection::vec((
            prop::sample::select(vec!["", "/status", "/safety", "/heartbeat", "/marketdata", "/agent_identity"]),
            prop::sample::select(vec!["service_name", "service_kind", "status", "state", "kill_switch",
                "reason_codes", "last_updated_utc", "age_seconds", "marketdata", "x_new", "agent_name"]),
            prop::option::of(leaf()),
        ), 0..5),
        pretty in any::<bool>(),
    ) {
        let mut doc: Value = serde_json::from_str(include_str!("../../tests/data/seed-example.json")).expect("seed");
        for (place, field, value) in edits {
            if let Some(object) = doc.pointer_mut(place).and_then(Value::as_object_mut) {
                match value {
                    Some(v) => { object.insert(field.to_owned(), v); }
                    None => { object.remove(field); }
                }
            }
        }
        let text = if pretty { serde_json::to_string_pretty(&doc).expect("json") } else { doc.to_string() };
        let now = parse_document(&text).ok();
        prop_assert_eq!(now, parse_document_before(&text), "{}", text);
    }
}
