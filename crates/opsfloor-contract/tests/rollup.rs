//! The floor rollup, rule by rule, and its properties.

use opsfloor_contract::{Criticality, FloorRule, Member, ReasonCode, ServiceKind, State, rollup};
use proptest::prelude::*;

use Criticality::{Critical, Important, Optional};
use ServiceKind::{Execution, Ingest, Marketdata, Strategy};

fn code(state: State) -> Vec<ReasonCode> {
    match state {
        State::Ok => vec![],
        State::Degraded => vec![ReasonCode::MarketdataStale],
        State::Halted => vec![ReasonCode::MarketdataStale],
        State::MarketClosed => vec![ReasonCode::MarketClosed],
        State::Offline => vec![ReasonCode::Unreachable],
        State::Unknown => vec![ReasonCode::RequiredFieldsMissing],
    }
}

/// A floor described as (name, kind, criticality, expected_to_run, state, codes, kill_switch).
/// (name, kind, criticality, expected_to_run, state, codes, kill_switch)
type Row = (
    String,
    ServiceKind,
    Criticality,
    bool,
    State,
    Vec<ReasonCode>,
    bool,
);

struct Floor(Vec<Row>);

impl Floor {
    fn healthy(open: bool) -> Floor {
        let s = if open { State::Ok } else { State::MarketClosed };
        Floor(vec![
            ("md".into(), Marketdata, Critical, true, s, code(s), false),
            ("gamma".into(), Strategy, Critical, true, s, code(s), false),
            ("whale".into(), Strategy, Important, true, s, code(s), false),
            (
                "exec".into(),
                Execution,
                Critical,
                false,
                State::Offline,
                vec![ReasonCode::ExecutionDisabled],
                false,
            ),
            ("ingest".into(), Ingest, Optional, true, s, code(s), false),
        ])
    }

    fn set(mut self, name: &str, state: State) -> Floor {
        for m in &mut self.0 {
            if m.0 == name {
                m.4 = state;
                m.5 = code(state);
            }
        }
        self
    }

    fn kill(mut self, name: &str) -> Floor {
        for m in &mut self.0 {
            if m.0 == name {
                m.4 = State::Halted;
                m.5 = vec![ReasonCode::KillSwitch];
                m.6 = true;
            }
        }
        self
    }

