//! The London Stock Exchange (`XLON`): 08:00 to 16:30 London time.
//!
//! Holidays: New Year's Day (a weekend one on the Monday), Good Friday, Easter
//! Monday, the Early May bank holiday (first Monday of May), the Spring bank holiday
//! (last Monday of May), the Summer bank holiday (last Monday of August), Christmas
//! and Boxing Day (a weekend one on the next Monday or Tuesday). Early closes at
//! 12:30 on Christmas Eve and New Year's Eve (the Friday before when on a weekend).
//! One-offs (jubilees, royal weddings and funerals, the moved 2020 May holiday) are
//! [`ONE_OFF_CLOSURES`], as recorded by `exchange_calendars` 4.13.2 (Apache-2.0).

use jiff::civil::{Date, Time, Weekday, date, time};

use crate::calendar::rules::{
    Hours, Rule, Venue, easter_monday, find_holiday, good_friday, is_weekend, last_weekday,
    nth_weekday, previous_friday, weekend_to_monday,
};

/// The London Stock Exchange.
#[derive(Debug)]
pub struct Xlon;

const HOURS: Hours = Hours::day(time(8, 0, 0, 0), time(16, 30, 0, 0));
const EARLY: Time = time(12, 30, 0, 0);

/// Unscheduled closures and moved holidays.
const ONE_OFF_CLOSURES: &[(Date, &str)] = &[
    (date(2002, 6, 3), "Golden Jubilee"),
    (date(2002, 6, 4), "Golden Jubilee"),
    (date(2011, 4, 29), "Royal Wedding"),
    (date(2012, 6, 4), "Diamond Jubilee"),
    (date(2012, 6, 5), "Diamond Jubilee"),
    (
        date(2020, 5, 8),
        "VE Day 75th anniversary (Early May bank holiday moved)",
    ),
    (date(2022, 6, 2), "Platinum Jubilee"),
    (date(2022, 6, 3), "Platinum Jubilee"),
    (date(2022, 9, 19), "State Funeral of Queen Elizabeth II"),
    (date(2023, 5, 8), "Coronation of King Charles III"),
];

impl Venue for Xlon {
    fn name(&self) -> &'static str {
        "XLON"
    }
    fn zone(&self) -> &'static str {
        "Europe/London"
    }
    fn supported(&self) -> (Date, Date) {
        (date(2000, 1, 1), date(2035, 12, 31))
    }
    fn rule(&self, day: Date) -> Rule {
        if is_weekend(day) {
            return Rule::Weekend;
        }
        if let Some((_, name)) = ONE_OFF_CLOSURES.iter().find(|(d, _)| *d == day) {
            return Rule::Holiday(name);
        }
        if let Some(name) = holiday(day) {
            return Rule::Holiday(name);
        }
        let y = day.year();
        if day == previous_friday(date(y, 12, 24)) || day == previous_friday(date(y, 12, 31)) {
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
    // Dec 27 or 28 on a Monday or Tuesday: Christmas or Boxing Day fell on a weekend.
    let moved = |d: Date| matches!(d.weekday(), Weekday::Monday | Weekday::Tuesday).then_some(d);
    find_holiday(
        day,
        [
            (Some(weekend_to_monday(date(y, 1, 1))), "New Year's Day"),
            (Some(good_friday(y)), "Good Friday"),
            (Some(easter_monday(y)), "Easter Monday"),
            (
                (y != 2020).then(|| nth_weekday(y, 5, Weekday::Monday, 1)),
                "Early May Bank Holiday",
            ),
            (
                (!matches!(y, 2002 | 2012 | 2022)).then(|| last_weekday(y, 5, 31, Weekday::Monday)),
                "Spring Bank Holiday",
            ),
            (
                Some(last_weekday(y, 8, 31, Weekday::Monday)),
                "Summer Bank Holiday",
            ),
            (Some(date(y, 12, 25)), "Christmas"),
            (moved(date(y, 12, 27)), "Christmas (observed)"),
            (Some(date(y, 12, 26)), "Boxing Day"),
            (moved(date(y, 12, 28)), "Boxing Day (observed)"),
        ],
    )
}
