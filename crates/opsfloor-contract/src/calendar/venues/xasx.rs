//! The Australian Securities Exchange (`XASX`): 10:00 to 16:00 Sydney time (the
//! session opens at 23:00 or 00:00 UTC, on the UTC date before in the southern
//! summer).
//!
//! Holidays: New Year's Day and Australia Day (a weekend one on the Monday), Good
//! Friday, Easter Monday, Anzac Day (April 25; in 2010 the Sunday moved to the
//! Monday), the Queen's/King's Birthday (second Monday of June), Christmas and
//! Boxing Day (a weekend one on the next Monday or Tuesday); Easter Tuesday 2011
//! and the national day of mourning of 2022-09-22. Early close at 14:10 on the last
//! trading days before Christmas and before New Year (the Friday before when on a
//! weekend), from 2010, except in 2022. As recorded by `exchange_calendars` 4.13.2
//! (Apache-2.0).

use jiff::civil::{Date, Time, Weekday, date, time};

use crate::calendar::rules::{
    Hours, Rule, Venue, easter_monday, find_holiday, good_friday, is_weekend, nth_weekday,
    previous_friday, sunday_to_monday, weekend_to_monday,
};

/// The Australian Securities Exchange.
#[derive(Debug)]
pub struct Xasx;

const HOURS: Hours = Hours::day(time(10, 0, 0, 0), time(16, 0, 0, 0));
const EARLY: Time = time(14, 10, 0, 0);

impl Venue for Xasx {
    fn name(&self) -> &'static str {
        "XASX"
    }
    fn zone(&self) -> &'static str {
        "Australia/Sydney"
    }
    fn supported(&self) -> (Date, Date) {
        (date(2000, 1, 1), date(2035, 12, 31))
    }
    fn rule(&self, day: Date) -> Rule {
        if is_weekend(day) {
            return Rule::Weekend;
        }
        if let Some(name) = holiday(day) {
            return Rule::Holiday(name);
        }
        let y = day.year();
        let early_year = y >= 2010 && y != 2022;
        if early_year
            && (day == previous_friday(date(y, 12, 24)) || day == previous_friday(date(y, 12, 31)))
        {
            return Rule::Session(HOURS.closing_early(EARLY));
        }
        Rule::Session(HOURS)
    }
    fn early_close(&self, _day: Date) -> Time {
        EARLY
    }
}

fn holiday(day: Date) -> Option<&'static str> {
    let y = day.year();
    let moved = |d: Date| matches!(d.weekday(), Weekday::Monday | Weekday::Tuesday).then_some(d);
    let anzac = if y == 2010 {
        sunday_to_monday(date(y, 4, 25))
    } else {
        date(y, 4, 25)
    };
    let birthday = if y < 2023 {
        "Queen's Birthday"
    } else {
        "King's Birthday"
    };
    find_holiday(
        day,
        [
            (Some(weekend_to_monday(date(y, 1, 1))), "New Year's Day"),
            (Some(weekend_to_monday(date(y, 1, 26))), "Australia Day"),
            (Some(good_friday(y)), "Good Friday"),
            (Some(easter_monday(y)), "Easter Monday"),
            ((y == 2011).then(|| date(y, 4, 26)), "Easter Tuesday"),
            (Some(anzac), "Anzac Day"),
            (Some(nth_weekday(y, 6, Weekday::Monday, 2)), birthday),
            (
                (y == 2022).then(|| date(y, 9, 22)),
                "National Day of Mourning for Queen Elizabeth II",
            ),
            (Some(date(y, 12, 25)), "Christmas"),
            (moved(date(y, 12, 27)), "Christmas (observed)"),
            (Some(date(y, 12, 26)), "Boxing Day"),
            (moved(date(y, 12, 28)), "Boxing Day (observed)"),
        ],
    )
}
