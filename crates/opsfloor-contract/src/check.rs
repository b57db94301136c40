//! Checking a *received* document against the contract.
//!
//! A document from the network is untrusted. Three outcomes:
//! - not JSON at all: [`MalformedJson`], with line and column;
//! - JSON, but lacking required fields or of the wrong shape: a [`Received`] whose
//!   problems name each place by JSON pointer, and which evaluates to
//!   `UNKNOWN [REQUIRED_FIELDS_MISSING]` (not a parse failure: the floor shows it);
//! - a valid document: a [`Received`] with no problems.
//!
//! The common case is fast: a valid document is deserialised straight into
//! [`Document`]. Only when that fails do we build a `serde_json::Value` and walk it
//! against `DOCUMENT`, a table of every field, to name *all* the problems rather
//! than serde's first one.
//!
//! Both paths watch for duplicate keys at any depth while they deserialise (one
//! pass, see `duplicate.rs`): a document with two `status` objects says two
//! things, so each duplicate is a [`ProblemKind::Duplicate`] at its JSON pointer
//! and the document is invalid, instead of the last key silently winning.

use std::cell::RefCell;

use serde_json::Value;

use crate::duplicate::{Track, deserialize_object, deserialize_value};

use crate::document::Document;
use crate::kind::{ServiceKind, State};
use crate::reason::ReasonCode;
use crate::time::parse_timestamp;

/// Text that is not JSON. Carries where the parser gave up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed JSON at line {line}, column {column}: {message}")]
pub struct MalformedJson {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The parser's message, without its position suffix.
    pub message: String,
}

/// One thing wrong with a received document, at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// A JSON pointer (RFC 6901) to the place; `""` is the whole document.
    pub pointer: String,
    /// What is wrong there.
    pub kind: ProblemKind,
}

/// What is wrong at a place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// A required field is absent or `null`.
    Missing,
    /// A required name is an empty (or all-blank) string.
    Empty,
    /// The value has the wrong JSON type.
    WrongType {
        /// What the contract expects here.
        expected: &'static str,
        /// What was found.
        found: &'static str,
    },
    /// The value has the right type but is not acceptable.
    Invalid(String),
    /// The key appears more than once in its object; the pointer names the
    /// second (and any later) occurrence.
    Duplicate,
}

impl Problem {
    /// True for the problems that make required fields missing (absent, null or empty).
    pub fn is_missing(&self) -> bool {
        matches!(self.kind, ProblemKind::Missing | ProblemKind::Empty)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = if self.pointer.is_empty() {
            "(document)"
        } else {
            &self.pointer
        };
        match &self.kind {
            ProblemKind::Missing => write!(f, "{at}: required field is missing"),
            ProblemKind::Empty => write!(f, "{at}: required name is empty"),
            ProblemKind::WrongType { expected, found } => {
                write!(f, "{at}: expected {expected}, found {found}")
            }
            ProblemKind::Invalid(message) => write!(f, "{at}: {message}"),
            ProblemKind::Duplicate => write!(
                f,
                "{at}: duplicate key; the object names it more than once, so neither value can be trusted"
            ),
        }
    }
}

/// A received document after checking.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// The typed document, when its shape fits the types (it may still lack a
    /// name) and no key is duplicated.
    pub document: Option<Document>,
    /// Everything wrong with it: duplicate keys first, then the rest in document
    /// order; empty when valid.
    pub problems: Vec<Problem>,
}

impl Received {
    /// True when the document meets the contract.
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty() && self.document.is_some()
    }

    /// The valid document, if it is one.
    pub fn valid_document(&self) -> Option<&Document> {
        if self.problems.is_empty() {
            self.document.as_ref()
        } else {
            None
        }
    }

    /// What the document says about itself, as far as it can be trusted: the
    /// reported state and codes when valid, else `UNKNOWN [REQUIRED_FIELDS_MISSING]`.
    pub fn reported(&self) -> (State, Vec<ReasonCode>) {
        match self.valid_document() {
            Some(doc) => (doc.status.state, doc.status.reason_codes.clone()),
            None => (State::Unknown, vec![ReasonCode::RequiredFieldsMissing]),
        }
    }
}

