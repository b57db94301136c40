//! CME Globex equity and interest-rate futures (`CMES`): Sunday to Friday, each
//! session from 17:00 Chicago time the evening before to 16:00 on its date, so
//! the daily 60-minute maintenance halt (16:00 to 17:00) falls between sessions.
//!
//! Holidays follow CME Group's published holiday calendar for these products:
//! - closed all day: New Year's Day, Good Friday and Christmas (New Year's Day and
//!   Christmas observed like the NYSE: a Sunday one on the Monday, a Saturday
//!   Christmas on the Friday; a Saturday New Year's Day is not observed);
//! - trading halts at 12:00 (and resumes at 17:00 for the next session) on the US
//!   federal holidays the NYSE closes for: Martin Luther King Jr. Day, Presidents
//!   Day, Memorial Day, Juneteenth (from 2022), Independence Day, Labor Day and
//!   Thanksgiving;
//! - early close at 12:15 on the days the NYSE closes early at 13:00 New York time
//!   (July 3, the day after Thanksgiving, Christmas Eve), since the equity
//!   futures close 15 minutes after the cash market.
//!
//! # Where CME and the reference disagree
//!
//! `tests/data/cmes-sessions.csv` is `exchange_calendars` 4.13.2's `CMES` calendar
//! (Apache-2.0). These rules follow CME's schedule instead where the two differ.
//! `tests/calendar_venues.rs` (`cmes_differs_from_the_reference_only_as_documented`)
//! compares every session 2000–2035 and fails on any difference not listed here:
//! - **Every regular session's close**: the reference closes at 17:00, so it has
//!   no daily maintenance halt; CME halts at 16:00 and reopens at 17:00.
//! - **12:15 early closes (78 dates)**, like the NYSE's 13:00 early closes:
//!   - the day after Thanksgiving, every year 2000–2035 (36 dates): 12:00 in the
//!     reference;
//!   - Christmas Eve, Monday to Thursday (20 dates: 2001, 2002, 2003, 2007, 2008,
//!     2009, 2012, 2013, 2014, 2015, 2018, 2019, 2020, 2024, 2025, 2026, 2029,
//!     2030, 2031, 2035): 12:00 in the reference;
//!   - July 3, Monday to Thursday (not a Wednesday before 2013), and 2002-07-05
//!     (22 dates: 2000, 2001, 2002-07-05, 2003, 2006, 2007, 2008, 2012, 2013,
//!     2014, 2017, 2018, 2019, 2023, 2024, 2025, 2028, 2029, 2030, 2031, 2034,
//!     2035): a full day in the reference.
//! - **Juneteenth halts at 12:00 (14 dates)**: 2022-06-20, 2023-06-19,
//!   2024-06-19, 2025-06-19, 2026-06-19, 2027-06-18, 2028-06-19, 2029-06-19,
//!   2030-06-19, 2031-06-19, 2032-06-18, 2033-06-20, 2034-06-19, 2035-06-19: full
//!   days in the reference, which has no Juneteenth.
//! - **Days of mourning**: 2018-12-05 (President George H. W. Bush) and
//!   2025-01-09 (President Carter) are closed all day in the reference; CME's
//!   equity futures opened as usual the evening before and traded until 08:30
//!   (CME Group press releases of 2018-12-02 and 2024-12-30; interest-rate futures
//!   were closed all day in 2018 and closed at 12:15 in 2025: one calendar for both
//!   follows the equity products). 2004-06-11 (President Reagan) and 2007-01-02
//!   (President Ford) are closed, as in the reference.
//!
//! Not modelled, in either: before about 2013 Globex opened at 17:30 on some
//! days and equity products halted at 10:30 (not 12:00) on the holidays above
//! (CME's Labor Day notices of 2007 and 2008, July 4 2013); on some Good Fridays
//! interest-rate futures traded a short session for the payrolls report. The
//! rules use today's schedule for every year.

use jiff::civil::{Date, Time, Weekday, date, time};

