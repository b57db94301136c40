//! `opsfloor evaluate`: the truth table over JSON Lines.
//!
//! Each non-blank stdin line is one [`Inputs`] object; each answer is one stdout line
//! `{"line":N,"state":…,"reason_codes":[…],"rule":K,"rule_name":…}`, where `line` is
//! the input line it answers, so answers can be joined back even when a bad line is
//! skipped. A bad line gets a message on stderr naming its line number; the others
//! are still answered and the exit code is 1 (65 when a line is not even UTF-8 text).

use std::io::{BufRead, BufWriter, Write};

use opsfloor_contract::{Inputs, ReasonCode, State, evaluate};
use serde::Serialize;

use crate::error::CliError;

/// Arguments of `opsfloor evaluate`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Input fields: service_kind, process_up, kill_switch, market_is_open (required); \
required_fields_present (default true); heartbeat_age_seconds, heartbeat_ttl_seconds, marketdata_is_fresh, \
execution_enabled, execution_replicas (missing means null).\n\
Example: echo '{\"service_kind\":\"strategy\",\"process_up\":true,\"kill_switch\":true,\"market_is_open\":true}' | opsfloor evaluate"
)]
pub struct Args {}

/// One answer line, fields in this order.
#[derive(Serialize)]
struct Answer {
    line: usize,
    state: State,
    reason_codes: Vec<ReasonCode>,
    rule: u8,
    rule_name: &'static str,
}

/// Runs the command over stdin and stdout.
pub fn run(_: &Args) -> Result<u8, CliError> {
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    let mut out = BufWriter::new(stdout);
    fn io_err(path: &'static str) -> impl Fn(std::io::Error) -> CliError {
        move |source| CliError::Io {
            path: path.into(),
            source,
        }
    }
    let mut bad_lines = 0usize;
    let mut not_text = 0usize;
    for (index, bytes) in stdin.split(b'\n').enumerate() {
        let number = index + 1;
        let bytes = bytes.map_err(io_err("<stdin>"))?;
        let line = match utf8_line(&bytes) {
            Ok(line) => line,
            Err(message) => {
                not_text += 1;
                eprintln!("opsfloor: error: <stdin>:{number}: {message}");
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Inputs>(line) {
            Ok(inputs) => {
                let v = evaluate(&inputs);
                let answer = Answer {
                    line: number,
                    state: v.state,
                    reason_codes: v.reason_codes(),
                    rule: v.rule.number(),
                    rule_name: v.rule.name(),
                };
                let json =
                    serde_json::to_string(&answer).map_err(|e| CliError::Data(e.to_string()))?;
                writeln!(out, "{json}").map_err(io_err("<stdout>"))?;
            }
            Err(e) => {
                bad_lines += 1;
                eprintln!(
                    "opsfloor: error: <stdin>:{number}: column {}: {}",
                    e.column(),
                    bare_message(&e)
                );
            }
        }
    }
    match out.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(io_err("<stdout>")(e)),
        _ => {}
    }
    if not_text > 0 {
        return Ok(crate::error::EXIT_DATA);
    }
    Ok(u8::from(bad_lines > 0))
}

/// One input line as text, without its line ending (`\n` split off, a `\r` before
/// it dropped), or why it is not text: "not UTF-8 (invalid byte at column N)".
pub fn utf8_line(bytes: &[u8]) -> Result<&str, String> {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    std::str::from_utf8(bytes)
        .map_err(|e| format!("not UTF-8 text (invalid at byte {})", e.valid_up_to() + 1))
}

/// serde_json's message without its " at line L column C" suffix (we name the
/// stdin line ourselves; serde's line would always be 1).
pub fn bare_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(cut) => full[..cut].to_owned(),
        None => full,
    }
}
