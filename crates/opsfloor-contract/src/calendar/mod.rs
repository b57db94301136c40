//! Market calendars: when is a venue in a regular session?
//!
//! Built-in calendars, named by MIC (looked up case-insensitively; `nyse` and
//! `always-open` are aliases kept from before):
//!
//! | name | venue | zone | supported |
//! |---|---|---|---|
//! | `XNYS` | New York Stock Exchange | America/New_York | 1990–2040 |
//! | `XLON` | London Stock Exchange | Europe/London | 2000–2035 |
//! | `XETR` | Xetra (Deutsche Börse) | Europe/Berlin | 2000–2035 |
//! | `XTKS` | Tokyo Stock Exchange (lunch break) | Asia/Tokyo | 2000–2035 |
//! | `XHKG` | Hong Kong Exchanges (lunch break) | Asia/Hong_Kong | 2000–2035 |
//! | `XTSE` | Toronto Stock Exchange | America/Toronto | 2000–2035 |
//! | `XASX` | ASX | Australia/Sydney | 2000–2035 |
//! | `CMES` | CME Globex equity and interest-rate futures | America/Chicago | 2000–2035 |
//! | `FX` | spot FX, Sunday 17:00 to Friday 17:00 | America/New_York | 1990–2040 |
//! | `always-open` | 24/7 | UTC | every date |
//! | `XNYS extended` | XNYS with pre-market and after-hours, 04:00–20:00 on full days ([`Sessions::Extended`]) | America/New_York | 1990–2040 |
//!
//! A query outside a calendar's supported range is an error, never a guess.
//! The exchanges' sessions match the Apache-2.0 `exchange_calendars` package
//! (4.13.2) for every session 2000–2035 (`tests/calendar_venues.rs`; XNYS also
//! 1990–2040 in `tests/calendar.rs`); CMES follows CME's own schedule where that
//! package differs, and `venues/cmes.rs` lists every such date. The reference
//! lists and the scripts that generated them (`generate_venue_sessions.py`,
//! `generate_nyse_sessions.py`) are committed in `tests/data/` with their
//! provenance; opsfloor does not use the package at build or run time.
//!
//! Sessions are half-open `[open, close)` instants with an optional break
//! ([`Session::pause`]); a session is dated by the venue's trading date, which is
//! not always the date it opens on (CME's Monday session opens on Sunday evening).
//! Each venue's rules ([`rules::Venue`], one file in `venues/`) are turned once per
//! process into a sorted table ([`Exchange`]), so "is it open at this instant?" is a
//! binary search over integers.
//!
//! Operators can add closures and early closes without a release through
//! [`Overrides`] (see [`Calendar::by_name`]).

mod overrides;
mod overrides_file;
mod registry;
pub mod rules;
mod table;
mod venues;

use std::sync::Arc;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

pub use overrides::{ClosureOverride, EarlyCloseOverride, Overrides};
pub use overrides_file::{OverridesFileError, OverridesProblem, VenueOverrides};
pub use table::Exchange;

/// Which hours of a venue count as open: its regular sessions (the default), or
/// its extended hours (pre-market and after-hours, for XNYS 04:00 to 20:00 New
/// York time on full trading days) for a service that trades them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Sessions {
    /// The regular sessions only.
    #[default]
    Regular,
    /// Extended hours around every full regular session.
    Extended,
}

impl Sessions {
    /// Parses `regular` or `extended` (case-insensitively), as the inventory's
    /// `sessions` key and the probe's `OPS_SESSIONS` write it.
    pub fn parse(text: &str) -> Option<Sessions> {
        if text.eq_ignore_ascii_case("regular") {
            Some(Sessions::Regular)
        } else if text.eq_ignore_ascii_case("extended") {
            Some(Sessions::Extended)
        } else {
            None
        }
    }

    /// The word the inventory and the API use: `regular` or `extended`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Sessions::Regular => "regular",
            Sessions::Extended => "extended",
        }
    }
}

/// One regular session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Session {
    /// The session's trading date in the venue's time zone.
    pub date: Date,
    /// The opening instant.
    pub open: Timestamp,
    /// The closing instant (the first instant the market is closed again).
    pub close: Timestamp,
    /// True when the session closes early.
    pub early_close: bool,
    /// A break inside the session (Tokyo's and Hong Kong's lunch), if any.
    pub pause: Option<Break>,
}

/// A break inside a session, `[start, end)`: the market is closed during it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Break {
    /// The first instant of the break.
    pub start: Timestamp,
    /// The first instant the market is open again.
    pub end: Timestamp,
}

impl Session {
    /// True when the market is open at `at`: in `[open, close)` and not in the break.
    pub fn contains(&self, at: Timestamp) -> bool {
        self.open <= at
            && at < self.close
            && !self.pause.is_some_and(|b| b.start <= at && at < b.end)
    }
}
/// Why a date has no session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closed {
    /// Saturday or Sunday.
    Weekend,
    /// A holiday or an unscheduled closure, with its name.
    Holiday(String),
}

