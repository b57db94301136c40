//! One overrides file for every venue of a floor (`[floor] calendar_overrides`).
//!
//! The format is the one `opsfloor calendar --overrides` reads, with a `calendar`
//! key on each entry naming its venue (any name or alias, case-insensitively):
//!
//! ```toml
//! [[closures]]
//! calendar = "XNYS"
//! date = "2027-01-04"
//! note = "National day of mourning"
//!
//! [[early_closes]]
//! calendar = "XTKS"
//! date = "2027-01-05"
//! close = "13:00"        # the venue's local time; defaults to its usual early close
//! ```
//!
//! Parsing is pure (text in, one [`Calendar`] per venue named out) and checks every
//! entry against its venue's rules, so a file that parses is one the floor can use:
//! a date outside the venue's range, a duplicate, or a close outside the session
//! is an [`OverridesFileError`] naming the line.

use std::collections::BTreeMap;

use jiff::civil::{Date, Time};
use serde::Deserialize;
use toml::Spanned;

use super::{Calendar, CalendarError, ClosureOverride, EarlyCloseOverride, Overrides};

/// The file as written; every entry keeps its span for messages.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    closures: Vec<Spanned<RawClosure>>,
    #[serde(default)]
    early_closes: Vec<Spanned<RawEarlyClose>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClosure {
    calendar: Spanned<String>,
    date: Date,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEarlyClose {
    calendar: Spanned<String>,
    date: Date,
    #[serde(default)]
    close: Option<Time>,
    #[serde(default)]
    note: Option<String>,
}

/// One problem of an overrides file, at a line (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverridesProblem {
    /// The line of the entry (or of the syntax error).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Every problem found in an overrides file. `Display` writes `line N: message`
/// lines; [`OverridesFileError::in_file`] prefixes a file name (`file:line: ...`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.lines("line "))]
pub struct OverridesFileError {
    /// The problems, in file order.
    pub problems: Vec<OverridesProblem>,
}

impl OverridesFileError {
    /// The problems as `file:line: message` lines, one per problem.
    pub fn in_file(&self, file: &str) -> String {
        self.lines(&format!("{file}:"))
    }

    fn lines(&self, prefix: &str) -> String {
        let lines: Vec<String> = self
            .problems
            .iter()
            .map(|p| format!("{prefix}{}: {}", p.line, p.message))
            .collect();
        lines.join("\n")
    }
}

/// The overrides of every venue a file names, each venue's calendar already built
/// with them. Cheap to clone (calendars are shared).
#[derive(Debug, Clone, Default)]
pub struct VenueOverrides {
    /// Canonical calendar name → its overrides and its calendar built with them.
    venues: BTreeMap<&'static str, (Overrides, Calendar)>,
}

/// Which entry of which venue is on which line, to place the calendar's errors.
type Lines = BTreeMap<(&'static str, Date), usize>;

impl VenueOverrides {
    /// Parses and checks an overrides file.
    ///
    /// # Errors
    /// Every problem found, by line: invalid TOML or an unknown key, an unknown
    /// calendar, a duplicate entry, and (once those are fixed) the first entry per
    /// venue its rules refuse (outside the range, not a trading day, a close
    /// outside the session or in its break).
    pub fn parse(text: &str) -> Result<VenueOverrides, OverridesFileError> {
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let raw: RawFile = toml::from_str(text).map_err(|e| OverridesFileError {
            problems: vec![OverridesProblem {
                line: line_of(e.span().map_or(0, |s| s.start)),
                message: e.message().trim_end().to_owned(),
            }],
        })?;
        let mut problems = Vec::new();
        let mut per_venue: BTreeMap<&'static str, Overrides> = BTreeMap::new();
        let mut lines = Lines::new();
        let venue =
            |name: &Spanned<String>, problems: &mut Vec<OverridesProblem>| match Calendar::by_name(
                name.get_ref(),
                &Overrides::default(),
            ) {
                Ok(c) => Some(c.venue()),
                Err(e) => {
                    problems.push(OverridesProblem {
                        line: line_of(name.span().start),
                        message: format!("calendar: {e}"),
                    });
                    None
                }
            };
        for entry in &raw.closures {
            let line = line_of(entry.span().start);
            let c = entry.get_ref();
            let Some(name) = venue(&c.calendar, &mut problems) else {
                continue;
            };
            if let Some(first) = lines.get(&(name, c.date)) {
                problems.push(duplicate(line, name, c.date, *first));
                continue;
            }
            lines.insert((name, c.date), line);
            per_venue
                .entry(name)
                .or_default()
                .closures
                .push(ClosureOverride {
                    date: c.date,
                    note: c.note.clone(),
                });
        }
        for entry in &raw.early_closes {
            let line = line_of(entry.span().start);
            let e = entry.get_ref();
            let Some(name) = venue(&e.calendar, &mut problems) else {
                continue;
            };
            if let Some(first) = lines.get(&(name, e.date)) {
                problems.push(duplicate(line, name, e.date, *first));
                continue;
            }
            lines.insert((name, e.date), line);
            let early = EarlyCloseOverride {
                date: e.date,
                close: e.close,
                note: e.note.clone(),
            };
            per_venue.entry(name).or_default().early_closes.push(early);
        }
        let venues = build(per_venue, &lines, &mut problems);
        if problems.is_empty() {
            Ok(VenueOverrides { venues })
        } else {
            problems.sort_by_key(|p| p.line);
            Err(OverridesFileError { problems })
        }
    }

    /// The overrides for calendar `name` (canonical), empty when the file names none.
    pub fn overrides(&self, name: &str) -> Overrides {
        self.venues
            .get(name)
            .map(|(o, _)| o.clone())
            .unwrap_or_default()
    }

    /// The calendar `name` (any name or alias) with this file's overrides applied.
    /// An extended-hours calendar (`XNYS extended`) takes its venue's overrides.
    ///
    /// # Errors
    /// An unknown calendar name.
    pub fn calendar(&self, name: &str) -> Result<Calendar, CalendarError> {
        let plain = Calendar::by_name(name, &Overrides::default())?;
        Ok(match self.venues.get(plain.venue()) {
            Some((_, with)) if with.hours() == plain.hours() => with.clone(),
            // The overrides were checked against the regular sessions, which an
            // extended day contains, so they apply here too.
            Some((overrides, _)) => Calendar::by_name(name, overrides)?,
            None => plain,
        })
    }

    /// The canonical names of the venues the file overrides, in name order.
    pub fn venues(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.venues.keys().copied()
    }

    /// True when the file overrides nothing.
    pub fn is_empty(&self) -> bool {
        self.venues.is_empty()
    }
}

fn duplicate(line: usize, name: &str, date: Date, first: usize) -> OverridesProblem {
    OverridesProblem {
        line,
        message: format!("duplicate override for {name} on {date} (first at line {first})"),
    }
}

/// Builds each venue's calendar with its overrides; a refusal is placed on the
/// line of the entry for its date.
fn build(
    per_venue: BTreeMap<&'static str, Overrides>,
    lines: &Lines,
    problems: &mut Vec<OverridesProblem>,
) -> BTreeMap<&'static str, (Overrides, Calendar)> {
    let mut venues = BTreeMap::new();
    for (name, overrides) in per_venue {
        match Calendar::by_name(name, &overrides) {
            Ok(calendar) => {
                venues.insert(name, (overrides, calendar));
            }
            Err(e) => {
                let date = match &e {
                    CalendarError::BadOverride { date, .. } => Some(*date),
                    _ => None,
                };
                let line = date.and_then(|d| lines.get(&(name, d)).copied());
                let line = line.unwrap_or_else(|| {
                    lines
                        .range((name, Date::MIN)..)
                        .next()
                        .map_or(1, |(_, l)| *l)
                });
                problems.push(OverridesProblem {
                    line,
                    message: format!("{name}: {e}"),
                });
            }
        }
    }
    venues
}