/// Parses and checks one received document. A leading UTF-8 byte-order mark is
/// skipped: some services' JSON writers emit one, and it carries no meaning.
pub fn parse_document(text: &str) -> Result<Received, MalformedJson> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let track = RefCell::new(Track::new());
    match deserialize_object(text, &track) {
        Ok(document) if track.borrow().is_clean() => {
            let problems = empty_names(&document);
            Ok(Received {
                document: Some(document),
                problems,
            })
        }
        // Not a `Document` (or one with a duplicate key): either not JSON at all, or
        // JSON of the wrong shape. The error's category cannot tell these apart
        // reliably (serde_json reports a sequence where an enum belongs as a syntax
        // error), so parse again as a plain value: only that parse decides whether
        // the text is JSON, and it lists every duplicate, not only the first.
        _ => {
            let track = RefCell::new(Track::new());
            let value = deserialize_value(text, &track).map_err(malformed)?;
            let mut received = check_value(&value);
            let duplicates = track.into_inner().into_duplicates();
            if !duplicates.is_empty() {
                received.document = None;
                let found = duplicates.into_iter().map(|pointer| Problem {
                    pointer,
                    kind: ProblemKind::Duplicate,
                });
                received.problems.splice(0..0, found);
            }
            Ok(received)
        }
    }
}

/// Checks an already-parsed JSON value.
pub fn check_value(value: &Value) -> Received {
    let mut problems = Vec::new();
    let mut pointer = String::new();
    match value.as_object() {
        Some(object) => walk(object, DOCUMENT, &mut pointer, &mut problems),
        None => problems.push(Problem {
            pointer: String::new(),
            kind: ProblemKind::WrongType {
                expected: "an object",
                found: json_type(value),
            },
        }),
    }
    // An empty required name is a problem, but the document is still read (as the
    // fast path does): its other fields are shown. Anything else means no document.
    if problems.iter().any(|p| p.kind != ProblemKind::Empty) {
        return Received {
            document: None,
            problems,
        };
    }
    match crate::document::map_only::required(value).map_err(|e| e.to_string()) {
        Ok(document) => {
            let problems = empty_names(&document);
            Received {
                document: Some(document),
                problems,
            }
        }
        // The table and the types should agree; if they ever do not, report serde's
        // reason rather than calling the document valid. A property test guards this.
        Err(message) => Received {
            document: None,
            problems: vec![Problem {
                pointer: String::new(),
                kind: ProblemKind::Invalid(message),
            }],
        },
    }
}

fn malformed(e: serde_json::Error) -> MalformedJson {
    // serde_json appends " at line L column C" to its Display; keep the bare message.
    let full = e.to_string();
    let message = match full.rfind(" at line ") {
        Some(cut) => full[..cut].to_owned(),
        None => full,
    };
    MalformedJson {
        line: e.line(),
        column: e.column(),
        message,
    }
}

/// The names the contract requires to be non-empty (the fast path's twin of `Shape::Name`).
pub(crate) fn empty_names(doc: &Document) -> Vec<Problem> {
    [
        ("/service_name", &doc.service_name),
        ("/repo_id", &doc.repo_id),
        ("/agent_identity/agent_name", &doc.agent_identity.agent_name),
    ]
    .into_iter()
    .filter(|(_, name)| name.trim().is_empty())
    .map(|(pointer, _)| Problem {
        pointer: pointer.to_owned(),
        kind: ProblemKind::Empty,
    })
    .collect()
}

/// The shape of a value in [`DOCUMENT`].
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// A string that must not be empty or blank.
    Name,
    Text,
    Kind,
    State,
    Bool,
    Number,
    Time,
    Codes,
    Object(&'static [Field]),
}

#[derive(Debug, Clone, Copy)]
struct Field {
    name: &'static str,
    shape: Shape,
    required: bool,
}

const fn req(name: &'static str, shape: Shape) -> Field {
    Field {
        name,
        shape,
        required: true,
    }
}

const fn opt(name: &'static str, shape: Shape) -> Field {
    Field {
        name,
        shape,
        required: false,
    }
}

