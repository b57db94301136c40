//! `opsfloor report`: the deployment report and the go/no-go gate.
//!
//! Polls every service once (or replays a recording), applies the floor's own rules
//! (the same code as `opsfloor serve`), prints the report, and exits by the floor's
//! state: 0 OK or MARKET_CLOSED, 1 DEGRADED, 2 HALTED, 3 OFFLINE, 4 UNKNOWN (and 5
//! MARKET_CLOSED under `--fail-on market_closed`); 64 and above for usage,
//! configuration or I/O errors.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use opsfloor_contract::State;
use opsfloor_contract::time::{format_timestamp, parse_timestamp};
use opsfloor_engine::FloorState;
use opsfloor_inventory::{Format, Inventory};
use opsfloor_poller::{Poller, PollerSettings};
use opsfloor_report::recording::{
    RECORDING_FORMAT, Recorded, RecordedInventory, Recording, Response,
};
use opsfloor_report::since::{Previous, changes};
use opsfloor_report::{Report, exit_code, markdown, table};

use crate::cmd::serve_util::runtime;
use crate::cmd::write_stdout;
use crate::error::CliError;

/// Exit code for a bad configuration (EX_CONFIG).
use crate::error::EXIT_CONFIG;

/// Arguments of `opsfloor report`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 the floor is OK or MARKET_CLOSED; 1 DEGRADED; 2 HALTED; 3 OFFLINE; 4 UNKNOWN; \
5 MARKET_CLOSED with --fail-on market_closed; 64 usage error; 65 bad data (a recording or --since file); \
66 a file is missing; 74 I/O error; 78 invalid inventory.\n\
--fail-on STATE: the least bad state that fails, on the ladder OK < MARKET_CLOSED < DEGRADED < HALTED < OFFLINE < UNKNOWN \
(default degraded). A strict pre-market go/no-go: --fail-on market_closed --now <the open>. A post-deploy check that \
accepts DEGRADED: --fail-on halted."
)]
pub struct Args {
    /// The inventory (TOML or YAML). Optional with --replay, which carries its own.
    #[arg(long, value_name = "FILE", required_unless_present = "replay")]
    config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
    format: ReportFormat,
    /// The instant the report is for (RFC 3339); default now (or the recording's time).
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// Write the report here instead of stdout.
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
    /// Retry a poll that got no answer up to N times.
    #[arg(long, default_value_t = 1, value_name = "N")]
    retries: u32,
    /// The least bad floor state that fails (non-zero exit).
    #[arg(long, value_name = "STATE", default_value = "degraded", value_parser = parse_state)]
    fail_on: State,
    /// Save the responses received to FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "replay")]
    record: Option<PathBuf>,
    /// Make the report from saved responses, without any network.
    #[arg(long, value_name = "FILE")]
    replay: Option<PathBuf>,
    /// An earlier JSON report: add what changed since.
    #[arg(long, value_name = "PREVIOUS.json")]
    since: Option<PathBuf>,
    /// Nothing on stderr (no progress).
    #[arg(long, short)]
    quiet: bool,
}

/// The report's formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// GitHub-flavoured markdown.
    Markdown,
    /// JSON in the floor API's shapes (`schema/report.schema.json`).
    Json,
    /// A terminal table, in colour on a terminal unless NO_COLOR is set.
    Table,
}

fn parse_state(text: &str) -> Result<State, String> {
    let upper = text.to_ascii_uppercase().replace('-', "_");
    State::from_wire(&upper).ok_or_else(|| {
        "expected ok, market_closed, degraded, halted, offline or unknown".to_owned()
    })
}

fn read(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|source| CliError::Io {
        path: path.to_owned(),
        source,
    })
}

/// An inventory error: printed as it is (file:line:col: field: message), exit 78.
struct ConfigError(String);

fn load_inventory(path: &Path) -> Result<(Inventory, String), Failure> {
    // A missing inventory is a missing input (66), not an invalid one (78).
    let text = match std::fs::read_to_string(path) {
        Err(source) if source.kind() == std::io::ErrorKind::NotFound => {
            return Err(Failure::Cli(CliError::Io {
                path: path.to_owned(),
                source,
            }));
        }
        other => other.map_err(|e| ConfigError(format!("{}: {e}", path.display())))?,
    };
    let format = Format::from_path(path).ok_or_else(|| {
        ConfigError(format!(
            "{}: unknown inventory format: use .toml, .yaml or .yml",
            path.display()
        ))
    })?;
    let inventory =
        opsfloor_inventory::parse(&text, path, format).map_err(|e| ConfigError(e.to_string()))?;
    Ok((inventory, text))
}

/// Runs the report.
pub fn run(args: &Args) -> Result<u8, CliError> {
    match report(args) {
        Ok(code) => Ok(code),
        Err(Failure::Config(message)) => {
            eprintln!("opsfloor: error: {message}");
            Ok(EXIT_CONFIG)
        }
        Err(Failure::Cli(e)) => Err(e),
    }
}

enum Failure {
    Config(String),
    Cli(CliError),
}

impl From<CliError> for Failure {
    fn from(e: CliError) -> Self {
        Failure::Cli(e)
    }
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure::Config(e.0)
    }
}

