//! `opsfloor validate`: check documents against the contract.
//!
//! Prints one line per document, then one indented line per violation with its JSON
//! pointer:
//!
//! ```text
//! doc.json: invalid (2 problems)
//!   /service_name: required field is missing
//!   /status/state: unknown state "GREEN"; expected one of OK, DEGRADED, …
//! ```
//!
//! Exit 0 when every document is valid, 1 when any is invalid (malformed JSON
//! included), 65 when a document (with `--lines`, a line) is not UTF-8 text (the
//! other lines are still checked), 2 when the input cannot be read.

use std::fmt::Write as _;
use std::io::Read;
use std::path::PathBuf;

use opsfloor_contract::parse_document;

use crate::cmd::write_stdout;
use crate::error::CliError;

/// Arguments of `opsfloor validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The file to check; `-` (the default) reads stdin.
    #[arg(default_value = "-")]
    file: PathBuf,
    /// The input is JSON Lines: one document per line.
    #[arg(long)]
    lines: bool,
}

/// Runs the command.
pub fn run(args: &Args) -> Result<u8, CliError> {
    let (name, bytes) = match read_input(&args.file) {
        Ok(read) => read,
        Err(message) => {
            eprintln!("opsfloor: error: {message}");
            return Ok(2);
        }
    };
    let mut report = String::new();
    let mut invalid = 0usize;
    let mut not_text = 0usize;
    if args.lines {
        for (index, line) in bytes.split(|b| *b == b'\n').enumerate() {
            let source = format!("{name}:{}", index + 1);
            let line = match crate::cmd::evaluate::utf8_line(line) {
                Ok(line) => line,
                Err(message) => {
                    not_text += 1;
                    let _ = writeln!(report, "{source}: invalid: {message}");
                    continue;
                }
            };
            if line.trim().is_empty() {
                continue;
            }
            invalid += usize::from(!check_one(&source, line, Some(index + 1), &mut report));
        }
    } else {
        match std::str::from_utf8(&bytes) {
            Ok(text) => invalid += usize::from(!check_one(&name, text, None, &mut report)),
            Err(e) => {
                not_text += 1;
                let _ = writeln!(
                    report,
                    "{name}: invalid: not UTF-8 text (invalid at byte {})",
                    e.valid_up_to() + 1
                );
            }
        }
    }
    write_stdout(report.as_bytes())?;
    if not_text > 0 {
        return Ok(crate::error::EXIT_DATA);
    }
    Ok(u8::from(invalid > 0))
}

fn read_input(file: &PathBuf) -> Result<(String, Vec<u8>), String> {
    if file.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("<stdin>: {e}"))?;
        Ok(("<stdin>".into(), bytes))
    } else {
        let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
        Ok((file.display().to_string(), bytes))
    }
}

/// Checks one document, appends its report, and says whether it was valid.
fn check_one(source: &str, text: &str, line: Option<usize>, report: &mut String) -> bool {
    match parse_document(text) {
        Err(e) => {
            // With --lines the document is one line, so its position is that line's.
            let at_line = line.unwrap_or(e.line);
            let _ = writeln!(
                report,
                "{source}: invalid: malformed JSON at line {at_line}, column {}: {}",
                e.column, e.message
            );
            false
        }
        Ok(received) if received.is_valid() => {
            let (state, codes) = received.reported();
            let codes: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
            let _ = writeln!(report, "{source}: valid ({state} [{}])", codes.join(", "));
            true
        }
        Ok(received) => {
            let n = received.problems.len();
            let _ = writeln!(
                report,
                "{source}: invalid ({n} problem{})",
                if n == 1 { "" } else { "s" }
            );
            for problem in &received.problems {
                let _ = writeln!(report, "  {problem}");
            }
            false
        }
    }
}