/// Every field of the document, with its shape and whether it is required. Must
/// agree with the types in [`crate::document`]; a property test checks that it does.
const DOCUMENT: &[Field] = &[
    req("service_name", Shape::Name),
    req("service_kind", Shape::Kind),
    req("repo_id", Shape::Name),
    opt("git_sha", Shape::Text),
    opt("build_id", Shape::Text),
    req(
        "agent_identity",
        Shape::Object(&[
            req("agent_name", Shape::Name),
            opt("agent_role", Shape::Text),
            opt("agent_mode", Shape::Text),
        ]),
    ),
    req(
        "status",
        Shape::Object(&[
            req("state", Shape::State),
            opt("summary", Shape::Text),
            opt("reason_codes", Shape::Codes),
            opt("last_updated_utc", Shape::Time),
        ]),
    ),
    req(
        "heartbeat",
        Shape::Object(&[
            opt("last_heartbeat_utc", Shape::Time),
            opt("age_seconds", Shape::Number),
            opt("ttl_seconds", Shape::Number),
        ]),
    ),
    opt(
        "marketdata",
        Shape::Object(&[
            opt("last_tick_utc", Shape::Time),
            opt("last_bar_utc", Shape::Time),
            opt("stale_threshold_seconds", Shape::Number),
            opt("is_fresh", Shape::Bool),
        ]),
    ),
    req(
        "safety",
        Shape::Object(&[
            req("kill_switch", Shape::Bool),
            opt("safe_to_run_strategies", Shape::Bool),
            opt("safe_to_execute_orders", Shape::Bool),
            opt("gating_reasons", Shape::Codes),
        ]),
    ),
    opt(
        "endpoints",
        Shape::Object(&[
            opt("healthz", Shape::Text),
            opt("heartbeat", Shape::Text),
            opt("metrics", Shape::Text),
        ]),
    ),
    opt(
        "market",
        Shape::Object(&[
            req("calendar", Shape::Name),
            req("is_open", Shape::Bool),
            opt("next_open_utc", Shape::Time),
            opt("next_close_utc", Shape::Time),
        ]),
    ),
];

fn walk(
    object: &serde_json::Map<String, Value>,
    fields: &[Field],
    pointer: &mut String,
    out: &mut Vec<Problem>,
) {
    for field in fields {
        let len = pointer.len();
        pointer.push('/');
        pointer.push_str(field.name);
        match object.get(field.name) {
            None | Some(Value::Null) if field.required => {
                out.push(Problem {
                    pointer: pointer.clone(),
                    kind: ProblemKind::Missing,
                });
            }
            None | Some(Value::Null) => {}
            Some(value) => check_shape(value, field.shape, pointer, out),
        }
        pointer.truncate(len);
    }
}

fn check_shape(value: &Value, shape: Shape, pointer: &mut String, out: &mut Vec<Problem>) {
    let mut wrong = |expected: &'static str| {
        out.push(Problem {
            pointer: pointer.clone(),
            kind: ProblemKind::WrongType {
                expected,
                found: json_type(value),
            },
        });
    };
    match (shape, value) {
        (Shape::Text, Value::String(_))
        | (Shape::Bool, Value::Bool(_))
        | (Shape::Number, Value::Number(_)) => {}
        (Shape::Name, Value::String(s)) => {
            if s.trim().is_empty() {
                out.push(Problem {
                    pointer: pointer.clone(),
                    kind: ProblemKind::Empty,
                });
            }
        }
        (Shape::Text | Shape::Name, _) => wrong("a string"),
        (Shape::Bool, _) => wrong("true or false"),
        (Shape::Number, _) => wrong("a number"),
        (Shape::Kind, Value::String(s)) => {
            if ServiceKind::from_wire(s).is_none() {
                let names: Vec<&str> = ServiceKind::ALL.iter().map(|k| k.as_str()).collect();
                invalid(
                    out,
                    pointer,
                    format!(
                        "unknown service kind {s:?}; expected one of {}",
                        names.join(", ")
                    ),
                );
            }
        }
        (Shape::State, Value::String(s)) => {
            if State::from_wire(s).is_none() {
                let names: Vec<&str> = State::ALL.iter().map(|k| k.as_str()).collect();
                invalid(
                    out,
                    pointer,
                    format!("unknown state {s:?}; expected one of {}", names.join(", ")),
                );
            }
        }
        (Shape::Kind | Shape::State, _) => wrong("a string"),
        (Shape::Time, Value::String(s)) => {
            if let Err(e) = parse_timestamp(s) {
                invalid(out, pointer, e.to_string());
            }
        }
        (Shape::Time, _) => wrong("an RFC 3339 timestamp string"),
        (Shape::Codes, Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                if !item.is_string() {
                    out.push(Problem {
                        pointer: format!("{pointer}/{i}"),
                        kind: ProblemKind::WrongType {
                            expected: "a reason code string",
                            found: json_type(item),
                        },
                    });
                }
            }
        }
        (Shape::Codes, _) => wrong("an array of reason code strings"),
        (Shape::Object(fields), Value::Object(object)) => walk(object, fields, pointer, out),
        (Shape::Object(_), _) => wrong("an object"),
    }
}