use crate::calendar::rules::{
    Hours, Rule, Venue, add_days, find_holiday, good_friday, is_weekend, last_weekday,
    nearest_workday, nth_weekday,
};

/// CME Globex equity and interest-rate futures.
#[derive(Debug)]
pub struct Cmes;

const OPEN: Time = time(17, 0, 0, 0);
const CLOSE: Time = time(16, 0, 0, 0);
const HOLIDAY_HALT: Time = time(12, 0, 0, 0);
const EARLY: Time = time(12, 15, 0, 0);

/// National days of mourning when the NYSE closed and CME's equity futures
/// traded until 08:30.
const MOURNING_HALTS: [Date; 2] = [date(2018, 12, 5), date(2025, 1, 9)];

impl Venue for Cmes {
    fn name(&self) -> &'static str {
        "CMES"
    }
    fn zone(&self) -> &'static str {
        "America/Chicago"
    }
    fn supported(&self) -> (Date, Date) {
        (date(2000, 1, 1), date(2035, 12, 31))
    }
    fn rule(&self, day: Date) -> Rule {
        if is_weekend(day) {
            return Rule::Weekend;
        }
        let hours = Hours {
            open_days_before: 1,
            ..Hours::day(OPEN, CLOSE)
        };
        if let Some(name) = closed(day) {
            return Rule::Holiday(name);
        }
        if MOURNING_HALTS.contains(&day) {
            return Rule::Session(hours.closing_early(time(8, 30, 0, 0)));
        }
        if halts_at_noon(day) {
            return Rule::Session(hours.closing_early(HOLIDAY_HALT));
        }
        if closes_early(day) {
            return Rule::Session(hours.closing_early(EARLY));
        }
        Rule::Session(hours)
    }
    fn early_close(&self, _day: Date) -> Time {
        EARLY
    }
}

fn closed(day: Date) -> Option<&'static str> {
    let y = day.year();
    let new_year = match date(y, 1, 1).weekday() {
        Weekday::Sunday => Some(date(y, 1, 2)),
        Weekday::Saturday => None,
        _ => Some(date(y, 1, 1)),
    };
    find_holiday(
        day,
        [
            (new_year, "New Year's Day"),
            (
                (day == date(2004, 6, 11)).then_some(day),
                "Funeral of President Reagan",
            ),
            (
                (day == date(2007, 1, 2)).then_some(day),
                "Funeral of President Ford",
            ),
            (Some(good_friday(y)), "Good Friday"),
            (Some(nearest_workday(date(y, 12, 25))), "Christmas Day"),
        ],
    )
}

/// A US federal holiday on which Globex halts at noon.
fn halts_at_noon(day: Date) -> bool {
    let y = day.year();
    let monday = Weekday::Monday;
    let noon_halts = [
        Some(nth_weekday(y, 1, monday, 3)),
        Some(nth_weekday(y, 2, monday, 3)),
        Some(last_weekday(y, 5, 31, monday)),
        (y >= 2022).then(|| nearest_workday(date(y, 6, 19))),
        Some(nearest_workday(date(y, 7, 4))),
        Some(nth_weekday(y, 9, monday, 1)),
        Some(nth_weekday(y, 11, Weekday::Thursday, 4)),
    ];
    noon_halts.contains(&Some(day))
}

/// The NYSE's scheduled early-close days (see `xnys.rs`), from 2000.
fn closes_early(day: Date) -> bool {
    let (y, m, d) = (day.year(), day.month(), day.day());
    let weekday = day.weekday();
    let mon_to_thu = !matches!(weekday, Weekday::Friday);
    let july_3 = m == 7 && d == 3 && mon_to_thu && (y >= 2013 || weekday != Weekday::Wednesday);
    let july_5 = m == 7 && d == 5 && y < 2013 && weekday == Weekday::Friday;
    let after_thanksgiving = day == add_days(nth_weekday(y, 11, Weekday::Thursday, 4), 1);
    let christmas_eve = m == 12 && d == 24 && mon_to_thu;
    july_3 || july_5 || after_thanksgiving || christmas_eve
}
