//! Duplicate keys in received documents: a problem named by JSON pointer, at any
//! depth, and nothing else changes for documents without duplicates.

use opsfloor_contract::check::check_value;
use opsfloor_contract::{ProblemKind, ReasonCode, State, parse_document};
use proptest::prelude::*;
use serde_json::Value;

const SEED: &str = include_str!("data/seed-example.json");

fn duplicates(text: &str) -> Vec<String> {
    let received = parse_document(text).expect("JSON");
    received
        .problems
        .iter()
        .filter(|p| p.kind == ProblemKind::Duplicate)
        .map(|p| p.pointer.clone())
        .collect()
}

#[test]
fn two_status_objects_make_the_document_invalid() {
    let text = SEED.replacen(
        "\"status\": {",
        "\"status\": {\"state\": \"HALTED\", \"reason_codes\": [\"KILL_SWITCH\"]},\n  \"status\": {",
        1,
    );
    let received = parse_document(&text).expect("JSON");
    assert!(!received.is_valid());
    assert!(
        received.document.is_none(),
        "a duplicated document is not trusted"
    );
    assert_eq!(received.problems.len(), 1, "{:?}", received.problems);
    assert_eq!(
        received.problems[0].to_string(),
        "/status: duplicate key; the object names it more than once, so neither value can be trusted"
    );
    assert_eq!(
        received.reported(),
        (State::Unknown, vec![ReasonCode::RequiredFieldsMissing])
    );
}

#[test]
fn duplicates_are_found_at_any_depth_and_in_unknown_fields() {
    // A known nested field, twice.
    let nested = SEED.replacen(
        "\"kill_switch\": false",
        "\"kill_switch\": true, \"kill_switch\": false",
        1,
    );
    assert_eq!(duplicates(&nested), ["/safety/kill_switch"]);
    // Inside an unknown field the typed path ignores, inside an array.
    let unknown = SEED.replacen(
        '{',
        "{\"x_new\": [1, {\"a\": 1, \"b\": {\"c\": 0, \"c\": 1}}],",
        1,
    );
    assert_eq!(duplicates(&unknown), ["/x_new/1/b/c"]);
    // An unknown top-level key twice.
    let top = SEED.replacen('{', "{\"x\": 1, \"x\": 2,", 1);
    assert_eq!(duplicates(&top), ["/x"]);
}

#[test]
fn every_duplicate_is_listed_with_escaped_pointers() {
    let text = SEED.replacen(
        '{',
        "{\"a/b\": 1, \"a/b\": 2, \"a/b\": 3, \"t~\": {\"\\u0041\": 1, \"A\": 2},",
        1,
    );
    // A key written with an escape is the same key: `\u0041` is `A`.
    assert_eq!(duplicates(&text), ["/a~1b", "/a~1b", "/t~0/A"]);
}

#[test]
fn duplicates_come_first_then_the_other_problems() {
    let text = SEED
        .replacen(
            "\"service_kind\": \"marketdata\"",
            "\"service_kind\": \"risk\"",
            1,
        )
        .replacen('{', "{\"repo_id\": \"a\",", 1);
    let received = parse_document(&text).expect("JSON");
    let pointers: Vec<&str> = received
        .problems
        .iter()
        .map(|p| p.pointer.as_str())
        .collect();
    assert_eq!(pointers, ["/repo_id", "/service_kind"]);
}

#[test]
fn deep_unknown_fields_parse_without_overflowing_the_stack() {
    let deep = |n: usize| {
        let nested = format!("{}0{}", "[{\"k\":".repeat(n), "}]".repeat(n));
        SEED.replacen('{', &format!("{{\"x_deep\": {nested},"), 1)
    };
    // serde_json's recursion limit (128) still holds through the wrapper.
    let ok = parse_document(&deep(60)).expect("JSON");
    assert!(ok.is_valid(), "{:?}", ok.problems);
    assert!(parse_document(&deep(200)).is_err());
}

