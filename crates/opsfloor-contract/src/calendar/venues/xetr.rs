//! Xetra, Deutsche Börse's electronic market (`XETR`): 09:00 to 17:30 Frankfurt time.
//!
//! Holidays: New Year's Day, Good Friday, Easter Monday, Labour Day (May 1),
//! Whit Monday (2015 to 2021, and 2007), the Day of German Unity (October 3, 2014
//! to 2021), Christmas Eve, Christmas, Boxing Day, New Year's Eve; the Reformation
//! Day of 2017. Early close at 14:00 on the last working day before New Year's Eve,
//! from 2010. As recorded by `exchange_calendars` 4.13.2 (Apache-2.0).

use jiff::civil::{Date, Time, date, time};

use crate::calendar::rules::{
    Hours, Rule, Venue, add_days, easter_monday, find_holiday, good_friday, is_weekend,
    previous_friday,
};

/// Xetra.
#[derive(Debug)]
pub struct Xetr;

const HOURS: Hours = Hours::day(time(9, 0, 0, 0), time(17, 30, 0, 0));
const EARLY: Time = time(14, 0, 0, 0);

impl Venue for Xetr {
    fn name(&self) -> &'static str {
        "XETR"
    }
    fn zone(&self) -> &'static str {
        "Europe/Berlin"
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
        let last_working_day = previous_friday(add_days(date(day.year(), 12, 31), -1));
        if day.year() >= 2010 && day == last_working_day {
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
    let whit_monday = add_days(easter_monday(y), 49);
    find_holiday(
        day,
        [
            (Some(date(y, 1, 1)), "New Year's Day"),
            (Some(good_friday(y)), "Good Friday"),
            (Some(easter_monday(y)), "Easter Monday"),
            (Some(date(y, 5, 1)), "Labour Day"),
            (
                ((2015..=2021).contains(&y) || y == 2007).then_some(whit_monday),
                "Whit Monday",
            ),
            (
                (2014..=2021).contains(&y).then(|| date(y, 10, 3)),
                "Day of German Unity",
            ),
            (
                (y == 2017).then(|| date(y, 10, 31)),
                "Reformation Day (500th anniversary)",
            ),
            (Some(date(y, 12, 24)), "Christmas Eve"),
            (Some(date(y, 12, 25)), "Christmas"),
            (Some(date(y, 12, 26)), "Boxing Day"),
            (Some(date(y, 12, 31)), "New Year's Eve"),
        ],
    )
}
