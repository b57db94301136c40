//! Market calendars: when is the market in a regular session?
//!
//! Two built-in calendars:
//! - `nyse`: the New York Stock Exchange, in `America/New_York` through the time-zone
//!   database (never a fixed offset), supported from 1990-01-01 through 2040-12-31.
//!   A query outside that range is an error, never a guess.
//! - `always-open`: a 24/7 venue. Every UTC day is one session; it never closes.
//!
//! Sessions are half-open: open at `open`, closed again at `close`. The NYSE's
//! sessions are computed once per process (about 12,800 of them) and kept sorted, so
//! "is it open at this instant?" is a binary search over integers.
//!
//! Operators can add closures and early closes without a release through
//! [`Overrides`] (see [`Calendar::nyse_with`]).

mod nyse;

use std::sync::{Arc, OnceLock};

use jiff::civil::{Date, Time, date};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use crate::time::floor_seconds;

/// One regular session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Session {
    /// The session's date in the exchange's time zone.
    pub date: Date,
    /// The opening instant.
    pub open: Timestamp,
    /// The closing instant (the first instant the market is closed again).
    pub close: Timestamp,
    /// True when the session closes early.
    pub early_close: bool,
}

impl Session {
    /// True when `at` lies in `[open, close)`.
    pub fn contains(&self, at: Timestamp) -> bool {
        self.open <= at && at < self.close
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
    #[error("unknown calendar {0:?}; the built-in calendars are `nyse` and `always-open`")]
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
    /// `from` is after `to` in a range query.
    #[error("the range {from} to {to} is empty: `from` is after `to`")]
    EmptyRange {
        /// Start of the range.
        from: Date,
        /// End of the range.
        to: Date,
    },
}

/// Closures and early closes an operator adds without a release, e.g. from TOML:
///
/// ```toml
/// [[closures]]
/// date = "2027-01-04"
/// note = "National day of mourning"
///
/// [[early_closes]]
/// date = "2027-01-05"
/// close = "13:00"        # New York time; defaults to the usual early-close time
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    /// Extra full-day closures.
    #[serde(default)]
    pub closures: Vec<ClosureOverride>,
    /// Extra early closes.
    #[serde(default)]
    pub early_closes: Vec<EarlyCloseOverride>,
}

/// One extra closure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosureOverride {
    /// The date (exchange time zone).
    pub date: Date,
    /// Why, shown to operators.
    #[serde(default)]
    pub note: Option<String>,
}

/// One extra early close.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyCloseOverride {
    /// The date (exchange time zone).
    pub date: Date,
    /// The local close time (default 13:00).
    #[serde(default)]
    pub close: Option<Time>,
    /// Why, shown to operators.
    #[serde(default)]
    pub note: Option<String>,
}

/// A market calendar. Cheap to clone.
#[derive(Debug, Clone)]
pub enum Calendar {
    /// An exchange with sessions, such as the NYSE.
    Exchange(Arc<Exchange>),
    /// A venue that never closes.
    AlwaysOpen,
}

/// An exchange calendar: its sessions over the supported range, precomputed.
#[derive(Debug)]
pub struct Exchange {
    name: &'static str,
    tz: TimeZone,
    first: Date,
    last: Date,
    /// The first and the last supported instants, `[start, end)`, as Unix seconds.
    start: i64,
    end: i64,
    sessions: Vec<Session>,
    /// `(open, close)` in Unix seconds, parallel to `sessions`: the hot path reads only this.
    bounds: Vec<(i64, i64)>,
    /// Dates without a session that are holidays or closures (weekends are implied).
    holidays: Vec<(Date, String)>,
}

/// The NYSE's supported range.
const NYSE_FIRST: Date = date(1990, 1, 1);
const NYSE_LAST: Date = date(2040, 12, 31);