/// What a calendar says about one date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Day {
    /// The market has a session on this date.
    Session(Session),
    /// The market is closed all day.
    Closed(Closed),
}

/// Everything a status display needs about the market at an instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketStatus {
    /// The instant asked about.
    pub at: Timestamp,
    /// The market is in a session at `at`.
    pub is_open: bool,
    /// What the calendar says about `at`'s date in the exchange's zone.
    pub today: Day,
    /// The first open strictly after `at` (`None`: the calendar never opens again, or is always open).
    pub next_open: Option<Timestamp>,
    /// The first close strictly after `at` (`None`: the calendar never closes).
    pub next_close: Option<Timestamp>,
}

/// A query the calendar cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The instant or date lies outside the supported range.
    #[error("{what} is outside the {calendar} calendar's supported range {first} to {last}")]
    OutOfRange {
        /// The calendar's name.
        calendar: &'static str,
        /// What was asked about.
        what: String,
        /// The first supported date.
        first: Date,
        /// The last supported date.
        last: Date,
    },
    /// No calendar by that name.
    #[error("unknown calendar {0:?}; the built-in calendars are {list}", list = registry::listing())]
    UnknownCalendar(String),
    /// An override that cannot apply.
    #[error("calendar override for {date}: {reason}")]
    BadOverride {
        /// The date of the override.
        date: Date,
        /// Why it cannot apply.
        reason: String,
    },
    /// The time-zone database failed (should not happen with the bundled database).
    #[error("time zone: {0}")]
    TimeZone(String),
    /// Extended hours were asked of a venue that defines none.
    #[error("the {0} calendar defines no extended hours; only XNYS does")]
    NoExtendedHours(&'static str),
    /// `from` is after `to` in a range query.
    #[error("the range {from} to {to} is empty: `from` is after `to`")]
    EmptyRange {
        /// Start of the range.
        from: Date,
        /// End of the range.
        to: Date,
    },
}

/// A market calendar. Cheap to clone.
#[derive(Debug, Clone)]
pub enum Calendar {
    /// An exchange with sessions, such as the NYSE.
    Exchange(Arc<Exchange>),
    /// A venue that never closes.
    AlwaysOpen,
}

impl Calendar {
    /// The NYSE calendar with the built-in rules (built once per process, then shared).
    pub fn nyse() -> Calendar {
        match registry::builtin("XNYS") {
            Ok(calendar) => calendar,
            // Only a broken bundled time-zone database gets here, and then no
            // exchange calendar can exist: keep answering, as a 24/7 venue would
            // be wrong, by panicking loudly at the first use instead.
            Err(e) => panic!("the bundled time-zone database cannot build the NYSE calendar: {e}"),
        }
    }

    /// The NYSE calendar with operator overrides applied.
    pub fn nyse_with(overrides: &Overrides) -> Result<Calendar, CalendarError> {
        Calendar::by_name("XNYS", overrides)
    }

    /// The 24/7 calendar.
    pub const fn always_open() -> Calendar {
        Calendar::AlwaysOpen
    }

    /// A built-in calendar by name or alias, case-insensitively (`XTKS`, `xnys`,
    /// `nyse`, `always-open`), with `overrides` applied. Without overrides the table
    /// is built once per process and shared.
    pub fn by_name(name: &str, overrides: &Overrides) -> Result<Calendar, CalendarError> {
        registry::by_name(name, overrides)
    }

    /// The built-in calendar `name` (as [`Calendar::by_name`]) with `hours`:
    /// `("XNYS", Extended)` is the `XNYS extended` calendar.
    ///
    /// # Errors
    /// An unknown name, or extended hours of a venue that defines none.
    pub fn by_name_with(
        name: &str,
        hours: Sessions,
        overrides: &Overrides,
    ) -> Result<Calendar, CalendarError> {
        registry::by_name_with(name, hours, overrides)
    }

    /// Every built-in calendar, in listing order (the exchanges, then `FX` and
    /// `always-open`).
    pub fn builtins() -> Result<Vec<Calendar>, CalendarError> {
        registry::all()
    }

    /// Builds every built-in exchange table afresh, bypassing the per-process
    /// cache: what start-up costs (budget 20 ms, see BENCHMARKS.md). Callers
    /// normally use [`Calendar::by_name`], which builds each table once.
    pub fn build_all_tables() -> Result<Vec<Calendar>, CalendarError> {
        registry::build_all()
    }

    /// The names every built-in calendar is found by: `(canonical name, aliases)`.
    pub fn names() -> Vec<(&'static str, &'static [&'static str])> {
        registry::names()
    }

    /// The calendar's canonical name: the MIC (`XNYS`), `FX` or `always-open`.
    pub fn name(&self) -> &'static str {
        match self {
            Calendar::Exchange(e) => e.name,
            Calendar::AlwaysOpen => registry::ALWAYS_OPEN,
        }
    }

