//! The proptest twin of every fuzz target, run on stable in CI: arbitrary bytes,
//! and near-valid inputs made from the committed corpus (hostile tokens spliced
//! into text seeds; JSON seeds with leaves replaced by hostile values). None may
//! panic. `PROPTEST_CASES` sets the number of cases (256 by default); SECURITY.md
//! records the long runs.

use std::path::PathBuf;

use opsfloor_fuzzing as fuzz;
use proptest::prelude::*;
use serde_json::{Value, json};

/// Text that parsers mishandle: multibyte and control characters, escapes,
/// huge and negative numbers, odd timestamps, structure openers and closers.
const TOKENS: [&str; 40] = [
    "\u{feff}",
    "é",
    "\u{202e}",
    "\u{1b}[2J",
    "\0",
    "\r\n",
    "\n",
    "\t",
    "\"",
    "'",
    "\\",
    "\\u",
    "\\ud800",
    "%",
    "%C3",
    "%ff",
    "&",
    "=",
    ",",
    "{",
    "}",
    "[",
    "]",
    "[[",
    "]]",
    "#",
    ":",
    "&a ",
    "*a",
    "---",
    "- ",
    "-1",
    "0",
    "99999999999999999999999",
    "1e400",
    "-0",
    "2026-13-45T25:61:61.1234567890123Z",
    "9999-12-31T23:59:59Z",
    "window=",
    "limit=",
];

/// Hostile JSON values for leaves of JSON seeds.
fn hostile_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(-1),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(1e308),
        json!(-0.0),
        json!(""),
        json!("\u{1b}[2J\u{7}\0"),
        json!("é\u{202e}"),
        json!("2026-01-07T12:00:00.99999999999999999Z"),
        json!("-009999-01-01T00:00:00Z"),
        json!("9999-12-31T23:59:59Z"),
        json!("OFFLINE"),
        json!("UNKNOWN"),
        json!("execution"),
        json!(
            "[floor]\ncalendar = \"XNYS\"\n[[services]]\nname = \"x\"\nkind = \"execution\"\nurl = \"http://h\"\n"
        ),
        json!(true),
        json!([]),
        json!({}),
        json!([["Authorization", "Bearer a.b.c"]]),
        json!({"name": "API_KEY", "value": {"nested": [1, 2]}}),
    ]
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus")).join(target);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("entry").path())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read(p).expect("seed"))
        .collect()
}

/// One edit of a text seed: at a position (taken modulo the length), insert a
/// token, delete a few bytes, or cut the rest.
#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, usize),
    Delete(usize, usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<usize>(), 0..TOKENS.len()).prop_map(|(at, t)| Edit::Insert(at, t)),
        2 => (any::<usize>(), 1usize..8).prop_map(|(at, n)| Edit::Delete(at, n)),
        1 => any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = bytes.len() + 1;
        match *e {
            Edit::Insert(at, t) => {
                let at = at % len;
                bytes.splice(at..at, TOKENS[t].bytes());
            }
            Edit::Delete(at, n) => {
                let at = at % len;
                let end = (at + n).min(bytes.len());
                if at < end {
                    bytes.drain(at..end);
                }
            }
            Edit::Truncate(at) => bytes.truncate(at % len),
        }
    }
    bytes
}

/// Replaces the `k`-th (modulo their number) leaf or container of `value`.
fn replace_nth(value: &mut Value, k: &mut usize, with: &Value) -> bool {
    if *k == 0 {
        *value = with.clone();
        return true;
    }
    *k -= 1;
    match value {
        Value::Array(items) => items.iter_mut().any(|v| replace_nth(v, k, with)),
        Value::Object(map) => map.values_mut().any(|v| replace_nth(v, k, with)),
        _ => false,
    }
}

/// Applies `edits` to the `k`-th (modulo their number) string of `value`: the
/// inventory text inside a recording, a timestamp, a service's name.
fn edit_nth_string(value: &mut Value, k: &mut usize, edits: &[Edit]) -> bool {
    match value {
        Value::String(text) => {
            if *k == 0 {
                let edited = apply(std::mem::take(text).into_bytes(), edits);
                *text = String::from_utf8_lossy(&edited).into_owned();
                return true;
            }
            *k -= 1;
            false
        }
        Value::Array(items) => items.iter_mut().any(|v| edit_nth_string(v, k, edits)),
        Value::Object(map) => map.values_mut().any(|v| edit_nth_string(v, k, edits)),
        _ => false,
    }
}

fn count(value: &Value) -> usize {
    1 + match value {
        Value::Array(items) => items.iter().map(count).sum(),
        Value::Object(map) => map.values().map(count).sum(),
        _ => 0,
    }
}

/// Text seeds with hostile tokens spliced in.
fn near_valid_text(target: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let seeds = seeds(target);
    (0..seeds.len(), proptest::collection::vec(edit(), 1..6))
        .prop_map(move |(i, edits)| apply(seeds[i].clone(), &edits))
}

/// JSON seeds with some values replaced by hostile ones and one string edited
/// (still JSON), then sometimes a text edit on top (no longer quite JSON).
fn near_valid_json(target: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let seeds: Vec<Value> = seeds(target)
        .iter()
        .filter_map(|s| serde_json::from_slice(s).ok())
        .collect();
    let values = hostile_values();
    (
        0..seeds.len(),
        proptest::collection::vec((any::<usize>(), 0..values.len()), 0..4),
        (any::<usize>(), proptest::collection::vec(edit(), 0..4)),
        proptest::collection::vec(edit(), 0..2),
    )
        .prop_map(move |(i, swaps, (string, string_edits), edits)| {
            let mut doc = seeds[i].clone();
            for (at, v) in swaps {
                let mut k = at % count(&doc);
                replace_nth(&mut doc, &mut k, &values[v]);
            }
            let mut k = string % count(&doc);
            edit_nth_string(&mut doc, &mut k, &string_edits);
            apply(doc.to_string().into_bytes(), &edits)
        })
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..512)
}

proptest! {
    #[test]
    fn document_never_panics(data in prop_oneof![bytes(), near_valid_json("document"), near_valid_text("document")]) {
        fuzz::document(&data);
    }

    #[test]
    fn inventory_toml_never_panics(data in prop_oneof![bytes(), near_valid_text("inventory_toml")]) {
        fuzz::inventory_toml(&data);
    }

    #[test]
    fn inventory_yaml_never_panics(data in prop_oneof![bytes(), near_valid_text("inventory_yaml")]) {
        fuzz::inventory_yaml(&data);
    }

    #[test]
    fn overrides_never_panics(data in prop_oneof![bytes(), near_valid_text("overrides")]) {
        fuzz::overrides(&data);
    }

    #[test]
    fn query_never_panics(data in prop_oneof![bytes(), near_valid_text("query"), "[a-z=&%0-9A-F.,:@+-]{0,80}".prop_map(String::into_bytes)]) {
        fuzz::query(&data);
    }

    #[test]
    fn recording_never_panics(data in prop_oneof![1 => bytes(), 4 => near_valid_json("recording")]) {
        fuzz::recording(&data);
    }

    #[test]
    fn since_never_panics(data in prop_oneof![1 => bytes(), 4 => near_valid_json("since")]) {
        fuzz::since(&data);
    }
}
