//! `opsfloor calendar`: market calendar queries for every built-in venue
//! (`opsfloor calendar list`): status at an instant, sessions over a range.
//! A query outside a calendar's supported range is an error (exit 65), never a guess.

use std::fmt::Write as _;
use std::path::PathBuf;

use jiff::Timestamp;
use jiff::civil::Date;
use opsfloor_contract::calendar::{Closed, Day, Overrides};
use opsfloor_contract::time::{format_timestamp, parse_timestamp};
use opsfloor_contract::{Calendar, MarketStatus, Session};
use serde_json::json;

use crate::cmd::write_stdout;
use crate::error::CliError;

/// `opsfloor calendar …`
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Open or closed at an instant, the session of its date, the next open and close.
    Status {
        /// The instant to ask about (RFC 3339); default now.
        #[arg(long, alias = "now", value_name = "RFC3339")]
        at: Option<String>,
        #[command(flatten)]
        which: Which,
        /// Output format.
        #[arg(long, value_enum, default_value_t = StatusFormat::Text)]
        format: StatusFormat,
    },
    /// Every session whose date lies in [FROM, TO].
    Sessions {
        /// First date (YYYY-MM-DD, the venue's time zone), inclusive.
        #[arg(long, value_name = "DATE")]
        from: String,
        /// Last date (YYYY-MM-DD), inclusive.
        #[arg(long, value_name = "DATE")]
        to: String,
        #[command(flatten)]
        which: Which,
        /// Output format.
        #[arg(long, value_enum, default_value_t = SessionsFormat::Csv)]
        format: SessionsFormat,
    },
    /// Every built-in calendar: name, aliases, time zone and supported dates.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = StatusFormat::Text)]
        format: StatusFormat,
    },
}

/// Which calendar, and any operator overrides.
#[derive(Debug, clap::Args)]
pub struct Which {
    /// The calendar, by MIC or alias, case-insensitively: XNYS (alias nyse), XLON,
    /// XETR, XTKS, XHKG, XTSE, XASX, CMES, FX or always-open (`opsfloor calendar list`).
    #[arg(long, default_value = "XNYS")]
    calendar: String,
    /// A TOML file of extra closures and early closes (see the README).
    #[arg(long, value_name = "FILE")]
    overrides: Option<PathBuf>,
}

/// Formats of `calendar status`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum StatusFormat {
    /// Aligned text for people.
    Text,
    /// One JSON object.
    Json,
}

/// Formats of `calendar sessions`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SessionsFormat {
    /// `date,open_utc,close_utc,break_start_utc,break_end_utc` rows.
    Csv,
    /// A JSON array of sessions.
    Json,
}

/// Runs a calendar command.
pub fn run(command: &Command) -> Result<u8, CliError> {
    match command {
        Command::Status { at, which, format } => {
            let calendar = load(which)?;
            let at = match at {
                Some(text) => {
                    parse_timestamp(text).map_err(|e| CliError::Usage(format!("--at: {e}")))?
                }
                // The clock is read here, at the edge, and nowhere else.
                None => Timestamp::now(),
            };
            let status = calendar.status(at)?;
            let text = match format {
                StatusFormat::Text => status_text(&calendar, &status),
                StatusFormat::Json => format!("{:#}\n", status_json(&calendar, &status)),
            };
            write_stdout(text.as_bytes())?;
        }
        Command::Sessions {
            from,
            to,
            which,
            format,
        } => {
            let calendar = load(which)?;
            let from = parse_date("--from", from)?;
            let to = parse_date("--to", to)?;
            let sessions = calendar.sessions(from, to)?;
            let text = match format {
                SessionsFormat::Csv => sessions_csv(&sessions),
                SessionsFormat::Json => {
                    let rows: Vec<_> = sessions.iter().map(session_json).collect();
                    format!("{:#}\n", serde_json::Value::Array(rows))
                }
            };
            write_stdout(text.as_bytes())?;
        }
        Command::List { format } => {
            let calendars = Calendar::builtins()?;
            let text = match format {
                StatusFormat::Text => list_text(&calendars),
                StatusFormat::Json => {
                    let rows: Vec<_> = calendars.iter().map(list_json).collect();
                    format!("{:#}\n", serde_json::Value::Array(rows))
                }
            };
            write_stdout(text.as_bytes())?;
        }
    }
    Ok(0)
}

