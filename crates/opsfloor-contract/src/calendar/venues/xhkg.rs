//! Hong Kong Exchanges and Clearing (`XHKG`): 09:30 to 16:00 Hong Kong time with a
//! lunch break from 12:00 to 13:00 (10:00 to 16:00 before 2011-03-07); half days
//! (09:30 to 12:00, or 10:00 to 12:30 before 2011-03-07, no break) on December 24
//! and 31 and on Lunar New Year's Eve.
//!
//! Rules here: New Year's Day, Labour Day, HKSAR Establishment Day (July 1) and
//! National Day (October 1), each moved to the Monday from a Sunday; Good Friday,
//! Easter Monday; Christmas and the first weekday after it. The lunar-calendar
//! holidays (Lunar New Year, Buddha's Birthday, Tuen Ng, the day after Mid-Autumn,
//! Chung Yeung), Ching Ming and the typhoon, rainstorm and one-off closures are
//! data: [`super::xhkg_data`], derived from `exchange_calendars` 4.13.2
//! (Apache-2.0) with its provenance there. The breaks follow that package too
//! (it records 12:00 to 13:00 before 2011 as well).

use jiff::civil::{Date, Time, Weekday, date, time};

use super::xhkg_data::{CLOSURES, LUNAR_NEW_YEARS_EVES};
use crate::calendar::rules::{
    Hours, Rule, Venue, easter_monday, find_holiday, good_friday, is_weekend, sunday_to_monday,
};

/// Hong Kong Exchanges.
#[derive(Debug)]
pub struct Xhkg;

/// The opening moved from 10:00 to 09:30 on this date.
const EARLIER_OPEN: Date = date(2011, 3, 7);
const LUNCH: (Time, Time) = (time(12, 0, 0, 0), time(13, 0, 0, 0));

impl Venue for Xhkg {
    fn name(&self) -> &'static str {
        "XHKG"
    }
    fn zone(&self) -> &'static str {
        "Asia/Hong_Kong"
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
        if let Ok(i) = CLOSURES.binary_search_by_key(&day, |(d, _)| *d) {
            return Rule::Holiday(CLOSURES[i].1);
        }
        let hours = Hours {
            pause: Some(LUNCH),
            ..Hours::day(open(day), time(16, 0, 0, 0))
        };
        let year_end = day.month() == 12 && matches!(day.day(), 24 | 31);
        if year_end || LUNAR_NEW_YEARS_EVES.binary_search(&day).is_ok() {
            return Rule::Session(hours.closing_early(self.early_close(day)));
        }
        Rule::Session(hours)
    }
    fn early_close(&self, day: Date) -> Time {
        if day < EARLIER_OPEN {
            time(12, 30, 0, 0)
        } else {
            time(12, 0, 0, 0)
        }
    }
}

fn open(day: Date) -> Time {
    if day < EARLIER_OPEN {
        time(10, 0, 0, 0)
    } else {
        time(9, 30, 0, 0)
    }
}

fn holiday(day: Date) -> Option<&'static str> {
    let y = day.year();
    let christmas = date(y, 12, 25);
    // The first weekday after Christmas: the 26th, or the 27th when the 26th is a
    // Sunday (Christmas on a Saturday) or when Christmas itself moved there.
    let after_christmas = match christmas.weekday() {
        Weekday::Saturday | Weekday::Sunday => date(y, 12, 27),
        _ => date(y, 12, 26),
    };
    let christmas_sunday = (christmas.weekday() == Weekday::Sunday).then(|| date(y, 12, 26));
    find_holiday(
        day,
        [
            (Some(sunday_to_monday(date(y, 1, 1))), "New Year's Day"),
            (Some(good_friday(y)), "Good Friday"),
            (Some(easter_monday(y)), "Easter Monday"),
            (Some(sunday_to_monday(date(y, 5, 1))), "Labour Day"),
            (
                Some(sunday_to_monday(date(y, 7, 1))),
                "HKSAR Establishment Day",
            ),
            (Some(sunday_to_monday(date(y, 10, 1))), "National Day"),
            (Some(christmas), "Christmas Day"),
            (christmas_sunday, "Christmas Day (observed)"),
            (
                Some(after_christmas),
                "The first weekday after Christmas Day",
            ),
        ],
    )
}
