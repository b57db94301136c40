//! Fuzz-like properties of the query parsers: arbitrary text never panics, every
//! error names a parameter and serialises to the API's JSON shape, and what is
//! accepted is exactly what the rules say.

use std::time::Duration;

use opsfloor_access::query::{MAX_WINDOW, Query, QueryError, parse_limit, parse_window};
use proptest::prelude::*;

const KNOWN: &[&str] = &["window", "limit", "since", "service"];

fn assert_json_error(e: &QueryError) -> Result<(), TestCaseError> {
    let json = serde_json::to_value(e.body()).expect("serialises");
    let message = e.to_string();
    prop_assert_eq!(json["error"].as_str(), Some(message.as_str()));
    prop_assert_eq!(json["parameter"].as_str(), Some(e.parameter.as_str()));
    prop_assert!(!e.parameter.is_empty());
    Ok(())
}

/// Query-ish text: names, values, escapes (valid or not), separators, multibyte.
fn query_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("window".to_owned()),
        Just("limit".to_owned()),
        Just("=".to_owned()),
        Just("&".to_owned()),
        Just("%".to_owned()),
        Just("%C3%A9".to_owned()),
        Just("%C3".to_owned()),
        Just("+".to_owned()),
        "[0-9]{1,12}".prop_map(|s| s),
        "[smhdé]".prop_map(|s| s),
        "%[0-9A-Fa-f]{2}".prop_map(|s| s),
        ".{0,6}".prop_map(|s| s),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn arbitrary_windows_never_panic(text in ".{0,24}") {
        match parse_window(&text) {
            Ok(d) => prop_assert!(d > Duration::ZERO && d <= MAX_WINDOW),
            Err(e) => {
                prop_assert_eq!(e.parameter.as_str(), "window");
                assert_json_error(&e)?;
            }
        }
    }

    #[test]
    fn windows_are_a_number_and_a_unit(n in 0u64..2_000_000_000, unit in prop::sample::select(vec!['s', 'm', 'h', 'd'])) {
        let per = match unit { 's' => 1, 'm' => 60, 'h' => 3600, _ => 86_400 };
        let seconds = n * per;
        let parsed = parse_window(&format!("{n}{unit}"));
        if n > 0 && seconds <= MAX_WINDOW.as_secs() {
            prop_assert_eq!(parsed, Ok(Duration::from_secs(seconds)));
        } else {
            prop_assert!(parsed.is_err());
        }
    }

    #[test]
    fn arbitrary_limits_never_panic(text in ".{0,24}", max in 1usize..10_000) {
        match parse_limit(&text, max) {
            Ok(n) => {
                prop_assert!((1..=max).contains(&n));
                prop_assert!(text.bytes().all(|b| b.is_ascii_digit()));
            }
            Err(e) => assert_json_error(&e)?,
        }
    }

    #[test]
    fn arbitrary_queries_never_panic(text in query_text()) {
        match Query::parse(&text, KNOWN) {
            Ok(q) => {
                // Accepted means: known names only, each once; the typed getters
                // answer values or errors, never panics.
                for name in KNOWN {
                    let _ = q.get(name);
                    if let Err(e) = q.window(name) { assert_json_error(&e)?; }
                    if let Err(e) = q.limit(name, 100) { assert_json_error(&e)?; }
                }
            }
            Err(e) => assert_json_error(&e)?,
        }
    }

    #[test]
    fn any_parameter_given_twice_is_refused(
        name in prop::sample::select(KNOWN.to_vec()),
        a in "[a-z0-9]{0,5}",
        b in "[a-z0-9]{0,5}",
        other in prop::sample::select(KNOWN.to_vec()),
    ) {
        let text = if other == name { format!("{name}={a}&{name}={b}") } else { format!("{name}={a}&{other}=1&{name}={b}") };
        let e = Query::parse(&text, KNOWN).expect_err("duplicate");
        prop_assert_eq!(e.parameter.as_str(), name);
        prop_assert!(e.message.contains("more than once"));
    }
}
