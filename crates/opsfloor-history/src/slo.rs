//! SLO arithmetic: how a subject's market hours split by state. Pure: no database.
//!
//! For one subject, the counted time is `[window_start, now)` intersected with the
//! market sessions (each `[open, close)`), and, of that, only the time from the
//! subject's first known transition on. Each counted instant belongs to the state in
//! force then: that of the latest transition at or before it (transitions at the
//! same instant: the last one given wins). Durations are summed in integer
//! nanoseconds and divided once, so the shares of a subject sum to 1 up to rounding.
//!
//! Time in a state whose reason codes include `EXECUTION_DISABLED` (an execution
//! agent scaled to zero on purpose) is expected: it is its own share,
//! `offline_expected`, and counts neither in any state's share nor against
//! `availability`, the share of the remaining (counted) time in `OK` or
//! `MARKET_CLOSED`.

use std::collections::BTreeMap;

use jiff::Timestamp;
use opsfloor_contract::{ReasonCode, Session, State};

use crate::{Change, SloRow, Subject};

const NANOS_PER_MINUTE: f64 = 60e9;

/// One subject's SLO row from its transitions and the market sessions.
///
/// `changes` are the subject's transitions, in insertion order
/// (they are sorted by instant here, stably, so equal instants keep that order); to
/// know the state at `window_start` they must include the latest transition at or
/// before it. `sessions` may be in any order and may overlap. An empty or inverted
/// window counts nothing. See the module documentation for the exact semantics.
pub fn slo_row(
    subject: Subject,
    window_start: Timestamp,
    now: Timestamp,
    sessions: &[Session],
    changes: &[Change],
) -> SloRow {
    slo_row_excluding(subject, window_start, now, sessions, changes, &[])
}

/// As [`slo_row`], leaving out the `excluded` stretches (`[start, end)`, in any
/// order, possibly overlapping): the subject's maintenance windows, which count in
/// no share, not even in `market_minutes`.
pub fn slo_row_excluding(
    subject: Subject,
    window_start: Timestamp,
    now: Timestamp,
    sessions: &[Session],
    changes: &[Change],
    excluded: &[(Timestamp, Timestamp)],
) -> SloRow {
    let (start, end) = (window_start.as_nanosecond(), now.as_nanosecond());
    let open = subtract(market_intervals(start, end, sessions), excluded);
    // `None`: expected offline time (EXECUTION_DISABLED).
    let mut changes: Vec<(i128, Option<State>)> = changes
        .iter()
        .map(|c| {
            let expected = c.reason_codes.contains(&ReasonCode::ExecutionDisabled);
            (c.at.as_nanosecond(), (!expected).then_some(c.state))
        })
        .collect();
    changes.sort_by_key(|&(at, _)| at);

    let mut nanos: BTreeMap<Option<State>, i128> = BTreeMap::new();
    let mut first_open = 0;
    for (i, &(at, state)) in changes.iter().enumerate() {
        let next = changes.get(i + 1).map_or(end, |&(next, _)| next);
        let (lo, hi) = (at.max(start), next.min(end));
        if lo >= hi {
            continue;
        }
        // Segments come in time order, so sessions ending by `lo` are done for good.
        while open.get(first_open).is_some_and(|&(_, close)| close <= lo) {
            first_open += 1;
        }
        for &(o, c) in open[first_open..].iter().take_while(|&&(o, _)| o < hi) {
            let overlap = c.min(hi) - o.max(lo);
            if overlap > 0 {
                *nanos.entry(state).or_default() += overlap;
            }
        }
    }

    let total: i128 = nanos.values().sum();
    let expected = nanos.remove(&None).unwrap_or(0);
    let fraction = |n: i128| {
        if total > 0 {
            n as f64 / total as f64
        } else {
            0.0
        }
    };
    let share = nanos
        .iter()
        .filter_map(|(state, &n)| Some(((*state)?, fraction(n))))
        .collect();
    let counted = total - expected;
    let up: i128 = [State::Ok, State::MarketClosed]
        .iter()
        .filter_map(|s| nanos.get(&Some(*s)))
        .sum();
    SloRow {
        subject,
        market_minutes: total as f64 / NANOS_PER_MINUTE,
        share,
        offline_expected: fraction(expected),
        availability: (counted > 0).then(|| up as f64 / counted as f64),
    }
}