    /// The venue's MIC (`XNYS` for `XNYS extended` too), `FX` or `always-open`:
    /// what a status document's `market.calendar` names.
    pub fn venue(&self) -> &'static str {
        match self {
            Calendar::Exchange(e) => e.mic,
            Calendar::AlwaysOpen => registry::ALWAYS_OPEN,
        }
    }

    /// Regular sessions or extended hours.
    pub fn hours(&self) -> Sessions {
        match self {
            Calendar::Exchange(e) => e.hours,
            Calendar::AlwaysOpen => Sessions::Regular,
        }
    }

    /// The calendar's time zone (UTC for the 24/7 calendar).
    pub fn time_zone(&self) -> TimeZone {
        match self {
            Calendar::Exchange(e) => e.tz.clone(),
            Calendar::AlwaysOpen => TimeZone::UTC,
        }
    }

    /// The supported dates, inclusive; `None` when every date is supported.
    pub fn supported_dates(&self) -> Option<(Date, Date)> {
        match self {
            Calendar::Exchange(e) => Some((e.first, e.last)),
            Calendar::AlwaysOpen => None,
        }
    }

    /// Is the market open at `at` (in a session and not in its break)?
    #[inline]
    pub fn is_open(&self, at: Timestamp) -> Result<bool, CalendarError> {
        match self {
            Calendar::Exchange(e) => e.is_open(at),
            Calendar::AlwaysOpen => Ok(true),
        }
    }

    /// What the calendar says about the trading date `day`.
    pub fn day(&self, day: Date) -> Result<Day, CalendarError> {
        match self {
            Calendar::Exchange(e) => {
                e.check_date(day)?;
                if let Ok(i) = e.sessions.binary_search_by_key(&day, |s| s.date) {
                    return Ok(Day::Session(e.sessions[i]));
                }
                Ok(match e.holiday(day) {
                    Some(name) => Day::Closed(Closed::Holiday(name.to_owned())),
                    None => Day::Closed(Closed::Weekend),
                })
            }
            Calendar::AlwaysOpen => utc_day(day).map(Day::Session),
        }
    }

    /// The session on `day`, if the market trades that day.
    pub fn session_on(&self, day: Date) -> Result<Option<Session>, CalendarError> {
        Ok(match self.day(day)? {
            Day::Session(s) => Some(s),
            Day::Closed(_) => None,
        })
    }

    /// The first instant strictly after `at` when the market opens (also the end of
    /// a break). `None` for the 24/7 calendar.
    pub fn next_open(&self, at: Timestamp) -> Result<Option<Timestamp>, CalendarError> {
        match self {
            Calendar::Exchange(e) => e.first_after(at, false).map(Some),
            Calendar::AlwaysOpen => Ok(None),
        }
    }

    /// The first instant strictly after `at` when the market closes (also the start
    /// of a break; not where one session ends as the next begins). `None` for the
    /// 24/7 calendar.
    pub fn next_close(&self, at: Timestamp) -> Result<Option<Timestamp>, CalendarError> {
        match self {
            Calendar::Exchange(e) => e.first_after(at, true).map(Some),
            Calendar::AlwaysOpen => Ok(None),
        }
    }

    /// Every session whose date lies in `[from, to]`, in order.
    pub fn sessions(&self, from: Date, to: Date) -> Result<Vec<Session>, CalendarError> {
        if from > to {
            return Err(CalendarError::EmptyRange { from, to });
        }
        match self {
            Calendar::Exchange(e) => {
                e.check_date(from)?;
                e.check_date(to)?;
                let lo = e.sessions.partition_point(|s| s.date < from);
                let hi = e.sessions.partition_point(|s| s.date <= to);
                Ok(e.sessions[lo..hi].to_vec())
            }
            Calendar::AlwaysOpen => from
                .series(1.day())
                .take_while(|d| *d <= to)
                .map(utc_day)
                .collect(),
        }
    }

    /// Open or closed at `at`, the current trading day (the session containing `at`,
    /// else `at`'s local date), and the next open and close.
    pub fn status(&self, at: Timestamp) -> Result<MarketStatus, CalendarError> {
        let is_open = self.is_open(at)?;
        let today = match self {
            Calendar::Exchange(e) => match e.session_at(at) {
                Some(s) => Day::Session(*s),
                None => self.day(self.time_zone().to_datetime(at).date())?,
            },
            Calendar::AlwaysOpen => self.day(TimeZone::UTC.to_datetime(at).date())?,
        };
        Ok(MarketStatus {
            at,
            is_open,
            today,
            next_open: self.next_open(at)?,
            next_close: self.next_close(at)?,
        })
    }
}

/// A whole UTC day as a session (the 24/7 calendar).
fn utc_day(day: Date) -> Result<Session, CalendarError> {
    let tz_err = |e: jiff::Error| CalendarError::TimeZone(e.to_string());
    let open = TimeZone::UTC
        .to_timestamp(day.to_datetime(Time::midnight()))
        .map_err(tz_err)?;
    let close = day
        .tomorrow()
        .and_then(|d| TimeZone::UTC.to_timestamp(d.to_datetime(Time::midnight())))
        .map_err(tz_err)?;
    Ok(Session {
        date: day,
        open,
        close,
        early_close: false,
        pause: None,
    })
}
