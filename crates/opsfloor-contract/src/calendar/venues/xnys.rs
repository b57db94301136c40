//! The rules of the NYSE's regular session, as they have stood since 1990.
//!
//! Holidays (a Saturday holiday is observed the Friday before, a Sunday one the
//! Monday after, except that New Year's Day on a Saturday is not observed at all):
//! New Year's Day, Martin Luther King Jr. Day (third Monday of January, from 1998),
//! Washington's Birthday (third Monday of February), Good Friday (Western Easter
//! minus two days), Memorial Day (last Monday of May), Juneteenth (June 19, from
//! 2022), Independence Day, Labor Day (first Monday of September), Thanksgiving
//! (fourth Thursday of November), Christmas.
//!
//! Early closes at 13:00 (14:00 before 1993), following the NYSE's own history as
//! independent calendars record it:
//! - July 3 when it falls Monday to Thursday, from 1995; but before 2013 a
//!   Wednesday July 3 was a full day, and Friday July 5 (July 4 on a Thursday)
//!   closed early instead;
//! - the day after Thanksgiving, from 1992;
//! - December 24 when it falls Monday to Thursday.
//!
//! One-off closures and early closes (state funerals, 9/11, Hurricane Sandy, the
//! 1999 year-end) are listed in [`ONE_OFF_CLOSURES`] and [`ONE_OFF_EARLY_CLOSES`].

use jiff::civil::{Date, Time, Weekday, date, time};

use crate::calendar::rules::{
    Hours, Rule, Venue, good_friday, is_weekend, last_weekday, nearest_workday, nth_weekday,
};

/// The New York Stock Exchange.
#[derive(Debug)]
pub struct Xnys;

impl Venue for Xnys {
    fn name(&self) -> &'static str {
        "XNYS"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["nyse"]
    }
    fn zone(&self) -> &'static str {
        "America/New_York"
    }
    fn supported(&self) -> (Date, Date) {
        (date(1990, 1, 1), date(2040, 12, 31))
    }
    fn rule(&self, day: Date) -> Rule {
        rule_for(day)
    }
    fn early_close(&self, day: Date) -> Time {
        early_close_time(day.year())
    }
    /// Pre-market from 04:00 and after-hours to 20:00, New York time, as the
    /// consolidated US equity market trades them.
    fn extended(&self, regular: Hours) -> Option<Hours> {
        Some(Hours {
            open: EXTENDED_OPEN,
            close: EXTENDED_CLOSE,
            ..regular
        })
    }
    fn extended_name(&self) -> Option<&'static str> {
        Some("XNYS extended")
    }
}

/// The pre-market open, local time.
const EXTENDED_OPEN: Time = time(4, 0, 0, 0);
/// The after-hours close, local time.
const EXTENDED_CLOSE: Time = time(20, 0, 0, 0);

/// The regular open, local time.
const OPEN: Time = time(9, 30, 0, 0);
/// The regular close, local time.
const CLOSE: Time = time(16, 0, 0, 0);

/// Unscheduled full-day closures.
const ONE_OFF_CLOSURES: &[(Date, &str)] = &[
    (date(1994, 4, 27), "Funeral of President Nixon"),
    (date(2001, 9, 11), "September 11 attacks"),
    (date(2001, 9, 12), "September 11 attacks"),
    (date(2001, 9, 13), "September 11 attacks"),
    (date(2001, 9, 14), "September 11 attacks"),
    (date(2004, 6, 11), "Funeral of President Reagan"),
    (date(2007, 1, 2), "Funeral of President Ford"),
    (date(2012, 10, 29), "Hurricane Sandy"),
    (date(2012, 10, 30), "Hurricane Sandy"),
    (date(2018, 12, 5), "Funeral of President George H. W. Bush"),
    (date(2025, 1, 9), "Funeral of President Carter"),
];

/// Unscheduled early closes (at the usual early-close time of their year).
const ONE_OFF_EARLY_CLOSES: &[Date] = &[date(1997, 12, 26), date(1999, 12, 31), date(2003, 12, 26)];

