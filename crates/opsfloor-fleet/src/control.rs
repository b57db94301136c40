//! The fleet's control directory: plain files an operator edits while the fleet runs.
//!
//! | file | content | effect |
//! |---|---|---|
//! | `kill-switch` | `on` / `off` | every service's `EXECUTION_HALTED_FILE` |
//! | `tick-feed` | `on` / `off` | the simulated upstream feed of the marketdata service |
//! | `stopped` | service names, one per line | those services stop serving (connections refused) |
//! | `execution-replicas` | `0`, `1`, … | `0` scales the execution agent to zero (not started) |
//! | `execution-enabled` | `true` / `false` | the agent's `EXECUTION_ENABLED` |
//!
//! The kill switch goes through the probe's own file mechanism, exactly as in
//! production. The others are the simulation's stand-ins for an upstream feed, a
//! process manager and a deployment's replica count.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use opsfloor_probe::kill_switch::parse_flag;

use crate::FleetError;

/// What the control files say, read at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Controls {
    pub(crate) tick_feed: bool,
    pub(crate) stopped: BTreeSet<String>,
    pub(crate) execution_replicas: i64,
    pub(crate) execution_enabled: bool,
}

/// The control directory.
#[derive(Debug, Clone)]
pub struct ControlDir {
    dir: PathBuf,
}

impl ControlDir {
    /// Creates the directory and writes the initial controls (overwriting old ones).
    pub(crate) fn create(
        dir: &Path,
        kill_switch: bool,
        initial: &Controls,
    ) -> Result<ControlDir, FleetError> {
        std::fs::create_dir_all(dir).map_err(|source| FleetError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let control = ControlDir {
            dir: dir.to_owned(),
        };
        control.write("kill-switch", if kill_switch { "on\n" } else { "off\n" })?;
        control.write(
            "tick-feed",
            if initial.tick_feed { "on\n" } else { "off\n" },
        )?;
        let stopped: String = initial.stopped.iter().map(|n| format!("{n}\n")).collect();
        control.write("stopped", &stopped)?;
        control.write(
            "execution-replicas",
            &format!("{}\n", initial.execution_replicas),
        )?;
        control.write(
            "execution-enabled",
            if initial.execution_enabled {
                "true\n"
            } else {
                "false\n"
            },
        )?;
        Ok(control)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The kill-switch file (every service's `EXECUTION_HALTED_FILE`).
    pub fn kill_switch_file(&self) -> PathBuf {
        self.dir.join("kill-switch")
    }

    /// The heartbeat file the simulated ingest job touches after each run.
    pub fn ingest_heartbeat_file(&self) -> PathBuf {
        self.dir.join("bars-ingest.heartbeat")
    }

    fn write(&self, name: &str, content: &str) -> Result<(), FleetError> {
        let path = self.dir.join(name);
        std::fs::write(&path, content).map_err(|source| FleetError::Io { path, source })
    }

    /// Reads the controls. A file that is missing or unreadable keeps its previous
    /// value (`previous`), so a half-written edit never flips anything by accident.
    pub(crate) fn read(&self, previous: &Controls) -> Controls {
        let text = |name: &str| std::fs::read_to_string(self.dir.join(name)).ok();
        let first_line =
            |name: &str| text(name).map(|t| t.lines().next().unwrap_or("").trim().to_owned());
        Controls {
            tick_feed: first_line("tick-feed")
                .and_then(|v| parse_flag(&v))
                .unwrap_or(previous.tick_feed),
            stopped: text("stopped")
                .map(|t| {
                    t.lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_else(|| previous.stopped.clone()),
            execution_replicas: first_line("execution-replicas")
                .and_then(|v| v.parse().ok())
                .unwrap_or(previous.execution_replicas),
            execution_enabled: first_line("execution-enabled")
                .and_then(|v| parse_flag(&v))
                .unwrap_or(previous.execution_enabled),
        }
    }
}
