//! The seam between a venue's rules and the precomputed table.
//!
//! A venue is one value implementing [`Venue`]: its MIC, its time zone, the dates it
//! supports, and for each date what its rules say ([`Rule`]), in local civil time.
//! [`super::table`] turns that into sorted `[open, close)` instants once per process;
//! queries never call the rules again. Adding a venue is one file in `venues/` and one
//! line in [`super::registry`].
//!
//! The helpers below are the shapes holiday rules take: fixed dates moved off the
//! weekend, the n-th weekday of a month, Western Easter.

use jiff::civil::{Date, Time, Weekday, date};

/// A venue's rules: what a calendar is before it is precomputed.
pub trait Venue: Sync + Send + std::fmt::Debug {
    /// The canonical name, the MIC (`XNYS`), or a descriptive name for venues without one.
    fn name(&self) -> &'static str;
    /// Other names it is found by (compared case-insensitively).
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
    /// The IANA time zone the rules are written in.
    fn zone(&self) -> &'static str;
    /// The first and the last session dates the rules are known to be right for.
    fn supported(&self) -> (Date, Date);
    /// What the rules say about one date of the supported range.
    fn rule(&self, day: Date) -> Rule;
    /// The usual local time of an early close on `day`, used by operator overrides
    /// that give no time.
    fn early_close(&self, day: Date) -> Time;
    /// The extended hours (pre-market and after-hours, the regular session inside
    /// them) that a full regular session `regular` sits in, local. `None`, the
    /// default, when the venue defines no extended hours.
    fn extended(&self, _regular: Hours) -> Option<Hours> {
        None
    }
    /// The name of the venue's extended-hours calendar (`XNYS extended`), by which
    /// it is found like any other; `None` when [`Venue::extended`] defines none.
    fn extended_name(&self) -> Option<&'static str> {
        None
    }
}

/// What a venue's rules say about one date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// No session: a weekend day.
    Weekend,
    /// No session: a holiday or a one-off closure, with its name.
    Holiday(&'static str),
    /// A session, in local time.
    Session(Hours),
}

/// One session's hours in the venue's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hours {
    /// How many calendar days before the session's date it opens (CME, FX: 1).
    pub open_days_before: i8,
    /// The local opening time.
    pub open: Time,
    /// The local closing time, on the session's date.
    pub close: Time,
    /// A mid-session break, local `[start, end)`, on the session's date.
    pub pause: Option<(Time, Time)>,
    /// True when the close is earlier than the venue's regular close.
    pub early: bool,
}

impl Hours {
    /// A same-day session without a break.
    pub const fn day(open: Time, close: Time) -> Hours {
        Hours {
            open_days_before: 0,
            open,
            close,
            pause: None,
            early: false,
        }
    }

    /// The same hours, closing early at `close` (a break that ends after the close is dropped).
    pub fn closing_early(self, close: Time) -> Hours {
        let pause = self.pause.filter(|&(_, end)| end <= close);
        Hours {
            close,
            pause,
            early: true,
            ..self
        }
    }
}

