//! The Tokyo Stock Exchange (`XTKS`): 09:00 to 15:00 Tokyo time with a lunch break
//! from 11:30 to 12:30; the close moved to 15:30 on 2024-11-05 (arrowhead 4.0).
//!
//! Closed on Japan's national holidays and on the exchange's own year-end days
//! (January 2 and 3, December 31). The national holidays follow the Act on National
//! Holidays as it stood in each year:
//! - fixed days: New Year's Day, National Foundation Day (February 11), the
//!   Emperor's Birthday (December 23 through 2018, February 23 from 2020), Showa
//!   Day (April 29; "Greenery Day" before 2007), Constitution Memorial Day (May 3),
//!   Greenery Day (May 4, from 2007), Children's Day (May 5), Mountain Day (August
//!   11, from 2016), Culture Day (November 3), Labour Thanksgiving Day (November 23);
//! - "Happy Monday" days: Coming of Age Day (second Monday of January), Marine Day
//!   (July 20 until 2002, then the third Monday of July), Respect for the Aged Day
//!   (September 15 until 2002, then the third Monday of September), Sports Day
//!   (second Monday of October); moved for the Tokyo Olympics in 2020 and 2021;
//! - the equinoxes, by the astronomical approximation the Cabinet Office uses;
//! - a substitute holiday when a holiday falls on a Sunday: the Monday until 2006,
//!   the next day that is not a holiday from 2007;
//! - a citizens' holiday on a day (not a Sunday) between two holidays;
//! - one-offs: the 2019 enthronement (May 1 and October 22) and the closure of
//!   2020-10-01 after the arrowhead system failure.
//!
//! Matched against `exchange_calendars` 4.13.2 (Apache-2.0) for every session
//! 2000–2035 (`tests/calendar_venues.rs`).

use jiff::civil::{Date, Time, Weekday, date, time};

use crate::calendar::rules::{Hours, Rule, Venue, add_days, is_weekend, nth_weekday};

/// The Tokyo Stock Exchange.
#[derive(Debug)]
pub struct Xtks;

const OPEN: Time = time(9, 0, 0, 0);
const LUNCH: (Time, Time) = (time(11, 30, 0, 0), time(12, 30, 0, 0));
/// The afternoon session was extended by 30 minutes from this date.
const LONGER_AFTERNOON: Date = date(2024, 11, 5);

impl Venue for Xtks {
    fn name(&self) -> &'static str {
        "XTKS"
    }
    fn zone(&self) -> &'static str {
        "Asia/Tokyo"
    }
    fn supported(&self) -> (Date, Date) {
        (date(2000, 1, 1), date(2035, 12, 31))
    }
    fn rule(&self, day: Date) -> Rule {
        if is_weekend(day) {
            return Rule::Weekend;
        }
        if let Some(name) = closed(day) {
            return Rule::Holiday(name);
        }
        Rule::Session(hours(day))
    }
    fn early_close(&self, _day: Date) -> Time {
        // The exchange has no scheduled half days; an operator's early close
        // without a time ends the session at the start of the lunch break.
        LUNCH.0
    }
}

fn hours(day: Date) -> Hours {
    let close = if day >= LONGER_AFTERNOON {
        time(15, 30, 0, 0)
    } else {
        time(15, 0, 0, 0)
    };
    Hours {
        pause: Some(LUNCH),
        ..Hours::day(OPEN, close)
    }
}

/// Why the exchange is closed on the weekday `day`, if it is.
fn closed(day: Date) -> Option<&'static str> {
    let (y, m, d) = (day.year(), day.month(), day.day());
    match (m, d) {
        (1, 2 | 3) => return Some("Market holiday (New Year)"),
        (12, 31) => return Some("Market holiday (year end)"),
        _ => {}
    }
    if day == date(2020, 10, 1) {
        return Some("Closure after the arrowhead system failure");
    }
    let holidays = national_holidays(y);
    if let Some((_, name)) = holidays.iter().find(|(h, _)| *h == day) {
        return Some(name);
    }
    if is_substitute(day, &holidays) {
        return Some("Substitute holiday");
    }
    let is_holiday = |x: Date| holidays.iter().any(|(h, _)| *h == x);
    if is_holiday(add_days(day, -1)) && is_holiday(add_days(day, 1)) {
        return Some("Citizens' holiday");
    }
    None
}

