//! The built-in calendars by name, and their tables built once per process.

use std::sync::{Arc, OnceLock};

use super::rules::Venue;
use super::venues;
use super::{Calendar, CalendarError, Exchange, Overrides, Sessions};

/// The 24/7 calendar's canonical name (it has no MIC).
pub(super) const ALWAYS_OPEN: &str = "always-open";
/// The 24/7 calendar's other names.
const ALWAYS_OPEN_ALIASES: &[&str] = &["24/7", "always_open"];

/// Every venue with sessions, in listing order. Adding a venue: one line here.
static VENUES: [&dyn Venue; 9] = [
    &venues::xnys::Xnys,
    &venues::xlon::Xlon,
    &venues::xetr::Xetr,
    &venues::xtks::Xtks,
    &venues::xhkg::Xhkg,
    &venues::xtse::Xtse,
    &venues::xasx::Xasx,
    &venues::cmes::Cmes,
    &venues::fx::Fx,
];

type Built = OnceLock<Result<Arc<Exchange>, CalendarError>>;

/// The tables without overrides, one per entry of [`VENUES`], built on first use.
static TABLES: [Built; 9] = [const { OnceLock::new() }; 9];
/// The extended-hours tables without overrides, likewise (built only for venues
/// that define extended hours, and only when asked for).
static EXTENDED_TABLES: [Built; 9] = [const { OnceLock::new() }; 9];

fn matches(venue: &dyn Venue, name: &str) -> bool {
    venue.name().eq_ignore_ascii_case(name)
        || venue.aliases().iter().any(|a| a.eq_ignore_ascii_case(name))
}

fn shared(i: usize, hours: Sessions) -> Result<Calendar, CalendarError> {
    let cache = match hours {
        Sessions::Regular => &TABLES[i],
        Sessions::Extended => &EXTENDED_TABLES[i],
    };
    let built = cache
        .get_or_init(|| Exchange::build(VENUES[i], &Overrides::default(), hours).map(Arc::new));
    built.clone().map(Calendar::Exchange)
}

/// The venue `name` names and which sessions: a regular name or alias, or a
/// venue's extended-hours name (`XNYS extended`).
fn find(name: &str) -> Option<(usize, Sessions)> {
    let regular = VENUES.iter().position(|v| matches(*v, name));
    let regular = regular.map(|i| (i, Sessions::Regular));
    regular.or_else(|| {
        VENUES
            .iter()
            .position(|v| {
                v.extended_name()
                    .is_some_and(|x| x.eq_ignore_ascii_case(name))
            })
            .map(|i| (i, Sessions::Extended))
    })
}

/// A built-in calendar without overrides.
pub(super) fn builtin(name: &str) -> Result<Calendar, CalendarError> {
    by_name(name, &Overrides::default())
}

/// A built-in calendar by name or alias (case-insensitive), with overrides.
pub(super) fn by_name(name: &str, overrides: &Overrides) -> Result<Calendar, CalendarError> {
    let is_always_open = ALWAYS_OPEN.eq_ignore_ascii_case(name)
        || ALWAYS_OPEN_ALIASES
            .iter()
            .any(|a| a.eq_ignore_ascii_case(name));
    if is_always_open {
        if !overrides.is_empty() {
            let date = overrides
                .closures
                .first()
                .map(|c| c.date)
                .or(overrides.early_closes.first().map(|e| e.date));
            if let Some(date) = date {
                return Err(CalendarError::BadOverride {
                    date,
                    reason: "the always-open calendar never closes".into(),
                });
            }
        }
        return Ok(Calendar::AlwaysOpen);
    }
    let Some((i, hours)) = find(name) else {
        return Err(CalendarError::UnknownCalendar(name.to_owned()));
    };
    build(i, hours, overrides)
}

fn build(i: usize, hours: Sessions, overrides: &Overrides) -> Result<Calendar, CalendarError> {
    if overrides.is_empty() {
        shared(i, hours)
    } else {
        Exchange::build(VENUES[i], overrides, hours).map(|e| Calendar::Exchange(Arc::new(e)))
    }
}

/// The calendar `name` names with `hours`: `XNYS` with [`Sessions::Extended`] is
/// `XNYS extended`. The 24/7 calendar is the same with either.
///
/// # Errors
/// An unknown name, or extended hours for a venue that defines none.
pub(super) fn by_name_with(
    name: &str,
    hours: Sessions,
    overrides: &Overrides,
) -> Result<Calendar, CalendarError> {
    let calendar = by_name(name, overrides)?;
    let Calendar::Exchange(e) = &calendar else {
        return Ok(calendar);
    };
    if hours == e.hours {
        return Ok(calendar);
    }
    let Some((i, _)) = find(e.mic) else {
        return Err(CalendarError::UnknownCalendar(name.to_owned()));
    };
    if hours == Sessions::Extended && VENUES[i].extended_name().is_none() {
        return Err(CalendarError::NoExtendedHours(e.mic));
    }
    build(i, hours, overrides)
}

/// Every built-in calendar, in listing order.
pub(super) fn all() -> Result<Vec<Calendar>, CalendarError> {
    let mut out = (0..VENUES.len())
        .map(|i| shared(i, Sessions::Regular))
        .collect::<Result<Vec<_>, _>>()?;
    out.push(Calendar::AlwaysOpen);
    Ok(out)
}

/// Every built-in exchange table built afresh, without the per-process cache.
pub(super) fn build_all() -> Result<Vec<Calendar>, CalendarError> {
    VENUES
        .iter()
        .map(|v| {
            Exchange::build(*v, &Overrides::default(), Sessions::Regular)
                .map(|e| Calendar::Exchange(Arc::new(e)))
        })
        .collect()
}

/// `(canonical name, aliases)` of every built-in calendar, in listing order (each
/// venue's extended-hours calendar after the venues).
pub(super) fn names() -> Vec<(&'static str, &'static [&'static str])> {
    let mut out: Vec<_> = VENUES.iter().map(|v| (v.name(), v.aliases())).collect();
    let no_aliases: &'static [&'static str] = &[];
    out.extend(
        VENUES
            .iter()
            .filter_map(|v| v.extended_name())
            .map(|n| (n, no_aliases)),
    );
    out.push((ALWAYS_OPEN, ALWAYS_OPEN_ALIASES));
    out
}

/// The canonical names, for error messages: "`XNYS`, `XLON`, ..., `always-open`".
pub(super) fn listing() -> String {
    let names: Vec<String> = names().iter().map(|(n, _)| format!("`{n}`")).collect();
    names.join(", ")
}
