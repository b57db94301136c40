//! Redaction of secrets before a service's document is shown (the API's detail
//! view, the service page).
//!
//! Every byte of a document comes from the service, and services put credentials
//! in odd places. The rule is applied recursively to the whole document; whatever
//! it catches becomes the string `"[redacted]"` (for a URL, only its password).
//!
//! # The rule
//!
//! 1. **Secret-looking keys.** A key is *normalised*: camelCase and PascalCase
//!    humps are split into words (`AccessKeyId` → `access key id`, `APIKey` →
//!    `api key`), letters are lower-cased, and `-`, `_`, `.`, spaces and other
//!    punctuation all separate words. The key is secret-looking when
//!    - its words, joined without separators, *contain* one of [`SECRET_PHRASES`]
//!      (`apikey`, `secret`, `token`, `password`, `passwd`, `passphrase`,
//!      `authorization`, `privatekey`, `accesskey`, `signingkey`, `credential`,
//!      `session`, `cookie`, ...), or
//!    - one of its words *is* one of [`SECRET_WORDS`] (`pwd`, `auth`, `bearer`,
//!      `jwt`, ...): short words match whole, so `author` and `pwdx` do not.
//!
//!    Its value, whatever it is (a string, a number, a whole object), is redacted.
//! 2. **Name/value pairs.** In an object with a `name` (or `key`, `header`)
//!    string that is a secret-looking key, the sibling `value` (or `val`,
//!    `values`) is redacted: `{"name": "API_KEY", "value": "..."}`. In an array of
//!    exactly two elements whose first is a secret-looking string, the second is
//!    redacted: `["Authorization", "Bearer ..."]`.
//! 3. **Credential-looking values, whatever their key.** A string is redacted
//!    whole when it holds `Bearer ` followed by anything (any case) or a JWT (three
//!    base64url segments, the first starting `eyJ`). A URL with a password in it
//!    (`scheme://user:password@host`) keeps everything but the password:
//!    `postgres://app:[redacted]@db:5432/app`.
//!
//! Keys are never changed, and nothing else is: a false positive hides a value
//! from the page, a false negative shows a secret to whoever can read the floor,
//! so the rule leans to hiding.

use serde_json::{Map, Value};

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Phrases that make a key secret-looking wherever they occur in its normalised,
/// separator-free form (`signing_key` → `signingkey`).
pub const SECRET_PHRASES: &[&str] = &[
    "apikey",
    "secret",
    "token",
    "password",
    "passwd",
    "passphrase",
    "authorization",
    "privatekey",
    "accesskey",
    "signingkey",
    "secretkey",
    "clientkey",
    "credential",
    "session",
    "cookie",
];

/// Short words that make a key secret-looking only as a whole word of it
/// (`auth`, `basic_auth`, `X-Auth`, but not `author`).
pub const SECRET_WORDS: &[&str] = &["pwd", "auth", "oauth", "bearer", "jwt", "otp", "dsn"];

/// The names under which a name/value pair carries its name, and its value.
const PAIR_NAMES: &[&str] = &["name", "key", "header"];
const PAIR_VALUES: &[&str] = &["value", "val", "values"];

/// A key's words: camelCase humps split, lower-cased, any non-alphanumeric
/// character a separator.
fn words(key: &str) -> Vec<String> {
    let chars: Vec<char> = key.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            continue;
        }
        let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
        let next = chars.get(i + 1).copied();
        // A hump: `aB` starts a word at B; `ABc` starts one at B (`APIKey`).
        let hump = c.is_uppercase()
            && prev.is_some_and(|p| {
                p.is_lowercase()
                    || p.is_numeric()
                    || (p.is_uppercase() && next.is_some_and(char::is_lowercase))
            });
        if hump && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// True when `key` looks like it names a secret (rule 1 in the module docs).
pub fn is_secret_key(key: &str) -> bool {
    let words = words(key);
    let joined: String = words.concat();
    SECRET_PHRASES.iter().any(|p| joined.contains(p))
        || words.iter().any(|w| SECRET_WORDS.contains(&w.as_str()))
}

