//! HTTPS for the sinks: rustls with the aws-lc-rs provider, as the poller (one
//! crypto library in the binary, passed explicitly, no process-wide default). A
//! sink trusts the system's roots (read by `rustls-native-certs`: the store the
//! host's administrators keep, where a company CA usually is) plus the
//! certificates of `[alerts] ca_file`, for an Alertmanager or a relay behind an
//! internal CA.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// The extra roots the sinks trust, next to the system's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tls {
    /// The certificates of `[alerts] ca_file` (none without one).
    pub extra_roots: Vec<CertificateDer<'static>>,
}

/// Why a sink's HTTP client cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// reqwest refused the client.
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    /// rustls refused the TLS settings.
    #[error("TLS: {0}")]
    Tls(#[from] rustls::Error),
}

impl Tls {
    /// The CA certificates of a PEM file, each checked as a usable root.
    ///
    /// # Errors
    /// The text is not PEM, holds no certificate, or one is not a usable CA.
    pub fn from_pem(path: &Path, pem: &[u8]) -> Result<Tls, String> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{}: invalid PEM: {e}", path.display()))?;
        if certs.is_empty() {
            return Err(format!("{}: no certificate in the file", path.display()));
        }
        let mut store = RootCertStore::empty();
        for cert in &certs {
            store
                .add(cert.clone())
                .map_err(|e| format!("{}: not a usable CA certificate: {e}", path.display()))?;
        }
        Ok(Tls { extra_roots: certs })
    }

    /// A client for one sink: `timeout` per request, no redirects (a sink posts
    /// to the URL it was given, never elsewhere).
    ///
    /// # Errors
    /// rustls or reqwest refuse the settings.
    pub fn client(&self, timeout: Duration) -> Result<reqwest::Client, ClientError> {
        let mut roots = RootCertStore::empty();
        // Unparsable system certificates are skipped: one bad file must not stop alerts.
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        for cert in &self.extra_roots {
            roots.add(cert.clone())?;
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(reqwest::Client::builder()
            .tls_backend_preconfigured(config)
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("opsfloor/", env!("CARGO_PKG_VERSION")))
            .build()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_certificates_is_refused_with_its_path() {
        let e = Tls::from_pem(Path::new("/etc/ca.pem"), b"not pem").expect_err("refused");
        assert_eq!(e, "/etc/ca.pem: no certificate in the file");
        assert!(Tls::default().client(Duration::from_secs(1)).is_ok());
    }
}
