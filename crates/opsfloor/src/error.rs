//! The CLI's errors and the exit codes they map to (sysexits.h, where one fits).

use std::path::PathBuf;

/// Exit code for a command-line usage error (EX_USAGE).
pub const EXIT_USAGE: u8 = 64;
/// Exit code for bad input data or an unanswerable query (EX_DATAERR).
pub const EXIT_DATA: u8 = 65;
/// Exit code for an input file that does not exist (EX_NOINPUT).
pub const EXIT_NO_INPUT: u8 = 66;
/// Exit code for an I/O failure (EX_IOERR).
pub const EXIT_IO: u8 = 74;

/// Everything that stops a subcommand before it has an answer.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The arguments make no sense together.
    #[error("{0}")]
    Usage(String),
    /// Input data that cannot be used, or a query the contract cannot answer.
    #[error("{0}")]
    Data(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Data(_) => EXIT_DATA,
            CliError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                EXIT_NO_INPUT
            }
            CliError::Io { .. } => EXIT_IO,
        }
    }
}

impl From<opsfloor_contract::CalendarError> for CliError {
    fn from(e: opsfloor_contract::CalendarError) -> Self {
        CliError::Data(e.to_string())
    }
}
