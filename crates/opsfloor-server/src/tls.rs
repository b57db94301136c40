//! HTTPS for the floor (issue 13, TLS): `--tls-cert` and `--tls-key` served
//! through rustls (the aws-lc-rs provider), reloaded when the files change.
//!
//! Every new connection asks [`Tls::acceptor`] for the acceptor to use; that
//! stats both files (two system calls) and, when either's modification time or
//! length changed since it last looked, reads and checks the pair again. A pair
//! that does not load (half written, a key that does not match) keeps the last
//! good one and is logged, once per change; a certificate renewed by an ACME
//! client or a Kubernetes secret update is served from the next connection on,
//! without a restart. Connections already open keep the certificate they
//! negotiated.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// The certificate chain and private key files the floor serves HTTPS with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, PEM, leaf first.
    pub cert: PathBuf,
    /// Its private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Why a certificate and key cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct TlsError {
    /// The file at fault (the certificate when the pair does not match).
    pub path: PathBuf,
    /// What is wrong.
    pub message: String,
}

/// What identifies one version of a file: its modification time and length.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// The acceptor in use and the file versions last looked at.
struct Current {
    stamps: (Stamp, Stamp),
    acceptor: TlsAcceptor,
}

/// The floor's TLS, reloaded from its files when they change. Cheap to clone.
#[derive(Clone)]
pub struct Tls {
    files: Arc<TlsFiles>,
    current: Arc<Mutex<Current>>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// Loads the pair once, at start.
    ///
    /// # Errors
    /// A [`TlsError`] naming the file: unreadable, no certificate or key in it,
    /// or a key that does not match the certificate.
    pub fn load(files: TlsFiles) -> Result<Tls, TlsError> {
        let stamps = (stamp(&files.cert), stamp(&files.key));
        let acceptor = acceptor(&files)?;
        Ok(Tls {
            files: Arc::new(files),
            current: Arc::new(Mutex::new(Current { stamps, acceptor })),
        })
    }

    /// The acceptor for a new connection: reloaded first if a file changed; the
    /// last good one when the new files do not load.
    pub fn acceptor(&self) -> TlsAcceptor {
        let stamps = (stamp(&self.files.cert), stamp(&self.files.key));
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if stamps != current.stamps {
            current.stamps = stamps;
            match acceptor(&self.files) {
                Ok(fresh) => {
                    tracing::info!(cert = %self.files.cert.display(), "TLS certificate reloaded");
                    current.acceptor = fresh;
                }
                Err(e) => {
                    tracing::error!(error = %e, "TLS certificate not reloaded, keeping the last good one");
                }
            }
        }
        current.acceptor.clone()
    }
}

fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor, TlsError> {
    let error = |path: &Path, message: String| TlsError {
        path: path.to_owned(),
        message,
    };
    let read =
        |path: &Path| std::fs::read(path).map_err(|e| error(path, format!("cannot read: {e}")));
    let cert_pem = read(&files.cert)?;
    let certs = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(&files.cert, format!("invalid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(error(&files.cert, "no certificate in the file".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(&read(&files.key)?)
        .map_err(|e| error(&files.key, format!("no private key: {e}")))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| error(&files.cert, e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| error(&files.cert, format!("with {}: {e}", files.key.display())))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
