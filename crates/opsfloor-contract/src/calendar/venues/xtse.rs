//! The Toronto Stock Exchange (`XTSE`): 09:30 to 16:00 Toronto time.
//!
//! Holidays: New Year's Day and Canada Day (a weekend one on the Monday), Family Day
//! (third Monday of February, from 2008), Good Friday, Victoria Day (the Monday on
//! or before May 24), the Civic Holiday (first Monday of August), Labour Day (first
//! Monday of September), Thanksgiving (second Monday of October), Christmas and
//! Boxing Day (a weekend one on the next Monday or Tuesday); September 11 and 12,
//! 2001. Early close at 13:00 on Christmas Eve, from 2010. As recorded by
//! `exchange_calendars` 4.13.2 (Apache-2.0).

use jiff::civil::{Date, Time, Weekday, date, time};

use crate::calendar::rules::{
    Hours, Rule, Venue, find_holiday, good_friday, is_weekend, nth_weekday, weekday_on_or_before,
    weekend_to_monday,
};

/// The Toronto Stock Exchange.
#[derive(Debug)]
pub struct Xtse;

const HOURS: Hours = Hours::day(time(9, 30, 0, 0), time(16, 0, 0, 0));
const EARLY: Time = time(13, 0, 0, 0);

impl Venue for Xtse {
    fn name(&self) -> &'static str {
        "XTSE"
    }
    fn zone(&self) -> &'static str {
        "America/Toronto"
    }
    fn supported(&self) -> (Date, Date) {
        (date(2000, 1, 1), date(2035, 12, 31))
    }
    fn rule(&self, day: Date) -> Rule {
        if is_weekend(day) {
            return Rule::Weekend;
        }
        if day == date(2001, 9, 11) || day == date(2001, 9, 12) {
            return Rule::Holiday("September 11 attacks");
        }
        if let Some(name) = holiday(day) {
            return Rule::Holiday(name);
        }
        if day.year() >= 2010 && day == date(day.year(), 12, 24) {
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
    let monday = Weekday::Monday;
    find_holiday(
        day,
        [
            (Some(weekend_to_monday(date(y, 1, 1))), "New Year's Day"),
            (
                (y >= 2008).then(|| nth_weekday(y, 2, monday, 3)),
                "Family Day",
            ),
            (Some(good_friday(y)), "Good Friday"),
            (
                Some(weekday_on_or_before(date(y, 5, 24), monday)),
                "Victoria Day",
            ),
            (Some(weekend_to_monday(date(y, 7, 1))), "Canada Day"),
            (Some(nth_weekday(y, 8, monday, 1)), "Civic Holiday"),
            (Some(nth_weekday(y, 9, monday, 1)), "Labour Day"),
            (Some(nth_weekday(y, 10, monday, 2)), "Thanksgiving"),
            (Some(date(y, 12, 25)), "Christmas"),
            (moved(date(y, 12, 27)), "Christmas (observed)"),
            (Some(date(y, 12, 26)), "Boxing Day"),
            (moved(date(y, 12, 28)), "Boxing Day (observed)"),
        ],
    )
}
