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
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;

use super::rules::{Hours, Rule, Venue, add_days};
use super::{Break, CalendarError, Overrides, Session};
use crate::time::floor_seconds;

/// A venue's calendar: its sessions over the supported range, precomputed.
#[derive(Debug)]
pub struct Exchange {
    pub(super) name: &'static str,
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
    /// Precomputes `venue`'s sessions with `overrides` applied.
    pub(super) fn build(
        venue: &dyn Venue,
        overrides: &Overrides,
    ) -> Result<Exchange, CalendarError> {
        let tz = TimeZone::get(venue.zone()).map_err(tz_err)?;
        let (first, last) = venue.supported();
        overrides.check_range(first, last)?;
        let days = usize::try_from((last - first).get_days()).unwrap_or(0) + 1;
        let mut sessions = Vec::with_capacity(days * 5 / 7 + 1);
        let mut holidays = Vec::new();
        let mut day = first;
        while day <= last {
            match overrides.apply(venue, day, venue.rule(day))? {
                Rule::Weekend => {}
                Rule::Holiday(name) => {
                    let name = overrides.closure_note(day).unwrap_or(name);
                    holidays.push((day, name.to_owned()));
                }
                Rule::Session(hours) => sessions.push(session(&tz, day, hours)?),
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
            name: venue.name(),
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

/// One session's instants.
fn session(tz: &TimeZone, day: Date, hours: Hours) -> Result<Session, CalendarError> {
    let at = |d: Date, t: Time| tz.to_timestamp(d.to_datetime(t)).map_err(tz_err);
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
