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

/// What the rules say about one calendar day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rule {
    /// A weekend day.
    Weekend,
    /// A holiday or a one-off closure, with its name.
    Holiday(&'static str),
    /// A session, closing at the given local time.
    Session {
        /// The local close time.
        close: Time,
        /// True when the close is earlier than 16:00.
        early: bool,
    },
}

/// The regular open, local time.
pub(super) const OPEN: Time = time(9, 30, 0, 0);
/// The regular close, local time.
pub(super) const CLOSE: Time = time(16, 0, 0, 0);

/// Unscheduled full-day closures.
pub(super) const ONE_OFF_CLOSURES: &[(Date, &str)] = &[
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
pub(super) const ONE_OFF_EARLY_CLOSES: &[Date] =
    &[date(1997, 12, 26), date(1999, 12, 31), date(2003, 12, 26)];

/// Applies the built-in rules to one date.
pub(super) fn rule_for(day: Date) -> Rule {
    if matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday) {
        return Rule::Weekend;
    }
    if let Some((_, name)) = ONE_OFF_CLOSURES.iter().find(|(d, _)| *d == day) {
        return Rule::Holiday(name);
    }
    if let Some(name) = holiday_name(day) {
        return Rule::Holiday(name);
    }
    if is_early_close(day) {
        return Rule::Session {
            close: early_close_time(day.year()),
            early: true,
        };
    }
    Rule::Session {
        close: CLOSE,
        early: false,
    }
}

/// The local time of an early close in `year`.
pub(super) const fn early_close_time(year: i16) -> Time {
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
            (y >= 2022).then(|| observed(y, 6, 19)),
            "Juneteenth National Independence Day",
        ),
        (Some(observed(y, 7, 4)), "Independence Day"),
        (Some(nth_weekday(y, 9, Weekday::Monday, 1)), "Labor Day"),
        (
            Some(nth_weekday(y, 11, Weekday::Thursday, 4)),
            "Thanksgiving Day",
        ),
        (Some(observed(y, 12, 25)), "Christmas Day"),
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

/// A fixed-date holiday moved off the weekend: Saturday to Friday, Sunday to Monday.
/// (The callers' dates are never at a month's edge, so the day stays in its month.)
fn observed(y: i16, m: i8, d: i8) -> Date {
    let day = date(y, m, d);
    match day.weekday() {
        Weekday::Saturday => date(y, m, d - 1),
        Weekday::Sunday => date(y, m, d + 1),
        _ => day,
    }
}

/// The `n`th `weekday` of a month (n from 1 to 4, always within the month).
fn nth_weekday(y: i16, m: i8, weekday: Weekday, n: i8) -> Date {
    let first = date(y, m, 1).weekday();
    let offset = (weekday.to_monday_zero_offset() - first.to_monday_zero_offset()).rem_euclid(7);
    date(y, m, 1 + offset + 7 * (n - 1))
}

/// The last `weekday` on or before day `last_day` of a month.
fn last_weekday(y: i16, m: i8, last_day: i8, weekday: Weekday) -> Date {
    let end = date(y, m, last_day).weekday();
    let back = (end.to_monday_zero_offset() - weekday.to_monday_zero_offset()).rem_euclid(7);
    date(y, m, last_day - back)
}

/// Western (Gregorian) Easter Sunday minus two days: the anonymous Gregorian algorithm.
fn good_friday(y: i16) -> Date {
    let year = i32::from(y);
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31; // 3 or 4
    let day = (h + l - 7 * m + 114) % 31 + 1;
    // Easter is March 22 at the earliest, so two days back stays in March or April.
    let (month, day) = if day > 2 {
        (month, day - 2)
    } else {
        (3, 31 + day - 2)
    };
    date(y, month as i8, day as i8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn easter_dates() {
        // Good Fridays, from published Easter tables.
        assert_eq!(good_friday(2024), date(2024, 3, 29));
        assert_eq!(good_friday(2025), date(2025, 4, 18));
        assert_eq!(good_friday(2008), date(2008, 3, 21));
        assert_eq!(good_friday(2038), date(2038, 4, 23));
        assert_eq!(good_friday(2018), date(2018, 3, 30));
    }

    #[test]
    fn named_days() {
        assert_eq!(rule_for(date(2022, 12, 26)), Rule::Holiday("Christmas Day"));
        assert_eq!(
            rule_for(date(2021, 12, 31)),
            Rule::Session {
                close: CLOSE,
                early: false
            }
        );
        assert_eq!(
            rule_for(date(2026, 7, 3)),
            Rule::Holiday("Independence Day")
        );
        assert_eq!(
            rule_for(date(2025, 7, 3)),
            Rule::Session {
                close: time(13, 0, 0, 0),
                early: true
            }
        );
        assert_eq!(
            rule_for(date(2015, 7, 2)),
            Rule::Session {
                close: CLOSE,
                early: false
            }
        );
        assert_eq!(
            rule_for(date(2025, 1, 9)),
            Rule::Holiday("Funeral of President Carter")
        );
        assert_eq!(
            rule_for(date(1991, 12, 24)),
            Rule::Session {
                close: time(14, 0, 0, 0),
                early: true
            }
        );
        assert_eq!(rule_for(date(2026, 11, 28)), Rule::Weekend);
    }
}
