//! Query strings, read strictly: every endpoint names the parameters it takes; an
//! unknown parameter, a repeated one, or a value that does not parse is a 400 with
//! a JSON body naming the parameter. Nothing here panics on any input (multibyte
//! text, huge numbers), and nothing is silently clamped to a surprising answer.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use jiff::SignedDuration;
use serde::Serialize;

/// The longest SLO window: a little over a year of history.
pub const MAX_WINDOW_DAYS: i64 = 400;

/// The most rows one request may ask for.
pub const MAX_LIMIT: usize = 10_000;

/// A parameter that cannot be used: the body of a 400 answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueryError {
    /// What is wrong, in words, naming the parameter.
    pub error: String,
    /// The parameter.
    pub parameter: String,
}

impl QueryError {
    fn new(parameter: &str, message: impl std::fmt::Display) -> QueryError {
        QueryError {
            error: format!("query parameter {parameter:?}: {message}"),
            parameter: parameter.to_owned(),
        }
    }

    /// The answer's status.
    pub fn status(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }
}

/// A query string's parameters, each given at most once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    /// Parses `raw` (without the `?`), accepting only the names in `allowed`.
    pub fn parse(raw: Option<&str>, allowed: &[&str]) -> Result<Params, QueryError> {
        let mut pairs = BTreeMap::new();
        for (name, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            if !allowed.contains(&name.as_ref()) {
                let expected = if allowed.is_empty() {
                    "this endpoint takes no parameters".to_owned()
                } else {
                    format!("expected one of {}", allowed.join(", "))
                };
                return Err(QueryError::new(&name, format!("unknown; {expected}")));
            }
            if pairs.insert(name.to_string(), value.into_owned()).is_some() {
                return Err(QueryError::new(&name, "given more than once"));
            }
        }
        Ok(Params(pairs))
    }

    /// The value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// `name` as a comma-separated list of values each `parse` accepts; `None`
    /// when not given (no filter).
    pub fn list<T>(
        &self,
        name: &str,
        what: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<Vec<T>>, QueryError> {
        let Some(text) = self.get(name) else {
            return Ok(None);
        };
        text.split(',')
            .map(|item| {
                parse(item.trim())
                    .ok_or_else(|| QueryError::new(name, format!("{item:?} is not a {what}")))
            })
            .collect::<Result<Vec<T>, QueryError>>()
            .map(Some)
    }

    /// `limit`: a whole number from 1 to [`MAX_LIMIT`]; `default` when not given.
    pub fn limit(&self, default: usize) -> Result<usize, QueryError> {
        let Some(text) = self.get("limit") else {
            return Ok(default);
        };
        match text.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(QueryError::new(
                "limit",
                format!("{text:?}: expected a whole number from 1 to {MAX_LIMIT}"),
            )),
        }
    }

    /// `window`: a whole number and a unit `d`, `h` or `m` (`30d`, `12h`, `90m`), at
    /// most [`MAX_WINDOW_DAYS`] days; `default` when not given.
    pub fn window(&self, default: &str) -> Result<(String, SignedDuration), QueryError> {
        let text = self.get("window").unwrap_or(default);
        match parse_window(text) {
            Some(span) => Ok((text.to_owned(), span)),
            None => Err(QueryError::new(
                "window",
                format!(
                    "{text:?}: expected a whole number and d, h or m, such as 30d, at most {MAX_WINDOW_DAYS}d"
                ),
            )),
        }
    }
}

/// Parses a window such as `30d`, `12h` or `90m`; `None` for anything else,
/// including zero and windows longer than [`MAX_WINDOW_DAYS`].
pub fn parse_window(text: &str) -> Option<SignedDuration> {
    // The unit is the last byte, and it must be ASCII: splitting by bytes inside a
    // multibyte character would panic.
    let unit = *text.as_bytes().last()?;
    let number = text.get(..text.len() - 1)?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = number.parse().ok().filter(|n| *n > 0)?;
    let seconds = match unit {
        b'd' => n.checked_mul(86_400)?,
        b'h' => n.checked_mul(3_600)?,
        b'm' => n.checked_mul(60)?,
        _ => return None,
    };
    (seconds <= MAX_WINDOW_DAYS * 86_400).then(|| SignedDuration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn windows() {
        assert_eq!(parse_window("30d"), Some(SignedDuration::from_hours(720)));
        assert_eq!(parse_window("90m"), Some(SignedDuration::from_mins(90)));
        assert_eq!(
            parse_window("400d"),
            Some(SignedDuration::from_hours(9_600))
        );
        for bad in [
            "",
            "d",
            "0d",
            "-1d",
            "+1d",
            "1",
            "1w",
            "3é",
            "3%C3%A9",
            "401d",
            "106751991167300d",
            "1.5h",
            " 1d",
        ] {
            assert_eq!(parse_window(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn parameters_are_named_once_and_known() {
        let p = Params::parse(Some("limit=5&service=md"), &["limit", "service"]).expect("ok");
        assert_eq!((p.get("limit"), p.get("service")), (Some("5"), Some("md")));
        let twice = Params::parse(Some("limit=5&limit=6"), &["limit"]).expect_err("twice");
        assert_eq!(twice.parameter, "limit");
        assert!(twice.error.contains("more than once"), "{twice:?}");
        let odd = Params::parse(Some("limt=5"), &["limit"]).expect_err("unknown");
        assert_eq!(odd.parameter, "limt");
        assert!(odd.error.contains("expected one of limit"), "{odd:?}");
        assert_eq!(Params::parse(None, &[]).expect("empty"), Params::default());
    }

    #[test]
    fn limits() {
        let p = |q: &str| Params::parse(Some(q), &["limit"]).expect("parse");
        assert_eq!(p("").limit(100), Ok(100));
        assert_eq!(p("limit=10000").limit(100), Ok(10_000));
        for bad in ["limit=0", "limit=10001", "limit=-1", "limit=x", "limit="] {
            assert_eq!(p(bad).limit(100).expect_err(bad).parameter, "limit");
        }
    }

    proptest! {
        #[test]
        fn no_input_panics(raw in ".*", window in ".*") {
            let _ = Params::parse(Some(&raw), &["limit", "window", "kind"])
                .map(|p| (p.limit(1), p.window("30d"), p.list("kind", "kind", |_| Some(()))));
            let _ = parse_window(&window);
        }
    }
}
