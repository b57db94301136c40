//! A mixed desk: New York equities, a Tokyo strategy and an always-open crypto
//! feed, each judged by its own venue.

use jiff::Timestamp;
use opsfloor_contract::{Calendar, ReasonCode, State};
use opsfloor_engine::view::FloorView;
use opsfloor_engine::{FloorState, Outcome};
use opsfloor_inventory::{Format, Inventory};

fn inventory(crypto_enabled: bool) -> Inventory {
    let text = format!(
        "[floor]\ncalendar = \"nyse\"\n\n\
         [[services]]\nname = \"ny-md\"\nkind = \"marketdata\"\nurl = \"http://10.0.0.1\"\ncriticality = \"critical\"\n\n\
         [[services]]\nname = \"tokyo-strat\"\nkind = \"strategy\"\nurl = \"http://10.0.0.2\"\ncriticality = \"critical\"\ncalendar = \"XTKS\"\n\n\
         [[services]]\nname = \"crypto-md\"\nkind = \"marketdata\"\nurl = \"http://10.0.0.3\"\ncalendar = \"always-open\"\nenabled = {crypto_enabled}\n"
    );
    opsfloor_inventory::parse(&text, "desk.toml".as_ref(), Format::Toml).expect("inventory")
}

fn at(s: &str) -> Timestamp {
    s.parse().expect("instant")
}

/// A market-data service's document at `now`, reporting `state` with fresh data.
fn marketdata(name: &str, state: State, now: Timestamp) -> Option<Outcome> {
    document(name, "marketdata", state, now)
}

/// A document of `kind` at `now`, reporting `state` with fresh data.
fn document(name: &str, kind: &str, state: State, now: Timestamp) -> Option<Outcome> {
    let now = opsfloor_contract::time::format_timestamp(now);
    let codes = if state == State::MarketClosed {
        r#"["MARKET_CLOSED"]"#
    } else {
        "[]"
    };
    let text = format!(
        r#"{{"service_name":"{name}","service_kind":"{kind}","repo_id":"desk/md","git_sha":"abc123","build_id":null,
        "agent_identity":{{"agent_name":"{name}","agent_role":"{kind}","agent_mode":"LIVE"}},
        "status":{{"state":"{state}","summary":"x","reason_codes":{codes},"last_updated_utc":"{now}"}},
        "heartbeat":{{"last_heartbeat_utc":"{now}","age_seconds":0,"ttl_seconds":30}},
        "marketdata":{{"last_tick_utc":"{now}","last_bar_utc":null,"stale_threshold_seconds":30,"is_fresh":true}},
        "safety":{{"kill_switch":false,"safe_to_run_strategies":true,"safe_to_execute_orders":false,"gating_reasons":[]}},
        "endpoints":{{"healthz":"/health","heartbeat":null,"metrics":null}}}}"#,
        state = state.as_str()
    );
    let received = opsfloor_contract::parse_document(&text).expect("document");
    assert!(received.problems.is_empty(), "{:?}", received.problems);
    Some(Outcome::Document {
        received: Box::new(received),
        raw: text.into(),
    })
}

fn offline() -> Option<Outcome> {
    Some(Outcome::NoAnswer {
        error: "connection refused".into(),
    })
}

#[test]
fn a_tokyo_strategy_offline_at_15_utc_does_not_halt_a_new_york_floor() {
    let now = at("2026-01-07T15:00:00Z"); // New York open, Tokyo closed
    let outcomes = [
        ("ny-md".to_owned(), marketdata("ny-md", State::Ok, now)),
        ("tokyo-strat".to_owned(), offline()),
        (
            "crypto-md".to_owned(),
            marketdata("crypto-md", State::Ok, now),
        ),
    ];
    let floor = FloorState::evaluate(inventory(true), Calendar::nyse(), outcomes, now);
    assert_eq!(floor.verdict.state, State::Degraded, "{:?}", floor.verdict);
    assert_eq!(floor.verdict.contributors, ["tokyo-strat"]);

    // Once Tokyo opens (00:00 UTC), the same outage halts the floor.
    let tokyo_open = at("2026-01-08T01:00:00Z");
    let outcomes = [
        (
            "ny-md".to_owned(),
            marketdata("ny-md", State::MarketClosed, tokyo_open),
        ),
        ("tokyo-strat".to_owned(), offline()),
        (
            "crypto-md".to_owned(),
            marketdata("crypto-md", State::Ok, tokyo_open),
        ),
    ];
    let floor = FloorState::evaluate(inventory(true), Calendar::nyse(), outcomes, tokyo_open);
    assert_eq!(floor.verdict.state, State::Halted, "{:?}", floor.verdict);
}

#[test]
fn an_always_open_feed_is_no_state_mismatch_in_the_new_york_evening() {
    let evening = at("2026-01-07T23:00:00Z"); // New York and Tokyo closed
    let outcomes = [
        (
            "ny-md".to_owned(),
            marketdata("ny-md", State::MarketClosed, evening),
        ),
        ("tokyo-strat".to_owned(), None),
        (
            "crypto-md".to_owned(),
            marketdata("crypto-md", State::Ok, evening),
        ),
    ];
    let floor = FloorState::evaluate(inventory(true), Calendar::nyse(), outcomes, evening);
    let crypto = floor.service("crypto-md").expect("tracked");
    assert_eq!(crypto.state, State::Ok);
    assert!(!crypto.reason_codes.contains(&ReasonCode::StateMismatch));
    let ny = floor.service("ny-md").expect("tracked");
    assert_eq!(ny.state, State::MarketClosed);
    assert_eq!(floor.service_calendar("crypto-md").name(), "always-open");
    assert_eq!(floor.service_calendar("ny-md").name(), "XNYS");
}