impl Calendar {
    /// The NYSE calendar with the built-in rules (built once per process, then shared).
    pub fn nyse() -> Calendar {
        static NYSE: OnceLock<Result<Arc<Exchange>, CalendarError>> = OnceLock::new();
        match NYSE.get_or_init(|| Exchange::nyse(&Overrides::default()).map(Arc::new)) {
            Ok(exchange) => Calendar::Exchange(exchange.clone()),
            // Only a broken bundled time-zone database gets here, and then no
            // exchange calendar can exist: keep answering, as a 24/7 venue would
            // be wrong, by panicking loudly at the first use instead.
            Err(e) => panic!("the bundled time-zone database cannot build the NYSE calendar: {e}"),
        }
    }

    /// The NYSE calendar with operator overrides applied.
    pub fn nyse_with(overrides: &Overrides) -> Result<Calendar, CalendarError> {
        Exchange::nyse(overrides).map(|e| Calendar::Exchange(Arc::new(e)))
    }

    /// The 24/7 calendar.
    pub const fn always_open() -> Calendar {
        Calendar::AlwaysOpen
    }

    /// A built-in calendar by name: `nyse` (also `XNYS`) or `always-open` (also `24/7`).
    pub fn by_name(name: &str, overrides: &Overrides) -> Result<Calendar, CalendarError> {
        match name.to_ascii_lowercase().as_str() {
            "nyse" | "xnys" => {
                if *overrides == Overrides::default() {
                    Ok(Calendar::nyse())
                } else {
                    Calendar::nyse_with(overrides)
                }
            }
            "always-open" | "24/7" | "always_open" => Ok(Calendar::AlwaysOpen),
            _ => Err(CalendarError::UnknownCalendar(name.to_owned())),
        }
    }

