//! The `[access]` configuration: what it says on disk ([`AccessToml`]) and what it
//! means once checked ([`AccessConfig`]).
//!
//! Everything is validated when the configuration is read, never when a request
//! arrives: a typo in a hash or a network is an error naming its field
//! (`access.trusted_proxies[1]: ...`) at start-up, not a door that silently stays
//! shut or open. Unknown fields are errors too (`deny_unknown_fields`), because a
//! misspelt `trusted_proxy` would otherwise leave the floor configured in a way
//! the operator did not write.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use argon2::PasswordHash;
use axum::http::HeaderName;
use ipnet::IpNet;
use serde::Deserialize;

/// The `[access]` table as written, before checking. Embed it in a larger serde
/// configuration, or read a file holding only `[access]` with
/// [`AccessConfig::from_toml_str`].
///
/// ```toml
/// [access]
/// bearer_tokens_sha256 = ["<64 hex digits from `opsfloor token new`>"]
/// trusted_proxy_header = "X-Forwarded-User"
/// trusted_proxies = ["10.0.0.0/8"]
/// public = ["/metrics", "/ops/status"]
///
/// [access.basic_users]
/// alice = "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>"
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessToml {
    /// SHA-256 digests (hex) of the accepted bearer tokens; the tokens themselves
    /// are never stored.
    #[serde(default)]
    pub bearer_tokens_sha256: Vec<String>,
    /// The header a trusted reverse proxy sets to the authenticated user
    /// (the oauth2-proxy pattern), e.g. `X-Forwarded-User`.
    #[serde(default)]
    pub trusted_proxy_header: Option<String>,
    /// The networks (CIDR, or single addresses) of the proxies whose header counts.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// Basic-auth users: name to an argon2 PHC string.
    #[serde(default)]
    pub basic_users: BTreeMap<String, String>,
    /// Paths served without credentials (exact matches), e.g. `/metrics`.
    /// `/health` is always public.
    #[serde(default)]
    pub public: Vec<String>,
}

/// A problem with the access configuration, naming the field it is in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    /// The TOML itself is wrong (syntax, an unknown field, a wrong type); the
    /// message is toml's, which names the field, line and column.
    #[error("access configuration: {0}")]
    Syntax(String),
    /// A field has a value that cannot be used.
    #[error("{field}: {message}")]
    Field {
        /// The field, e.g. `access.bearer_tokens_sha256[0]`.
        field: String,
        /// What is wrong and how to fix it.
        message: String,
    },
}

fn field_error(field: impl Into<String>, message: impl Into<String>) -> AccessError {
    AccessError::Field {
        field: field.into(),
        message: message.into(),
    }
}

/// A reverse proxy whose user header is believed, from its networks only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedProxy {
    /// The header naming the user (lower-case, as `http` stores names).
    pub header: HeaderName,
    /// The proxies' networks.
    pub networks: Vec<IpNet>,
}

impl TrustedProxy {
    /// True when `peer` is one of the trusted proxies. An IPv4 peer seen through a
    /// dual-stack socket (`::ffff:10.1.2.3`) is compared as IPv4.
    pub fn trusts(&self, peer: IpAddr) -> bool {
        let peer = peer.to_canonical();
        self.networks.iter().any(|net| net.contains(&peer))
    }
}

/// A checked access configuration: every field parsed, at least one credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessConfig {
    /// The accepted bearer tokens' SHA-256 digests.
    pub token_digests: Vec<[u8; 32]>,
    /// The trusted proxy, if any.
    pub proxy: Option<TrustedProxy>,
    /// Basic-auth users and their argon2 PHC strings (each parsed once at load).
    pub basic_users: BTreeMap<String, String>,
    /// Paths open without credentials, besides `/health`.
    pub public: BTreeSet<String>,
}

/// A file holding just the `[access]` table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccessFile {
    access: AccessToml,
}

impl AccessConfig {
    /// Reads a TOML file that holds an `[access]` table (and nothing else).
    pub fn from_toml_str(text: &str) -> Result<Self, AccessError> {
        let file: AccessFile =
            toml::from_str(text).map_err(|e| AccessError::Syntax(e.to_string()))?;
        Self::try_from(file.access)
    }

    /// True when basic auth is configured (the 401 challenge is then `Basic`, so
    /// a browser shows its own login prompt).
    pub fn has_basic(&self) -> bool {
        !self.basic_users.is_empty()
    }
}

impl TryFrom<AccessToml> for AccessConfig {
    type Error = AccessError;