#[test]
fn market_closed_only_when_every_expected_venue_is_closed() {
    let evening = at("2026-01-07T23:00:00Z");
    let outcomes = |state| {
        [
            (
                "ny-md".to_owned(),
                marketdata("ny-md", State::MarketClosed, evening),
            ),
            ("tokyo-strat".to_owned(), None),
            (
                "crypto-md".to_owned(),
                marketdata("crypto-md", state, evening),
            ),
        ]
    };
    // The crypto feed's venue is open: the floor is not MARKET_CLOSED.
    let floor = FloorState::evaluate(
        inventory(true),
        Calendar::nyse(),
        outcomes(State::Ok),
        evening,
    );
    assert_ne!(
        floor.verdict.state,
        State::MarketClosed,
        "{:?}",
        floor.verdict
    );
    let view = FloorView::of(&floor, evening);
    let venues: Vec<(&str, Option<bool>)> = view
        .market
        .venues
        .iter()
        .map(|v| (v.calendar, v.is_open))
        .collect();
    assert_eq!(
        venues,
        [
            ("XNYS", Some(false)),
            ("XTKS", Some(false)),
            ("always-open", Some(true))
        ]
    );
    assert_eq!(
        view.market.venues[1].next_open_utc.as_deref(),
        Some("2026-01-08T00:00:00Z")
    );
    assert_eq!(view.market.venues[2].next_close_utc, None);

    // With the crypto feed disabled, every venue expected to run is closed.
    let mut closed = outcomes(State::Ok);
    closed[1].1 = document("tokyo-strat", "strategy", State::MarketClosed, evening);
    let floor = FloorState::evaluate(inventory(false), Calendar::nyse(), closed, evening);
    assert_eq!(
        floor.verdict.state,
        State::MarketClosed,
        "{:?}",
        floor.verdict
    );
}

/// An ops service's OK document (its state does not follow market hours).
fn ops_ok(name: &str) -> Option<Outcome> {
    let text = format!(
        r#"{{"service_name":"{name}","service_kind":"ops","repo_id":"desk/ops","git_sha":"abc123","build_id":null,
        "agent_identity":{{"agent_name":"{name}","agent_role":"ops","agent_mode":"WATCH"}},
        "status":{{"state":"OK","summary":"Healthy","reason_codes":[],"last_updated_utc":"2026-01-07T14:30:00Z"}},
        "heartbeat":{{"last_heartbeat_utc":null,"age_seconds":null,"ttl_seconds":null}},
        "marketdata":null,
        "safety":{{"kill_switch":false,"safe_to_run_strategies":true,"safe_to_execute_orders":false,"gating_reasons":[]}},
        "endpoints":{{"healthz":"/health","heartbeat":null,"metrics":null}}}}"#
    );
    let received = opsfloor_contract::parse_document(&text).expect("document");
    Some(Outcome::Document {
        received: Box::new(received),
        raw: text.into(),
    })
}

const VENUES: [&str; 5] = ["XNYS", "XTKS", "XLON", "CMES", "always-open"];

proptest::proptest! {
    /// Healthy services on any mix of venues, at any instant of a year: the floor is
    /// MARKET_CLOSED exactly when every venue is closed, else OK, and
    /// `market.venues` lists each venue with its own calendar's answer.
    #[test]
    fn market_closed_exactly_when_every_venue_is_closed(
        picks in proptest::collection::vec(0usize..VENUES.len(), 1..6),
        second in 1_767_225_600i64..1_798_761_600, // 2026
    ) {
        let now = Timestamp::from_second(second).expect("instant");
        let mut text = String::from("[floor]\ncalendar = \"XNYS\"\n");
        for (i, v) in picks.iter().enumerate() {
            text.push_str(&format!(
                "\n[[services]]\nname = \"svc-{i}\"\nkind = \"ops\"\nurl = \"http://10.0.0.{}\"\ncalendar = \"{}\"\n",
                i + 1,
                VENUES[*v]
            ));
        }
        let inventory = opsfloor_inventory::parse(&text, "p.toml".as_ref(), Format::Toml).expect("inventory");
        let outcomes = (0..picks.len()).map(|i| (format!("svc-{i}"), ops_ok(&format!("svc-{i}"))));
        let floor = FloorState::evaluate(inventory, Calendar::nyse(), outcomes, now);
        let open = |name: &str| {
            Calendar::by_name(name, &Default::default()).expect("calendar").is_open(now).expect("in range")
        };
        let any_open = picks.iter().any(|v| open(VENUES[*v]));
        let want = if any_open { State::Ok } else { State::MarketClosed };
        proptest::prop_assert_eq!(floor.verdict.state, want, "{:?}", floor.verdict);
        let view = FloorView::of(&floor, now);
        for v in &view.market.venues {
            proptest::prop_assert_eq!(v.is_open, Some(open(v.calendar)));
        }
        let mut names: Vec<&str> = picks.iter().map(|v| VENUES[*v]).collect();
        names.sort_unstable();
        names.dedup();
        let listed: Vec<&str> = view.market.venues.iter().map(|v| v.calendar).collect();
        proptest::prop_assert_eq!(listed, names);
    }
}
