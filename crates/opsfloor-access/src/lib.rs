//! Who may read the floor (issue 13, access).
//!
//! Off loopback the floor holds every service's build and status document, so it
//! must not answer strangers. This crate is the self-contained part of that:
//!
//! - [`config`]: the `[access]` table, checked once at start-up with errors that
//!   name the field: hashed bearer tokens, a trusted proxy's user header and the
//!   proxies' networks, basic-auth users with argon2 hashes, public paths.
//! - [`layer`]: [`AccessLayer`], a tower layer for axum's `Router::layer`. `/health`
//!   and the public paths pass; everything else needs one credential: a bearer
//!   token (its SHA-256 compared in constant time), the proxy header *from a
//!   trusted peer only*, or basic auth. Otherwise 401 with `WWW-Authenticate` and a
//!   JSON body.
//! - [`bind`]: [`bind_allowed`], the pure rule that refuses to start off loopback
//!   without access control (exit 78).
//! - [`token`]: fresh tokens and their digests for `opsfloor token new`, and
//!   argon2id password hashes for `opsfloor token basic`.
//!
//! ```
//! use opsfloor_access::{AccessConfig, AccessLayer};
//!
//! let config = AccessConfig::from_toml_str(
//!     "[access]\nbearer_tokens_sha256 = \
//!      [\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"]\n",
//! )?;
//! let app: axum::Router = axum::Router::new().layer(AccessLayer::new(config));
//! # let _ = app;
//! # Ok::<(), opsfloor_access::AccessError>(())
//! ```

pub mod auth;
pub mod bind;
pub mod config;
pub mod layer;
pub mod token;

pub use auth::{Denial, Principal};
pub use bind::{RefuseReason, bind_allowed};
pub use config::{AccessConfig, AccessError, AccessToml, TrustedProxy};
pub use layer::{AccessLayer, AccessService};
pub use token::{NewToken, hash_password, sha256_hex};