fn report(args: &Args) -> Result<u8, Failure> {
    let given_now = args
        .now
        .as_deref()
        .map(parse_timestamp)
        .transpose()
        .map_err(|e| CliError::Usage(format!("--now: {e}")))?;

    let (inventory, outcomes, now, recording) = match &args.replay {
        Some(path) => {
            let recording: Recording = serde_json::from_str(&read(path)?)
                .map_err(|e| CliError::Data(format!("{}: not a recording: {e}", path.display())))?;
            let inventory = match &args.config {
                Some(config) => load_inventory(config)?.0,
                None => opsfloor_inventory::parse(
                    &recording.inventory.text,
                    Path::new(&recording.inventory.path),
                    recording.inventory_format(),
                )
                .map_err(|e| ConfigError(e.to_string()))?,
            };
            let recorded_at = parse_timestamp(&recording.recorded_at)
                .map_err(|e| CliError::Data(format!("{}: recorded_at: {e}", path.display())))?;
            let outcomes = recording.outcomes_for(&inventory);
            (inventory, outcomes, given_now.unwrap_or(recorded_at), None)
        }
        None => {
            let config = args
                .config
                .as_deref()
                .ok_or_else(|| CliError::Usage("--config is required".into()))?;
            let (inventory, text) = load_inventory(config)?;
            let now = given_now.unwrap_or_else(Timestamp::now); // the clock, read at the edge
            let outcomes = poll_all(&inventory, args.retries, args.quiet)?;
            let recording = Recording {
                recording_format: RECORDING_FORMAT,
                recorded_at: format_timestamp(now),
                inventory: RecordedInventory {
                    path: config.display().to_string(),
                    format: if inventory.format == Format::Yaml {
                        "yaml"
                    } else {
                        "toml"
                    }
                    .to_owned(),
                    text,
                },
                responses: outcomes
                    .iter()
                    .map(|(name, o)| Response {
                        service_name: name.clone(),
                        outcome: Recorded::of(o),
                    })
                    .collect(),
            };
            (inventory, outcomes, now, Some(recording))
        }
    };

    if let (Some(path), Some(recording)) = (&args.record, &recording) {
        let mut text =
            serde_json::to_string_pretty(recording).map_err(|e| CliError::Data(e.to_string()))?;
        text.push('\n');
        std::fs::write(path, text).map_err(|source| CliError::Write {
            path: path.clone(),
            source,
        })?;
    }

    // Every venue of the inventory, with `[floor] calendar_overrides` applied.
    let calendars = opsfloor_server::overrides::calendars_for(&inventory)
        .map_err(|e| ConfigError(e.to_string()))?;
    crate::cmd::serve_util::within_calendars(now, calendars.venues())?;
    // The windows open at `now` badge what they cover (the state is still shown).
    let windows =
        opsfloor_server::alerting::windows(&inventory).map_err(|e| ConfigError(e.to_string()))?;
    let state = FloorState::evaluate(inventory, calendars, outcomes, now);
    let mut report = Report::of(&state, now)
        .with_maintenance(|service| opsfloor_server::maintenance::badge(&windows, service, now));
    if let Some(path) = &args.since {
        let previous: Previous = serde_json::from_str(&read(path)?)
            .map_err(|e| CliError::Data(format!("{}: not a JSON report: {e}", path.display())))?;
        report.changes = Some(changes(&previous, &report));
    }

    let to_terminal = args.out.is_none() && std::io::stdout().is_terminal();
    let text = match args.format {
        ReportFormat::Json => report.to_json(),
        ReportFormat::Markdown => markdown::render(&report),
        ReportFormat::Table => {
            let colour = to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            table::render(&report, colour)
        }
    };
    match &args.out {
        Some(path) => std::fs::write(path, text).map_err(|source| CliError::Write {
            path: path.clone(),
            source,
        })?,
        None => write_stdout(text.as_bytes())?,
    }
    Ok(exit_code(report.state(), args.fail_on))
}

/// Polls everything once, with progress on stderr after the first second.
fn poll_all(
    inventory: &Inventory,
    retries: u32,
    quiet: bool,
) -> Result<Vec<(String, Option<opsfloor_engine::Outcome>)>, CliError> {
    let settings = PollerSettings::for_inventory(inventory, |name| std::env::var(name).ok())
        .map_err(|e| CliError::Config(e.to_string()))?;
    let poller = Poller::new(settings).map_err(|e| match e {
        opsfloor_poller::PollerError::Credentials(e) => CliError::Config(e.to_string()),
        e @ opsfloor_poller::PollerError::Client(_) => CliError::Data(e.to_string()),
    })?;
    let total = inventory.services.len();
    let started = std::time::Instant::now();
    let last_shown = std::sync::Mutex::new(Duration::ZERO);
    let progress = |done: usize| {
        if quiet {
            return;
        }
        let elapsed = started.elapsed();
        if let Ok(mut shown) = last_shown.lock()
            && elapsed >= Duration::from_secs(1)
            && elapsed - *shown >= Duration::from_secs(1)
        {
            *shown = elapsed;
            eprintln!("opsfloor report: polled {done}/{total} services…");
        }
    };
    Ok(runtime()?.block_on(opsfloor_poller::poll_all(
        inventory, &poller, retries, progress,
    )))
}