/// Applies the built-in rules to one date.
fn rule_for(day: Date) -> Rule {
    if is_weekend(day) {
        return Rule::Weekend;
    }
    if let Some((_, name)) = ONE_OFF_CLOSURES.iter().find(|(d, _)| *d == day) {
        return Rule::Holiday(name);
    }
    if let Some(name) = holiday_name(day) {
        return Rule::Holiday(name);
    }
    if is_early_close(day) {
        return Rule::Session(Hours::day(OPEN, CLOSE).closing_early(early_close_time(day.year())));
    }
    Rule::Session(Hours::day(OPEN, CLOSE))
}

/// The local time of an early close in `year`.
const fn early_close_time(year: i16) -> Time {
    if year < 1993 {
        time(14, 0, 0, 0)
    } else {
        time(13, 0, 0, 0)
    }
}

fn holiday_name(day: Date) -> Option<&'static str> {
    let y = day.year();
    let observed_new_year = {
        // Saturday: not observed (the Friday before is in the previous year and trades).
        let jan1 = date(y, 1, 1);
        match jan1.weekday() {
            Weekday::Sunday => Some(date(y, 1, 2)),
            Weekday::Saturday => None,
            _ => Some(jan1),
        }
    };
    let candidates: [(Option<Date>, &'static str); 10] = [
        (observed_new_year, "New Year's Day"),
        (
            (y >= 1998).then(|| nth_weekday(y, 1, Weekday::Monday, 3)),
            "Martin Luther King Jr. Day",
        ),
        (
            Some(nth_weekday(y, 2, Weekday::Monday, 3)),
            "Washington's Birthday",
        ),
        (Some(good_friday(y)), "Good Friday"),
        (
            Some(last_weekday(y, 5, 31, Weekday::Monday)),
            "Memorial Day",
        ),
        (
            (y >= 2022).then(|| nearest_workday(date(y, 6, 19))),
            "Juneteenth National Independence Day",
        ),
        (Some(nearest_workday(date(y, 7, 4))), "Independence Day"),
        (Some(nth_weekday(y, 9, Weekday::Monday, 1)), "Labor Day"),
        (
            Some(nth_weekday(y, 11, Weekday::Thursday, 4)),
            "Thanksgiving Day",
        ),
        (Some(nearest_workday(date(y, 12, 25))), "Christmas Day"),
    ];
    candidates
        .into_iter()
        .find(|(d, _)| *d == Some(day))
        .map(|(_, name)| name)
}

fn is_early_close(day: Date) -> bool {
    let (y, m, d) = (day.year(), day.month(), day.day());
    let weekday = day.weekday();
    let mon_to_thu = matches!(
        weekday,
        Weekday::Monday | Weekday::Tuesday | Weekday::Wednesday | Weekday::Thursday
    );
    let july_3 =
        m == 7 && d == 3 && y >= 1995 && mon_to_thu && (y >= 2013 || weekday != Weekday::Wednesday);
    let july_5 = m == 7 && d == 5 && (1995..2013).contains(&y) && weekday == Weekday::Friday;
    let after_thanksgiving = y >= 1992 && {
        let thanksgiving = nth_weekday(y, 11, Weekday::Thursday, 4);
        m == 11 && d == thanksgiving.day() + 1
    };
    let christmas_eve = m == 12 && d == 24 && mon_to_thu;
    july_3 || july_5 || after_thanksgiving || christmas_eve || ONE_OFF_EARLY_CLOSES.contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_days() {
        assert_eq!(rule_for(date(2022, 12, 26)), Rule::Holiday("Christmas Day"));
        assert_eq!(
            rule_for(date(2021, 12, 31)),
            Rule::Session(Hours::day(OPEN, CLOSE))
        );
        assert_eq!(
            rule_for(date(2026, 7, 3)),
            Rule::Holiday("Independence Day")
        );
        assert_eq!(
            rule_for(date(2025, 7, 3)),
            Rule::Session(Hours::day(OPEN, CLOSE).closing_early(time(13, 0, 0, 0)))
        );
        assert_eq!(
            rule_for(date(2015, 7, 2)),
            Rule::Session(Hours::day(OPEN, CLOSE))
        );
        assert_eq!(
            rule_for(date(2025, 1, 9)),
            Rule::Holiday("Funeral of President Carter")
        );
        assert_eq!(
            rule_for(date(1991, 12, 24)),
            Rule::Session(Hours::day(OPEN, CLOSE).closing_early(time(14, 0, 0, 0)))
        );
        assert_eq!(rule_for(date(2026, 11, 28)), Rule::Weekend);
    }
}
