//! Strict, panic-free parsing of the API's query parameters.
//!
//! A query string is text from anyone who can reach the port. Every rule here
//! answers a [`QueryError`] that names the parameter (and serialises to the API's
//! `{"error": ...}` shape, plus `parameter`), never a panic and never a silent
//! guess:
//!
//! - a parameter given twice is an error (which of two `limit`s was meant?);
//! - an unknown parameter is an error listing the known ones;
//! - percent-encoding is decoded (`+` is a space); what it decodes to must be UTF-8;
//! - `window` is a whole number and one unit, `s`, `m`, `h` or `d` (`"3d"`), at
//!   most [`MAX_WINDOW`]; slicing is by characters, so `3é` is an error, not a
//!   panic inside a multibyte character;
//! - `limit` is a whole number from 1 to a maximum the route chooses.

use std::time::Duration;

use serde::Serialize;

/// The longest `window` accepted: 400 days, a little over a year of history.
pub const MAX_WINDOW: Duration = Duration::from_secs(400 * 86_400);

/// How much of an offending value an error message repeats.
const ECHO_CHARS: usize = 40;

/// A query parameter that cannot be used. `Display` is `"{parameter}: {message}"`;
/// [`QueryError::body`] is the JSON body of the 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{parameter}: {message}")]
pub struct QueryError {
    /// The parameter, as the client wrote it (or `"query"` when the query string
    /// itself is malformed).
    pub parameter: String,
    /// What is wrong and what would be accepted.
    pub message: String,
}

/// The JSON body of a 400 for a [`QueryError`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueryErrorBody {
    /// The whole message, parameter first (the API's usual `error` field).
    pub error: String,
    /// The parameter alone, for programs.
    pub parameter: String,
}

impl QueryError {
    fn new(parameter: &str, message: impl Into<String>) -> Self {
        QueryError {
            parameter: parameter.to_owned(),
            message: message.into(),
        }
    }

    /// The JSON-ready body of the 400 answer.
    pub fn body(&self) -> QueryErrorBody {
        QueryErrorBody {
            error: self.to_string(),
            parameter: self.parameter.clone(),
        }
    }
}

/// `value` quoted for a message, cut to [`ECHO_CHARS`] characters.
fn echo(value: &str) -> String {
    let mut cut: String = value.chars().take(ECHO_CHARS).collect();
    if cut.len() < value.len() {
        cut.push('…');
    }
    format!("{cut:?}")
}

/// A parsed query string: each known parameter at most once, decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses a raw query string (without the `?`), accepting only the `known`
    /// parameter names, each at most once. Empty pieces (`a=1&&b=2`) are skipped;
    /// a name without `=` has the empty value.
    pub fn parse(raw: &str, known: &[&str]) -> Result<Self, QueryError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for piece in raw.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            let name = decode(name).ok_or_else(|| {
                QueryError::new(
                    "query",
                    format!(
                        "a parameter name is not valid percent-encoded UTF-8: {}",
                        echo(name)
                    ),
                )
            })?;
            if name.is_empty() {
                return Err(QueryError::new(
                    "query",
                    format!("a parameter has no name: {}", echo(piece)),
                ));
            }
            let value = decode(value).ok_or_else(|| {
                QueryError::new(&name, "the value is not valid percent-encoded UTF-8")
            })?;
            if !known.contains(&name.as_str()) {
                let message = if known.is_empty() {
                    "unknown parameter; this route takes none".to_owned()
                } else {
                    format!("unknown parameter; this route takes {}", known.join(", "))
                };
                return Err(QueryError::new(&name, message));
            }
            if pairs.iter().any(|(n, _)| *n == name) {
                return Err(QueryError::new(&name, "given more than once; give it once"));
            }
            pairs.push((name, value));
        }
        Ok(Query { pairs })
    }

    /// The decoded value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `name` parsed by any parser (e.g. the contract's `parse_timestamp` for
    /// `since`), if given; the parser's error becomes a [`QueryError`] naming the
    /// parameter.
    pub fn parsed<T, E: std::fmt::Display>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<Option<T>, QueryError> {
        self.get(name)
            .map(|v| parse(v).map_err(|e| QueryError::new(name, e.to_string())))
            .transpose()
    }

    /// `name` parsed as a window ([`parse_window`]), if given.
    pub fn window(&self, name: &str) -> Result<Option<Duration>, QueryError> {
        self.get(name)
            .map(|v| parse_window(v).map_err(|e| QueryError::new(name, e.message)))
            .transpose()
    }

    /// `name` parsed as a limit ([`parse_limit`]), if given.
    pub fn limit(&self, name: &str, max: usize) -> Result<Option<usize>, QueryError> {
        self.get(name)
            .map(|v| parse_limit(v, max).map_err(|e| QueryError::new(name, e.message)))
            .transpose()
    }
}