/// Saturday or Sunday.
pub fn is_weekend(day: Date) -> bool {
    matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// `day` plus `n` days (the rules only move dates by a few days inside 1990..2041,
/// far from jiff's limits).
pub fn add_days(day: Date, n: i32) -> Date {
    day.checked_add(jiff::Span::new().days(n)).unwrap_or(day)
}

/// A fixed-date holiday observed on Monday when it falls on a weekend.
pub fn weekend_to_monday(day: Date) -> Date {
    match day.weekday() {
        Weekday::Saturday => add_days(day, 2),
        Weekday::Sunday => add_days(day, 1),
        _ => day,
    }
}

/// A fixed-date holiday observed on Monday when it falls on a Sunday.
pub fn sunday_to_monday(day: Date) -> Date {
    if day.weekday() == Weekday::Sunday {
        add_days(day, 1)
    } else {
        day
    }
}

/// A fixed-date holiday moved off the weekend: Saturday to Friday, Sunday to Monday.
pub fn nearest_workday(day: Date) -> Date {
    match day.weekday() {
        Weekday::Saturday => add_days(day, -1),
        Weekday::Sunday => add_days(day, 1),
        _ => day,
    }
}

/// The last weekday (Monday to Friday) on or before `day`.
pub fn previous_friday(day: Date) -> Date {
    match day.weekday() {
        Weekday::Saturday => add_days(day, -1),
        Weekday::Sunday => add_days(day, -2),
        _ => day,
    }
}

/// The `n`th `weekday` of a month (n from 1 to 4, always within the month).
pub fn nth_weekday(y: i16, m: i8, weekday: Weekday, n: i8) -> Date {
    let first = date(y, m, 1).weekday();
    let offset = (weekday.to_monday_zero_offset() - first.to_monday_zero_offset()).rem_euclid(7);
    date(y, m, 1 + offset + 7 * (n - 1))
}

/// The first `weekday` on or after `day`.
pub fn weekday_on_or_after(day: Date, weekday: Weekday) -> Date {
    let ahead =
        (weekday.to_monday_zero_offset() - day.weekday().to_monday_zero_offset()).rem_euclid(7);
    add_days(day, i32::from(ahead))
}

/// The last `weekday` on or before `day`.
pub fn weekday_on_or_before(day: Date, weekday: Weekday) -> Date {
    let back =
        (day.weekday().to_monday_zero_offset() - weekday.to_monday_zero_offset()).rem_euclid(7);
    add_days(day, -i32::from(back))
}

/// The last `weekday` on or before day `last_day` of a month.
pub fn last_weekday(y: i16, m: i8, last_day: i8, weekday: Weekday) -> Date {
    weekday_on_or_before(date(y, m, last_day), weekday)
}

/// The first year of [`EASTERS`].
const EASTER_FIRST: i16 = 1980;
/// Easter Sunday's `(month, day)` for 1980..=2059, computed at compile time: the
/// rules ask for Easter on every date while a table is built, and the algorithm's
/// twenty divisions were a tenth of the build.
const EASTERS: [(i8, i8); 80] = {
    let mut out = [(0, 0); 80];
    let mut i = 0;
    while i < 80 {
        out[i] = easter_month_day(EASTER_FIRST as i32 + i as i32);
        i += 1;
    }
    out
};

/// Western (Gregorian) Easter Sunday.
pub fn easter_sunday(y: i16) -> Date {
    let (month, day) = match usize::try_from(y - EASTER_FIRST)
        .ok()
        .and_then(|i| EASTERS.get(i))
    {
        Some(&md) => md,
        None => easter_month_day(i32::from(y)),
    };
    date(y, month, day)
}

/// Easter Sunday's `(month, day)` in `year`: the anonymous Gregorian algorithm.
const fn easter_month_day(year: i32) -> (i8, i8) {
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
    // Both fit: month is 3 or 4, day 1 to 31.
    (month as i8, day as i8)
}

/// Good Friday: Easter Sunday minus two days.
pub fn good_friday(y: i16) -> Date {
    add_days(easter_sunday(y), -2)
}

/// Easter Monday: Easter Sunday plus one day.
pub fn easter_monday(y: i16) -> Date {
    add_days(easter_sunday(y), 1)
}

/// The first matching name: `candidates` are `(observed date, name)` pairs.
pub fn find_holiday<const N: usize>(
    day: Date,
    candidates: [(Option<Date>, &'static str); N],
) -> Option<&'static str> {
    candidates
        .into_iter()
        .find(|(d, _)| *d == Some(day))
        .map(|(_, name)| name)
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
        assert_eq!(easter_monday(2016), date(2016, 3, 28));
        // The table and the algorithm agree, and years outside the table work.
        for y in 1900..2100 {
            let (m, d) = easter_month_day(i32::from(y));
            assert_eq!(easter_sunday(y), date(y, m, d), "{y}");
        }
        assert_eq!(good_friday(2100), date(2100, 3, 26));
    }

    #[test]
    fn observance() {
        assert_eq!(weekend_to_monday(date(2022, 1, 1)), date(2022, 1, 3));
        assert_eq!(nearest_workday(date(2026, 7, 4)), date(2026, 7, 3));
        assert_eq!(previous_friday(date(2022, 12, 24)), date(2022, 12, 23));
        assert_eq!(
            weekday_on_or_before(date(2026, 5, 24), Weekday::Monday),
            date(2026, 5, 18)
        );
    }
}