/// The market's open time within `[start, end)`: sorted, disjoint `[open, close)`
/// intervals in Unix nanoseconds.
fn market_intervals(start: i128, end: i128, sessions: &[Session]) -> Vec<(i128, i128)> {
    let mut clipped: Vec<(i128, i128)> = sessions
        .iter()
        .map(|s| {
            (
                s.open.as_nanosecond().max(start),
                s.close.as_nanosecond().min(end),
            )
        })
        .filter(|&(o, c)| o < c)
        .collect();
    clipped.sort_unstable();
    let mut merged: Vec<(i128, i128)> = Vec::with_capacity(clipped.len());
    for (o, c) in clipped {
        match merged.last_mut() {
            Some(last) if o <= last.1 => last.1 = last.1.max(c),
            _ => merged.push((o, c)),
        }
    }
    merged
}

/// `open` (sorted, disjoint) without the `excluded` stretches: sorted, disjoint.
fn subtract(open: Vec<(i128, i128)>, excluded: &[(Timestamp, Timestamp)]) -> Vec<(i128, i128)> {
    if excluded.is_empty() {
        return open;
    }
    let mut cuts: Vec<(i128, i128)> = excluded
        .iter()
        .map(|(s, e)| (s.as_nanosecond(), e.as_nanosecond()))
        .filter(|(s, e)| s < e)
        .collect();
    cuts.sort_unstable();
    let mut out = Vec::with_capacity(open.len());
    for (mut o, c) in open {
        for &(cut_start, cut_end) in &cuts {
            if cut_end <= o || cut_start >= c {
                continue;
            }
            if cut_start > o {
                out.push((o, cut_start));
            }
            o = o.max(cut_end);
            if o >= c {
                break;
            }
        }
        if o < c {
            out.push((o, c));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use opsfloor_contract::Calendar;
    use proptest::prelude::*;

    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn nyse(from: &str, to: &str) -> Vec<Session> {
        Calendar::nyse()
            .sessions(from.parse().expect("date"), to.parse().expect("date"))
            .expect("sessions")
    }

    fn row(window: (&str, &str), sessions: &[Session], changes: &[(&str, State)]) -> SloRow {
        let changes: Vec<Change> = changes.iter().map(|&(t, s)| change(t, s)).collect();
        slo_row(
            Subject::Service("svc".into()),
            ts(window.0),
            ts(window.1),
            sessions,
            &changes,
        )
    }

    fn change(at: &str, state: State) -> Change {
        Change {
            at: ts(at),
            state,
            reason_codes: vec![],
        }
    }

    #[test]
    fn execution_disabled_is_expected_and_not_against_availability() {
        // 390 minutes: 60 OK, 270 scaled to zero (EXECUTION_DISABLED), 30 OFFLINE, 30 OK.
        let sessions = nyse("2026-01-07", "2026-01-07");
        let disabled = Change {
            reason_codes: vec![ReasonCode::ExecutionDisabled],
            ..change("2026-01-07T15:30:00Z", State::Offline)
        };
        let changes = [
            change("2026-01-07T14:30:00Z", State::Ok),
            disabled,
            change("2026-01-07T20:00:00Z", State::Offline),
            change("2026-01-07T20:30:00Z", State::Ok),
        ];
        let r = slo_row(
            Subject::Service("execution".into()),
            ts("2026-01-07T00:00:00Z"),
            ts("2026-01-08T00:00:00Z"),
            &sessions,
            &changes,
        );
        assert!(close(r.market_minutes, 390.0));
        assert!(close(r.offline_expected, 270.0 / 390.0));
        assert!(close(r.share[&State::Offline], 30.0 / 390.0));
        assert!(close(r.share[&State::Ok], 90.0 / 390.0));
        // Of the 120 counted minutes, 90 OK.
        assert!(close(r.availability.expect("counted time"), 90.0 / 120.0));

        // Only expected time: nothing counted, so no availability.
        let r = slo_row(
            Subject::Floor,
            ts("2026-01-07T00:00:00Z"),
            ts("2026-01-08T00:00:00Z"),
            &sessions,
            &changes[1..2],
        );
        assert!(close(r.offline_expected, 1.0));
        assert!(r.share.is_empty());
        assert_eq!(r.availability, None);
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn ok_all_session() {
        // Wednesday 2026-01-07: 09:30-16:00 EST = 14:30-21:00 UTC.
        let sessions = nyse("2026-01-07", "2026-01-07");
        let r = row(
            ("2026-01-07T00:00:00Z", "2026-01-08T00:00:00Z"),
            &sessions,
            &[("2026-01-06T22:00:00Z", State::Ok)],
        );
        assert!(close(r.market_minutes, 390.0), "{r:?}");
        assert_eq!(r.share, BTreeMap::from([(State::Ok, 1.0)]));
    }

    #[test]
    fn degraded_for_thirty_minutes_of_a_session() {
        let sessions = nyse("2026-01-07", "2026-01-07");
        let r = row(
            ("2026-01-07T00:00:00Z", "2026-01-08T00:00:00Z"),
            &sessions,
            &[
                ("2026-01-07T14:30:00Z", State::Ok),
                ("2026-01-07T17:00:00Z", State::Degraded),
                ("2026-01-07T17:30:00Z", State::Ok),
            ],
        );
        assert!(close(r.market_minutes, 390.0));
        assert!(close(r.share[&State::Degraded], 30.0 / 390.0));
        assert!(close(r.share[&State::Ok], 360.0 / 390.0));
    }

    #[test]
    fn transitions_while_closed_count_only_from_the_next_open() {
        let sessions = nyse("2026-01-07", "2026-01-08");
        let r = row(
            ("2026-01-07T00:00:00Z", "2026-01-09T00:00:00Z"),
            &sessions,
            &[
                ("2026-01-07T12:00:00Z", State::Ok),
                // Degraded for an hour overnight: never during market hours.
                ("2026-01-07T23:00:00Z", State::Degraded),
                ("2026-01-08T00:00:00Z", State::Ok),
                // After the last close in the window: no market time left.
                ("2026-01-08T22:00:00Z", State::MarketClosed),
            ],
        );
        assert!(close(r.market_minutes, 780.0));
        assert_eq!(r.share, BTreeMap::from([(State::Ok, 1.0)]));

        let r = row(
            ("2026-01-07T00:00:00Z", "2026-01-09T00:00:00Z"),
            &sessions,
            &[
                ("2026-01-07T12:00:00Z", State::Ok),
                // Halted overnight, still halted for the first hour of the next session.
                ("2026-01-07T23:00:00Z", State::Halted),
                ("2026-01-08T15:30:00Z", State::Ok),
            ],
        );
        assert!(close(r.share[&State::Halted], 60.0 / 780.0));
    }

    #[test]
    fn a_window_across_a_weekend_and_a_holiday() {
        // Friday 2026-01-16, then the weekend and Martin Luther King Jr. Day (Monday
        // 2026-01-19): the next session is Tuesday 2026-01-20.
        let sessions = nyse("2026-01-16", "2026-01-20");
        assert_eq!(sessions.len(), 2);
        let r = row(
            ("2026-01-16T00:00:00Z", "2026-01-21T00:00:00Z"),
            &sessions,
            &[
                ("2026-01-16T14:00:00Z", State::Ok),
                ("2026-01-17T12:00:00Z", State::Offline),
                ("2026-01-19T15:00:00Z", State::Degraded),
                ("2026-01-20T15:00:00Z", State::Ok),
            ],
        );
        assert!(close(r.market_minutes, 780.0));
        assert!(close(r.share[&State::Degraded], 30.0 / 780.0));
        assert!(close(r.share[&State::Ok], 750.0 / 780.0));
        assert!(!r.share.contains_key(&State::Offline));
    }

    #[test]
    fn an_early_close_day() {
        // Friday after Thanksgiving 2026: 09:30-13:00 EST = 14:30-18:00 UTC, 210 minutes.
        let sessions = nyse("2026-11-27", "2026-11-27");
        assert!(sessions[0].early_close);
        let r = row(
            ("2026-11-27T00:00:00Z", "2026-11-28T00:00:00Z"),
            &sessions,
            &[
                ("2026-11-27T14:00:00Z", State::Ok),
                ("2026-11-27T17:00:00Z", State::Degraded),
                // After the early close: not market time.
                ("2026-11-27T18:30:00Z", State::Halted),
            ],
        );
        assert!(close(r.market_minutes, 210.0));
        assert!(close(r.share[&State::Ok], 150.0 / 210.0));
        assert!(close(r.share[&State::Degraded], 60.0 / 210.0));
        assert!(!r.share.contains_key(&State::Halted));
    }

    #[test]
    fn time_before_the_first_transition_and_outside_the_window_is_not_counted() {
        let sessions = nyse("2026-01-07", "2026-01-07");
        let r = row(
            ("2026-01-07T00:00:00Z", "2026-01-08T00:00:00Z"),
            &sessions,
            &[("2026-01-07T15:00:00Z", State::Ok)],
        );
        assert!(close(r.market_minutes, 360.0));
        // The window ends mid-session, and the state set before it still counts.
        let r = row(
            ("2026-01-07T16:00:00Z", "2026-01-07T17:00:00Z"),
            &sessions,
            &[("2026-01-07T12:00:00Z", State::Degraded)],
        );
        assert!(close(r.market_minutes, 60.0));
        assert_eq!(r.share, BTreeMap::from([(State::Degraded, 1.0)]));
        // No transition yet, or an inverted window: nothing.
        let r = row(
            ("2026-01-07T00:00:00Z", "2026-01-08T00:00:00Z"),
            &sessions,
            &[],
        );
        assert_eq!((r.market_minutes, r.share.len()), (0.0, 0));
        let r = row(
            ("2026-01-08T00:00:00Z", "2026-01-07T00:00:00Z"),
            &sessions,
            &[("2026-01-07T12:00:00Z", State::Ok)],
        );
        assert_eq!((r.market_minutes, r.share.len()), (0.0, 0));
    }

    #[test]
    fn equal_instants_the_last_given_wins() {
        let sessions = nyse("2026-01-07", "2026-01-07");
        let r = row(
            ("2026-01-07T00:00:00Z", "2026-01-08T00:00:00Z"),
            &sessions,
            &[
                ("2026-01-07T16:00:00Z", State::Halted),
                ("2026-01-07T12:00:00Z", State::Ok),
                ("2026-01-07T16:00:00Z", State::Degraded),
            ],
        );
        assert!(close(r.share[&State::Degraded], 300.0 / 390.0));
        assert!(!r.share.contains_key(&State::Halted));
    }

    #[test]
    fn always_open_counts_whole_utc_days() {
        let sessions = Calendar::AlwaysOpen
            .sessions(date(2026, 1, 10), date(2026, 1, 11))
            .expect("sessions");
        let r = row(
            ("2026-01-10T06:00:00Z", "2026-01-11T18:00:00Z"),
            &sessions,
            &[("2026-01-01T00:00:00Z", State::Ok)],
        );
        assert!(close(r.market_minutes, 36.0 * 60.0));
    }

    #[test]
    fn a_maintenance_window_counts_in_no_share() {
        // Degraded from 17:00 to 18:00 UTC, inside a window from 16:30 to 18:30
        // (and one before the open, which takes nothing): 390 - 120 minutes counted,
        // every one of them OK.
        let sessions = nyse("2026-01-07", "2026-01-07");
        let changes = [
            change("2026-01-07T14:30:00Z", State::Ok),
            change("2026-01-07T17:00:00Z", State::Degraded),
            change("2026-01-07T18:00:00Z", State::Ok),
        ];
        let excluded = [
            (ts("2026-01-07T16:30:00Z"), ts("2026-01-07T18:30:00Z")),
            (ts("2026-01-07T08:00:00Z"), ts("2026-01-07T09:00:00Z")),
        ];
        let r = slo_row_excluding(
            Subject::Service("svc".into()),
            ts("2026-01-07T00:00:00Z"),
            ts("2026-01-08T00:00:00Z"),
            &sessions,
            &changes,
            &excluded,
        );
        assert!(close(r.market_minutes, 270.0), "{r:?}");
        assert_eq!(r.share, BTreeMap::from([(State::Ok, 1.0)]));
        assert_eq!(r.availability, Some(1.0));
    }

    #[test]
    fn subtracting_cuts_splits_and_keeps_order() {
        let at = |s: i64| Timestamp::from_second(s).expect("ts");
        let n = |s: i128| s * 1_000_000_000;
        let open = vec![(n(0), n(100)), (n(200), n(300))];
        let cuts = [(at(250), at(260)), (at(50), at(210)), (at(290), at(400))];
        assert_eq!(
            subtract(open, &cuts),
            [(n(0), n(50)), (n(210), n(250)), (n(260), n(290))]
        );
    }

    fn any_state() -> impl Strategy<Value = State> {
        proptest::sample::select(State::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn shares_sum_to_one(
            gaps in proptest::collection::vec((0i64..10_000, 1i64..10_000), 0..8),
            changes in proptest::collection::vec((-5_000i64..80_000, any_state(), any::<bool>()), 0..20),
            window in (-5_000i64..80_000, 0i64..80_000),
        ) {
            // Seconds from an arbitrary origin; sessions as (gap before, length).
            let origin = ts("2026-01-07T00:00:00Z").as_second();
            let at = |s: i64| Timestamp::from_second(origin + s).expect("in range");
            let mut cursor = 0;
            let sessions: Vec<Session> = gaps.iter().map(|&(gap, len)| {
                let open = cursor + gap;
                cursor = open + len;
                Session { date: date(2026, 1, 7), open: at(open), close: at(cursor), early_close: false, pause: None }
            }).collect();
            let changes: Vec<Change> = changes.iter().map(|&(s, st, expected)| Change {
                at: at(s),
                state: st,
                reason_codes: if expected { vec![ReasonCode::ExecutionDisabled] } else { vec![] },
            }).collect();
            let (start, end) = (at(window.0), at(window.0 + window.1));
            let r = slo_row(Subject::Floor, start, end, &sessions, &changes);
            prop_assert!(r.market_minutes >= 0.0);
            prop_assert!(r.market_minutes <= window.1 as f64 / 60.0 + 1e-9);
            if r.market_minutes > 0.0 {
                let sum: f64 = r.share.values().sum::<f64>() + r.offline_expected;
                prop_assert!((sum - 1.0).abs() <= 1e-9, "sum {sum}: {r:?}");
                prop_assert!(r.share.values().all(|&v| v > 0.0 && v <= 1.0));
                prop_assert_eq!(r.availability.is_some(), !r.share.is_empty());
            } else {
                prop_assert!(r.share.is_empty());
                prop_assert_eq!((r.offline_expected, r.availability), (0.0, None));
            }
            if let Some(a) = r.availability {
                prop_assert!((0.0..=1.0 + 1e-9).contains(&a));
            }
        }

        #[test]
        fn excluding_removes_exactly_the_overlap(
            sessions in proptest::collection::vec((0i64..10_000, 1i64..10_000), 1..6),
            cuts in proptest::collection::vec((0i64..40_000, 0i64..10_000), 0..5),
        ) {
            // Counted minutes without cuts, minus the cuts' union within the open
            // time, is the counted minutes with them; a second-resolution brute force.
            let origin = ts("2026-01-07T00:00:00Z").as_second();
            let at = |s: i64| Timestamp::from_second(origin + s).expect("in range");
            let mut cursor = 0;
            let sessions: Vec<Session> = sessions.iter().map(|&(gap, len)| {
                let open = cursor + gap;
                cursor = open + len;
                Session { date: date(2026, 1, 7), open: at(open), close: at(cursor), early_close: false, pause: None }
            }).collect();
            let cuts: Vec<(Timestamp, Timestamp)> =
                cuts.iter().map(|&(s, len)| (at(s), at(s + len))).collect();
            let changes = [Change { at: at(0), state: State::Ok, reason_codes: vec![] }];
            let (start, end) = (at(0), at(cursor));
            let r = slo_row_excluding(Subject::Floor, start, end, &sessions, &changes, &cuts);
            let open_seconds = (0..cursor)
                .filter(|&t| sessions.iter().any(|s| at(t) >= s.open && at(t) < s.close))
                .filter(|&t| !cuts.iter().any(|&(a, b)| at(t) >= a && at(t) < b))
                .count();
            prop_assert!((r.market_minutes - open_seconds as f64 / 60.0).abs() < 1e-6, "{r:?}");
        }
    }
}
