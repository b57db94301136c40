//! Maintenance windows: pure data and the question "is this subject in a window at
//! this instant?".
//!
//! As written in the inventory (section 4 of the alerts issue):
//!
//! ```toml
//! [[maintenance]]
//! services = ["whale-strategy"]        # or: floor = true (the floor and every service)
//! start = "2026-01-10T14:00:00Z"       # RFC 3339 ...
//! end = "2026-01-10T16:00:00Z"
//! note = "Broker migration"
//!
//! [[maintenance]]
//! floor = true
//! start = "sat 06:00"                  # ... or weekly: "<weekday> HH:MM",
//! end = "sat 10:00"                    # in the venue's local time zone
//! timezone = "America/New_York"
//! note = "Weekly patching"
//! ```
//!
//! A window includes its start and excludes its end. A weekly window lasts at most
//! a week; an end at or before the start on the same weekday means a week later.
//! Local times follow daylight-saving changes (a start in a skipped hour moves
//! forward, as jiff's "compatible" disambiguation does).

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use opsfloor_contract::UtcTimestamp;
use serde::{Deserialize, Serialize};

use crate::config::{ConfigErrors, ConfigProblem};
use crate::rules::Subject;

/// What a window covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The floor and every service on it.
    Floor,
    /// These services, by inventory name.
    Services(Vec<String>),
}

/// When a window is open.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// Once, between two instants.
    Once {
        /// The first instant inside.
        start: Timestamp,
        /// The first instant after.
        end: Timestamp,
    },
    /// Every week, between two local weekday times in a time zone.
    Weekly {
        /// Start weekday and local time.
        start: (Weekday, Time),
        /// End weekday and local time.
        end: (Weekday, Time),
        /// The venue's time zone.
        timezone: TimeZone,
    },
}

/// One maintenance window.
#[derive(Debug, Clone, PartialEq)]
pub struct MaintenanceWindow {
    /// What it covers.
    pub scope: Scope,
    /// When.
    pub schedule: Schedule,
    /// Shown with the "maintenance" badge.
    pub note: String,
}

impl MaintenanceWindow {
    /// Whether the window covers `subject` (whatever the time).
    pub fn covers(&self, subject: &Subject) -> bool {
        match (&self.scope, subject.service()) {
            (Scope::Floor, _) => true,
            (Scope::Services(names), Some(service)) => names.iter().any(|n| n == service),
            (Scope::Services(_), None) => false,
        }
    }

    /// Whether the window is open at `at`.
    pub fn is_in_window(&self, at: Timestamp) -> bool {
        self.occurrence(at).is_some_and(|(start, _)| start <= at)
    }

    /// The occurrence open at `at`, or else the next one: `(start, end)`. `None` for
    /// a one-off window that is over (or a time outside jiff's range).
    pub fn occurrence(&self, at: Timestamp) -> Option<(Timestamp, Timestamp)> {
        match &self.schedule {
            Schedule::Once { start, end } => (at < *end).then_some((*start, *end)),
            Schedule::Weekly {
                start,
                end,
                timezone,
            } => {
                let (s, e) = weekly_latest_start(*start, *end, timezone, at)?;
                if at < e {
                    return Some((s, e));
                }
                let next = s
                    .to_zoned_datetime(timezone.clone())
                    .checked_add(1.week())
                    .ok()?;
                let (s, e) = weekly_latest_start(*start, *end, timezone, next.timestamp())?;
                Some((s, e))
            }
        }
    }
}

/// The latest weekly occurrence starting at or before `at`, with its end.
fn weekly_latest_start(
    start: (Weekday, Time),
    end: (Weekday, Time),
    tz: &TimeZone,
    at: Timestamp,
) -> Option<(Timestamp, Timestamp)> {
    let local = at.to_zoned_datetime(tz.clone());
    let back = i64::from(start.0.until(local.date().weekday())); // 0..=6 days
    let mut date = local.date().checked_sub(back.days()).ok()?;
    let mut s = date
        .to_datetime(start.1)
        .to_zoned_datetime(tz.clone())
        .ok()?;
    if s.timestamp() > at {
        date = date.checked_sub(1.week()).ok()?;
        s = date
            .to_datetime(start.1)
            .to_zoned_datetime(tz.clone())
            .ok()?;
    }
    let mut ahead = i64::from(start.0.until(end.0));
    if ahead == 0 && end.1 <= start.1 {
        ahead = 7;
    }
    let end_date = date.checked_add(ahead.days()).ok()?;
    let e = end_date
        .to_datetime(end.1)
        .to_zoned_datetime(tz.clone())
        .ok()?;
    Some((s.timestamp(), e.timestamp()))
}

