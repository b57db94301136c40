//! The words, icons and classes the pages show, and the small formatters they share.
//!
//! Every state has a word and an icon (the icon is drawn by the stylesheet from the
//! look's class), so colour is never the only signal. Numbers are formatted with
//! fixed precision, so the same state and clock always give the same text. The
//! dashboard's script gets the same vocabulary from [`vocabulary_json`], so a page
//! updated live reads exactly like a freshly rendered one.

use std::fmt::Write as _;

use opsfloor_contract::{ReasonCode, ServiceKind, State};

/// How a state looks: a CSS class (colour and icon) and a word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    /// `st-ok`, `st-degraded`, `st-halted`, `st-closed`, `st-offline`, `st-asleep`, `st-unknown`.
    pub class: &'static str,
    /// The state in words.
    pub word: &'static str,
}

/// The calm note for an execution agent that is scaled to zero or disabled.
pub const ASLEEP_NOTE: &str = "Offline: scaled to zero, expected";

/// The look of `state` with `codes`. An OFFLINE execution agent that is disabled or
/// scaled to zero is calm (`st-asleep`), as is MARKET_CLOSED (`st-closed`).
pub fn look(state: State, codes: &[ReasonCode]) -> Look {
    let (class, word) = match state {
        State::Ok => ("st-ok", "OK"),
        State::Degraded => ("st-degraded", "Degraded"),
        State::Halted => ("st-halted", "Halted"),
        State::MarketClosed => ("st-closed", "Market closed"),
        State::Offline if asleep(state, codes) => ("st-asleep", "Offline"),
        State::Offline => ("st-offline", "Offline"),
        State::Unknown => ("st-unknown", "Unknown"),
    };
    Look { class, word }
}

/// True for OFFLINE because execution is disabled or scaled to zero (expected).
pub fn asleep(state: State, codes: &[ReasonCode]) -> bool {
    state == State::Offline && codes.contains(&ReasonCode::ExecutionDisabled)
}

/// The reason codes as one short string (`KILL_SWITCH`, or `A, B`); empty for none.
pub fn codes_text(codes: &[ReasonCode]) -> String {
    let mut out = String::new();
    for (i, c) in codes.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(c.as_str());
    }
    out
}

/// The reason in human words, from the reason-code table; `fallback` when there is none.
pub fn reason_text(state: State, codes: &[ReasonCode], fallback: &str) -> String {
    if asleep(state, codes) {
        return ASLEEP_NOTE.to_owned();
    }
    if codes.is_empty() {
        return fallback.to_owned();
    }
    let mut out = String::new();
    for (i, c) in codes.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        out.push_str(c.description());
    }
    out
}

/// What the floor banner says instead of UNREACHABLE's own description ("The service
/// did not answer …") when no service answered at all.
pub const NONE_ANSWERED: &str = "No service answered its status endpoint";

/// The floor banner's reason: as [`reason_text`], except that when `all_unreachable`
/// (every service in the inventory is UNREACHABLE) the UNREACHABLE code reads
/// [`NONE_ANSWERED`], plural, instead of one service's words.
pub fn floor_reason_text(
    state: State,
    codes: &[ReasonCode],
    fallback: &str,
    all_unreachable: bool,
) -> String {
    if !all_unreachable || !codes.contains(&ReasonCode::Unreachable) {
        return reason_text(state, codes, fallback);
    }
    let words: Vec<&str> = codes
        .iter()
        .map(|c| match c {
            ReasonCode::Unreachable => NONE_ANSWERED,
            other => other.description(),
        })
        .collect();
    words.join("; ")
}

/// A runbook line as plain text for one service: the table's markdown backticks
/// dropped, and the contract's default `/ops/status` replaced by the path this
/// service is polled at (`status_path`), so the hint names the service's own URL.
pub fn hint(runbook: &str, status_path: &str) -> String {
    runbook.replace('`', "").replace("/ops/status", status_path)
}

