//! Deciding one request: public, allowed (and as whom), or denied.
//!
//! The cheap checks (public paths, bearer tokens, the proxy header) are plain
//! functions of the request head and the peer address. Basic auth needs an
//! argon2 verification, which is deliberately slow (tens of milliseconds with the
//! recommended parameters), so it runs on tokio's blocking pool, and a credential
//! that verified once is remembered by its SHA-256 so a browser that sends it with
//! every request does not pay argon2 every time.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::AccessConfig;

/// Who a request was allowed as; inserted into the request's extensions so a
/// handler (or a log line) can tell, without ever seeing a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A bearer token; the index of its digest in `bearer_tokens_sha256`.
    Token(usize),
    /// The user named by the trusted proxy's header.
    Proxy(String),
    /// A basic-auth user.
    Basic(String),
}

/// Why a request is refused; decides the 401's challenge and message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// No usable credential was sent.
    Missing,
    /// A bearer token was sent and is not one of ours.
    BadToken,
    /// A basic-auth user and password were sent and do not verify.
    BadBasic,
}

/// The outcome of the cheap checks.
#[derive(Debug)]
pub(crate) enum Step {
    /// `/health` or a configured public path: no credential needed.
    Public,
    /// Allowed without argon2.
    Allowed(Principal),
    /// Basic credentials to verify on the blocking pool.
    VerifyBasic(BasicAttempt),
    /// Refused.
    Denied(Denial),
}

/// A basic-auth user and password to verify.
#[derive(Debug)]
pub(crate) struct BasicAttempt {
    user: String,
    password: String,
}

/// How many verified basic credentials are remembered (per configuration).
const VERIFIED_CAPACITY: usize = 32;

/// The configuration plus the memory of verified basic credentials.
#[derive(Debug)]
pub struct Authenticator {
    config: AccessConfig,
    /// SHA-256 of `user \0 password` for credentials that verified, newest last.
    verified: Mutex<VecDeque<[u8; 32]>>,
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// True when `digest` equals any of `known`, comparing every entry in constant
/// time (no early exit that would tell how many bytes matched).
fn any_equal(known: &[[u8; 32]], digest: &[u8; 32]) -> Option<usize> {
    let mut found = None;
    for (i, k) in known.iter().enumerate() {
        if bool::from(k.ct_eq(digest)) {
            found = Some(i);
        }
    }
    found
}

impl Authenticator {
    /// An authenticator for a checked configuration.
    pub fn new(config: AccessConfig) -> Self {
        Authenticator {
            config,
            verified: Mutex::new(VecDeque::new()),
        }
    }

    /// The configuration it enforces.
    pub fn config(&self) -> &AccessConfig {
        &self.config
    }

    /// The cheap part of the decision, from the path, headers and peer address.
    pub(crate) fn first_step(
        &self,
        path: &str,
        headers: &HeaderMap,
        peer: Option<SocketAddr>,
    ) -> Step {
        if path == "/health" || self.config.public.contains(path) {
            return Step::Public;
        }
        let mut denial = Denial::Missing;
        // `scheme credential`; a scheme alone (`Bearer`) has an empty credential.
        let authorization = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(|a| a.trim().split_once(' ').unwrap_or((a.trim(), "")));
        if let Some((scheme, rest)) = authorization {
            let credential = rest.trim();
            if scheme.eq_ignore_ascii_case("bearer") && !self.config.token_digests.is_empty() {
                let digest = sha256(&[credential.as_bytes()]);
                match any_equal(&self.config.token_digests, &digest) {
                    Some(i) => return Step::Allowed(Principal::Token(i)),
                    None => denial = Denial::BadToken,
                }
            }
        }
        if let Some(proxy) = &self.config.proxy
            && let Some(peer) = peer
            && proxy.trusts(peer.ip())
            && let Some(user) = headers.get(&proxy.header).and_then(|v| v.to_str().ok())
            && !user.trim().is_empty()
        {
            return Step::Allowed(Principal::Proxy(user.trim().to_owned()));
        }
        if let Some((scheme, rest)) = authorization
            && scheme.eq_ignore_ascii_case("basic")
            && self.config.has_basic()
        {
            return match decode_basic(rest.trim()) {
                Some(attempt) => Step::VerifyBasic(attempt),
                None => Step::Denied(Denial::BadBasic),
            };
        }
        Step::Denied(denial)
    }

    /// Verifies basic credentials: from memory if they verified before, else with
    /// argon2 on tokio's blocking pool.
    pub(crate) async fn verify_basic(
        self: Arc<Self>,
        attempt: BasicAttempt,
    ) -> Result<Principal, Denial> {
        let digest = sha256(&[attempt.user.as_bytes(), b"\0", attempt.password.as_bytes()]);
        if self.remembers(&digest) {
            return Ok(Principal::Basic(attempt.user));
        }
        let this = Arc::clone(&self);
        let verified = tokio::task::spawn_blocking(move || {
            this.argon2_verify(&attempt).then_some(attempt.user)
        })
        .await
        .ok()
        .flatten();
        match verified {
            Some(user) => {
                self.remember(digest);
                Ok(Principal::Basic(user))
            }
            None => Err(Denial::BadBasic),
        }
    }

    fn argon2_verify(&self, attempt: &BasicAttempt) -> bool {
        // An unknown user is checked against a real user's hash anyway, so the
        // answer takes as long as for a known user with a wrong password.
        let (known, phc) = match self.config.basic_users.get(&attempt.user) {
            Some(phc) => (true, phc),
            None => match self.config.basic_users.values().next() {
                Some(phc) => (false, phc),
                None => return false,
            },
        };
        let Ok(hash) = PasswordHash::new(phc) else {
            return false;
        };
        let ok = Argon2::default()
            .verify_password(attempt.password.as_bytes(), &hash)
            .is_ok();
        known && ok
    }

    fn remembers(&self, digest: &[u8; 32]) -> bool {
        let verified = match self.verified.lock() {
            Ok(v) => v,
            Err(poisoned) => poisoned.into_inner(),
        };
        let (front, back) = verified.as_slices();
        any_equal(front, digest).is_some() | any_equal(back, digest).is_some()
    }

    fn remember(&self, digest: [u8; 32]) {
        let mut verified = match self.verified.lock() {
            Ok(v) => v,
            Err(poisoned) => poisoned.into_inner(),
        };
        if verified.len() >= VERIFIED_CAPACITY {
            verified.pop_front();
        }
        verified.push_back(digest);
    }
}

/// `base64(user:password)`; `None` when it is not base64, not UTF-8 or has no ':'.
fn decode_basic(encoded: &str) -> Option<BasicAttempt> {
    let bytes = STANDARD.decode(encoded).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, password) = text.split_once(':')?;
    Some(BasicAttempt {
        user: user.to_owned(),
        password: password.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_decode_at_the_first_colon() {
        let a = decode_basic(&STANDARD.encode("alice:pa:ss")).expect("decodes");
        assert_eq!((a.user.as_str(), a.password.as_str()), ("alice", "pa:ss"));
        assert!(decode_basic("not base64!").is_none());
        assert!(decode_basic(&STANDARD.encode("nocolon")).is_none());
        assert!(decode_basic(&STANDARD.encode([0xff, b':', b'x'])).is_none());
    }

    #[test]
    fn any_equal_finds_the_match_and_only_it() {
        let known = [[1u8; 32], [2u8; 32]];
        assert_eq!(any_equal(&known, &[2u8; 32]), Some(1));
        assert_eq!(any_equal(&known, &[3u8; 32]), None);
        assert_eq!(any_equal(&[], &[3u8; 32]), None);
    }
}