#[test]
fn big_objects_are_checked_by_hash_set_with_the_same_answers() {
    // Keys 0..5000, then k3 and k4000 again: found on both sides of the switch
    // from a linear scan to a hash set (after 32 keys).
    let mut keys: Vec<String> = (0..5000).map(|i| format!("\"k{i}\": {i}")).collect();
    keys.insert(20, "\"k3\": 0".to_owned());
    keys.push("\"k4000\": 0".to_owned());
    keys.push("\"k3\": 1".to_owned());
    let text = SEED.replacen('{', &format!("{{\"x_big\": {{{}}},", keys.join(",")), 1);
    assert_eq!(
        duplicates(&text),
        ["/x_big/k3", "/x_big/k4000", "/x_big/k3"]
    );
}

#[test]
fn malformed_json_is_still_malformed() {
    assert!(parse_document("{\"a\": 1, \"a\": }").is_err());
}

/// Any JSON value, up to a small depth. `serde_json::Value` objects cannot hold a
/// key twice, so these never contain duplicates.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e9f64..1e9).prop_map(Value::from),
        ".{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(".{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The seed with up to three fields replaced and one unknown field added.
fn document() -> impl Strategy<Value = Value> {
    let seed: Value = serde_json::from_str(SEED).expect("seed");
    let places = prop::sample::select(vec![
        "",
        "/status",
        "/safety",
        "/heartbeat",
        "/agent_identity",
    ]);
    let fields = prop::sample::select(vec![
        "service_name",
        "status",
        "state",
        "kill_switch",
        "reason_codes",
        "x_unknown",
        "age_seconds",
    ]);
    prop::collection::vec((places, fields, any_json()), 0..4).prop_map(move |edits| {
        let mut doc = seed.clone();
        for (place, field, value) in edits {
            if let Some(object) = doc.pointer_mut(place).and_then(Value::as_object_mut) {
                object.insert(field.to_owned(), value);
            }
        }
        doc
    })
}

/// Writes `value` as JSON, repeating the key `dup` in the object at `target` (if
/// that object has it), with `extra` as the repeated value.
fn write_with_duplicate(
    value: &Value,
    at: &str,
    target: &str,
    dup: &str,
    extra: &Value,
    out: &mut String,
) {
    match value {
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).expect("key"));
                out.push(':');
                let child = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                write_with_duplicate(v, &child, target, dup, extra, out);
            }
            if at == target && map.contains_key(dup) {
                out.push_str(if map.is_empty() { "" } else { "," });
                out.push_str(&serde_json::to_string(dup).expect("key"));
                out.push(':');
                out.push_str(&extra.to_string());
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_with_duplicate(v, &format!("{at}/{i}"), target, dup, extra, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Without duplicates, parsing is what it was before duplicates were watched:
    /// the typed path and the field table give the same answer as checking the
    /// `serde_json::Value` (where a key can occur only once).
    #[test]
    fn without_duplicates_nothing_changes(doc in document()) {
        let text = doc.to_string();
        let received = parse_document(&text).expect("JSON");
        prop_assert!(received.problems.iter().all(|p| p.kind != ProblemKind::Duplicate));
        prop_assert_eq!(&received, &check_value(&doc), "{}", text);
        let pretty = serde_json::to_string_pretty(&doc).expect("pretty");
        prop_assert_eq!(&parse_document(&pretty).expect("JSON"), &received);
    }

    /// A key repeated in any object of the document is reported at its pointer,
    /// and the document is never valid.
    #[test]
    fn a_repeated_key_is_always_found(doc in document(), pick in any::<prop::sample::Index>(), extra in any_json()) {
        // Every (object pointer, key) pair in the document.
        let mut pairs = Vec::new();
        let mut stack = vec![(String::new(), &doc)];
        while let Some((at, v)) = stack.pop() {
            match v {
                Value::Object(map) => for (k, child) in map {
                    let pointer = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                    pairs.push((at.clone(), k.clone(), pointer.clone()));
                    stack.push((pointer, child));
                },
                Value::Array(items) => for (i, child) in items.iter().enumerate() {
                    stack.push((format!("{at}/{i}"), child));
                },
                _ => {}
            }
        }
        let (object, key, pointer) = pick.get(&pairs).clone();
        let mut text = String::new();
        write_with_duplicate(&doc, "", &object, &key, &extra, &mut text);
        let received = parse_document(&text).expect("JSON");
        prop_assert!(!received.is_valid());
        prop_assert!(received.document.is_none());
        prop_assert_eq!(duplicates(&text), vec![pointer]);
    }
}
