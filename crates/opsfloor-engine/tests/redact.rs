//! The redaction rule (see `opsfloor_engine::redact`'s docs) as properties: no
//! value under a secret-looking key survives, however the key is spelt, however
//! deep, in name/value pairs and header arrays too; values that look like
//! credentials go whatever their key; and nothing else is touched.

use opsfloor_engine::redact::{REDACTED, is_secret_key, redact};
use proptest::prelude::*;
use serde_json::{Value, json};

/// The issue's list and the older words, each as words to be re-spelt.
const SECRET_BASES: &[&[&str]] = &[
    &["access", "key"],
    &["private", "key"],
    &["access", "key", "id"],
    &["pwd"],
    &["passphrase"],
    &["auth"],
    &["bearer"],
    &["jwt"],
    &["signing", "key"],
    &["api", "key"],
    &["client", "secret"],
    &["password"],
    &["db", "password"],
    &["authorization"],
    &["session", "id"],
    &["x", "auth", "token"],
];

const PLAIN_BASES: &[&[&str]] = &[
    &["service", "name"],
    &["host"],
    &["author"],
    &["region"],
    &["queue", "depth"],
    &["build", "sha"],
];

/// `words` spelt one of the ways services spell keys.
fn spell(words: &[&str], style: u8) -> String {
    let cap = |w: &str| {
        let mut c = w.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect::<String>())
            .unwrap_or_default()
    };
    match style % 6 {
        0 => words.join("_"),
        1 => words.join("-"),
        2 => words.join("_").to_uppercase(),
        3 => words.iter().map(|w| cap(w)).collect(),
        4 => {
            let mut s = words[0].to_owned();
            s.extend(words[1..].iter().map(|w| cap(w)));
            s
        }
        _ => words.iter().map(|w| cap(w)).collect::<Vec<_>>().join("-"),
    }
}

fn secret_key() -> impl Strategy<Value = String> {
    (0..SECRET_BASES.len(), any::<u8>()).prop_map(|(i, s)| spell(SECRET_BASES[i], s))
}

fn plain_key() -> impl Strategy<Value = String> {
    (0..PLAIN_BASES.len(), any::<u8>(), 0u8..100)
        .prop_map(|(i, s, n)| format!("{}{n}", spell(PLAIN_BASES[i], s)))
}

/// A tree whose secrets are `HIDDEN-…` strings and whose plain leaves are
/// `keep-…`: secrets sit under secret keys (any value shape), in name/value
/// pairs and in header arrays.
fn tree() -> impl Strategy<Value = Value> {
    let leaf = (0u32..1000).prop_map(|n| json!(format!("keep-{n}")));
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(plain_key(), inner.clone(), 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            (secret_key(), inner.clone(), plain_key(), inner.clone()).prop_map(
                |(secret, hidden, plain, kept)| {
                    let hidden = json!({"hidden": "HIDDEN-under-key", "inner": hidden});
                    json!({ secret: hidden, plain: kept })
                }
            ),
            (secret_key(), 0u32..1000).prop_map(|(name, n)| {
                json!([{"name": name, "value": format!("HIDDEN-pair-{n}")}])
            }),
            (secret_key(), 0u32..1000)
                .prop_map(|(name, n)| json!([[name, format!("HIDDEN-header-{n}")]])),
            (0u32..1000).prop_map(|n| json!(format!("postgres://app:HIDDEN-{n}@db:5432/app"))),
            (0u32..1000).prop_map(|n| json!(format!("Bearer HIDDEN-{n}"))),
        ]
    })
}

/// Every `keep-…` leaf reachable without passing a secret key, pair or header.
fn kept(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) if s.starts_with("keep-") => out.push(s.clone()),
        // A header pair whose name is secret-looking hides its second element.
        Value::Array(items) if matches!(items.as_slice(), [Value::String(n), _] if is_secret_key(n)) => {
            kept(&items[0], out)
        }
        Value::Array(items) => items.iter().for_each(|v| kept(v, out)),
        Value::Object(map) => map
            .iter()
            .filter(|(k, _)| !is_secret_key(k))
            .for_each(|(_, v)| kept(v, out)),
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn no_secret_survives_and_plain_values_do(doc in tree()) {
        let shown = redact(&doc).to_string();
        prop_assert!(!shown.contains("HIDDEN-"), "a secret survived: {shown}");
        let mut expected = Vec::new();
        kept(&doc, &mut expected);
        for value in expected {
            prop_assert!(shown.contains(&format!("\"{value}\"")), "{value} lost: {shown}");
        }
    }

    #[test]
    fn every_spelling_of_a_secret_word_is_secret(i in 0..SECRET_BASES.len(), style in any::<u8>()) {
        let key = spell(SECRET_BASES[i], style);
        prop_assert!(is_secret_key(&key), "{key}");
        let shown = redact(&json!({ key.clone(): {"deep": 1} }));
        prop_assert_eq!(&shown[&key], &json!(REDACTED));
    }
}

#[test]
fn the_issue_examples_are_redacted() {
    let doc = json!({
        "accessKey": "AKIA1", "privateKey": "-----BEGIN", "AccessKeyId": "AKIA2",
        "pwd": "p1", "passphrase": "p2", "auth": "p3", "bearer": "p4", "jwt": "p5",
        "signing_key": "p6",
        "db": "postgres://app:hunter2@db:5432/app",
        "headers": [["Authorization", "Bearer abc.def"]],
        "env": [{"name": "API_KEY", "value": "k1"}, {"name": "REGION", "value": "eu"}],
        "note": "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl here",
        "author": "ops", "host": "db",
    });
    let shown = redact(&doc);
    for key in [
        "accessKey",
        "privateKey",
        "AccessKeyId",
        "pwd",
        "passphrase",
        "auth",
        "bearer",
        "jwt",
        "signing_key",
        "note",
    ] {
        assert_eq!(shown[key], REDACTED, "{key}");
    }
    assert_eq!(shown["db"], "postgres://app:[redacted]@db:5432/app");
    assert_eq!(shown["headers"], json!([["Authorization", REDACTED]]));
    assert_eq!(
        shown["env"],
        json!([{"name": "API_KEY", "value": REDACTED}, {"name": "REGION", "value": "eu"}])
    );
    assert_eq!(shown["author"], "ops");
    assert_eq!(shown["host"], "db");
}
