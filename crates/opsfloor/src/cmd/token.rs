//! `opsfloor token new`: a fresh bearer token and the `[access]` line that accepts
//! it; `opsfloor token basic`: the `[access.basic_users]` line for a password.
//!
//! The floor stores only the token's SHA-256 (`bearer_tokens_sha256`), so the
//! token is shown once, here, and must be handed to the client now. Passwords are
//! read from stdin, never from the command line (where `ps` and shell history
//! would keep them).

use std::io::Read as _;

use opsfloor_access::{AccessConfig, NewToken, hash_password};

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
    /// Read a password from stdin (its first line) and print the
    /// `[access.basic_users]` entry for USER: an argon2id hash with a fresh salt.
    Basic {
        /// The user name (no ':').
        #[arg(long)]
        user: String,
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
    match command {
        Command::New { format } => new_token(*format),
        Command::Basic { user } => basic_user(user),
    }
}

fn random_failure(e: opsfloor_access::token::TokenError) -> CliError {
    CliError::Io {
        path: "<OS random source>".into(),
        source: std::io::Error::other(e),
    }
}

fn new_token(format: Format) -> Result<u8, CliError> {
    let new = NewToken::generate().map_err(random_failure)?;
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

fn basic_user(user: &str) -> Result<u8, CliError> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|source| CliError::Io {
            path: "<stdin>".into(),
            source,
        })?;
    let password = input.lines().next().unwrap_or("");
    if password.is_empty() {
        return Err(CliError::Usage(
            "token basic: give the password on stdin, e.g. `read -rs PW; printf '%s\\n' \"$PW\" | opsfloor token basic --user alice`".into(),
        ));
    }
    let phc = hash_password(password).map_err(random_failure)?;
    // A JSON string is a valid TOML basic string, so any user name is quoted right.
    let key = serde_json::Value::String(user.to_owned());
    let snippet = format!("[access.basic_users]\n{key} = \"{phc}\"\n");
    // The entry must read back as a valid [access]; this also checks the name.
    let check = format!("[access]\n{snippet}");
    AccessConfig::from_toml_str(&check).map_err(|e| CliError::Usage(e.to_string()))?;
    write_stdout(snippet.as_bytes())?;
    Ok(0)
}
