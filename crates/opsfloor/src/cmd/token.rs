//! `opsfloor token new`: a fresh bearer token and the `[access]` line that accepts it.
//!
//! The floor stores only the token's SHA-256 (`bearer_tokens_sha256`), so the
//! token is shown once, here, and must be handed to the client now.

use opsfloor_access::NewToken;

use crate::cmd::write_stdout;
use crate::error::CliError;

/// `opsfloor token …`
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print a new random token (32 bytes from the OS, base64url) and its SHA-256,
    /// ready to paste into `[access]`.
    New {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

/// Formats of `token new`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// The token, its digest and the `[access]` lines, for people.
    Text,
    /// `{"token": ..., "sha256": ...}`, for scripts.
    Json,
}

/// Runs `opsfloor token …`.
pub fn run(command: &Command) -> Result<u8, CliError> {
    let Command::New { format } = command;
    let new = NewToken::generate().map_err(|e| CliError::Io {
        path: "<OS random source>".into(),
        source: std::io::Error::other(e),
    })?;
    let text = match format {
        Format::Text => format!(
            "token:  {token}\nsha256: {digest}\n\n\
             # Give the token to the client (Authorization: Bearer <token>); it is not stored anywhere.\n\
             # Paste these lines into the floor's configuration:\n{snippet}",
            token = new.token,
            digest = new.sha256_hex,
            snippet = new.access_snippet(),
        ),
        Format::Json => format!(
            "{}\n",
            serde_json::json!({ "token": new.token, "sha256": new.sha256_hex })
        ),
    };
    write_stdout(text.as_bytes())?;
    Ok(0)
}
