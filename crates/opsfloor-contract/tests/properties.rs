//! Property tests: determinism, the priority order, and no panic on any input.

use jiff::Timestamp;
use opsfloor_contract::check::check_value;
use opsfloor_contract::{
    Calendar, Identity, Inputs, Observations, Rule, ServiceConfig, ServiceKind, State,
    build_document, evaluate, parse_document,
};
use proptest::prelude::*;
use serde_json::Value;

fn kind() -> impl Strategy<Value = ServiceKind> {
    prop::sample::select(ServiceKind::ALL.to_vec())
}

fn seconds() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        Just(None),
        (0.0f64..200.0).prop_map(Some),
        Just(Some(60.0)),
        Just(Some(f64::NAN)),
        Just(Some(f64::INFINITY)),
        any::<f64>().prop_map(Some),
    ]
}

prop_compose! {
    fn inputs()(
        service_kind in kind(),
        process_up in any::<bool>(),
        kill_switch in any::<bool>(),
        market_is_open in any::<bool>(),
        required_fields_present in any::<bool>(),
        heartbeat_age_seconds in seconds(),
        heartbeat_ttl_seconds in seconds(),
        marketdata_is_fresh in any::<Option<bool>>(),
        execution_enabled in any::<Option<bool>>(),
        execution_replicas in prop_oneof![Just(None), (-2i64..3).prop_map(Some), any::<i64>().prop_map(Some)],
    ) -> Inputs {
        Inputs {
            service_kind, process_up, kill_switch, market_is_open, required_fields_present,
            heartbeat_age_seconds, heartbeat_ttl_seconds, marketdata_is_fresh, execution_enabled, execution_replicas,
        }
    }
}

/// Each rule's condition on its own, written from the table in the issue rather
/// than from the implementation. "First match wins" means: the rule that fired
/// holds, and no earlier rule does.
fn holds(rule: Rule, i: &Inputs) -> bool {
    use ServiceKind::*;
    let k = i.service_kind;
    match rule {
        Rule::RequiredFieldsMissing => !i.required_fields_present,
        Rule::ExecutionDisabled => {
            k == Execution
                && (i.execution_enabled == Some(false)
                    || matches!(i.execution_replicas, Some(r) if r <= 0))
        }
        Rule::ProcessDown => !i.process_up,
        Rule::KillSwitch => i.kill_switch,
        Rule::MarketdataStale => i.market_is_open && i.marketdata_is_fresh == Some(false),
        Rule::MarketdataMissing => {
            i.market_is_open
                && i.marketdata_is_fresh.is_none()
                && matches!(k, Marketdata | Strategy | Execution)
        }
        Rule::HeartbeatStale => {
            matches!((i.heartbeat_age_seconds, i.heartbeat_ttl_seconds), (Some(a), Some(t)) if a > t)
        }
        Rule::MarketClosed => {
            !i.market_is_open && matches!(k, Marketdata | Strategy | Ingest | Execution)
        }
        Rule::Healthy => true,
    }
}

const RULES: [Rule; 9] = [
    Rule::RequiredFieldsMissing,
    Rule::ExecutionDisabled,
    Rule::ProcessDown,
    Rule::KillSwitch,
    Rule::MarketdataStale,
    Rule::MarketdataMissing,
    Rule::HeartbeatStale,
    Rule::MarketClosed,
    Rule::Healthy,
];