    fn try_from(raw: AccessToml) -> Result<Self, AccessError> {
        let token_digests = raw
            .bearer_tokens_sha256
            .iter()
            .enumerate()
            .map(|(i, hex)| {
                parse_digest(hex)
                    .map_err(|m| field_error(format!("access.bearer_tokens_sha256[{i}]"), m))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let proxy = parse_proxy(raw.trusted_proxy_header.as_deref(), &raw.trusted_proxies)?;
        for (name, phc) in &raw.basic_users {
            check_basic_user(name, phc)?;
        }
        let public = raw
            .public
            .iter()
            .enumerate()
            .map(|(i, path)| {
                check_public(path)
                    .map(|()| path.clone())
                    .map_err(|m| field_error(format!("access.public[{i}]"), m))
            })
            .collect::<Result<BTreeSet<_>, _>>()?;
        if token_digests.is_empty() && proxy.is_none() && raw.basic_users.is_empty() {
            return Err(field_error(
                "access",
                "configures no credential, so nothing but /health and the public paths could \
                 ever be read; add bearer_tokens_sha256 (from `opsfloor token new`), \
                 trusted_proxy_header with trusted_proxies, or basic_users",
            ));
        }
        Ok(AccessConfig {
            token_digests,
            proxy,
            basic_users: raw.basic_users,
            public,
        })
    }
}

/// 64 hex digits, either case, to 32 bytes.
fn parse_digest(hex: &str) -> Result<[u8; 32], String> {
    const HINT: &str =
        "expected a SHA-256 digest as 64 hex digits (`opsfloor token new` prints one)";
    if hex.len() != 64 {
        return Err(format!("{HINT}, found {} characters", hex.chars().count()));
    }
    let mut out = [0u8; 32];
    for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
        let digit = |b: u8| (b as char).to_digit(16);
        match (digit(pair[0]), digit(pair[1])) {
            // Both are < 16, so the byte fits.
            (Some(hi), Some(lo)) => out[i] = (hi * 16 + lo) as u8,
            _ => return Err(format!("{HINT}, found a non-hex character")),
        }
    }
    Ok(out)
}

fn parse_proxy(
    header: Option<&str>,
    networks: &[String],
) -> Result<Option<TrustedProxy>, AccessError> {
    let header = match (header, networks.is_empty()) {
        (None, true) => return Ok(None),
        (None, false) => {
            return Err(field_error(
                "access.trusted_proxy_header",
                "required with trusted_proxies: name the header the proxy sets to the user, \
                 e.g. \"X-Forwarded-User\"",
            ));
        }
        (Some(_), true) => {
            return Err(field_error(
                "access.trusted_proxies",
                "required with trusted_proxy_header: list the proxies' networks, e.g. \
                 [\"10.0.0.0/8\"]; the header is believed from those peers only",
            ));
        }
        (Some(h), false) => h,
    };
    let name = HeaderName::from_bytes(header.as_bytes()).map_err(|_| {
        field_error(
            "access.trusted_proxy_header",
            format!("{header:?} is not a valid HTTP header name"),
        )
    })?;
    if name == axum::http::header::AUTHORIZATION {
        return Err(field_error(
            "access.trusted_proxy_header",
            "must not be Authorization, which carries bearer and basic credentials",
        ));
    }
    let networks = networks
        .iter()
        .enumerate()
        .map(|(i, text)| {
            parse_network(text).ok_or_else(|| {
                field_error(
                    format!("access.trusted_proxies[{i}]"),
                    format!(
                        "expected a network such as \"10.0.0.0/8\" or \"fd00::/8\", or one \
                         address, found {text:?}"
                    ),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(TrustedProxy {
        header: name,
        networks,
    }))
}

/// A CIDR network (host bits cleared) or a single address as a /32 or /128.
fn parse_network(text: &str) -> Option<IpNet> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Some(net.trunc());
    }
    text.parse::<IpAddr>().ok().map(IpNet::from)
}

fn check_basic_user(name: &str, phc: &str) -> Result<(), AccessError> {
    let field = format!("access.basic_users.{name}");
    if name.is_empty() || name.contains(':') || name.chars().any(char::is_control) {
        return Err(field_error(
            field,
            "a user name must be non-empty, without ':' or control characters (basic auth \
             splits user and password at the first ':')",
        ));
    }
    let hint = "expected an argon2 PHC string such as \
                \"$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>\"";
    // The message never repeats the string: it is a password hash.
    let hash = PasswordHash::new(phc).map_err(|e| field_error(&field, format!("{hint}: {e}")))?;
    if !matches!(hash.algorithm.as_str(), "argon2id" | "argon2i" | "argon2d") {
        return Err(field_error(
            &field,
            format!("{hint}; found algorithm {:?}", hash.algorithm.as_str()),
        ));
    }
    argon2::Params::try_from(&hash)
        .map_err(|e| field_error(&field, format!("{hint}: parameters: {e}")))?;
    if hash.hash.is_none() {
        return Err(field_error(
            &field,
            format!("{hint}: the hash part is missing"),
        ));
    }
    Ok(())
}

fn check_public(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err(format!("expected a path starting with '/', found {path:?}"));
    }
    if path.contains(['?', '#']) || path.chars().any(char::is_whitespace) {
        return Err(format!(
            "expected a bare path (no query, fragment or spaces), found {path:?}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    fn raw() -> AccessToml {
        AccessToml {
            bearer_tokens_sha256: vec![DIGEST.into()],
            ..AccessToml::default()
        }
    }

    fn error_of(raw: AccessToml) -> String {
        AccessConfig::try_from(raw)
            .expect_err("invalid")
            .to_string()
    }

    #[test]
    fn a_file_with_every_field_reads() {
        let text = format!(
            "[access]\nbearer_tokens_sha256 = [\"{}\"]\ntrusted_proxy_header = \"X-Forwarded-User\"\n\
             trusted_proxies = [\"10.1.2.3/8\", \"::1\"]\npublic = [\"/metrics\"]\n",
            DIGEST.to_uppercase()
        );
        let config = AccessConfig::from_toml_str(&text).expect("valid");
        assert_eq!(config.token_digests[0][0], 0x9f);
        let proxy = config.proxy.expect("proxy");
        assert_eq!(proxy.header.as_str(), "x-forwarded-user");
        assert_eq!(proxy.networks[0].to_string(), "10.0.0.0/8");
        assert!(proxy.trusts("10.200.0.1".parse().expect("ip")));
        assert!(proxy.trusts("::ffff:10.0.0.9".parse().expect("ip")));
        assert!(proxy.trusts("::1".parse().expect("ip")));
        assert!(!proxy.trusts("11.0.0.1".parse().expect("ip")));
        assert!(config.public.contains("/metrics"));
    }

    #[test]
    fn unknown_fields_are_named() {
        let err =
            AccessConfig::from_toml_str("[access]\nbearer_token = \"x\"\n").expect_err("unknown");
        assert!(
            err.to_string().contains("unknown field `bearer_token`"),
            "{err}"
        );
    }

    #[test]
    fn bad_digests_are_named() {
        let mut r = raw();
        r.bearer_tokens_sha256.push("abc".into());
        assert!(error_of(r).starts_with("access.bearer_tokens_sha256[1]: expected a SHA-256"));
        let mut r = raw();
        r.bearer_tokens_sha256[0] = format!("{}zz", &DIGEST[..62]);
        assert!(error_of(r).contains("non-hex"));
        let mut r = raw();
        // Multibyte text never panics: 64 bytes of it is simply not hex.
        r.bearer_tokens_sha256[0] = "é".repeat(32);
        assert!(error_of(r.clone()).contains("non-hex"));
        r.bearer_tokens_sha256[0] = "é".repeat(10);
        assert!(error_of(r).contains("found 10 characters"));
    }

    #[test]
    fn proxy_header_and_networks_come_together() {
        let mut r = raw();
        r.trusted_proxies = vec!["10.0.0.0/8".into()];
        assert!(error_of(r).starts_with("access.trusted_proxy_header: required"));
        let mut r = raw();
        r.trusted_proxy_header = Some("X-Forwarded-User".into());
        assert!(error_of(r.clone()).starts_with("access.trusted_proxies: required"));
        r.trusted_proxies = vec!["10.0.0.0/8".into(), "10.0.0.0/33".into()];
        assert!(error_of(r.clone()).starts_with("access.trusted_proxies[1]: expected a network"));
        r.trusted_proxies = vec!["10.0.0.0/8".into()];
        r.trusted_proxy_header = Some("Bad Header".into());
        assert!(error_of(r.clone()).contains("not a valid HTTP header name"));
        r.trusted_proxy_header = Some("authorization".into());
        assert!(error_of(r).contains("must not be Authorization"));
    }

    #[test]
    fn basic_users_need_argon2_phc_strings() {
        let mut r = AccessToml::default();
        r.basic_users.insert("alice".into(), "hunter2".into());
        let err = error_of(r);
        assert!(
            err.starts_with("access.basic_users.alice: expected an argon2 PHC string"),
            "{err}"
        );
        assert!(!err.contains("hunter2"), "the value is never echoed: {err}");
        let mut r = AccessToml::default();
        r.basic_users.insert("a:b".into(), "x".into());
        assert!(error_of(r).contains("without ':'"));
        let mut r = AccessToml::default();
        r.basic_users.insert(
            "bob".into(),
            "$pbkdf2-sha256$i=1000$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".into(),
        );
        assert!(error_of(r).contains("found algorithm \"pbkdf2-sha256\""));
    }

    #[test]
    fn public_paths_are_bare_paths() {
        let mut r = raw();
        r.public = vec!["/metrics".into(), "metrics".into()];
        assert!(error_of(r).starts_with("access.public[1]: expected a path starting with '/'"));
        let mut r = raw();
        r.public = vec!["/m?x=1".into()];
        assert!(error_of(r).contains("bare path"));
    }

    #[test]
    fn no_credential_at_all_is_an_error() {
        let r = AccessToml {
            public: vec!["/metrics".into()],
            ..AccessToml::default()
        };
        assert!(error_of(r).starts_with("access: configures no credential"));
    }
}
