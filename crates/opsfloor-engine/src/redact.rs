//! Redaction of secret-looking values before a document is shown.
//!
//! A key is secret-looking when, lowercased with `-` read as `_`, it contains any
//! of: `api_key`, `apikey`, `secret`, `token`, `password`, `passwd`, `authorization`,
//! `private_key`, `credential`, `session`, `cookie`, `access_key`. Its value, whatever
//! it is, becomes the string `"[redacted]"`. Applied recursively.

use serde_json::Value;

const SECRET_WORDS: &[&str] = &[
    "api_key",
    "apikey",
    "secret",
    "token",
    "password",
    "passwd",
    "authorization",
    "private_key",
    "credential",
    "session",
    "cookie",
    "access_key",
];

/// True when `key` looks like it names a secret.
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase().replace('-', "_");
    SECRET_WORDS.iter().any(|w| key.contains(w))
}

/// A copy of `value` with secret-looking keys' values replaced.
pub fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_secret_key(k) {
                        Value::String("[redacted]".into())
                    } else {
                        redact(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_nested_secrets_and_keeps_the_rest() {
        let doc = serde_json::json!({
            "service_name": "x",
            "extra": {"API-Key": "abc", "db": [{"password": "p", "host": "h"}], "Authorization": "Bearer t"},
            "session_id": 3,
            "status": {"state": "OK"}
        });
        let r = redact(&doc);
        assert_eq!(r["extra"]["API-Key"], "[redacted]");
        assert_eq!(r["extra"]["db"][0]["password"], "[redacted]");
        assert_eq!(r["extra"]["db"][0]["host"], "h");
        assert_eq!(r["extra"]["Authorization"], "[redacted]");
        assert_eq!(r["session_id"], "[redacted]");
        assert_eq!(r["status"]["state"], "OK");
        assert_eq!(r["service_name"], "x");
    }
}
