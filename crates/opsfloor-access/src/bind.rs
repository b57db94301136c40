//! The start-up rule: off loopback, the floor refuses to serve unprotected.
//!
//! Bound to loopback, only this machine can reach the floor, which is safe. Any
//! other address (including `0.0.0.0` and `[::]`, which mean *every* interface)
//! exposes every service's build and document to whoever reaches the port, so
//! `opsfloor serve` refuses to start there (exit 78, `EX_CONFIG`) unless `[access]`
//! is configured or the operator says `--insecure-public` on purpose.

use std::net::SocketAddr;

/// Why the floor will not bind where it was asked; its message says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "refusing to serve on {addr} without access control: anyone who can reach it could read \
     every service's build and status document. Fix it one of three ways: configure [access] \
     (bearer_tokens_sha256 from `opsfloor token new`, trusted_proxy_header with \
     trusted_proxies, or basic_users); bind to loopback (--listen 127.0.0.1:PORT) behind a \
     proxy; or pass --insecure-public if this network is trusted"
)]
pub struct RefuseReason {
    /// The address that was refused.
    pub addr: SocketAddr,
}

impl RefuseReason {
    /// The process exit code for a refusal: sysexits' `EX_CONFIG`.
    pub const EXIT_CODE: u8 = 78;
}

/// Decides whether the floor may listen on `addr`. Loopback (127.0.0.0/8, `::1`,
/// and IPv4 loopback written as `::ffff:127.x.y.z`) is always allowed; any other
/// address only with access configured or `insecure_public`.
pub fn bind_allowed(
    addr: SocketAddr,
    access_configured: bool,
    insecure_public: bool,
) -> Result<(), RefuseReason> {
    if addr.ip().to_canonical().is_loopback() || access_configured || insecure_public {
        Ok(())
    } else {
        Err(RefuseReason { addr })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().expect("address")
    }

    #[test]
    fn loopback_is_always_allowed() {
        for a in [
            "127.0.0.1:8080",
            "127.9.9.9:1",
            "[::1]:8080",
            "[::ffff:127.0.0.1]:80",
        ] {
            assert_eq!(bind_allowed(addr(a), false, false), Ok(()), "{a}");
        }
    }

    #[test]
    fn anything_else_needs_access_or_the_flag() {
        for a in [
            "0.0.0.0:8080",
            "[::]:8080",
            "10.1.2.3:80",
            "[::ffff:10.0.0.1]:80",
        ] {
            let refused = bind_allowed(addr(a), false, false).expect_err(a);
            assert_eq!(refused.addr, addr(a));
            let message = refused.to_string();
            assert!(
                message.starts_with(&format!("refusing to serve on {}", addr(a))),
                "{message}"
            );
            for hint in [
                "[access]",
                "opsfloor token new",
                "--insecure-public",
                "127.0.0.1",
            ] {
                assert!(message.contains(hint), "{hint} missing from {message}");
            }
            assert_eq!(bind_allowed(addr(a), true, false), Ok(()));
            assert_eq!(bind_allowed(addr(a), false, true), Ok(()));
        }
        assert_eq!(RefuseReason::EXIT_CODE, 78);
    }
}
