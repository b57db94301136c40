//! Every venue that is "matched exactly" against its independent session list
//! (`tests/data/<mic>-sessions.csv`, from `exchange_calendars` 4.13.2; see
//! `tests/data/README.md`), and CMES against its list with only the documented
//! differences.

use jiff::civil::date;
use opsfloor_contract::Calendar;
use opsfloor_contract::calendar::Overrides;
use opsfloor_contract::time::format_timestamp;

/// The calendar's sessions 2000–2035 in the reference's CSV format.
fn ours(name: &str) -> String {
    let calendar = Calendar::by_name(name, &Overrides::default()).expect("built-in");
    let sessions = calendar
        .sessions(date(2000, 1, 1), date(2035, 12, 31))
        .expect("in range");
    let mut out = String::from("date,open_utc,close_utc,break_start_utc,break_end_utc\n");
    for s in &sessions {
        let (bs, be) = match s.pause {
            Some(b) => (format_timestamp(b.start), format_timestamp(b.end)),
            None => (String::new(), String::new()),
        };
        out.push_str(&format!(
            "{},{},{},{bs},{be}\n",
            s.date,
            format_timestamp(s.open),
            format_timestamp(s.close)
        ));
    }
    out
}

/// The rows only in `a` and only in `b` (both sorted by date), as `-a` / `+b` lines.
fn differences(a: &str, b: &str) -> Vec<String> {
    let left: std::collections::BTreeSet<&str> = a.lines().collect();
    let right: std::collections::BTreeSet<&str> = b.lines().collect();
    let mut out: Vec<String> = left
        .difference(&right)
        .map(|l| format!("ours {l}"))
        .chain(right.difference(&left).map(|l| format!("list {l}")))
        .collect();
    out.sort_by(|x, y| x[5..].cmp(&y[5..]));
    out
}

