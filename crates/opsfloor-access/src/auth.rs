//! Deciding one request: public, allowed (and as whom), or denied.
//!
//! The cheap checks (public paths, bearer tokens, the proxy header) are plain
//! functions of the request head and the peer address. Basic auth needs an
//! argon2 verification, which is deliberately slow (tens of milliseconds with the
//! recommended parameters), so it runs on tokio's blocking pool, and a credential
//! that verified once is remembered by its SHA-256 so a browser that sends it with
//! every request does not pay argon2 every time. At most
//! [`CONCURRENT_VERIFICATIONS`] run at once, so a flood of wrong passwords queues
//! behind them instead of taking every core from the poller.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use axum::http::{HeaderMap, HeaderName, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

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

/// How many argon2 verifications may run at once.
pub const CONCURRENT_VERIFICATIONS: usize = 2;

/// The configuration plus the memory of verified basic credentials.
#[derive(Debug)]
pub struct Authenticator {
    config: AccessConfig,
    /// SHA-256 of `user \0 password` for credentials that verified, newest last.
    verified: Mutex<VecDeque<[u8; 32]>>,
    /// Permits for argon2 runs.
    verifying: Semaphore,
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
            verifying: Semaphore::new(CONCURRENT_VERIFICATIONS),
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
            && let Some(user) = single_value(headers, &proxy.header)
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
        // The semaphore is never closed, so acquiring fails only if it were.
        let Ok(_permit) = self.verifying.acquire().await else {
            return Err(Denial::BadBasic);
        };
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

/// The header's value when it appears exactly once and is visible ASCII. Two
/// copies are ambiguous (did the client add one the proxy passed on?), so neither
/// counts.
fn single_value<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<&'h str> {
    let mut values = headers.get_all(name).iter();
    let first = values.next()?;
    if values.next().is_some() {
        return None;
    }
    first.to_str().ok()
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
    use axum::http::HeaderValue;
    use proptest::prelude::*;

    fn authenticator() -> Authenticator {
        let raw = crate::AccessToml {
            bearer_tokens_sha256: vec![crate::sha256_hex("secret")],
            trusted_proxy_header: Some("X-Forwarded-User".into()),
            trusted_proxies: vec!["10.0.0.0/8".into()],
            ..crate::AccessToml::default()
        };
        Authenticator::new(AccessConfig::try_from(raw).expect("valid"))
    }

    proptest! {
        /// Any header bytes at all: never a panic, and nothing but the exact token
        /// (or the header from a trusted peer) is allowed.
        #[test]
        fn arbitrary_headers_never_panic_and_never_open_the_door(
            authorization in prop_oneof![
                prop::collection::vec(any::<u8>(), 0..40),
                "(Bearer|bearer|BEARER|Basic|Token)( {0,2})(secret|secre|secretx|Secret|c2VjcmV0)( ?)"
                    .prop_map(String::into_bytes),
            ],
            user in prop::collection::vec(any::<u8>(), 0..20),
            trusted in any::<bool>(),
            path in "/[a-z/]{0,12}",
        ) {
            let auth = authenticator();
            let mut headers = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_bytes(&authorization) {
                headers.insert(header::AUTHORIZATION, v);
            }
            let has_user = match HeaderValue::from_bytes(&user) {
                Ok(v) => { headers.insert("x-forwarded-user", v); true }
                Err(_) => false,
            };
            let peer: SocketAddr = if trusted { "10.1.1.1:5000" } else { "192.0.2.1:5000" }.parse().expect("addr");
            match auth.first_step(&path, &headers, Some(peer)) {
                Step::Public => prop_assert_eq!(path.as_str(), "/health"),
                Step::Allowed(Principal::Token(_)) => {
                    let text = String::from_utf8_lossy(&authorization).to_string();
                    prop_assert!(text.trim().split_once(' ').is_some_and(|(_, t)| t.trim() == "secret"), "{}", text);
                }
                Step::Allowed(Principal::Proxy(_)) => prop_assert!(trusted && has_user),
                Step::Allowed(Principal::Basic(_)) | Step::VerifyBasic(_) => prop_assert!(false, "no basic users"),
                Step::Denied(_) => {}
            }
        }
    }

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