    fn members(&self, open: bool) -> Vec<Member<'_>> {
        self.0
            .iter()
            .map(
                |(name, kind, criticality, expected, state, codes, kill)| Member {
                    name,
                    kind: *kind,
                    criticality: *criticality,
                    expected_to_run: *expected,
                    state: *state,
                    reason_codes: codes,
                    kill_switch: *kill,
                    market_open: open,
                },
            )
            .collect()
    }

    fn roll(&self, open: bool) -> (State, Vec<String>, FloorRule, Vec<String>) {
        let v = rollup(&self.members(open));
        (
            v.state,
            v.reason_codes
                .iter()
                .map(|c| c.as_str().to_owned())
                .collect(),
            v.rule,
            v.contributors,
        )
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn rule_1_no_services() {
    let v = rollup(&[]);
    assert_eq!((v.state, v.rule), (State::Unknown, FloorRule::NoServices));
    assert_eq!(v.reason_codes, [ReasonCode::NoServices]);
}

#[test]
fn rule_2_everything_expected_is_offline() {
    let f = Floor::healthy(true)
        .set("md", State::Offline)
        .set("gamma", State::Offline)
        .set("whale", State::Offline);
    // The optional ingest job still runs: not everything is offline.
    assert_eq!(f.roll(true).2, FloorRule::Halted);
    let f = f.set("ingest", State::Offline);
    assert_eq!(
        f.roll(true),
        (
            State::Offline,
            strings(&["UNREACHABLE"]),
            FloorRule::AllOffline,
            strings(&["gamma", "ingest", "md", "whale"])
        )
    );
}

#[test]
fn rule_3_a_kill_switch_anywhere_halts_even_an_optional_service() {
    let f = Floor::healthy(true).kill("ingest");
    assert_eq!(
        f.roll(true),
        (
            State::Halted,
            strings(&["KILL_SWITCH"]),
            FloorRule::KillSwitch,
            strings(&["ingest"])
        )
    );
    assert_eq!(
        Floor::healthy(false).kill("whale").roll(false).0,
        State::Halted,
        "also when closed"
    );
}

#[test]
fn rule_4_critical_halted_or_offline_while_open_or_all_strategies_halted() {
    let f = Floor::healthy(true).set("gamma", State::Halted);
    assert_eq!(
        f.roll(true),
        (
            State::Halted,
            strings(&["MARKETDATA_STALE"]),
            FloorRule::Halted,
            strings(&["gamma"])
        )
    );
    let f = Floor::healthy(true).set("md", State::Offline);
    assert_eq!(
        f.roll(true),
        (
            State::Halted,
            strings(&["UNREACHABLE"]),
            FloorRule::Halted,
            strings(&["md"])
        )
    );
    // Closed: a critical service offline only degrades.
    let f = Floor::healthy(false).set("md", State::Offline);
    assert_eq!(f.roll(false).0, State::Degraded);
    // The only important strategy halted: degraded; both strategies halted: halted.
    let f = Floor::healthy(true).set("whale", State::Halted);
    assert_eq!(f.roll(true).0, State::Degraded);
    let mut f = Floor::healthy(true).set("whale", State::Halted);
    f.0.retain(|m| m.0 != "gamma");
    assert_eq!(
        f.roll(true),
        (
            State::Halted,
            strings(&["MARKETDATA_STALE"]),
            FloorRule::Halted,
            strings(&["whale"])
        )
    );
}

#[test]
fn execution_scaled_to_zero_never_degrades_the_floor() {
    assert_eq!(
        Floor::healthy(true).roll(true),
        (State::Ok, vec![], FloorRule::Healthy, vec![])
    );
    assert_eq!(Floor::healthy(false).roll(false).0, State::MarketClosed);
    // Expected to run but reporting EXECUTION_DISABLED itself: calm too.
    let mut f = Floor::healthy(true);
    f.0[3].3 = true;
    assert_eq!(f.roll(true).0, State::Ok);
    // Expected to run and unreachable: that halts the floor while the market is open.
    f.0[3].5 = vec![ReasonCode::Unreachable];
    assert_eq!(f.roll(true).3, strings(&["exec"]));
}

#[test]
fn rule_5_critical_unknown() {
    let f = Floor::healthy(true)
        .set("md", State::Unknown)
        .set("whale", State::Degraded);
    assert_eq!(
        f.roll(true),
        (
            State::Unknown,
            strings(&["REQUIRED_FIELDS_MISSING"]),
            FloorRule::CriticalUnknown,
            strings(&["md"])
        )
    );
}

#[test]
fn rule_6_degraded_by_critical_or_important() {
    let f = Floor::healthy(true)
        .set("md", State::Degraded)
        .set("whale", State::Unknown);
    assert_eq!(
        f.roll(true),
        (
            State::Degraded,
            strings(&["REQUIRED_FIELDS_MISSING", "MARKETDATA_STALE"]),
            FloorRule::Degraded,
            strings(&["md", "whale"])
        )
    );
    let f = Floor::healthy(true).set("whale", State::Offline);
    assert_eq!(f.roll(true).0, State::Degraded);
}

#[test]
fn optional_services_never_change_the_state_otherwise() {
    for state in State::ALL {
        let f = Floor::healthy(true).set("ingest", state);
        assert_eq!(f.roll(true).0, State::Ok, "ingest {state}");
    }
}

#[test]
fn rule_7_market_closed() {
    assert_eq!(
        Floor::healthy(false).roll(false),
        (
            State::MarketClosed,
            strings(&["MARKET_CLOSED"]),
            FloorRule::MarketClosed,
            vec![]
        )
    );
}

fn any_state() -> impl proptest::strategy::Strategy<Value = State> {
    prop::sample::select(State::ALL.to_vec())
}

proptest! {
    #[test]
    fn deterministic_and_independent_of_order(
        states in prop::collection::vec((any_state(), any::<bool>(), any::<bool>(), 0usize..3, 0usize..4), 0..8),
        open in any::<bool>(),
    ) {
        let kinds = [Marketdata, Strategy, Execution, Ingest];
        let crits = [Critical, Important, Optional];
        let floor = Floor(states.iter().enumerate().map(|(i, (s, expected, kill, c, k))| {
            (format!("svc-{i}"), kinds[*k], crits[*c], *expected, *s, code(*s), *kill)
        }).collect());
        let a = rollup(&floor.members(open));
        let mut reversed = floor.members(open);
        reversed.reverse();
        let b = rollup(&reversed);
        prop_assert_eq!(&a, &b);
        // OK carries no code; every other state at least one.
        prop_assert_eq!(a.state == State::Ok, a.reason_codes.is_empty());
        // Codes are sorted and unique.
        let mut sorted = a.reason_codes.clone();
        sorted.sort();
        sorted.dedup();
        prop_assert_eq!(&sorted, &a.reason_codes);
    }
}

/// Members with their own venues' markets: `(name, criticality, state, codes, market_open)`.
fn venue_members<'a>(
    rows: &'a [(String, Criticality, State, Vec<ReasonCode>, bool)],
) -> Vec<Member<'a>> {
    rows.iter()
        .map(|(name, criticality, state, codes, open)| Member {
            name,
            kind: Strategy,
            criticality: *criticality,
            expected_to_run: true,
            state: *state,
            reason_codes: codes,
            kill_switch: false,
            market_open: *open,
        })
        .collect()
}

