//! `opsfloor history migrate|export|import`: move a desk's history between stores
//! (for example from SQLite to PostgreSQL).
//!
//! `export --format jsonl` writes every transition, oldest first in insertion
//! order, one JSON object per line: `{"subject":null|"name","from":null|"OK",
//! "to":"OK","reason_codes":["..."],"at":"2026-01-07T14:00:00.123456789Z"}`
//! (`subject` null is the floor; instants keep their nanoseconds).
//! `import` refuses a store that already holds transitions, so importing twice
//! cannot duplicate anything (import into a fresh store; exit 65 otherwise).

use std::io::{BufRead, Write};
use std::path::PathBuf;

use opsfloor_contract::{ReasonCode, State};
use opsfloor_history::{History, HistoryError, Subject, Transition, TransitionQuery};

use crate::cmd::serve_util;
use crate::error::CliError;

/// The `history` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create or upgrade the store's schema, then exit.
    Migrate {
        /// The store: a path, sqlite://path, or postgres://user@host:port/db (password from PGPASSWORD or the URL).
        #[arg(long)]
        db: String,
    },
    /// Write every transition, oldest first, to stdout.
    Export {
        /// The store (as for migrate).
        #[arg(long)]
        db: String,
        /// Output format.
        #[arg(long, value_parser = ["jsonl"], default_value = "jsonl")]
        format: String,
    },
    /// Read an export into a store that holds no transitions yet.
    Import {
        /// The store (as for migrate).
        #[arg(long)]
        db: String,
        /// The export (JSON Lines).
        file: PathBuf,
    },
}

/// Runs one `history` subcommand.
pub fn run(command: &Command) -> Result<u8, CliError> {
    let rt = serve_util::runtime()?;
    rt.block_on(async {
        match command {
            Command::Migrate { db } => {
                open(db).await?.close().await;
                Ok(0)
            }
            Command::Export { db, .. } => export(db).await,
            Command::Import { db, file } => import(db, file).await,
        }
    })
}

/// A history error as the CLI's: I/O (74) or bad data (65).
fn cli(e: HistoryError) -> CliError {
    if e.is_io() {
        CliError::Io {
            path: PathBuf::from(e.location()),
            source: std::io::Error::other(e.to_string()),
        }
    } else {
        CliError::Data(e.to_string())
    }
}

async fn open(db: &str) -> Result<History, CliError> {
    History::connect(db).await.map_err(cli)
}

async fn export(db: &str) -> Result<u8, CliError> {
    let h = open(db).await?;
    let all = h.all_in_order().await.map_err(cli)?;
    h.close().await;
    let mut out = Vec::new();
    for t in &all {
        let line = serde_json::json!({
            "subject": t.subject.service_name(),
            "from": t.from.map(State::as_str),
            "to": t.to.as_str(),
            "reason_codes": t.reason_codes.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            "at": t.at.to_string(),
        });
        let _ = writeln!(out, "{line}");
    }
    crate::cmd::write_stdout(&out)?;
    Ok(0)
}

async fn import(db: &str, file: &PathBuf) -> Result<u8, CliError> {
    let io = |source| CliError::Io {
        path: file.clone(),
        source,
    };
    let reader = std::io::BufReader::new(std::fs::File::open(file).map_err(io)?);
    let mut ts = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(io)?;
        if line.trim().is_empty() {
            continue;
        }
        ts.push(
            parse_line(&line)
                .map_err(|e| CliError::Data(format!("{}:{}: {e}", file.display(), i + 1)))?,
        );
    }
    let h = open(db).await?;
    let existing = h
        .transitions(&TransitionQuery::latest(1))
        .await
        .map_err(cli)?;
    if !existing.is_empty() {
        let location = h.location().to_owned();
        h.close().await;
        return Err(CliError::Data(format!(
            "history database {location}: already holds transitions; import only into an empty store"
        )));
    }
    h.record_all(&ts).await.map_err(cli)?;
    h.close().await;
    eprintln!("imported {} transitions", ts.len());
    Ok(0)
}

/// One export line back to a transition.
fn parse_line(line: &str) -> Result<Transition, String> {
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let state = |field: &str| -> Result<Option<State>, String> {
        match &v[field] {
            serde_json::Value::Null => Ok(None),
            serde_json::Value::String(s) => State::from_wire(s)
                .map(Some)
                .ok_or_else(|| format!("/{field}: unknown state {s:?}")),
            other => Err(format!("/{field}: expected a state, found {other}")),
        }
    };
    let subject = match &v["subject"] {
        serde_json::Value::Null => Subject::Floor,
        serde_json::Value::String(s) => Subject::Service(s.clone()),
        other => Err(format!("/subject: expected a name or null, found {other}"))?,
    };
    let to = state("to")?.ok_or("/to: missing")?;
    let reason_codes = v["reason_codes"]
        .as_array()
        .ok_or("/reason_codes: expected an array")?
        .iter()
        .map(|c| {
            c.as_str()
                .map(ReasonCode::from_wire)
                .ok_or("/reason_codes: expected strings")
        })
        .collect::<Result<Vec<_>, _>>()?;
    let at = v["at"]
        .as_str()
        .ok_or("/at: expected an instant")?
        .parse()
        .map_err(|e| format!("/at: {e}"))?;
    Ok(Transition {
        subject,
        from: state("from")?,
        to,
        reason_codes,
        at,
    })
}