    /// The calendar's name.
    pub fn name(&self) -> &'static str {
        match self {
            Calendar::Exchange(e) => e.name,
            Calendar::AlwaysOpen => "always-open",
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

    /// Is the market in a regular session at `at`?
    pub fn is_open(&self, at: Timestamp) -> Result<bool, CalendarError> {
        match self {
            Calendar::Exchange(e) => {
                let s = e.check_instant(at)?;
                // The first session that has not closed yet by `s`...
                let i = e.bounds.partition_point(|&(_, close)| close <= s);
                // ...is open now if it has opened.
                Ok(e.bounds.get(i).is_some_and(|&(open, _)| open <= s))
            }
            Calendar::AlwaysOpen => Ok(true),
        }
    }

    /// What the calendar says about `day`.
    pub fn day(&self, day: Date) -> Result<Day, CalendarError> {
        match self {
            Calendar::Exchange(e) => {
                e.check_date(day)?;
                if let Ok(i) = e.sessions.binary_search_by_key(&day, |s| s.date) {
                    return Ok(Day::Session(e.sessions[i]));
                }
                Ok(match e.holidays.binary_search_by_key(&day, |(d, _)| *d) {
                    Ok(i) => Day::Closed(Closed::Holiday(e.holidays[i].1.clone())),
                    Err(_) => Day::Closed(Closed::Weekend),
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

    /// The first opening instant strictly after `at`. `None` for the 24/7 calendar.
    pub fn next_open(&self, at: Timestamp) -> Result<Option<Timestamp>, CalendarError> {
        match self {
            Calendar::Exchange(e) => e.first_after(at, |s| s.open).map(Some),
            Calendar::AlwaysOpen => Ok(None),
        }
    }

    /// The first closing instant strictly after `at`. `None` for the 24/7 calendar.
    pub fn next_close(&self, at: Timestamp) -> Result<Option<Timestamp>, CalendarError> {
        match self {
            Calendar::Exchange(e) => e.first_after(at, |s| s.close).map(Some),
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

    /// Open or closed at `at`, today's session, and the next open and close.
    pub fn status(&self, at: Timestamp) -> Result<MarketStatus, CalendarError> {
        let today = self.time_zone().to_datetime(at).date();
        Ok(MarketStatus {
            at,
            is_open: self.is_open(at)?,
            today: self.day(today)?,
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
    })
}

impl Exchange {
    fn nyse(overrides: &Overrides) -> Result<Exchange, CalendarError> {
        let tz = TimeZone::get("America/New_York")
            .map_err(|e| CalendarError::TimeZone(e.to_string()))?;
        let (first, last) = (NYSE_FIRST, NYSE_LAST);
        let to_ts = |day: Date, t: Time| -> Result<Timestamp, CalendarError> {
            tz.to_timestamp(day.to_datetime(t))
                .map_err(|e| CalendarError::TimeZone(e.to_string()))
        };
        let in_range = |day: Date| -> Result<(), CalendarError> {
            if day < first || day > last {
                return Err(CalendarError::BadOverride {
                    date: day,
                    reason: format!("outside the supported range {first} to {last}"),
                });
            }
            Ok(())
        };
        for c in &overrides.closures {
            in_range(c.date)?;
        }
        for ec in &overrides.early_closes {
            in_range(ec.date)?;
        }

        let mut sessions = Vec::with_capacity(12_900);
        let mut holidays = Vec::new();
        for day in first.series(1.day()).take_while(|d| *d <= last) {
            let closure = overrides.closures.iter().find(|c| c.date == day);
            let early = overrides.early_closes.iter().find(|ec| ec.date == day);
            let rule = nyse::rule_for(day);
            match (rule, closure) {
                (nyse::Rule::Weekend, _) => {}
                (nyse::Rule::Holiday(name), _) => holidays.push((day, name.to_owned())),
                (nyse::Rule::Session { .. }, Some(c)) => {
                    let name = c
                        .note
                        .clone()
                        .unwrap_or_else(|| "Unscheduled closure".to_owned());
                    holidays.push((day, name));
                }
                (
                    nyse::Rule::Session {
                        close,
                        early: is_early,
                    },
                    None,
                ) => {
                    let (close, is_early) = match early {
                        Some(ec) => {
                            let t = ec.close.unwrap_or(nyse::early_close_time(day.year()));
                            if t <= nyse::OPEN || t >= nyse::CLOSE {
                                return Err(CalendarError::BadOverride {
                                    date: day,
                                    reason: format!(
                                        "early close {t} must lie between 09:30 and 16:00"
                                    ),
                                });
                            }
                            (t.min(close), true)
                        }
                        None => (close, is_early),
                    };
                    sessions.push(Session {
                        date: day,
                        open: to_ts(day, nyse::OPEN)?,
                        close: to_ts(day, close)?,
                        early_close: is_early,
                    });
                }
            }
            if early.is_some() && (closure.is_some() || !matches!(rule, nyse::Rule::Session { .. }))
            {
                return Err(CalendarError::BadOverride {
                    date: day,
                    reason: "an early close needs a trading day, and the market is closed that day"
                        .into(),
                });
            }
        }
        let start = floor_seconds(to_ts(first, Time::midnight())?);
        let end = floor_seconds(to_ts(
            last.tomorrow()
                .map_err(|e| CalendarError::TimeZone(e.to_string()))?,
            Time::midnight(),
        )?);
        let bounds = sessions
            .iter()
            .map(|s| (floor_seconds(s.open), floor_seconds(s.close)))
            .collect();
        Ok(Exchange {
            name: "nyse",
            tz,
            first,
            last,
            start,
            end,
            sessions,
            bounds,
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
    fn check_instant(&self, at: Timestamp) -> Result<i64, CalendarError> {
        let s = floor_seconds(at);
        if s < self.start || s >= self.end {
            return Err(
                self.out_of_range(format!("the instant {}", crate::time::format_timestamp(at)))
            );
        }
        Ok(s)
    }

    fn check_date(&self, day: Date) -> Result<(), CalendarError> {
        if day < self.first || day > self.last {
            return Err(self.out_of_range(format!("the date {day}")));
        }
        Ok(())
    }

    /// The first `edge` (open or close) of any session strictly after `at`.
    fn first_after(
        &self,
        at: Timestamp,
        edge: fn(&Session) -> Timestamp,
    ) -> Result<Timestamp, CalendarError> {
        self.check_instant(at)?;
        let i = self.sessions.partition_point(|s| edge(s) <= at);
        match self.sessions.get(i) {
            Some(s) => Ok(edge(s)),
            None => Err(self.out_of_range(format!(
                "the next session after {}",
                crate::time::format_timestamp(at)
            ))),
        }
    }
}
