//! The kill switch, as a service sees it: an environment flag, a file, or both.
//!
//! `EXECUTION_HALTED` engages it for the life of the process. `EXECUTION_HALTED_FILE`
//! names a file whose first line, when truthy (`1`, `true`, `yes`, `on`, any case),
//! engages it. The file is re-read at most every [`REFRESH`] (250 ms), so a change
//! shows within a second and is never cached longer.
//!
//! Fail-safe reading: a file that is missing means "not engaged" (nobody has pulled
//! the switch). A file that *exists but cannot be read* (permissions, a directory,
//! bytes that are not UTF-8) counts as **engaged**: we cannot know that trading is
//! safe, so the probe reports `HALTED [KILL_SWITCH]` until the file is readable again,
//! and logs why. Any other first line (`0`, `off`, empty, or text such as `maybe`)
//! means not engaged, exactly as the contract's truthy rule says.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a reading of the kill-switch file is trusted.
pub const REFRESH: Duration = Duration::from_millis(250);

/// Parses a boolean flag the way the Python services do: `1 true yes on` and
/// `0 false no off` (any case, surrounding blanks ignored; empty is false).
/// `None` for anything else.
pub fn parse_flag(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" | "" => Some(false),
        _ => None,
    }
}

/// True when `text` is one of the truthy spellings.
pub fn is_truthy(text: &str) -> bool {
    parse_flag(text) == Some(true)
}

/// What reading the kill-switch file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileReading {
    /// No such file: not engaged.
    Missing,
    /// Readable; `true` when its first line is truthy.
    Read(bool),
    /// It exists but cannot be read: engaged (fail-safe), with the reason.
    Unreadable(String),
}

impl FileReading {
    /// Whether this reading engages the kill switch.
    pub fn engaged(&self) -> bool {
        matches!(self, FileReading::Read(true) | FileReading::Unreadable(_))
    }
}

/// Reads the kill-switch file once.
pub fn read_file(path: &Path) -> FileReading {
    match std::fs::read(path) {
        Ok(bytes) => match std::str::from_utf8(&bytes) {
            Ok(text) => FileReading::Read(is_truthy(text.lines().next().unwrap_or(""))),
            Err(_) => FileReading::Unreadable("the file is not UTF-8 text".into()),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => FileReading::Missing,
        Err(e) => FileReading::Unreadable(e.to_string()),
    }
}

/// Where the kill switch is read from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KillSwitchSource {
    /// `EXECUTION_HALTED`: engaged for the life of the process.
    pub fixed: bool,
    /// `EXECUTION_HALTED_FILE`: re-read while the process runs.
    pub file: Option<PathBuf>,
}

/// The live kill switch: the source plus a short-lived cache of the file reading.
///
/// Lock-free on the hot path: readers look at two atomics; when the reading is older
/// than [`REFRESH`], one reader (whoever wins a compare-exchange) re-reads the file
/// while the others keep using the previous reading for that instant.
#[derive(Debug)]
pub(crate) struct KillSwitch {
    source: KillSwitchSource,
    /// Set by the service itself through [`crate::Probe::set_kill_switch`].
    manual: AtomicBool,
    epoch: Instant,
    /// Milliseconds since `epoch` of the last file reading, `u64::MAX` for never.
    read_at_ms: AtomicU64,
    file_engaged: AtomicBool,
    refreshing: AtomicBool,
}

impl KillSwitch {
    pub(crate) fn new(source: KillSwitchSource) -> KillSwitch {
        KillSwitch {
            source,
            manual: AtomicBool::new(false),
            epoch: Instant::now(),
            read_at_ms: AtomicU64::new(u64::MAX),
            file_engaged: AtomicBool::new(false),
            refreshing: AtomicBool::new(false),
        }
    }

    pub(crate) fn set_manual(&self, engaged: bool) {
        self.manual.store(engaged, Ordering::Relaxed);
    }

    /// Is the kill switch engaged right now?
    pub(crate) fn engaged(&self) -> bool {
        self.source.fixed || self.manual.load(Ordering::Relaxed) || self.file_engaged_now()
    }

    fn file_engaged_now(&self) -> bool {
        let Some(path) = &self.source.file else {
            return false;
        };
        let now_ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        let read_at = self.read_at_ms.load(Ordering::Acquire);
        let fresh =
            read_at != u64::MAX && now_ms.saturating_sub(read_at) < REFRESH.as_millis() as u64;
        if fresh {
            return self.file_engaged.load(Ordering::Acquire);
        }
        let first_reading = read_at == u64::MAX;
        if self
            .refreshing
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            let reading = read_file(path);
            let engaged = reading.engaged();
            let was = self.file_engaged.swap(engaged, Ordering::AcqRel);
            if let FileReading::Unreadable(why) = &reading {
                if !was || first_reading {
                    tracing::warn!(file = %path.display(), %why, "kill-switch file unreadable: reporting the kill switch as engaged (fail-safe)");
                }
            } else if was != engaged {
                tracing::info!(file = %path.display(), engaged, "kill switch changed");
            }
            self.read_at_ms.store(now_ms, Ordering::Release);
            self.refreshing.store(false, Ordering::Release);
            return engaged;
        }
        // Another thread is reading the file. Before the very first reading finishes,
        // read it ourselves rather than answer from an empty cache.
        if first_reading {
            read_file(path).engaged()
        } else {
            self.file_engaged.load(Ordering::Acquire)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        for t in ["1", "true", "TRUE", " Yes ", "on", "On"] {
            assert_eq!(parse_flag(t), Some(true), "{t}");
        }
        for f in ["0", "false", "No", "OFF", "", "  "] {
            assert_eq!(parse_flag(f), Some(false), "{f}");
        }
        assert_eq!(parse_flag("maybe"), None);
        assert_eq!(parse_flag("2"), None);
    }

    #[test]
    fn file_readings() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("halt");
        assert_eq!(read_file(&path), FileReading::Missing);
        std::fs::write(&path, "yes\nignored\n").expect("write");
        assert_eq!(read_file(&path), FileReading::Read(true));
        std::fs::write(&path, "off\non\n").expect("write");
        assert_eq!(read_file(&path), FileReading::Read(false));
        std::fs::write(&path, [0xff, 0xfe]).expect("write");
        assert!(read_file(&path).engaged(), "not UTF-8 is fail-safe engaged");
        // A directory exists but cannot be read as a file: fail-safe engaged.
        assert!(matches!(read_file(dir.path()), FileReading::Unreadable(_)));
    }
}
