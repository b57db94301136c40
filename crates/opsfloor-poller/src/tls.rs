//! The HTTP clients a poller polls with: one per distinct TLS client identity
//! (and one without), never one per service, so services sharing an identity
//! share connections.
//!
//! TLS is rustls with the aws-lc-rs provider (reqwest's own, so one crypto
//! library in the binary), passed explicitly (no process-wide default to
//! install). A server is trusted when its
//! chain ends at one of the system's roots (read by `rustls-native-certs`: the
//! store the host's administrators maintain, where a company CA is usually
//! installed, and the same store `curl` trusts on the host, unlike `webpki-roots`'
//! snapshot compiled in at build time) or at a certificate of `[floor] ca_file`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use opsfloor_inventory::ClientIdentity;
use rustls::RootCertStore;

use crate::credentials::{CredentialsError, Outgoing, parse_certs};

/// Why a poller cannot be built.
#[derive(Debug)]
pub enum PollerError {
    /// The TLS material cannot be used.
    Credentials(CredentialsError),
    /// reqwest refused the client.
    Client(reqwest::Error),
}

impl std::fmt::Display for PollerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PollerError::Credentials(e) => e.fmt(f),
            PollerError::Client(e) => write!(f, "HTTP client: {e}"),
        }
    }
}

impl std::error::Error for PollerError {}

impl From<CredentialsError> for PollerError {
    fn from(e: CredentialsError) -> Self {
        PollerError::Credentials(e)
    }
}

/// The clients: the one without a client certificate, and one per identity.
#[derive(Debug, Clone)]
pub(crate) struct Clients {
    plain: reqwest::Client,
    by_identity: Arc<HashMap<ClientIdentity, reqwest::Client>>,
}

impl Clients {
    /// Builds every client `outgoing` needs, each capping nothing itself (the
    /// body limit is the caller's) and keeping idle connections for `keep_alive`.
    pub(crate) fn new(
        outgoing: &Outgoing,
        keep_alive: Option<Duration>,
    ) -> Result<Clients, PollerError> {
        let roots = Arc::new(roots(outgoing)?);
        let plain = client(tls_config(&roots, None)?, keep_alive)?;
        let mut by_identity = HashMap::new();
        for (files, loaded) in &outgoing.identities {
            let config = tls_config(&roots, Some(loaded.parsed()?))?;
            by_identity.insert(files.clone(), client(config, keep_alive)?);
        }
        Ok(Clients {
            plain,
            by_identity: Arc::new(by_identity),
        })
    }

    /// The client for `identity` (the plain one for none).
    pub(crate) fn get(&self, identity: Option<&ClientIdentity>) -> &reqwest::Client {
        identity
            .and_then(|i| self.by_identity.get(i))
            .unwrap_or(&self.plain)
    }

    /// How many distinct clients there are (for tests: one per identity).
    pub(crate) fn len(&self) -> usize {
        1 + self.by_identity.len()
    }
}

/// The system's roots plus the inventory's CA file. Unparsable system
/// certificates are skipped (one bad file must not stop polling).
fn roots(outgoing: &Outgoing) -> Result<RootCertStore, CredentialsError> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some((path, pem)) = &outgoing.ca {
        for cert in parse_certs(path, pem)? {
            roots.add(cert).map_err(|e| CredentialsError::Pem {
                path: path.clone(),
                message: format!("not a usable CA certificate: {e}"),
            })?;
        }
    }
    Ok(roots)
}

type Identity = (
    Vec<rustls_pki_types::CertificateDer<'static>>,
    rustls_pki_types::PrivateKeyDer<'static>,
);

fn tls_config(
    roots: &Arc<RootCertStore>,
    identity: Option<Identity>,
) -> Result<rustls::ClientConfig, CredentialsError> {
    let tls = |e: rustls::Error| CredentialsError::Tls {
        message: e.to_string(),
    };
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(tls)?
    .with_root_certificates(Arc::clone(roots));
    match identity {
        None => Ok(builder.with_no_client_auth()),
        Some((certs, key)) => builder.with_client_auth_cert(certs, key).map_err(tls),
    }
}

fn client(
    tls: rustls::ClientConfig,
    keep_alive: Option<Duration>,
) -> Result<reqwest::Client, PollerError> {
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
        .user_agent(concat!("opsfloor/", env!("CARGO_PKG_VERSION")));
    builder = match keep_alive {
        Some(idle) => builder.pool_idle_timeout(idle),
        None => builder.pool_max_idle_per_host(0),
    };
    builder.build().map_err(PollerError::Client)
}