fn assert_matches(name: &str, expected: &str) {
    let diff = differences(&ours(name), expected);
    assert!(
        diff.is_empty(),
        "{name}: {} rows differ from the reference; first:\n{}",
        diff.len(),
        diff.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn xnys_matches_2000_to_2035() {
    // The NYSE's own list has no break columns; derive the same rows from it.
    let nyse = include_str!("data/nyse-sessions.csv");
    let mut expected = String::from("date,open_utc,close_utc,break_start_utc,break_end_utc\n");
    for line in nyse.lines().skip(1) {
        let year: i32 = line[..4].parse().expect("year");
        if (2000..=2035).contains(&year) {
            expected.push_str(line);
            expected.push_str(",,\n");
        }
    }
    assert_matches("XNYS", &expected);
}

#[test]
fn xlon_matches_2000_to_2035() {
    assert_matches("XLON", include_str!("data/xlon-sessions.csv"));
}

#[test]
fn xetr_matches_2000_to_2035() {
    assert_matches("XETR", include_str!("data/xetr-sessions.csv"));
}

#[test]
fn xtks_matches_2000_to_2035() {
    assert_matches("XTKS", include_str!("data/xtks-sessions.csv"));
}

#[test]
fn xhkg_matches_2000_to_2035() {
    assert_matches("XHKG", include_str!("data/xhkg-sessions.csv"));
}

#[test]
fn xtse_matches_2000_to_2035() {
    assert_matches("XTSE", include_str!("data/xtse-sessions.csv"));
}

#[test]
fn xasx_matches_2000_to_2035() {
    assert_matches("XASX", include_str!("data/xasx-sessions.csv"));
}

/// One CMES day in a form both lists share: `date,open,close` with the close
/// given as local `HH:MM` Chicago time, or `date,closed`.
fn cme_days(csv: &str) -> std::collections::BTreeMap<String, String> {
    let tz = jiff::tz::TimeZone::get("America/Chicago").expect("zone");
    csv.lines()
        .skip(1)
        .map(|line| {
            let cols: Vec<&str> = line.split(',').collect();
            let local = |s: &str| {
                let t: jiff::Timestamp = s.parse().expect("instant");
                tz.to_datetime(t).strftime("%a %H:%M").to_string()
            };
            (
                cols[0].to_owned(),
                format!("{}-{}", local(cols[1]), local(cols[2])),
            )
        })
        .collect()
}

#[test]
fn cmes_differs_from_the_reference_only_as_documented() {
    let ours = cme_days(&ours("CMES"));
    let list = cme_days(include_str!("data/cmes-sessions.csv"));
    // Each difference, by the documented reason (see `venues/cmes.rs`).
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    let mut unexplained = Vec::new();
    for day in ours
        .keys()
        .chain(list.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let (a, b) = (ours.get(day), list.get(day));
        let Some(reason) = cme_reason(day, a.map(String::as_str), b.map(String::as_str)) else {
            unexplained.push(format!("{day}: ours {a:?}, list {b:?}"));
            continue;
        };
        *counts.entry(reason).or_default() += 1;
    }
    assert!(
        unexplained.is_empty(),
        "undocumented differences:\n{}",
        unexplained.join("\n")
    );
    let expected = [
        ("12:15 early close", 78),
        ("Juneteenth noon halt", 14),
        ("mourning 08:30", 2),
    ];
    for (reason, n) in expected {
        assert_eq!(
            counts.get(reason).copied().unwrap_or(0),
            n,
            "{reason}: {counts:?}"
        );
    }
}

/// Why CME's day `day` (`Wed 17:00-Thu 16:00`) may differ from the reference's.
fn cme_reason(day: &str, ours: Option<&str>, list: Option<&str>) -> Option<&'static str> {
    if matches!(day, "2018-12-05" | "2025-01-09") && list.is_none() {
        return ours
            .filter(|o| o.ends_with("08:30"))
            .map(|_| "mourning 08:30");
    }
    let (ours, list) = (ours?, list?);
    // Same open; then compare the closes.
    if ours[..9] != list[..9] {
        return None;
    }
    let (close, theirs) = (&ours[14..], &list[14..]);
    let month_day = &day[5..];
    match (close, theirs) {
        (a, b) if a == b => Some("same"),
        ("16:00", "17:00") => Some("maintenance halt"),
        ("12:15", "12:00" | "17:00")
            if matches!(month_day, "07-03" | "07-05" | "12-24") || month_day.starts_with("11-") =>
        {
            Some("12:15 early close")
        }
        ("12:00", "17:00") if month_day.starts_with("06-") && day >= "2022" => {
            Some("Juneteenth noon halt")
        }
        _ => None,
    }
}

fn ts(s: &str) -> jiff::Timestamp {
    s.parse().expect("instant")
}

fn cal(name: &str) -> Calendar {
    Calendar::by_name(name, &Overrides::default()).expect("built-in")
}

#[test]
fn cme_opens_sunday_evening_and_halts_an_hour_a_day() {
    let cme = cal("cmes");
    // Monday 2026-03-02's session opens Sunday 17:00 Chicago (23:00 UTC, CST).
    let monday = cme
        .session_on(date(2026, 3, 2))
        .expect("ok")
        .expect("session");
    assert_eq!(format_timestamp(monday.open), "2026-03-01T23:00:00Z");
    assert_eq!(format_timestamp(monday.close), "2026-03-02T22:00:00Z");
    assert!(!cme.is_open(ts("2026-03-01T22:59:59Z")).expect("ok"));
    assert!(cme.is_open(ts("2026-03-01T23:00:00Z")).expect("ok"));
    // The daily halt, 16:00 to 17:00 Chicago.
    assert!(!cme.is_open(ts("2026-03-02T22:30:00Z")).expect("ok"));
    assert!(cme.is_open(ts("2026-03-02T23:00:00Z")).expect("ok"));
    assert_eq!(
        cme.next_close(ts("2026-03-02T15:00:00Z")).expect("ok"),
        Some(ts("2026-03-02T22:00:00Z"))
    );
    // Friday's session closes at 16:00 and nothing opens until Sunday 17:00.
    assert_eq!(
        cme.next_open(ts("2026-03-06T22:00:00Z")).expect("ok"),
        Some(ts("2026-03-08T22:00:00Z")),
        "Sunday 2026-03-08 is the first day of CDT"
    );
    // Good Friday closed; MLK Day halts at noon.
    assert!(cme.session_on(date(2026, 4, 3)).expect("ok").is_none());
    let mlk = cme
        .session_on(date(2026, 1, 19))
        .expect("ok")
        .expect("session");
    assert!(mlk.early_close);
    assert_eq!(format_timestamp(mlk.close), "2026-01-19T18:00:00Z");
}

#[test]
fn fx_is_one_span_from_sunday_to_friday() {
    let fx = cal("FX");
    assert!(!fx.is_open(ts("2026-03-01T21:59:59Z")).expect("ok"));
    assert!(
        fx.is_open(ts("2026-03-01T22:00:00Z")).expect("ok"),
        "Sunday 17:00 EST"
    );
    assert!(
        fx.is_open(ts("2026-03-04T22:00:00Z")).expect("ok"),
        "no daily close"
    );
    // Touching sessions merge: the next close from Monday is Friday 17:00.
    assert_eq!(
        fx.next_close(ts("2026-03-02T12:00:00Z")).expect("ok"),
        Some(ts("2026-03-06T22:00:00Z"))
    );
    assert!(!fx.is_open(ts("2026-03-06T22:00:00Z")).expect("ok"));
    assert_eq!(
        fx.next_open(ts("2026-03-07T12:00:00Z")).expect("ok"),
        Some(ts("2026-03-08T21:00:00Z")),
        "Sunday 17:00 EDT"
    );
    // The Monday session is dated Monday although it opens on Sunday.
    let s = fx
        .session_on(date(2026, 3, 2))
        .expect("ok")
        .expect("session");
    assert_eq!(format_timestamp(s.open), "2026-03-01T22:00:00Z");
}

#[test]
fn names_are_mics_case_insensitive_with_the_old_aliases() {
    for (name, canonical) in [
        ("xtks", "XTKS"),
        ("XnYs", "XNYS"),
        ("nyse", "XNYS"),
        ("cmes", "CMES"),
        ("fx", "FX"),
        ("ALWAYS-OPEN", "always-open"),
        ("24/7", "always-open"),
    ] {
        assert_eq!(cal(name).name(), canonical, "{name}");
    }
    let err = Calendar::by_name("XNAS", &Overrides::default()).expect_err("unknown");
    assert!(err.to_string().contains("`XTKS`"), "{err}");
    let names: Vec<&str> = Calendar::builtins()
        .expect("built")
        .iter()
        .map(Calendar::name)
        .collect();
    assert_eq!(
        names,
        [
            "XNYS",
            "XLON",
            "XETR",
            "XTKS",
            "XHKG",
            "XTSE",
            "XASX",
            "CMES",
            "FX",
            "always-open"
        ]
    );
}

#[test]
fn lunch_breaks_are_closed_and_tokyo_closes_later_from_november_2024() {
    let tks = cal("XTKS");
    // 2026-03-02, Tokyo: 09:00-11:30, 12:30-15:30 (UTC+9).
    assert!(tks.is_open(ts("2026-03-02T02:29:59Z")).expect("ok"));
    assert!(!tks.is_open(ts("2026-03-02T02:30:00Z")).expect("ok"));
    assert_eq!(
        tks.next_open(ts("2026-03-02T02:30:00Z")).expect("ok"),
        Some(ts("2026-03-02T03:30:00Z"))
    );
    assert!(tks.is_open(ts("2026-03-02T06:29:59Z")).expect("ok"));
    assert!(!tks.is_open(ts("2026-03-02T06:30:00Z")).expect("ok"));
    let before = tks
        .session_on(date(2024, 11, 1))
        .expect("ok")
        .expect("session");
    assert_eq!(format_timestamp(before.close), "2024-11-01T06:00:00Z");
    // An operator's early close may not fall in the break.
    let o: Overrides =
        serde_json::from_str(r#"{"early_closes":[{"date":"2026-03-02","close":"12:00"}]}"#)
            .expect("parses");
    let err = Calendar::by_name("XTKS", &o).expect_err("in the break");
    assert!(
        err.to_string()
            .contains("falls in the break 11:30 to 12:30"),
        "{err}"
    );
}

#[test]
fn sydney_sessions_are_dated_by_sydney() {
    // 2026-01-05 10:00 AEDT is 2026-01-04T23:00Z: dated the 5th.
    let asx = cal("XASX");
    let s = asx
        .session_on(date(2026, 1, 5))
        .expect("ok")
        .expect("session");
    assert_eq!(format_timestamp(s.open), "2026-01-04T23:00:00Z");
}

#[test]
fn every_calendar_refuses_instants_outside_its_range() {
    for calendar in Calendar::builtins().expect("built") {
        let Some((_, last)) = calendar.supported_dates() else {
            continue;
        };
        let after = last.tomorrow().expect("date").tomorrow().expect("date");
        let at = calendar
            .time_zone()
            .to_timestamp(after.to_datetime(jiff::civil::Time::midnight()))
            .expect("instant");
        assert!(calendar.is_open(at).is_err(), "{}", calendar.name());
        assert!(calendar.status(at).is_err(), "{}", calendar.name());
    }
}

#[test]
fn closed_days_say_why() {
    use opsfloor_contract::calendar::{Closed, Day};
    let holiday = |name: &str, day| match cal(name).day(day).expect("in range") {
        Day::Closed(Closed::Holiday(why)) => why,
        other => panic!("{name} {day}: {other:?}"),
    };
    assert_eq!(holiday("XHKG", date(2026, 2, 17)), "Lunar New Year");
    assert_eq!(holiday("XHKG", date(2026, 12, 25)), "Christmas Day");
    assert_eq!(holiday("XTKS", date(2026, 9, 22)), "Citizens' holiday");
    assert_eq!(holiday("XTKS", date(2026, 5, 6)), "Substitute holiday");
    assert_eq!(holiday("CMES", date(2026, 4, 3)), "Good Friday");
    assert_eq!(holiday("XLON", date(2026, 8, 31)), "Summer Bank Holiday");
}