/// The aliases of a built-in calendar.
fn aliases(calendar: &Calendar) -> &'static [&'static str] {
    Calendar::names()
        .into_iter()
        .find(|(name, _)| *name == calendar.name())
        .map_or(&[], |(_, aliases)| aliases)
}

fn supported_text(calendar: &Calendar) -> String {
    match calendar.supported_dates() {
        Some((first, last)) => format!("{first} to {last}"),
        None => "every date".into(),
    }
}

fn zone_name(calendar: &Calendar) -> String {
    calendar.time_zone().iana_name().unwrap_or("UTC").to_owned()
}

/// `calendar list` as aligned columns.
fn list_text(calendars: &[Calendar]) -> String {
    let rows: Vec<[String; 4]> = calendars
        .iter()
        .map(|c| {
            [
                c.name().to_owned(),
                aliases(c).join(", "),
                zone_name(c),
                supported_text(c),
            ]
        })
        .collect();
    let header = ["name", "aliases", "zone", "supported"].map(String::from);
    let width = |i: usize| {
        rows.iter()
            .chain(std::iter::once(&header))
            .map(|r| r[i].chars().count())
            .max()
            .unwrap_or(0)
    };
    let (w0, w1, w2) = (width(0), width(1), width(2));
    let mut out = String::new();
    for r in std::iter::once(&header).chain(&rows) {
        let _ = writeln!(out, "{:<w0$}  {:<w1$}  {:<w2$}  {}", r[0], r[1], r[2], r[3]);
    }
    out
}

fn list_json(calendar: &Calendar) -> serde_json::Value {
    let (first, last) = match calendar.supported_dates() {
        Some((f, l)) => (Some(f.to_string()), Some(l.to_string())),
        None => (None, None),
    };
    json!({
        "name": calendar.name(),
        "aliases": aliases(calendar),
        "time_zone": zone_name(calendar),
        "first_date": first,
        "last_date": last,
    })
}

fn parse_date(flag: &str, text: &str) -> Result<Date, CliError> {
    text.parse::<Date>().map_err(|e| {
        CliError::Usage(format!(
            "{flag} {text:?} is not a date such as 2026-01-07: {e}"
        ))
    })
}

/// Builds the calendar named by `--calendar`, with `--overrides` applied.
pub fn load(which: &Which) -> Result<Calendar, CliError> {
    let overrides = match &which.overrides {
        None => Overrides::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| CliError::Io {
                path: path.clone(),
                source,
            })?;
            toml::from_str(&text).map_err(|e| CliError::Data(format!("{}: {e}", path.display())))?
        }
    };
    Ok(Calendar::by_name(&which.calendar, &overrides)?)
}

/// The sessions as CSV with the header
/// `date,open_utc,close_utc,break_start_utc,break_end_utc`: `date` is the
/// session's date in the venue's zone, the break columns are empty without a break.
pub fn sessions_csv(sessions: &[Session]) -> String {
    let mut out = String::from("date,open_utc,close_utc,break_start_utc,break_end_utc\n");
    for s in sessions {
        let (start, end) = match s.pause {
            Some(b) => (format_timestamp(b.start), format_timestamp(b.end)),
            None => (String::new(), String::new()),
        };
        let _ = writeln!(
            out,
            "{},{},{},{start},{end}",
            s.date,
            format_timestamp(s.open),
            format_timestamp(s.close)
        );
    }
    out
}

fn session_json(s: &Session) -> serde_json::Value {
    json!({
        "date": s.date.to_string(),
        "open_utc": format_timestamp(s.open),
        "close_utc": format_timestamp(s.close),
        "early_close": s.early_close,
        "break_start_utc": s.pause.map(|b| format_timestamp(b.start)),
        "break_end_utc": s.pause.map(|b| format_timestamp(b.end)),
    })
}

