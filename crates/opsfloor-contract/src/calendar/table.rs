//! The fast path: a venue's sessions precomputed once, queried by binary search.
//!
//! [`Exchange::build`] walks the supported dates once, asks the [`Venue`] for each
//! date's [`Rule`], applies operator [`Overrides`], and turns local times into
//! instants through the time-zone database (never a fixed offset). Queries then read
//! only sorted vectors:
//! - `sessions`: one [`Session`] per trading date, sorted by date (and by open);
//! - `spans`: the instants the market is open, as `[open, close)` Unix seconds: each
//!   session split at its break, and sessions that touch (FX's, where one closes the
//!   instant the next opens) merged, so "next close" is when trading really stops.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{Offset, TimeZone};

use super::rules::{Hours, Rule, Venue, add_days};
use super::{Break, CalendarError, Overrides, Session, Sessions};
use crate::time::floor_seconds;

/// A venue's calendar: its sessions over the supported range, precomputed.
#[derive(Debug)]
pub struct Exchange {
    /// The calendar's canonical name: the MIC, or the extended calendar's name.
    pub(super) name: &'static str,
    /// The venue's MIC (the same as `name` for regular sessions).
    pub(super) mic: &'static str,
    /// Regular sessions only, or extended hours around full sessions.
    pub(super) hours: Sessions,
    pub(super) tz: TimeZone,
    pub(super) first: Date,
    pub(super) last: Date,
    /// The first and the last supported instants, `[start, end)`, as Unix seconds.
    start: i64,
    end: i64,
    pub(super) sessions: Vec<Session>,
    /// Open intervals, `[open, close)` Unix seconds, sorted and disjoint: the hot path.
    spans: Vec<(i64, i64)>,
    /// Dates without a session that are holidays or closures (weekends are implied).
    holidays: Vec<(Date, String)>,
}

fn tz_err(e: jiff::Error) -> CalendarError {
    CalendarError::TimeZone(e.to_string())
}

impl Exchange {
    /// Precomputes `venue`'s sessions with `overrides` applied, and with
    /// `Sessions::Extended` each full trading day widened to the venue's extended
    /// hours (a day closing early, by rule or by override, keeps its regular hours).
    /// The caller checks that an extended venue defines extended hours.
    pub(super) fn build(
        venue: &dyn Venue,
        overrides: &Overrides,
        hours: Sessions,
    ) -> Result<Exchange, CalendarError> {
        let tz = TimeZone::get(venue.zone()).map_err(tz_err)?;
        let (first, last) = venue.supported();
        overrides.check_range(first, last)?;
        let days = usize::try_from((last - first).get_days()).unwrap_or(0) + 1;
        let mut sessions = Vec::with_capacity(days * 5 / 7 + 1);
        let mut holidays = Vec::new();
        let mut clock = LocalClock::new(&tz);
        let mut day = first;
        while day <= last {
            let mut rule = overrides.apply(venue, day, venue.rule(day))?;
            if let (Sessions::Extended, Rule::Session(regular)) = (hours, rule)
                && !regular.early
                && let Some(wider) = venue.extended(regular)
            {
                rule = Rule::Session(wider);
            }
            match rule {
                Rule::Weekend => {}
                Rule::Holiday(name) => {
                    let name = overrides.closure_note(day).unwrap_or(name);
                    holidays.push((day, name.to_owned()));
                }
                Rule::Session(hours) => sessions.push(session(&mut clock, day, hours)?),
            }
            day = day.tomorrow().map_err(tz_err)?;
        }
        let midnight = |d: Date| {
            tz.to_timestamp(d.to_datetime(Time::midnight()))
                .map_err(tz_err)
        };
        let mut start = floor_seconds(midnight(first)?);
        if let Some(s) = sessions.first() {
            start = start.min(floor_seconds(s.open));
        }
        let end = floor_seconds(midnight(add_days(last, 1))?);
        let spans = spans_of(&sessions);
        Ok(Exchange {
            name: match hours {
                Sessions::Regular => venue.name(),
                Sessions::Extended => venue.extended_name().unwrap_or(venue.name()),
            },
            mic: venue.name(),
            hours,
            tz,
            first,
            last,
            start,
            end,
            sessions,
            spans,
            holidays,
        })
    }

    fn out_of_range(&self, what: String) -> CalendarError {
        CalendarError::OutOfRange {
            calendar: self.name,
            what,
            first: self.first,
            last: self.last,
        }
    }

    /// The instant as Unix seconds (floored), if within the supported range.
    pub(super) fn check_instant(&self, at: Timestamp) -> Result<i64, CalendarError> {
        let s = floor_seconds(at);
        if s < self.start || s >= self.end {
            return Err(
                self.out_of_range(format!("the instant {}", crate::time::format_timestamp(at)))
            );
        }
        Ok(s)
    }

    /// An error unless `day` lies in the supported range.
    pub(super) fn check_date(&self, day: Date) -> Result<(), CalendarError> {
        if day < self.first || day > self.last {
            return Err(self.out_of_range(format!("the date {day}")));
        }
        Ok(())
    }

    /// Is the market open at `at`? The hot path: one range check, one binary search.
    #[inline]
    pub(super) fn is_open(&self, at: Timestamp) -> Result<bool, CalendarError> {
        let s = self.check_instant(at)?;
        // The first span that has not closed yet by `s`...
        let i = self.spans.partition_point(|&(_, close)| close <= s);
        // ...is open now if it has opened.
        Ok(self.spans.get(i).is_some_and(|&(open, _)| open <= s))
    }

    /// The session (by date) that contains `at`, if any.
    pub(super) fn session_at(&self, at: Timestamp) -> Option<&Session> {
        let i = self.sessions.partition_point(|s| s.close <= at);
        self.sessions.get(i).filter(|s| s.open <= at)
    }

