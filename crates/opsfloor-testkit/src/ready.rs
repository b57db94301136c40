//! Waiting for a server the harness just spawned: ready, exited because its port
//! was taken (the caller picks another and retries), or failed with its log.

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use crate::postgres::{HarnessError, err};

/// What a server is, for [`wait_until_ready`].
pub(crate) struct Server<'a> {
    /// Its name in messages (`postgres`, `alertmanager`).
    pub name: &'a str,
    /// Its log file.
    pub log: &'a Path,
    /// The text its log shows when the port is taken.
    pub port_taken: &'a str,
    /// How long it may take.
    pub deadline: Duration,
}

/// Polls `ready` every 50 ms until it says yes (`Ok(None)`), the child exits
/// (`Ok(Some(log))` when it exited because its port was taken, else an error with
/// its log), or `server.deadline` passes (an error with its log). On exit, `child`
/// is emptied.
pub(crate) fn wait_until_ready(
    child: &mut Option<Child>,
    server: &Server<'_>,
    mut ready: impl FnMut() -> Result<bool, HarnessError>,
) -> Result<Option<String>, HarnessError> {
    let log = || std::fs::read_to_string(server.log).unwrap_or_default();
    let deadline = Instant::now() + server.deadline;
    loop {
        if let Some(c) = child.as_mut()
            && let Ok(Some(status)) = c.try_wait()
        {
            *child = None;
            let text = log();
            if text.contains(server.port_taken) {
                return Ok(Some(text));
            }
            return Err(err(format!("{} exited ({status}):\n{text}", server.name)));
        }
        if ready()? {
            return Ok(None);
        }
        if Instant::now() > deadline {
            return Err(err(format!(
                "{} not ready after {:?}:\n{}",
                server.name,
                server.deadline,
                log()
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
