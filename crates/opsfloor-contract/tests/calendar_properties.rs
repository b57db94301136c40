//! Property tests for every built-in calendar: the fast path (`is_open`, a binary
//! search over merged spans) agrees with the plain session list (`sessions`,
//! `Session::contains`) at every session's edges and at random instants.

use std::sync::OnceLock;

use jiff::{SignedDuration, Timestamp};
use opsfloor_contract::{Calendar, Session};
use proptest::prelude::*;

/// Every exchange calendar with its whole session list, built once.
fn calendars() -> &'static [(Calendar, Vec<Session>)] {
    static ALL: OnceLock<Vec<(Calendar, Vec<Session>)>> = OnceLock::new();
    ALL.get_or_init(|| {
        Calendar::builtins()
            .expect("built")
            .into_iter()
            .filter_map(|c| {
                let (first, last) = c.supported_dates()?;
                let sessions = c.sessions(first, last).expect("in range");
                Some((c, sessions))
            })
            .collect()
    })
}

/// The slow answer: is `at` inside any listed session (and outside its break)?
fn listed_open(sessions: &[Session], at: Timestamp) -> bool {
    // Sessions are sorted by date and so by open; a few may touch or follow
    // closely, so look at every session that opened by `at` and closes after it.
    let i = sessions.partition_point(|s| s.open <= at);
    sessions[..i].iter().rev().take(3).any(|s| s.contains(at))
}

fn second(t: Timestamp, n: i64) -> Timestamp {
    t.checked_add(SignedDuration::from_secs(n))
        .expect("in range")
}

fn check(calendar: &Calendar, sessions: &[Session], at: Timestamp) -> Result<(), TestCaseError> {
    let Ok(fast) = calendar.is_open(at) else {
        return Ok(()); // just outside the supported range
    };
    prop_assert_eq!(
        fast,
        listed_open(sessions, at),
        "{} at {}",
        calendar.name(),
        at
    );
    if let Ok(Some(next)) = calendar.next_open(at) {
        prop_assert!(next > at);
        prop_assert!(calendar.is_open(next).expect("in range"));
        prop_assert!(!calendar.is_open(second(next, -1)).expect("in range"));
    }
    if let Ok(Some(next)) = calendar.next_close(at) {
        prop_assert!(next > at);
        prop_assert!(!calendar.is_open(next).expect("in range"));
        prop_assert!(calendar.is_open(second(next, -1)).expect("in range"));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn is_open_agrees_at_every_edge(which in any::<prop::sample::Index>(), pick in any::<prop::sample::Index>()) {
        let (calendar, sessions) = which.get(calendars());
        let s = pick.get(sessions);
        let mut edges = vec![s.open, s.close];
        if let Some(b) = s.pause {
            edges.extend([b.start, b.end]);
        }
        for edge in edges {
            for at in [second(edge, -1), edge, second(edge, 1)] {
                check(calendar, sessions, at)?;
            }
        }
        prop_assert!(calendar.is_open(s.open).expect("in range"));
        prop_assert!(!calendar.is_open(s.close).expect("in range") || sessions.iter().any(|x| x.open == s.close));
    }

    #[test]
    fn is_open_agrees_at_random_instants(which in any::<prop::sample::Index>(), fraction in 0.0f64..1.0) {
        let (calendar, sessions) = which.get(calendars());
        let (first, last) = (sessions[0].open, sessions[sessions.len() - 1].close);
        let span = (last.as_second() - first.as_second()) as f64;
        let at = Timestamp::from_second(first.as_second() + (span * fraction) as i64).expect("in range");
        check(calendar, sessions, at)?;
    }
}

#[test]
fn the_always_open_calendar_is_open_everywhere() {
    let always = Calendar::always_open();
    for s in [0i64, 1_700_000_000, 4_000_000_000] {
        let at = Timestamp::from_second(s).expect("in range");
        assert!(always.is_open(at).expect("no range"));
    }
}