impl MaintenanceWindow {
    /// Every occurrence overlapping `[from, to)`, clipped to it, in time order: the
    /// stretches an SLO leaves out.
    pub fn occurrences(&self, from: Timestamp, to: Timestamp) -> Vec<(Timestamp, Timestamp)> {
        let mut out = Vec::new();
        let mut at = from;
        // A weekly window occurs at most once a week: bound the loop by the range.
        let weeks = to.duration_since(from).as_secs().max(0) / (7 * 86_400) + 2;
        for _ in 0..weeks {
            let Some((start, end)) = self.occurrence(at) else {
                break;
            };
            if start >= to {
                break;
            }
            out.push((start.max(from), end.min(to)));
            at = end;
        }
        out
    }
}

/// One window as the API (`/api/v1/maintenance`) and the dashboard show it: its
/// current or next occurrence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowView {
    /// `true` when it covers the whole floor.
    pub floor: bool,
    /// The services it covers (empty when `floor`).
    pub services: Vec<String>,
    /// The occurrence's start.
    pub start: UtcTimestamp,
    /// The occurrence's end.
    pub end: UtcTimestamp,
    /// Open now.
    pub active: bool,
    /// The note shown with the badge.
    pub note: String,
}

/// The windows open at `now` and those starting within `horizon` (the dashboard
/// announces a window one day ahead), by start time, then in file order.
pub fn listing(
    windows: &[MaintenanceWindow],
    now: Timestamp,
    horizon: SignedDuration,
) -> Vec<WindowView> {
    let until = now.checked_add(horizon).unwrap_or(now);
    let mut views: Vec<WindowView> = windows
        .iter()
        .filter_map(|w| {
            let (start, end) = w.occurrence(now)?;
            (start < until).then(|| WindowView {
                floor: w.scope == Scope::Floor,
                services: match &w.scope {
                    Scope::Floor => Vec::new(),
                    Scope::Services(names) => names.clone(),
                },
                start: UtcTimestamp(start),
                end: UtcTimestamp(end),
                active: start <= now,
                note: w.note.clone(),
            })
        })
        .collect();
    // A stable sort keeps file order among windows that start together.
    views.sort_by_key(|v| v.start);
    views
}

/// The first window that covers `subject` and is open at `at`.
pub fn active_for<'a>(
    windows: &'a [MaintenanceWindow],
    subject: &Subject,
    at: Timestamp,
) -> Option<&'a MaintenanceWindow> {
    windows
        .iter()
        .find(|w| w.covers(subject) && w.is_in_window(at))
}

/// One `[[maintenance]]` as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWindow {
    /// Services by name.
    #[serde(default)]
    pub services: Vec<String>,
    /// The whole floor.
    #[serde(default)]
    pub floor: bool,
    /// RFC 3339, or `"<weekday> HH:MM"`.
    pub start: String,
    /// RFC 3339, or `"<weekday> HH:MM"`.
    pub end: String,
    /// IANA time zone for weekly windows.
    pub timezone: Option<String>,
    /// The note shown with the badge.
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Deserialize)]
struct Document {
    #[serde(default)]
    maintenance: Vec<RawWindow>,
}

/// Reads every `[[maintenance]]` of a TOML document (other tables are ignored).
pub fn from_toml(text: &str) -> Result<Vec<MaintenanceWindow>, ConfigErrors> {
    let doc: Document = toml::from_str(text).map_err(|e| {
        ConfigErrors(vec![ConfigProblem {
            field: "maintenance".to_owned(),
            message: e.to_string().trim_end().to_owned(),
        }])
    })?;
    let mut problems = Vec::new();
    let mut windows = Vec::new();
    for (i, raw) in doc.maintenance.iter().enumerate() {
        match raw.resolve(&format!("maintenance[{i}]")) {
            Ok(w) => windows.push(w),
            Err(mut p) => problems.append(&mut p),
        }
    }
    if problems.is_empty() {
        Ok(windows)
    } else {
        Err(ConfigErrors(problems))
    }
}

