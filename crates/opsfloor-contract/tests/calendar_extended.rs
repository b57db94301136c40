//! Extended hours (`sessions = "extended"`): XNYS pre-market and after-hours,
//! 04:00 to 20:00 New York time on full trading days only.

use jiff::Timestamp;
use jiff::civil::date;
use opsfloor_contract::calendar::{ClosureOverride, Overrides, VenueOverrides};
use opsfloor_contract::{Calendar, CalendarError, Sessions};
use proptest::prelude::*;

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn extended() -> Calendar {
    Calendar::by_name_with("XNYS", Sessions::Extended, &Overrides::default()).expect("built")
}

#[test]
fn a_full_day_runs_from_four_to_twenty_new_york_time() {
    let cal = extended();
    assert_eq!(cal.name(), "XNYS extended");
    assert_eq!(cal.venue(), "XNYS");
    assert_eq!(cal.hours(), Sessions::Extended);
    // Wednesday 2026-01-07, EST (UTC-5): 04:00 = 09:00Z, 20:00 = 01:00Z the next day.
    assert!(!cal.is_open(ts("2026-01-07T08:59:59Z")).expect("in range"));
    assert!(cal.is_open(ts("2026-01-07T09:00:00Z")).expect("in range"));
    assert!(
        cal.is_open(ts("2026-01-07T14:00:00Z")).expect("in range"),
        "pre-market"
    );
    assert!(
        cal.is_open(ts("2026-01-07T22:00:00Z")).expect("in range"),
        "after-hours"
    );
    assert!(!cal.is_open(ts("2026-01-08T01:00:00Z")).expect("in range"));
    // The regular calendar is closed at both of those instants.
    let regular = Calendar::nyse();
    assert!(
        !regular
            .is_open(ts("2026-01-07T14:00:00Z"))
            .expect("in range")
    );
    assert!(
        !regular
            .is_open(ts("2026-01-07T22:00:00Z"))
            .expect("in range")
    );
    // Summer time (EDT, UTC-4): 04:00 = 08:00Z.
    assert!(cal.is_open(ts("2026-07-08T08:00:00Z")).expect("in range"));
    assert_eq!(
        cal.next_close(ts("2026-07-08T08:00:00Z"))
            .expect("in range"),
        Some(ts("2026-07-09T00:00:00Z"))
    );
}

#[test]
fn an_early_close_or_a_holiday_has_no_extended_hours() {
    let cal = extended();
    // The day after Thanksgiving 2026 (Friday 27 November) closes at 13:00.
    let day = cal
        .session_on(date(2026, 11, 27))
        .expect("in range")
        .expect("a session");
    assert!(day.early_close);
    assert_eq!(day.open, ts("2026-11-27T14:30:00Z"), "regular 09:30 open");
    assert_eq!(day.close, ts("2026-11-27T18:00:00Z"), "regular 13:00 close");
    // Thanksgiving itself is closed.
    assert_eq!(cal.session_on(date(2026, 11, 26)).expect("in range"), None);
}

#[test]
fn overrides_apply_to_the_extended_calendar_too() {
    let file = VenueOverrides::parse(
        "[[closures]]\ncalendar = \"XNYS\"\ndate = \"2026-01-07\"\nnote = \"Drill\"\n",
    )
    .expect("valid overrides");
    let cal = file.calendar("xnys extended").expect("known");
    assert_eq!(cal.name(), "XNYS extended");
    assert!(!cal.is_open(ts("2026-01-07T14:00:00Z")).expect("in range"));
    let direct = Calendar::by_name_with(
        "XNYS",
        Sessions::Extended,
        &Overrides {
            closures: vec![ClosureOverride {
                date: date(2026, 1, 7),
                note: None,
            }],
            ..Overrides::default()
        },
    )
    .expect("built");
    assert!(
        !direct
            .is_open(ts("2026-01-07T14:00:00Z"))
            .expect("in range")
    );
}

#[test]
fn a_venue_without_extended_hours_says_so() {
    let err = Calendar::by_name_with("XTKS", Sessions::Extended, &Overrides::default())
        .expect_err("XTKS has no extended hours");
    assert_eq!(err, CalendarError::NoExtendedHours("XTKS"));
    assert!(err.to_string().contains("XTKS"), "{err}");
    // The 24/7 calendar is the same either way.
    let always = Calendar::by_name_with("always-open", Sessions::Extended, &Overrides::default())
        .expect("24/7");
    assert_eq!(always.name(), "always-open");
    assert_eq!(Sessions::parse("EXTENDED"), Some(Sessions::Extended));
    assert_eq!(Sessions::parse("pre-market"), None);
}

proptest! {
    /// Every instant the regular session is open, the extended calendar is open too,
    /// and outside 04:00-20:00 New York time the extended calendar is closed.
    #[test]
    fn extended_hours_contain_the_regular_session(secs in 946_684_800i64..2_082_758_399) {
        let at = Timestamp::from_second(secs).expect("in range");
        let ext = extended();
        if Calendar::nyse().is_open(at).expect("in range") {
            prop_assert!(ext.is_open(at).expect("in range"));
        }
        let local = ext.time_zone().to_datetime(at).time();
        let inside = local >= jiff::civil::time(4, 0, 0, 0) && local < jiff::civil::time(20, 0, 0, 0);
        if !inside {
            prop_assert!(!ext.is_open(at).expect("in range"));
        }
    }
}