/// The group heading for a kind, and its position on the page (the seed's order:
/// marketdata, strategy, execution, ingest, then the others).
pub fn group(kind: ServiceKind) -> (usize, &'static str) {
    match kind {
        ServiceKind::Marketdata => (0, "Market data"),
        ServiceKind::Strategy => (1, "Strategies"),
        ServiceKind::Execution => (2, "Execution"),
        ServiceKind::Ingest => (3, "Ingest"),
        ServiceKind::Ops => (4, "Operations"),
        ServiceKind::Floor => (5, "Floors"),
        _ => (6, "Other services"),
    }
}

/// A duration in calm, coarse words: `42 s`, `7 min`, `3 h 05 min`, `2 d 4 h`.
pub fn span(seconds: i64) -> String {
    let s = seconds.max(0);
    if s < 60 {
        format!("{s} s")
    } else if s < 3_600 {
        format!("{} min", s / 60)
    } else if s < 86_400 {
        format!("{} h {:02} min", s / 3_600, (s % 3_600) / 60)
    } else {
        format!("{} d {} h", s / 86_400, (s % 86_400) / 3_600)
    }
}

/// A countdown to the second: `4 min 05 s`, `5 h 29 min 59 s`, `2 d 17 h 30 min`.
pub fn countdown(seconds: i64) -> String {
    let s = seconds.max(0);
    let (d, h, m, sec) = (s / 86_400, (s % 86_400) / 3_600, (s % 3_600) / 60, s % 60);
    if d > 0 {
        format!("{d} d {h} h {m:02} min")
    } else if h > 0 {
        format!("{h} h {m:02} min {sec:02} s")
    } else {
        format!("{m} min {sec:02} s")
    }
}

/// How long ago: `just now`, `4 s ago`, `3 min ago`.
pub fn ago(seconds: i64) -> String {
    if seconds < 1 {
        "just now".to_owned()
    } else {
        format!("{} ago", span(seconds))
    }
}

/// Milliseconds with one decimal: `12.3 ms`; `–` when unknown.
pub fn millis(ms: Option<f64>) -> String {
    match ms {
        Some(ms) if ms.is_finite() => format!("{ms:.1} ms"),
        _ => "–".to_owned(),
    }
}

/// Seconds with one decimal: `1.5 s`; `–` when unknown.
pub fn seconds(s: Option<f64>) -> String {
    match s {
        Some(s) if s.is_finite() => format!("{s:.1} s"),
        _ => "–".to_owned(),
    }
}

/// A share as a percentage with one decimal: `99.5%`.
pub fn percent(share: f64) -> String {
    format!("{:.1}%", (share * 100.0).clamp(0.0, 100.0))
}

/// `Yes` or `No`.
pub fn yes_no(b: bool) -> &'static str {
    if b { "Yes" } else { "No" }
}

/// A service name as one URL path segment: RFC 3986 unreserved characters are kept,
/// every other byte is percent-encoded.
pub fn path_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The service page's URL for `name`.
pub fn service_href(name: &str) -> String {
    format!("/services/{}", path_segment(name))
}