    /// The holiday name of a date without a session (`None`: a weekend day).
    pub(super) fn holiday(&self, day: Date) -> Option<&str> {
        self.holidays
            .binary_search_by_key(&day, |(d, _)| *d)
            .ok()
            .map(|i| self.holidays[i].1.as_str())
    }

    /// The first opening (`edge = 0`) or closing (`edge = 1`) instant strictly after `at`.
    pub(super) fn first_after(
        &self,
        at: Timestamp,
        close: bool,
    ) -> Result<Timestamp, CalendarError> {
        let s = self.check_instant(at)?;
        let edge = |span: &(i64, i64)| if close { span.1 } else { span.0 };
        let i = self.spans.partition_point(|span| edge(span) <= s);
        match self.spans.get(i).map(edge).map(Timestamp::from_second) {
            Some(Ok(t)) => Ok(t),
            Some(Err(e)) => Err(tz_err(e)),
            None => Err(self.out_of_range(format!(
                "the next session after {}",
                crate::time::format_timestamp(at)
            ))),
        }
    }
}

/// Local civil times to instants, fast: between two transitions of the zone the
/// offset is fixed, so most conversions are one subtraction and a range check.
///
/// Building the tables converts some 300,000 local times; the time-zone
/// database's general conversion (civil time → candidate instants, with
/// ambiguity rules) was a quarter of the build. Here the database is asked only
/// near a transition: `[lo, hi)` is the current offset's interval shrunk by a
/// day at each end, so a guess inside it cannot be in a gap or a fold (where
/// the slow path's "compatible" rule decides).
struct LocalClock<'a> {
    tz: &'a TimeZone,
    offset: Offset,
    lo: i64,
    hi: i64,
}

impl<'a> LocalClock<'a> {
    /// The margin kept from each transition, in seconds.
    const MARGIN: i64 = 86_400;

    fn new(tz: &'a TimeZone) -> LocalClock<'a> {
        // An empty interval: the first conversion takes the slow path.
        LocalClock {
            tz,
            offset: Offset::UTC,
            lo: 0,
            hi: 0,
        }
    }

    /// The instant of local `d` `t` (as `TimeZone::to_timestamp` would say).
    fn at(&mut self, d: Date, t: Time) -> Result<Timestamp, CalendarError> {
        let civil = DateTime::from_parts(d, t);
        let guess = self.offset.to_timestamp(civil).map_err(tz_err)?;
        let s = guess.as_second();
        if self.lo <= s && s < self.hi {
            return Ok(guess);
        }
        let exact = self.tz.to_timestamp(civil).map_err(tz_err)?;
        self.offset = self.tz.to_offset(exact);
        // The offset's interval starts at the last transition at or before
        // `exact` (`preceding` is strict, hence the second added).
        let just_after = exact
            .checked_add(jiff::SignedDuration::from_secs(1))
            .map_err(tz_err)?;
        let before = self
            .tz
            .preceding(just_after)
            .next()
            .map(|t| t.timestamp().as_second());
        let after = self
            .tz
            .following(exact)
            .next()
            .map(|t| t.timestamp().as_second());
        self.lo = before.map_or(i64::MIN, |b| b.saturating_add(Self::MARGIN));
        self.hi = after.map_or(i64::MAX, |a| a.saturating_sub(Self::MARGIN));
        Ok(exact)
    }
}

/// One session's instants.
fn session(clock: &mut LocalClock<'_>, day: Date, hours: Hours) -> Result<Session, CalendarError> {
    let mut at = |d: Date, t: Time| clock.at(d, t);
    let open_day = add_days(day, -i32::from(hours.open_days_before));
    let pause = match hours.pause {
        Some((start, end)) => Some(Break {
            start: at(day, start)?,
            end: at(day, end)?,
        }),
        None => None,
    };
    Ok(Session {
        date: day,
        open: at(open_day, hours.open)?,
        close: at(day, hours.close)?,
        early_close: hours.early,
        pause,
    })
}

/// The open intervals of sorted sessions: split at breaks, touching ones merged.
fn spans_of(sessions: &[Session]) -> Vec<(i64, i64)> {
    let mut spans: Vec<(i64, i64)> = Vec::with_capacity(sessions.len() + sessions.len() / 2);
    let mut push = |open: i64, close: i64| match spans.last_mut() {
        Some(last) if last.1 == open => last.1 = close,
        _ => spans.push((open, close)),
    };
    for s in sessions {
        let (open, close) = (floor_seconds(s.open), floor_seconds(s.close));
        match s.pause {
            Some(b) => {
                push(open, floor_seconds(b.start));
                push(floor_seconds(b.end), close);
            }
            None => push(open, close),
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast clock agrees with the database for every 30 minutes of local time
    /// 1990–2041, gaps and folds included, in zones with and without DST.
    #[test]
    fn local_clock_agrees_with_the_database() {
        for zone in [
            "America/New_York",
            "Europe/London",
            "Australia/Sydney",
            "Asia/Tokyo",
        ] {
            let tz = TimeZone::get(zone).expect("bundled zone");
            let mut clock = LocalClock::new(&tz);
            let mut day = jiff::civil::date(1990, 1, 1);
            while day < jiff::civil::date(2041, 1, 1) {
                for half_hours in 0..48 {
                    let t = Time::new(half_hours / 2, (half_hours % 2) * 30, 0, 0).expect("time");
                    let expected = tz.to_timestamp(day.to_datetime(t)).expect("instant");
                    assert_eq!(
                        clock.at(day, t).expect("instant"),
                        expected,
                        "{zone} {day} {t}"
                    );
                }
                day = day.tomorrow().expect("date");
            }
        }
    }
}