/// The seed example with fields removed, retyped or replaced at random.
fn mutated_seed() -> impl Strategy<Value = Value> {
    let seed: Value = serde_json::from_str(include_str!("data/seed-example.json")).expect("seed");
    let paths: Vec<Vec<&'static str>> = vec![
        vec!["service_name"],
        vec!["service_kind"],
        vec!["repo_id"],
        vec!["git_sha"],
        vec!["agent_identity"],
        vec!["agent_identity", "agent_name"],
        vec!["status"],
        vec!["status", "state"],
        vec!["status", "reason_codes"],
        vec!["status", "last_updated_utc"],
        vec!["heartbeat", "age_seconds"],
        vec!["heartbeat", "ttl_seconds"],
        vec!["marketdata"],
        vec!["marketdata", "is_fresh"],
        vec!["safety", "kill_switch"],
        vec!["safety", "gating_reasons"],
        vec!["endpoints", "healthz"],
    ];
    let replacement = prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        any::<bool>().prop_map(|b| Some(Value::Bool(b))),
        any::<i32>().prop_map(|n| Some(Value::from(n))),
        "[A-Z_a-z0-9 :.-]{0,24}".prop_map(|s| Some(Value::String(s))),
        Just(Some(Value::String("2026-01-07T12:00:00Z".into()))),
        Just(Some(Value::String("MARKET_CLOSED".into()))),
        Just(Some(Value::String("strategy".into()))),
        Just(Some(serde_json::json!(["KILL_SWITCH"]))),
        Just(Some(serde_json::json!({}))),
    ];
    prop::collection::vec((prop::sample::select(paths), replacement), 0..4).prop_map(move |edits| {
        let mut doc = seed.clone();
        for (path, value) in edits {
            let (last, parents) = path.split_last().expect("non-empty path");
            let mut target = &mut doc;
            for p in parents {
                target = &mut target[*p];
            }
            if let Some(obj) = target.as_object_mut() {
                match value {
                    None => {
                        obj.remove(*last);
                    }
                    Some(v) => {
                        obj.insert((*last).to_owned(), v);
                    }
                }
            }
        }
        doc
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn evaluate_is_deterministic_and_first_match_wins(i in inputs()) {
        let v = evaluate(&i);
        prop_assert_eq!(&v, &evaluate(&i));
        let position = RULES.iter().position(|r| *r == v.rule).expect("known rule");
        prop_assert!(holds(v.rule, &i), "rule {:?} fired but does not hold", v.rule);
        for earlier in &RULES[..position] {
            prop_assert!(!holds(*earlier, &i), "earlier rule {:?} holds but {:?} fired", earlier, v.rule);
        }
        // Every state but OK carries exactly one reason code; OK none.
        prop_assert_eq!(v.state == State::Ok, v.reason.is_none());
    }

    #[test]
    fn parsing_never_panics_on_any_text(text in ".{0,200}") {
        let _ = parse_document(&text);
    }

    #[test]
    fn the_fast_path_and_the_field_table_agree(doc in mutated_seed()) {
        let text = doc.to_string();
        let fast = parse_document(&text).expect("valid JSON");
        let walked = check_value(&doc);
        prop_assert_eq!(fast.is_valid(), walked.is_valid(), "{} {:?} {:?}", text, fast.problems, walked.problems);
        prop_assert_eq!(&fast.reported(), &walked.reported());
        // Deterministic: the same text gives the same result.
        prop_assert_eq!(&fast, &parse_document(&text).expect("valid JSON"));
    }

    #[test]
    fn built_documents_are_valid_and_round_trip(
        k in kind(),
        now_s in 631_170_000i64..2_240_000_000, // 1990-01-01 00:00 New York onward
        hb in prop::option::of(-100i64..1000),
        tick in prop::option::of(-100i64..1000),
        kill in any::<bool>(),
        replicas in prop::option::of(-1i64..3),
    ) {
        let now = Timestamp::from_second(now_s).expect("in range");
        let back = |s: i64| Timestamp::from_second(now_s - s).expect("in range");
        let config = ServiceConfig::new(Identity {
            service_name: "svc".into(), service_kind: k, repo_id: "r".into(), git_sha: None, build_id: None,
            agent_name: "svc".into(), agent_role: None, agent_mode: None,
        });
        let obs = Observations {
            last_heartbeat: hb.map(back), last_tick: tick.map(back), kill_switch: kill,
            execution_replicas: replicas, ..Observations::at(now)
        };
        let doc = build_document(&config, &obs, &Calendar::nyse()).expect("1990..2040 is in range");
        prop_assert!(doc.heartbeat.age_seconds.expect("age") >= 0.0);
        prop_assert_eq!(doc.status.state == State::Ok, doc.status.reason_codes.is_empty());
        prop_assert!(doc.status.reason_codes.len() <= 1);
        let bytes = doc.to_json_bytes();
        prop_assert_eq!(&bytes, &build_document(&config, &obs, &Calendar::nyse()).expect("ok").to_json_bytes());
        let received = parse_document(std::str::from_utf8(&bytes).expect("utf8")).expect("JSON");
        prop_assert!(received.is_valid(), "{:?}", received.problems);
        let back = received.document.expect("doc");
        prop_assert_eq!(back.to_json_bytes(), bytes);
    }

    #[test]
    fn calendar_answers_agree(s in 631_170_000i64..2_240_000_000) {
        let nyse = Calendar::nyse();
        let at = Timestamp::from_second(s).expect("in range");
        let open = nyse.is_open(at).expect("in range");
        let date = nyse.time_zone().to_datetime(at).date();
        let session = nyse.session_on(date).expect("in range");
        prop_assert_eq!(open, session.is_some_and(|x| x.contains(at)));
        if let Ok(Some(next)) = nyse.next_open(at) {
            prop_assert!(next > at);
            prop_assert!(nyse.is_open(next).expect("in range"));
        }
        if let Ok(Some(next)) = nyse.next_close(at) {
            prop_assert!(next > at);
            prop_assert!(!nyse.is_open(next).expect("in range"));
        }
    }
}
