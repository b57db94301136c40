//! The CLI's errors and the exit codes they map to (sysexits.h, where one fits).

use std::path::PathBuf;

/// Exit code for a command-line usage error (EX_USAGE).
pub const EXIT_USAGE: u8 = 64;
/// Exit code for bad input data or an unanswerable query (EX_DATAERR).
pub const EXIT_DATA: u8 = 65;
/// Exit code for an input file that does not exist (EX_NOINPUT).
pub const EXIT_NO_INPUT: u8 = 66;
/// Exit code for an I/O failure, including an output path that cannot be written (EX_IOERR).
pub const EXIT_IO: u8 = 74;
/// Exit code for an invalid configuration, e.g. an inventory that does not parse (EX_CONFIG).
pub const EXIT_CONFIG: u8 = 78;

/// Every exit code a command's error maps to, with its meaning: the table that
/// `--help` and the README show (`tests/readme.rs` keeps the README equal to it).
pub const EXIT_CODES: &[(u8, &str)] = &[
    (
        EXIT_USAGE,
        "usage: an unknown flag, a missing or malformed argument",
    ),
    (
        EXIT_DATA,
        "bad data: a document, recording or history that cannot be used, or a query outside a calendar's range",
    ),
    (EXIT_NO_INPUT, "an input file is missing"),
    (
        EXIT_IO,
        "I/O: a file or store that cannot be read or written, a port in use",
    ),
    (
        EXIT_CONFIG,
        "invalid configuration: an inventory, calendar or overrides file that does not validate",
    ),
];

/// The exit-code paragraph of `opsfloor --help`, from [`EXIT_CODES`].
pub fn exit_codes_help() -> String {
    let mut help = String::from(
        "Exit codes: 0 success; 1 something evaluated was invalid (evaluate, validate); \
2 input could not be read (validate); `opsfloor report` exits by the floor's state (see its --help).",
    );
    for (code, meaning) in EXIT_CODES {
        help.push_str(&format!("\n  {code}  {meaning}"));
    }
    help
}

/// Everything that stops a subcommand before it has an answer.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The arguments make no sense together.
    #[error("{0}")]
    Usage(String),
    /// Input data that cannot be used, or a query the contract cannot answer.
    #[error("{0}")]
    Data(String),
    /// A configuration that cannot be used (an invalid inventory, an unknown
    /// calendar): 78.
    #[error("{0}")]
    Config(String),
    /// The system refused (a store that cannot be written, a port in use): 74.
    #[error("{0}")]
    System(String),
    /// An output file could not be written (always I/O, even when its directory is missing).
    #[error("{path}: cannot write: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A file could not be read: missing (66), not UTF-8 (bad data, 65), else I/O (74).
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
            CliError::Config(_) => EXIT_CONFIG,
            CliError::System(_) => EXIT_IO,
            CliError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                EXIT_NO_INPUT
            }
            CliError::Io { source, .. } if source.kind() == std::io::ErrorKind::InvalidData => {
                EXIT_DATA
            }
            CliError::Io { .. } | CliError::Write { .. } => EXIT_IO,
        }
    }
}

impl From<opsfloor_contract::CalendarError> for CliError {
    fn from(e: opsfloor_contract::CalendarError) -> Self {
        CliError::Data(e.to_string())
    }
}
