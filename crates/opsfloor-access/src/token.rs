//! Fresh bearer tokens and their digests, for `opsfloor token new`, and argon2
//! password hashes for basic-auth users, for `opsfloor token basic`.
//!
//! A token is 32 bytes from the operating system's random source, written as
//! unpadded base64url (43 characters, safe in headers, URLs and shells). The
//! floor stores only its SHA-256, as hex, so a leaked configuration file does not
//! leak a credential.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A new token and the digest to configure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    /// The token to hand to the client (`Authorization: Bearer <token>`).
    pub token: String,
    /// Its SHA-256 as 64 lower-case hex digits, for `bearer_tokens_sha256`.
    pub sha256_hex: String,
}

/// The operating system's random source (or the hasher) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot make a credential: {0}")]
pub struct TokenError(String);

impl NewToken {
    /// Makes a token from 32 bytes of OS randomness.
    pub fn generate() -> Result<Self, TokenError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| TokenError(e.to_string()))?;
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let sha256_hex = sha256_hex(&token);
        Ok(NewToken { token, sha256_hex })
    }

    /// The `[access]` lines that accept this token.
    pub fn access_snippet(&self) -> String {
        format!(
            "[access]\nbearer_tokens_sha256 = [\"{}\"]\n",
            self.sha256_hex
        )
    }
}

/// An argon2id PHC string for `password` with argon2's recommended parameters
/// (19 MiB, 2 passes) and a fresh 16-byte salt, for `[access.basic_users]`.
pub fn hash_password(password: &str) -> Result<String, TokenError> {
    use argon2::PasswordHasher as _;
    use argon2::password_hash::SaltString;
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| TokenError(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| TokenError(e.to_string()))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| TokenError(format!("cannot hash the password: {e}")))
}

/// SHA-256 of a token's text, as the floor compares it: lower-case hex.
pub fn sha256_hex(token: &str) -> String {
    use std::fmt::Write as _;
    let digest = Sha256::digest(token.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_sha256_hex() {
        // printf test | sha256sum
        assert_eq!(
            sha256_hex("test"),
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        );
    }

    #[test]
    fn password_hashes_are_salted_argon2id_and_verify() {
        use argon2::PasswordVerifier as _;
        let a = hash_password("wonderland").expect("hash");
        let b = hash_password("wonderland").expect("hash");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "a fresh salt each time");
        let parsed = argon2::PasswordHash::new(&a).expect("PHC");
        assert!(
            argon2::Argon2::default()
                .verify_password(b"wonderland", &parsed)
                .is_ok()
        );
        assert!(
            argon2::Argon2::default()
                .verify_password(b"Wonderland", &parsed)
                .is_err()
        );
        let mut raw = crate::AccessToml::default();
        raw.basic_users.insert("alice".into(), a);
        assert!(crate::AccessConfig::try_from(raw).is_ok());
    }

    #[test]
    fn tokens_are_fresh_43_char_base64url_and_configurable() {
        let a = NewToken::generate().expect("random");
        let b = NewToken::generate().expect("random");
        assert_ne!(a.token, b.token);
        assert_eq!(a.token.len(), 43);
        assert!(
            a.token
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_eq!(a.sha256_hex, sha256_hex(&a.token));
        let config = crate::AccessConfig::from_toml_str(&a.access_snippet()).expect("pastes");
        assert_eq!(config.token_digests.len(), 1);
    }
}
