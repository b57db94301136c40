//! The probe's calendar, with the operators' overrides file re-read when it changes.
//!
//! `OPS_CALENDAR_OVERRIDES` names the same file `[floor] calendar_overrides` does
//! (one file for every venue, each entry naming its `calendar`). An operator who
//! adds an unscheduled closure for today edits that file; the probe notices within
//! [`REFRESH`] and its next document says `MARKET_CLOSED`, with no restart.
//!
//! The file is checked (one `stat`) at most every [`REFRESH`], and parsed only
//! when its modification time or length changed. A file that becomes invalid or
//! unreadable keeps the last good calendar in force, and the problem is logged
//! once per change of the file; at start an invalid file is a configuration error
//! (see [`crate::config`]). A file that disappears means "no overrides".

use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::{Duration, Instant, SystemTime};

use opsfloor_contract::Calendar;
use opsfloor_contract::calendar::VenueOverrides;

/// How long one look at the overrides file is trusted.
pub const REFRESH: Duration = Duration::from_secs(1);

/// Where the probe's calendar comes from when an overrides file is named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarFile {
    /// The overrides file (`OPS_CALENDAR_OVERRIDES`).
    pub path: PathBuf,
    /// The calendar's canonical name (`XNYS`, `XNYS extended`, `XTKS`, ...).
    pub calendar: String,
}

/// What identifies one version of the file: its modification time and length,
/// `None` when it does not exist.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> std::io::Result<Stamp> {
    match std::fs::metadata(path) {
        Ok(m) => Ok(Some((m.modified()?, m.len()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

impl CalendarFile {
    /// Reads the file now and builds the calendar with its overrides.
    ///
    /// # Errors
    /// The file cannot be read, or is invalid (each problem with its line).
    pub fn load(&self) -> Result<Calendar, String> {
        let display = self.path.display().to_string();
        let overrides = match std::fs::read(&self.path) {
            Ok(bytes) => {
                let text = String::from_utf8(bytes)
                    .map_err(|_| format!("{display}: the file is not UTF-8 text"))?;
                VenueOverrides::parse(&text).map_err(|e| e.in_file(&display))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => VenueOverrides::default(),
            Err(e) => return Err(format!("{display}: {e}")),
        };
        overrides
            .calendar(&self.calendar)
            .map_err(|e| format!("{display}: {e}"))
    }
}

/// The calendar in force, refreshed from its file when that changes.
#[derive(Debug)]
pub(crate) struct LiveCalendar {
    file: Option<CalendarFile>,
    state: RwLock<State>,
}

#[derive(Debug)]
struct State {
    calendar: Calendar,
    /// The file version `calendar` was built from (or last refused).
    stamp: Stamp,
    checked: Instant,
}

impl LiveCalendar {
    /// A calendar that never changes, or one kept in step with `file`. `calendar`
    /// is the one in force now (already built from the file at start).
    pub(crate) fn new(calendar: Calendar, file: Option<CalendarFile>) -> LiveCalendar {
        let stamp = file.as_ref().and_then(|f| stamp(&f.path).ok().flatten());
        LiveCalendar {
            file,
            state: RwLock::new(State {
                calendar,
                stamp,
                checked: Instant::now(),
            }),
        }
    }

    /// The calendar in force now, after a look at the file when [`REFRESH`] has passed.
    pub(crate) fn current(&self) -> Calendar {
        if let Some(file) = &self.file {
            self.refresh(file);
        }
        match self.state.read() {
            Ok(state) => state.calendar.clone(),
            Err(poisoned) => poisoned.into_inner().calendar.clone(),
        }
    }

    fn refresh(&self, file: &CalendarFile) {
        let due = match self.state.read() {
            Ok(state) => state.checked.elapsed() >= REFRESH,
            Err(_) => true,
        };
        if !due {
            return;
        }
        let mut state = match self.state.write() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        };
        if state.checked.elapsed() < REFRESH {
            return; // another request refreshed while this one waited
        }
        state.checked = Instant::now();
        let now = match stamp(&file.path) {
            Ok(now) => now,
            Err(e) => {
                tracing::warn!(file = %file.path.display(), error = %e, "calendar overrides file cannot be read; keeping the calendar in force");
                return;
            }
        };
        if now == state.stamp {
            return;
        }
        state.stamp = now;
        match file.load() {
            Ok(calendar) => {
                tracing::info!(file = %file.path.display(), calendar = calendar.name(), "calendar overrides reloaded");
                state.calendar = calendar;
            }
            Err(problem) => {
                tracing::warn!(%problem, "calendar overrides file refused; keeping the last good calendar");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    fn open_at(calendar: &Calendar, at: &str) -> bool {
        let at: Timestamp = at.parse().expect("timestamp");
        calendar.is_open(at).expect("in range")
    }

    fn expire(live: &LiveCalendar) {
        let mut state = live.state.write().expect("lock");
        state.checked = Instant::now().checked_sub(REFRESH).expect("clock");
    }

    #[test]
    fn a_closure_written_later_takes_effect_and_a_bad_file_keeps_the_last_good() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("overrides.toml");
        let file = CalendarFile {
            path: path.clone(),
            calendar: "XNYS".into(),
        };
        let live = LiveCalendar::new(file.load().expect("no file: no overrides"), Some(file));
        let wednesday = "2026-01-07T15:00:00Z";
        assert!(open_at(&live.current(), wednesday));

        std::fs::write(
            &path,
            "[[closures]]\ncalendar = \"XNYS\"\ndate = \"2026-01-07\"\nnote = \"Storm\"\n",
        )
        .expect("write");
        // Once REFRESH has passed since the last look, the closure applies.
        expire(&live);
        assert!(!open_at(&live.current(), wednesday));

        std::fs::write(
            &path,
            "[[closures]]\ncalendar = \"XNYS\"\ndate = \"1900-01-01\"\n",
        )
        .expect("write");
        expire(&live);
        assert!(
            !open_at(&live.current(), wednesday),
            "an invalid file keeps the last good calendar"
        );

        std::fs::remove_file(&path).expect("remove");
        expire(&live);
        assert!(open_at(&live.current(), wednesday), "no file, no overrides");
    }

    #[test]
    fn loading_names_the_file_and_the_line() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("o.toml");
        std::fs::write(
            &path,
            "# drills\n[[closures]]\ncalendar = \"XNYS\"\ndate = \"1900-01-02\"\n",
        )
        .expect("write");
        let err = CalendarFile {
            path: path.clone(),
            calendar: "XNYS".into(),
        }
        .load()
        .expect_err("a date outside the range is refused");
        assert!(err.contains("o.toml:2"), "{err}");
    }
}