/// Escapes text for HTML and SVG (text and quoted attributes), for markup built in
/// Rust, with the same numeric references the templates use.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&#38;"),
            '<' => out.push_str("&#60;"),
            '>' => out.push_str("&#62;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The vocabulary the script needs to describe states exactly as the server does:
/// every look, the calm note, and every reason code's description. JSON, safe to
/// place inside a `<script type="application/json">` element.
pub fn vocabulary_json() -> String {
    let mut states = serde_json::Map::new();
    for state in State::ALL {
        let l = look(state, &[]);
        states.insert(
            state.as_str().to_owned(),
            serde_json::json!({ "class": l.class, "word": l.word }),
        );
    }
    let asleep = look(State::Offline, &[ReasonCode::ExecutionDisabled]);
    let mut reasons = serde_json::Map::new();
    for code in ReasonCode::ALL {
        reasons.insert(
            code.as_str().to_owned(),
            serde_json::Value::from(code.description()),
        );
    }
    let value = serde_json::json!({
        "states": states,
        "asleep": { "class": asleep.class, "word": asleep.word, "note": ASLEEP_NOTE },
        "reasons": reasons,
        "ok_service": OK_SERVICE,
        "ok_floor": OK_FLOOR,
        "none_answered": NONE_ANSWERED,
    });
    // `<` never appears unescaped, so no `</script>` can end the element early.
    value.to_string().replace('<', "\\u003c")
}

/// What a healthy service's reason cell says.
pub const OK_SERVICE: &str = "—";

/// What the banner says when the floor is OK.
pub const OK_FLOOR: &str = "Every service the floor depends on is working";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calm_looks() {
        assert_eq!(look(State::MarketClosed, &[]).class, "st-closed");
        let asleep = look(State::Offline, &[ReasonCode::ExecutionDisabled]);
        assert_eq!(asleep.class, "st-asleep");
        assert_eq!(
            reason_text(State::Offline, &[ReasonCode::ExecutionDisabled], ""),
            ASLEEP_NOTE
        );
        assert_eq!(
            look(State::Offline, &[ReasonCode::Unreachable]).class,
            "st-offline"
        );
        // Every state has a word, and no two states share a class.
        let mut classes: Vec<&str> = State::ALL.iter().map(|s| look(*s, &[]).class).collect();
        classes.push(asleep.class);
        classes.sort_unstable();
        classes.dedup();
        assert_eq!(classes.len(), 7);
    }

    #[test]
    fn durations_are_fixed_format() {
        assert_eq!(span(-3), "0 s");
        assert_eq!(span(59), "59 s");
        assert_eq!(span(61), "1 min");
        assert_eq!(span(3_600 + 5 * 60), "1 h 05 min");
        assert_eq!(span(2 * 86_400 + 4 * 3_600 + 5), "2 d 4 h");
        assert_eq!(countdown(65), "1 min 05 s");
        assert_eq!(countdown(5 * 3_600 + 29 * 60 + 59), "5 h 29 min 59 s");
        assert_eq!(
            countdown(2 * 86_400 + 17 * 3_600 + 30 * 60),
            "2 d 17 h 30 min"
        );
        assert_eq!(ago(0), "just now");
        assert_eq!(ago(12), "12 s ago");
        assert_eq!(millis(Some(12.345)), "12.3 ms");
        assert_eq!(millis(None), "–");
        assert_eq!(percent(0.9951), "99.5%");
    }

    #[test]
    fn names_are_encoded_and_escaped() {
        assert_eq!(service_href("a b/c<d>"), "/services/a%20b%2Fc%3Cd%3E");
        assert_eq!(path_segment("é"), "%C3%A9");
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;"
        );
    }

    #[test]
    fn the_floor_says_no_service_answered_when_none_did() {
        let codes = [ReasonCode::Unreachable];
        assert_eq!(
            floor_reason_text(State::Offline, &codes, OK_FLOOR, true),
            "No service answered its status endpoint"
        );
        assert_eq!(
            floor_reason_text(State::Offline, &codes, OK_FLOOR, false),
            ReasonCode::Unreachable.description()
        );
        assert_eq!(floor_reason_text(State::Ok, &[], OK_FLOOR, true), OK_FLOOR);
    }

    #[test]
    fn hints_are_text_and_name_the_services_own_path() {
        let runbook = ReasonCode::RequiredFieldsMissing
            .info()
            .map(|i| i.runbook)
            .expect("a known code");
        let h = hint(runbook, "/status/v2");
        assert!(!h.contains('`'), "{h}");
        assert!(
            h.contains("opsfloor validate on the service's /status/v2 output"),
            "{h}"
        );
        assert!(!h.contains("/ops/status"), "{h}");
    }

    #[test]
    fn the_vocabulary_cannot_close_its_script_element() {
        let json = vocabulary_json();
        assert!(!json.contains('<'));
        let value: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        assert_eq!(value["states"]["MARKET_CLOSED"]["class"], "st-closed");
        assert_eq!(value["asleep"]["note"], ASLEEP_NOTE);
        assert_eq!(
            value["reasons"]["KILL_SWITCH"],
            ReasonCode::KillSwitch.description()
        );
    }
}