/// A substitute holiday: the first non-holiday after a Sunday holiday (only the
/// Monday before 2007).
fn is_substitute(day: Date, holidays: &[(Date, &'static str)]) -> bool {
    let is_holiday = |x: Date| holidays.iter().any(|(h, _)| *h == x);
    if is_holiday(day) {
        return false;
    }
    if day.year() < 2007 {
        let sunday = add_days(day, -1);
        return sunday.weekday() == Weekday::Sunday && is_holiday(sunday);
    }
    // Walk back over the run of holidays just before `day`; a Sunday among them
    // is substituted by the first free day after the run, which is `day`.
    let mut back = add_days(day, -1);
    while is_holiday(back) {
        if back.weekday() == Weekday::Sunday {
            return true;
        }
        back = add_days(back, -1);
    }
    false
}

/// The national holidays of year `y` (without substitute and citizens' holidays).
fn national_holidays(y: i16) -> Vec<(Date, &'static str)> {
    let monday = Weekday::Monday;
    let mut out = vec![
        (date(y, 1, 1), "New Year's Day"),
        (nth_weekday(y, 1, monday, 2), "Coming of Age Day"),
        (date(y, 2, 11), "National Foundation Day"),
        (date(y, 3, equinox_day(y, 20.8431)), "Vernal Equinox Day"),
        (
            date(y, 4, 29),
            if y < 2007 {
                "Greenery Day"
            } else {
                "Showa Day"
            },
        ),
        (date(y, 5, 3), "Constitution Memorial Day"),
        (date(y, 5, 5), "Children's Day"),
        (date(y, 9, equinox_day(y, 23.2488)), "Autumnal Equinox Day"),
        (date(y, 11, 3), "Culture Day"),
        (date(y, 11, 23), "Labour Thanksgiving Day"),
    ];
    if y >= 2007 {
        out.push((date(y, 5, 4), "Greenery Day"));
    }
    match y {
        ..=2018 => out.push((date(y, 12, 23), "Emperor's Birthday")),
        2019 => {
            out.push((date(y, 5, 1), "Enthronement of the Emperor"));
            out.push((date(y, 10, 22), "Enthronement Ceremony"));
        }
        _ => out.push((date(y, 2, 23), "Emperor's Birthday")),
    }
    let (marine, mountain, sports) = match y {
        2020 => (date(y, 7, 23), Some(date(y, 8, 10)), date(y, 7, 24)),
        2021 => (date(y, 7, 22), Some(date(y, 8, 8)), date(y, 7, 23)),
        ..=2002 => (date(y, 7, 20), None, nth_weekday(y, 10, monday, 2)),
        _ => (
            nth_weekday(y, 7, monday, 3),
            (y >= 2016).then(|| date(y, 8, 11)),
            nth_weekday(y, 10, monday, 2),
        ),
    };
    out.push((marine, "Marine Day"));
    if let Some(mountain) = mountain {
        out.push((mountain, "Mountain Day"));
    }
    out.push((
        sports,
        if y < 2020 {
            "Health and Sports Day"
        } else {
            "Sports Day"
        },
    ));
    let aged = if y <= 2002 {
        date(y, 9, 15)
    } else {
        nth_weekday(y, 9, monday, 3)
    };
    out.push((aged, "Respect for the Aged Day"));
    out
}

/// The day of the month of an equinox in year `y` (1980–2099), from the
/// approximation `floor(base + 0.242194 (y - 1980) - floor((y - 1980) / 4))`
/// with base 20.8431 (March) or 23.2488 (September).
fn equinox_day(y: i16, base: f64) -> i8 {
    let n = f64::from(y - 1980);
    // 19 to 24 for every year of the range: the cast cannot truncate.
    (base + 0.242194 * n - (n / 4.0).floor()).floor() as i8
}
