//! What the long-running commands share: a runtime, logging, and shutdown signals.

use crate::error::CliError;

/// Builds the multi-threaded runtime the serving commands run on.
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| CliError::Io {
            path: "<tokio runtime>".into(),
            source,
        })
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line (for log shippers).
    Json,
}

/// Logs text to stderr; `RUST_LOG` overrides the default level (`info`).
pub fn init_logging() {
    init_logging_as(LogFormat::Text);
}

/// Logs to stderr in `format`; `RUST_LOG` overrides the default level (`info`).
/// Colours only on a terminal and never under `NO_COLOR`: a log file or a pipe
/// gets plain text.
pub fn init_logging_as(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Parses `--now`: a simulated clock advancing from that instant, else the system clock.
pub fn clock(now: Option<&str>) -> Result<opsfloor_probe::Clock, CliError> {
    match now {
        None => Ok(opsfloor_probe::Clock::System),
        Some(text) => opsfloor_contract::time::parse_timestamp(text)
            .map(opsfloor_probe::Clock::simulated_from)
            .map_err(|e| CliError::Usage(format!("--now: {e}"))),
    }
}

/// An instant every one of `calendars` can answer for, or exit 65 naming the
/// calendar and its supported range: a mistyped year is an error, never a guess
/// ("market closed; next open -").
pub fn within_calendars<'a>(
    now: jiff::Timestamp,
    calendars: impl IntoIterator<Item = &'a opsfloor_contract::Calendar>,
) -> Result<(), CliError> {
    for calendar in calendars {
        if let Err(e) = calendar.is_open(now) {
            return Err(CliError::Data(format!("--now: {e}")));
        }
    }
    Ok(())
}

/// The calendars of `fleet` and `demo`, with `--calendar-overrides` applied.
pub struct FleetCalendars {
    /// The NYSE desk's calendar (the probes' and the written inventory's default).
    pub nyse: opsfloor_contract::Calendar,
    /// With `--venues`: the mixed desk, its Tokyo calendar with the file's XTKS entries.
    pub mixed_desk: Option<opsfloor_fleet::MixedDesk>,
    /// The file's absolute path for the written inventory (`[floor]
    /// calendar_overrides`), so the floor reads the same closures as the probes.
    pub overrides: Option<std::path::PathBuf>,
}

/// `--calendar-overrides` (and `--venues`) of `fleet` and `demo`. Without the file:
/// the built-in calendars and no file.
pub fn fleet_calendars(
    path: Option<&std::path::Path>,
    venues: bool,
) -> Result<FleetCalendars, CliError> {
    let (overrides, absolute) = match path {
        None => (opsfloor_contract::calendar::VenueOverrides::default(), None),
        Some(path) => {
            let overrides = opsfloor_server::overrides::load_overrides(path)
                .map_err(|e| CliError::Data(e.to_string()))?;
            let absolute = std::path::absolute(path).map_err(|source| CliError::Io {
                path: path.to_owned(),
                source,
            })?;
            (overrides, Some(absolute))
        }
    };
    let mixed_desk = if venues {
        Some(opsfloor_fleet::MixedDesk {
            xtks: overrides.calendar("XTKS")?,
        })
    } else {
        None
    };
    Ok(FleetCalendars {
        nyse: overrides.calendar("XNYS")?,
        mixed_desk,
        overrides: absolute,
    })
}

impl FleetCalendars {
    /// Every calendar a probe of the fleet uses, for the `--now` range check.
    pub fn all(&self) -> Vec<&opsfloor_contract::Calendar> {
        let mut all = vec![&self.nyse];
        all.extend(self.mixed_desk.as_ref().map(|d| &d.xtks));
        all
    }
}
