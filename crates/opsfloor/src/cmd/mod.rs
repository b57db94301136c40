//! One module per subcommand.

pub mod calendar;
pub mod demo;
pub mod evaluate;
pub mod fleet;
pub mod generate;
pub mod history;
pub mod probe;
pub mod report;
pub mod serve;
pub mod serve_util;
pub mod token;
pub mod validate;

use std::io::Write;

use crate::error::CliError;

/// `opsfloor schema`: the JSON Schema, byte for byte as committed in `schema/`.
pub fn print_schema(report: bool) -> Result<u8, CliError> {
    let text = if report {
        opsfloor_report::Report::schema_json()
    } else {
        opsfloor_contract::schema::document_schema_json()
    };
    write_stdout(text.as_bytes())?;
    Ok(0)
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth a message.
pub fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::Io {
            path: "<stdout>".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}