/// Percent-decoding with `+` as a space; `None` for a bad escape or non-UTF-8.
fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let digit = |b: u8| (b as char).to_digit(16);
                // Two hex digits are < 256.
                out.push((digit(hex[0])? * 16 + digit(hex[1])?) as u8);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// A window such as `"90s"`, `"15m"`, `"12h"` or `"3d"`: a whole number of 1 to 9
/// ASCII digits, then one unit. Zero and anything over [`MAX_WINDOW`] are errors.
pub fn parse_window(text: &str) -> Result<Duration, QueryError> {
    const PARAM: &str = "window";
    let shape = || {
        QueryError::new(
            PARAM,
            format!(
                "expected a whole number and a unit (s, m, h or d), e.g. \"3d\"; found {}",
                echo(text)
            ),
        )
    };
    let unit = text.chars().next_back().ok_or_else(shape)?;
    // Slicing at a char boundary: `unit` is the last character, whatever its width.
    let digits = &text[..text.len() - unit.len_utf8()];
    let seconds_per_unit: u64 = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        _ => return Err(shape()),
    };
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(shape());
    }
    let count: u64 = digits.parse().map_err(|_| shape())?;
    if count == 0 {
        return Err(QueryError::new(PARAM, "must be longer than zero"));
    }
    // At most 9 digits times 86,400 fits easily in u64.
    let seconds = count.saturating_mul(seconds_per_unit);
    if seconds > MAX_WINDOW.as_secs() {
        return Err(QueryError::new(
            PARAM,
            format!("at most 400d (9600h); found {}", echo(text)),
        ));
    }
    Ok(Duration::from_secs(seconds))
}