impl RawWindow {
    /// Checks the window; `at` is its field path (`maintenance[2]`).
    pub fn resolve(&self, at: &str) -> Result<MaintenanceWindow, Vec<ConfigProblem>> {
        let mut problems = Vec::new();
        let mut problem = |field: &str, message: String| {
            problems.push(ConfigProblem {
                field: format!("{at}.{field}"),
                message,
            });
        };
        let scope = match (self.floor, self.services.is_empty()) {
            (true, true) => Some(Scope::Floor),
            (false, false) => Some(Scope::Services(self.services.clone())),
            (true, false) => {
                problem(
                    "floor",
                    "give either floor = true or services, not both".into(),
                );
                None
            }
            (false, true) => {
                problem(
                    "services",
                    "give the services it covers, or floor = true".into(),
                );
                None
            }
        };
        let instants = (
            self.start.parse::<Timestamp>(),
            self.end.parse::<Timestamp>(),
        );
        let schedule = match instants {
            (Ok(start), Ok(end)) if start < end => Some(Schedule::Once { start, end }),
            (Ok(_), Ok(_)) => {
                problem("end", format!("{:?} is not after start", self.end));
                None
            }
            _ => self.weekly(&mut problem),
        };
        match (scope, schedule) {
            (Some(scope), Some(schedule)) if problems.is_empty() => Ok(MaintenanceWindow {
                scope,
                schedule,
                note: self.note.clone(),
            }),
            _ => Err(problems),
        }
    }

    /// The weekly schedule, or problems naming `start`, `end` or `timezone`.
    fn weekly(&self, problem: &mut impl FnMut(&str, String)) -> Option<Schedule> {
        let start = weekday_time(&self.start);
        let end = weekday_time(&self.end);
        if start.is_none() {
            problem(
                "start",
                format!(
                    "{:?} is neither an RFC 3339 instant nor a weekly time such as \"sat 06:00\"",
                    self.start
                ),
            );
        }
        if end.is_none() {
            problem(
                "end",
                format!(
                    "{:?} is neither an RFC 3339 instant nor a weekly time such as \"sat 10:00\"",
                    self.end
                ),
            );
        }
        let timezone = match &self.timezone {
            Some(name) => match TimeZone::get(name) {
                Ok(tz) => Some(tz),
                Err(e) => {
                    problem(
                        "timezone",
                        format!("{name:?} is not an IANA time zone: {e}"),
                    );
                    None
                }
            },
            None => {
                problem(
                    "timezone",
                    "required for a weekly window, e.g. \"America/New_York\"".into(),
                );
                None
            }
        };
        Some(Schedule::Weekly {
            start: start?,
            end: end?,
            timezone: timezone?,
        })
    }
}