fn invalid(out: &mut Vec<Problem>, pointer: &str, message: String) {
    out.push(Problem {
        pointer: pointer.to_owned(),
        kind: ProblemKind::Invalid(message),
    });
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = include_str!("../tests/data/seed-example.json");

    #[test]
    fn a_leading_byte_order_mark_is_accepted() {
        let plain = parse_document(SEED).expect("seed");
        let with_bom = parse_document(&format!("\u{feff}{SEED}")).expect("seed with BOM");
        assert!(with_bom.is_valid());
        assert_eq!(with_bom.reported(), plain.reported());
    }

    fn pointers(r: &Received) -> Vec<String> {
        r.problems.iter().map(|p| p.pointer.clone()).collect()
    }

    #[test]
    fn the_seed_example_is_valid() {
        let r = parse_document(SEED).expect("seed parses");
        assert!(r.is_valid(), "{:?}", r.problems);
        assert_eq!(r.reported(), (State::Ok, vec![]));
    }

    #[test]
    fn missing_required_fields_are_listed_not_fatal() {
        let mut v: Value = serde_json::from_str(SEED).expect("seed");
        let obj = v.as_object_mut().expect("object");
        obj.remove("service_name");
        obj.insert("repo_id".into(), Value::String("  ".into()));
        obj.remove("safety");
        obj["agent_identity"]
            .as_object_mut()
            .expect("object")
            .remove("agent_name");
        let r = parse_document(&v.to_string()).expect("still JSON");
        assert!(!r.is_valid());
        assert_eq!(
            pointers(&r),
            [
                "/service_name",
                "/repo_id",
                "/agent_identity/agent_name",
                "/safety"
            ]
        );
        assert!(r.problems.iter().all(Problem::is_missing));
        assert_eq!(
            r.reported(),
            (State::Unknown, vec![ReasonCode::RequiredFieldsMissing])
        );
    }

    #[test]
    fn empty_names_are_missing_too() {
        let text = SEED.replace(
            "\"service_name\": \"marketdata-mcp-server\"",
            "\"service_name\": \"\"",
        );
        let r = parse_document(&text).expect("JSON");
        assert_eq!(pointers(&r), ["/service_name"]);
        assert_eq!(r.problems[0].kind, ProblemKind::Empty);
        assert_eq!(r.reported().0, State::Unknown);
    }

    #[test]
    fn wrong_shapes_name_every_place() {
        let mut v: Value = serde_json::from_str(SEED).expect("seed");
        v["service_kind"] = "risk".into();
        v["status"]["state"] = "GREEN".into();
        v["heartbeat"]["age_seconds"] = "old".into();
        v["status"]["reason_codes"] = serde_json::json!(["OK", 3]);
        v["marketdata"]["last_tick_utc"] = "yesterday".into();
        let r = parse_document(&v.to_string()).expect("JSON");
        assert_eq!(
            pointers(&r),
            [
                "/service_kind",
                "/status/state",
                "/status/reason_codes/1",
                "/heartbeat/age_seconds",
                "/marketdata/last_tick_utc"
            ]
        );
        assert_eq!(
            r.problems[3].to_string(),
            "/heartbeat/age_seconds: expected a number, found a string"
        );
    }

    #[test]
    fn malformed_json_has_line_and_column() {
        let err =
            parse_document("{\n  \"service_name\": \"x\",\n  oops\n}").expect_err("malformed");
        assert_eq!((err.line, err.column), (3, 3));
        assert!(
            err.to_string()
                .starts_with("malformed JSON at line 3, column 3: "),
            "{err}"
        );
        assert!(parse_document("").is_err());
        let not_object = parse_document("[1,2]").expect("JSON");
        assert_eq!(
            not_object.problems[0].to_string(),
            "(document): expected an object, found an array"
        );
    }

    #[test]
    fn lenient_on_input() {
        let text = SEED
            .replace(
                "\"2026-01-07T12:00:00Z\",\n    \"age_seconds\": 0.0",
                "\"2026-01-07T07:00:00.25-05:00\",\n    \"age_seconds\": 4.5e-05",
            )
            .replacen('{', "{\"added_in_v3\": {\"x\": 1},", 1);
        let r = parse_document(&text).expect("JSON");
        assert!(r.is_valid(), "{:?}", r.problems);
        let doc = r.document.expect("doc");
        assert_eq!(doc.heartbeat.age_seconds, Some(4.5e-05));
        assert_eq!(
            doc.heartbeat
                .last_heartbeat_utc
                .map(|t| t.to_string())
                .as_deref(),
            Some("2026-01-07T12:00:00Z")
        );
    }
}