#[test]
fn a_critical_service_offline_halts_only_while_its_own_market_is_open() {
    let ny = ("ny".to_owned(), Critical, State::Ok, vec![], true);
    let tokyo_offline = (
        "tokyo".to_owned(),
        Critical,
        State::Offline,
        vec![ReasonCode::Unreachable],
        false,
    );
    let rows = [ny.clone(), tokyo_offline.clone()];
    let v = rollup(&venue_members(&rows));
    assert_eq!((v.state, v.rule), (State::Degraded, FloorRule::Degraded));
    assert_eq!(v.contributors, ["tokyo"]);

    let mut open_tokyo = tokyo_offline;
    open_tokyo.4 = true;
    let v = rollup(&venue_members(&[ny, open_tokyo]));
    assert_eq!((v.state, v.rule), (State::Halted, FloorRule::Halted));
}

#[test]
fn market_closed_only_when_every_venue_is_closed() {
    let ny = (
        "ny".to_owned(),
        Important,
        State::MarketClosed,
        vec![ReasonCode::MarketClosed],
        false,
    );
    let crypto = ("crypto".to_owned(), Important, State::Ok, vec![], true);
    let v = rollup(&venue_members(&[ny.clone(), crypto.clone()]));
    assert_eq!(v.state, State::Ok);
    let mut closed = crypto;
    closed.4 = false;
    let v = rollup(&venue_members(&[ny, closed]));
    assert_eq!(
        (v.state, v.rule),
        (State::MarketClosed, FloorRule::MarketClosed)
    );
}

proptest! {
    #[test]
    fn each_service_is_judged_by_its_own_market(
        rows in prop::collection::vec((any_state(), 0usize..3, any::<bool>()), 1..8),
    ) {
        let crits = [Critical, Important, Optional];
        let rows: Vec<_> = rows.iter().enumerate().map(|(i, (s, c, open))| {
            (format!("svc-{i}"), crits[*c], *s, code(*s), *open)
        }).collect();
        let v = rollup(&venue_members(&rows));
        // MARKET_CLOSED means every venue is closed; any open venue rules it out.
        if v.state == State::MarketClosed {
            prop_assert!(rows.iter().all(|r| !r.4));
        }
        // A HALTED floor without a halted critical service or all strategies halted
        // came from a critical service offline on an open market.
        let offline_open_critical = rows.iter().any(|r| r.1 == Critical && r.2 == State::Offline && r.4);
        let halted_critical = rows.iter().any(|r| r.1 == Critical && r.2 == State::Halted);
        let non_optional: Vec<_> = rows.iter().filter(|r| r.1 != Optional).collect();
        let all_halted = !non_optional.is_empty() && non_optional.iter().all(|r| r.2 == State::Halted);
        let all_offline = rows.iter().all(|r| r.2 == State::Offline);
        if v.rule == FloorRule::Halted {
            prop_assert!(offline_open_critical || halted_critical || all_halted);
        }
        if offline_open_critical && !all_offline {
            prop_assert_eq!(v.state, State::Halted);
        }
    }
}