/// `"sat 06:00"`: a weekday (three letters or full, any case) and a 24-hour time.
fn weekday_time(text: &str) -> Option<(Weekday, Time)> {
    let (day, time) = text.trim().split_once(char::is_whitespace)?;
    let day = match day.to_ascii_lowercase().get(..3)? {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return None,
    };
    let (h, m) = time.trim().split_once(':')?;
    let time = Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()?;
    Some((day, time))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    fn service(name: &str) -> Subject {
        Subject::Service {
            floor: "f".into(),
            service: name.into(),
            kind: opsfloor_contract::ServiceKind::Strategy,
            criticality: opsfloor_contract::Criticality::Critical,
        }
    }

    const TEXT: &str = r#"
[[maintenance]]
services = ["whale-strategy"]
start = "2026-01-10T14:00:00Z"
end = "2026-01-10T16:00:00Z"
note = "Broker migration"

[[maintenance]]
floor = true
start = "sat 06:00"
end = "sat 10:00"
timezone = "America/New_York"
note = "Weekly patching"

[[maintenance]]
services = ["ingest-job"]
start = "Sun 22:00"
end = "mon 02:00"
timezone = "Europe/London"
"#;

    #[test]
    fn one_off_windows_include_start_and_exclude_end() {
        let windows = from_toml(TEXT).expect("valid");
        let w = &windows[0];
        assert!(w.covers(&service("whale-strategy")));
        assert!(!w.covers(&service("md-feed")));
        assert!(!w.covers(&Subject::Floor { floor: "f".into() }));
        assert!(!w.is_in_window(ts("2026-01-10T13:59:59Z")));
        assert!(w.is_in_window(ts("2026-01-10T14:00:00Z")));
        assert!(!w.is_in_window(ts("2026-01-10T16:00:00Z")));
        assert_eq!(w.occurrence(ts("2026-01-10T16:00:00Z")), None);
        assert_eq!(w.note, "Broker migration");
    }

    #[test]
    fn weekly_windows_follow_local_time_and_daylight_saving() {
        let windows = from_toml(TEXT).expect("valid");
        let w = &windows[1];
        assert!(w.covers(&Subject::Floor { floor: "f".into() }) && w.covers(&service("x")));
        // Saturday 2026-01-10, 06:00 EST = 11:00Z.
        assert!(!w.is_in_window(ts("2026-01-10T10:59:59Z")));
        assert!(w.is_in_window(ts("2026-01-10T11:00:00Z")));
        assert!(!w.is_in_window(ts("2026-01-10T15:00:00Z")));
        // In July, 06:00 EDT = 10:00Z.
        assert!(w.is_in_window(ts("2026-07-11T10:00:00Z")));
        assert_eq!(
            w.occurrence(ts("2026-01-10T15:00:00Z")),
            Some((ts("2026-01-17T11:00:00Z"), ts("2026-01-17T15:00:00Z")))
        );
        // Sunday 22:00 to Monday 02:00 London: across midnight.
        let w = &windows[2];
        assert!(w.is_in_window(ts("2026-01-12T01:00:00Z")));
        assert!(w.is_in_window(ts("2026-01-11T22:00:00Z")));
        assert!(!w.is_in_window(ts("2026-01-12T02:00:00Z")));
        assert!(active_for(&windows, &service("ingest-job"), ts("2026-01-12T01:00:00Z")).is_some());
        assert!(active_for(&windows, &service("ingest-job"), ts("2026-01-13T01:00:00Z")).is_none());
    }

    #[test]
    fn occurrences_are_clipped_to_the_range_and_listing_looks_a_day_ahead() {
        let windows = from_toml(TEXT).expect("valid");
        // Two Saturdays in January, the first cut at the range's start.
        let weekly = windows[1].occurrences(ts("2026-01-10T12:00:00Z"), ts("2026-01-20T00:00:00Z"));
        assert_eq!(
            weekly,
            [
                (ts("2026-01-10T12:00:00Z"), ts("2026-01-10T15:00:00Z")),
                (ts("2026-01-17T11:00:00Z"), ts("2026-01-17T15:00:00Z")),
            ]
        );
        assert!(
            windows[0]
                .occurrences(ts("2026-01-11T00:00:00Z"), ts("2026-02-01T00:00:00Z"))
                .is_empty()
        );

        // Friday noon UTC: the Saturday patching (23 h ahead) is within a day; the
        // one-off broker migration (26 h ahead) and the Sunday-night job are not.
        let day = SignedDuration::from_hours(24);
        let views = listing(&windows, ts("2026-01-09T12:00:00Z"), day);
        let notes: Vec<(&str, bool)> = views.iter().map(|v| (v.note.as_str(), v.active)).collect();
        assert_eq!(notes, [("Weekly patching", false)]);
        let views = listing(&windows, ts("2026-01-10T14:30:00Z"), day);
        let notes: Vec<(&str, bool)> = views.iter().map(|v| (v.note.as_str(), v.active)).collect();
        assert_eq!(
            notes,
            [("Weekly patching", true), ("Broker migration", true)]
        );
        let json = serde_json::to_value(&views[1]).expect("json");
        assert_eq!(json["start"], "2026-01-10T14:00:00Z");
        assert_eq!(json["services"][0], "whale-strategy");
        assert_eq!(json["floor"], false);
    }

    #[test]
    fn problems_name_their_field() {
        let bad = r#"
[[maintenance]]
start = "2026-01-10T16:00:00Z"
end = "2026-01-10T14:00:00Z"

[[maintenance]]
floor = true
services = ["a"]
start = "someday"
end = "sat 10:00"
timezone = "Mars/Olympus"
"#;
        let errors = from_toml(bad).expect_err("invalid");
        let fields: Vec<&str> = errors.0.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "maintenance[0].services",
                "maintenance[0].end",
                "maintenance[1].floor",
                "maintenance[1].start",
                "maintenance[1].timezone",
            ]
        );
    }
}