/// A limit: a whole number from 1 to `max`, in ASCII digits (no sign, no spaces).
pub fn parse_limit(text: &str, max: usize) -> Result<usize, QueryError> {
    const PARAM: &str = "limit";
    let range = || {
        QueryError::new(
            PARAM,
            format!(
                "expected a whole number from 1 to {max}; found {}",
                echo(text)
            ),
        )
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(range());
    }
    // Leading zeros are fine; too many digits for usize is simply out of range.
    match text.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(range()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_in_every_unit() {
        assert_eq!(parse_window("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_window("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_window("12h"), Ok(Duration::from_secs(43_200)));
        assert_eq!(parse_window("3d"), Ok(Duration::from_secs(259_200)));
        assert_eq!(parse_window("400d"), Ok(MAX_WINDOW));
        assert_eq!(parse_window("9600h"), Ok(MAX_WINDOW));
    }

    #[test]
    fn bad_windows_name_the_parameter() {
        for bad in [
            "",
            "d",
            "3",
            "3x",
            "3é",
            "é",
            "-3d",
            "+3d",
            " 3d",
            "3.5d",
            "3D",
            "1000000000s",
        ] {
            let e = parse_window(bad).expect_err(bad);
            assert_eq!(e.parameter, "window");
            assert!(
                e.to_string().starts_with("window: expected a whole number"),
                "{e}"
            );
        }
        let e = parse_window("106751991167300d").expect_err("huge");
        assert!(e.to_string().starts_with("window: expected"), "{e}");
        let e = parse_window("401d").expect_err("too long");
        assert_eq!(
            e.to_string(),
            "window: at most 400d (9600h); found \"401d\""
        );
        assert_eq!(
            parse_window("0h").expect_err("zero").message,
            "must be longer than zero"
        );
    }

    #[test]
    fn limits() {
        assert_eq!(parse_limit("1", 500), Ok(1));
        assert_eq!(parse_limit("0500", 500), Ok(500));
        for bad in ["0", "501", "", "-1", "1e3", " 1", "99999999999999999999999"] {
            let e = parse_limit(bad, 500).expect_err(bad);
            assert!(
                e.to_string()
                    .starts_with("limit: expected a whole number from 1 to 500"),
                "{e}"
            );
        }
    }

    #[test]
    fn queries_decode_and_refuse_duplicates_and_strangers() {
        let q = Query::parse(
            "window=3d&limit=10&service=a%2Fb+c",
            &["window", "limit", "service"],
        )
        .expect("valid");
        assert_eq!(q.window("window"), Ok(Some(Duration::from_secs(259_200))));
        assert_eq!(q.limit("limit", 100), Ok(Some(10)));
        assert_eq!(q.get("service"), Some("a/b c"));
        assert_eq!(q.limit("other", 100), Ok(None));
        let dup = Query::parse("limit=1&limit=2", &["limit"]).expect_err("dup");
        assert_eq!(dup.to_string(), "limit: given more than once; give it once");
        // Encoded names are the same names.
        let dup = Query::parse("limit=1&%6Cimit=2", &["limit"]).expect_err("dup");
        assert_eq!(dup.parameter, "limit");
        let unknown = Query::parse("lmit=1", &["limit", "window"]).expect_err("unknown");
        assert_eq!(
            unknown.to_string(),
            "lmit: unknown parameter; this route takes limit, window"
        );
        let bad = Query::parse("window=3%C3", &["window"]).expect_err("bad UTF-8");
        assert_eq!(bad.parameter, "window");
        let bad = Query::parse("%zz=1", &["window"]).expect_err("bad escape");
        assert_eq!(bad.parameter, "query");
        let bad = Query::parse("=1", &["window"]).expect_err("no name");
        assert_eq!(bad.to_string(), "query: a parameter has no name: \"=1\"");
        let q = Query::parse(
            "since=2026-01-07T12%3A00%3A00Z&limit=x",
            &["since", "limit"],
        )
        .expect("valid");
        assert_eq!(
            q.parsed("since", |v| v
                .strip_suffix('Z')
                .map(str::to_owned)
                .ok_or("expected a Z")),
            Ok(Some("2026-01-07T12:00:00".to_owned()))
        );
        let e = q
            .parsed("limit", str::parse::<u8>)
            .expect_err("not a number");
        assert_eq!(e.to_string(), "limit: invalid digit found in string");
        assert_eq!(q.parsed("other", str::parse::<u8>), Ok(None));
        // The panic: `3%C3%A9` decodes to "3é".
        let q = Query::parse("window=3%C3%A9", &["window"]).expect("decodes");
        assert_eq!(
            q.window("window").expect_err("not a unit").parameter,
            "window"
        );
    }

    #[test]
    fn errors_serialise_to_the_api_shape() {
        let e = parse_limit("x", 5).expect_err("bad");
        let json = serde_json::to_value(e.body()).expect("json");
        assert_eq!(
            json["error"],
            "limit: expected a whole number from 1 to 5; found \"x\""
        );
        assert_eq!(json["parameter"], "limit");
        let long = "9".repeat(100) + "x";
        let message = parse_window(&long).expect_err("long").message;
        assert!(message.chars().count() < 140, "the value is cut: {message}");
    }
}