/// True when `text` is, or holds, a JWT: three base64url segments joined by dots,
/// the first starting `eyJ` (the base64 of `{"`).
fn holds_jwt(text: &str) -> bool {
    text.split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
        .any(|part| {
            let segments: Vec<&str> = part.split('.').collect();
            segments.len() == 3
                && segments[0].starts_with("eyJ")
                && segments.iter().all(|s| {
                    s.len() >= 2
                        && s.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                })
        })
}

/// True when `text` carries a bearer credential (`Bearer x`, any case).
fn holds_bearer(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower
        .match_indices("bearer ")
        .any(|(at, m)| lower[at + m.len()..].trim_start().chars().next().is_some())
}

/// `text` with the password of every `scheme://user:password@` in it replaced,
/// or `None` when it has none.
fn without_url_passwords(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        // The authority ends at the first '/', '?', '#' or whitespace.
        let end = tail
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace())
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(userinfo_end) if authority[..userinfo_end].contains(':') => {
                let userinfo = &authority[..userinfo_end];
                let colon = userinfo.find(':').unwrap_or(userinfo.len());
                out.push_str(&userinfo[..colon]);
                out.push(':');
                out.push_str(REDACTED);
                out.push_str(&authority[userinfo_end..]);
                changed = true;
            }
            _ => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// A string value after rule 3.
fn redact_text(text: &str) -> Value {
    if holds_bearer(text) || holds_jwt(text) {
        return Value::String(REDACTED.into());
    }
    Value::String(without_url_passwords(text).unwrap_or_else(|| text.to_owned()))
}

fn redacted() -> Value {
    Value::String(REDACTED.into())
}

/// True when `map` is a name/value pair naming a secret (rule 2).
fn names_a_secret(map: &Map<String, Value>) -> bool {
    PAIR_NAMES
        .iter()
        .filter_map(|n| map.get(*n))
        .any(|v| v.as_str().is_some_and(is_secret_key))
}

/// A copy of `value` with everything the rule (module docs) catches replaced.
pub fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let pair = names_a_secret(map);
            Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let hide = is_secret_key(k) || (pair && PAIR_VALUES.contains(&k.as_str()));
                        (k.clone(), if hide { redacted() } else { redact(v) })
                    })
                    .collect(),
            )
        }
        Value::Array(items) => match items.as_slice() {
            [name @ Value::String(text), _] if is_secret_key(text) => {
                Value::Array(vec![redact(name), redacted()])
            }
            _ => Value::Array(items.iter().map(redact).collect()),
        },
        Value::String(text) => redact_text(text),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_humps_and_separators() {
        assert_eq!(words("AccessKeyId"), ["access", "key", "id"]);
        assert_eq!(words("APIKey"), ["api", "key"]);
        assert_eq!(words("signing_key"), ["signing", "key"]);
        assert_eq!(words("X-Auth-Token"), ["x", "auth", "token"]);
        assert_eq!(words("db.pwd"), ["db", "pwd"]);
    }

    #[test]
    fn short_words_match_whole_only() {
        for key in [
            "auth",
            "basicAuth",
            "X-Auth",
            "pwd",
            "jwt",
            "bearer",
            "db_pwd",
        ] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in [
            "author",
            "authors",
            "pwdx",
            "passage",
            "host",
            "service_name",
        ] {
            assert!(!is_secret_key(key), "{key}");
        }
    }

    #[test]
    fn url_passwords_alone_are_replaced() {
        assert_eq!(
            without_url_passwords("postgres://app:s3cr3t@db:5432/app?x=1").as_deref(),
            Some("postgres://app:[redacted]@db:5432/app?x=1")
        );
        assert_eq!(without_url_passwords("https://db:5432/app"), None);
        assert_eq!(without_url_passwords("https://user@db/app"), None);
    }
}