fn status_json(calendar: &Calendar, status: &MarketStatus) -> serde_json::Value {
    let (date, session, closed_reason) = match &status.today {
        Day::Session(s) => (s.date, Some(session_json(s)), None),
        Day::Closed(reason) => {
            let date = calendar.time_zone().to_datetime(status.at).date();
            (date, None, Some(closed_text(reason)))
        }
    };
    json!({
        "calendar": calendar.name(),
        "time_zone": calendar.time_zone().iana_name(),
        "at": format_timestamp(status.at),
        "is_open": status.is_open,
        "date": date.to_string(),
        "session": session,
        "closed_reason": closed_reason,
        "next_open_utc": status.next_open.map(format_timestamp),
        "next_close_utc": status.next_close.map(format_timestamp),
    })
}

fn closed_text(reason: &Closed) -> String {
    match reason {
        Closed::Weekend => "weekend".into(),
        Closed::Holiday(name) => name.clone(),
    }
}

fn status_text(calendar: &Calendar, status: &MarketStatus) -> String {
    let tz = calendar.time_zone();
    let local = |ts: Timestamp| {
        ts.to_zoned_datetime(tz.clone())
            .strftime("%a %Y-%m-%d %H:%M %Z")
            .to_string()
    };
    let mut out = String::new();
    let zone = tz.iana_name().unwrap_or("UTC");
    let _ = writeln!(out, "calendar    {} ({zone})", calendar.name());
    let _ = writeln!(
        out,
        "at          {}  ({})",
        format_timestamp(status.at),
        local(status.at)
    );
    let in_break = matches!(&status.today, Day::Session(s)
        if s.pause.is_some_and(|b| b.start <= status.at && status.at < b.end));
    let market = match (status.is_open, in_break) {
        (true, _) => "OPEN",
        (false, true) => "CLOSED (break)",
        (false, false) => "CLOSED",
    };
    let _ = writeln!(out, "market      {market}");
    match &status.today {
        Day::Session(s) => {
            let early = if s.early_close { ", early close" } else { "" };
            let open = s.open.to_zoned_datetime(tz.clone());
            // A session that opens the evening before (CME, FX) shows the day it opens.
            let open_text = if open.date() == s.date {
                open.strftime("%H:%M").to_string()
            } else {
                open.strftime("%a %H:%M").to_string()
            };
            let pause = match s.pause {
                Some(b) => format!(
                    ", break {}–{}",
                    b.start.to_zoned_datetime(tz.clone()).strftime("%H:%M"),
                    b.end.to_zoned_datetime(tz.clone()).strftime("%H:%M")
                ),
                None => String::new(),
            };
            let _ = writeln!(
                out,
                "session     {} {open_text}–{}{pause}{early}  ({} – {})",
                s.date,
                s.close.to_zoned_datetime(tz.clone()).strftime("%H:%M %Z"),
                format_timestamp(s.open),
                format_timestamp(s.close),
            );
        }
        Day::Closed(reason) => {
            let date = tz.to_datetime(status.at).date();
            let _ = writeln!(out, "session     none on {date} ({})", closed_text(reason));
        }
    }
    let mut edge = |label: &str, ts: Option<Timestamp>| {
        let text = match ts {
            Some(ts) => format!(
                "{}  ({}, in {})",
                format_timestamp(ts),
                local(ts),
                countdown(status.at, ts)
            ),
            None => "never (always open)".into(),
        };
        let _ = writeln!(out, "{label:<12}{text}");
    };
    edge("next open", status.next_open);
    edge("next close", status.next_close);
    out
}

/// A coarse countdown such as `2d 3h 5m` or `8h 20m` (whole minutes, rounded down).
pub fn countdown(from: Timestamp, to: Timestamp) -> String {
    let minutes = (to.as_second() - from.as_second()).max(0) / 60;
    let (d, h, m) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (d, h) {
        (0, 0) => format!("{m}m"),
        (0, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h {m}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countdowns() {
        let t = |s: &str| parse_timestamp(s).expect("ts");
        assert_eq!(
            countdown(t("2026-11-25T06:10:00Z"), t("2026-11-25T14:30:00Z")),
            "8h 20m"
        );
        assert_eq!(
            countdown(t("2026-11-25T14:29:30Z"), t("2026-11-25T14:30:00Z")),
            "0m"
        );
        assert_eq!(
            countdown(t("2026-11-26T21:00:00Z"), t("2026-11-30T14:30:00Z")),
            "3d 17h 30m"
        );
    }
}
