//! Outgoing credentials (issue 13): what the floor presents when it polls. A bearer
//! token read from the environment variable an entry names (`bearer_token_env`), a
//! client certificate for mutual TLS (the service's own or the floor's), and the
//! extra CA certificates trusted next to the system's roots (`[floor] ca_file`).
//!
//! Everything is resolved and checked once, when the poller's settings are made
//! ([`Outgoing::resolve`]): a missing variable or an unreadable or invalid PEM file
//! is a configuration error naming the entry and the variable or file, found at
//! start (or on reload, which then keeps the last good inventory), never at the
//! first poll. A token is a [`Secret`]: its `Debug` is redacted and no error,
//! log line or API answer ever carries it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use opsfloor_inventory::{ClientIdentity, Inventory};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// A bearer token. Compared by value (a changed token means a new poller), never
/// shown: `Debug` prints `Secret(<redacted>)`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    /// A secret holding `value`.
    pub fn new(value: &str) -> Secret {
        Secret(Arc::from(value))
    }

    /// The token itself, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A client certificate chain and its key, as read from their PEM files (checked
/// to parse when read). Kept as bytes so that a changed file is a changed setting.
#[derive(Clone, PartialEq, Eq)]
pub struct LoadedIdentity {
    /// Where the certificate and key were read from.
    pub files: ClientIdentity,
    cert_pem: Vec<u8>,
    key_pem: Vec<u8>,
}

impl std::fmt::Debug for LoadedIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key's bytes are as secret as a token.
        f.debug_struct("LoadedIdentity")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl LoadedIdentity {
    /// The certificate chain and private key, parsed (checked when loaded).
    pub(crate) fn parsed(
        &self,
    ) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), CredentialsError> {
        let certs = parse_certs(&self.files.cert, &self.cert_pem)?;
        let key = PrivateKeyDer::from_pem_slice(&self.key_pem)
            .map_err(|e| CredentialsError::pem(&self.files.key, format!("no private key: {e}")))?;
        Ok((certs, key))
    }
}

/// What one service is polled with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceAuth {
    /// The client certificate presented on `https://` (its own, else the floor's).
    pub identity: Option<ClientIdentity>,
    /// Sent as `Authorization: Bearer …`.
    pub bearer: Option<Secret>,
}

/// The outgoing credentials of a whole inventory.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outgoing {
    /// The extra CA certificates (`[floor] ca_file`), PEM, with their file.
    pub(crate) ca: Option<(PathBuf, Vec<u8>)>,
    /// Every distinct client identity any service uses, read.
    pub(crate) identities: BTreeMap<ClientIdentity, LoadedIdentity>,
    /// Per service name; a service not listed is polled with nothing.
    pub(crate) services: BTreeMap<String, ServiceAuth>,
}

impl Outgoing {
    /// Resolves the inventory's credentials: each `bearer_token_env` through
    /// `env` (the process environment in the binary, a map in tests), each PEM
    /// file read and parsed.
    ///
    /// # Errors
    /// The first problem: an unset or empty variable (naming the entry, its line
    /// and the variable, never a value), or a PEM file that cannot be read or holds
    /// no certificate or key.
    pub fn resolve(
        inventory: &Inventory,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Outgoing, CredentialsError> {
        let mut outgoing = Outgoing::default();
        if let Some(path) = &inventory.floor.ca_file {
            let pem = read(path)?;
            parse_certs(path, &pem)?;
            outgoing.ca = Some((path.clone(), pem));
        }
        for entry in &inventory.services {
            let identity = entry.client_identity(&inventory.floor).cloned();
            if let Some(files) = &identity
                && !outgoing.identities.contains_key(files)
            {
                let loaded = LoadedIdentity {
                    files: files.clone(),
                    cert_pem: read(&files.cert)?,
                    key_pem: read(&files.key)?,
                };
                loaded.parsed()?;
                outgoing.identities.insert(files.clone(), loaded);
            }
            let bearer = match &entry.bearer_token_env {
                None => None,
                Some(variable) => match env(variable) {
                    Some(token) if !token.trim().is_empty() => Some(Secret::new(token.trim())),
                    found => {
                        return Err(CredentialsError::Env {
                            source: inventory.source.clone(),
                            line: entry.line,
                            service: entry.name.clone(),
                            variable: variable.clone(),
                            empty: found.is_some(),
                        });
                    }
                },
            };
            if identity.is_some() || bearer.is_some() {
                outgoing
                    .services
                    .insert(entry.name.clone(), ServiceAuth { identity, bearer });
            }
        }
        Ok(outgoing)
    }

    /// What `service` is polled with (nothing for a service not in the inventory).
    pub fn for_service(&self, service: &str) -> ServiceAuth {
        self.services.get(service).cloned().unwrap_or_default()
    }
}

fn read(path: &Path) -> Result<Vec<u8>, CredentialsError> {
    std::fs::read(path).map_err(|e| CredentialsError::Read {
        path: path.to_owned(),
        error: e.to_string(),
    })
}

/// Every certificate of a PEM file; none at all is an error.
pub(crate) fn parse_certs(
    path: &Path,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, CredentialsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CredentialsError::pem(path, format!("invalid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(CredentialsError::pem(
            path,
            "no certificate in the file".into(),
        ));
    }
    Ok(certs)
}

/// Why the outgoing credentials cannot be used: a configuration error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialsError {
    /// The variable an entry's `bearer_token_env` names is unset or empty.
    Env {
        /// The inventory file.
        source: PathBuf,
        /// The entry's line.
        line: usize,
        /// The entry's name.
        service: String,
        /// The variable's name.
        variable: String,
        /// Set but empty (rather than unset).
        empty: bool,
    },
    /// A certificate, key or CA file cannot be read.
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: String,
    },
    /// A PEM file holds no usable certificate or key.
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The TLS configuration was refused (a key that does not match, say).
    Tls {
        /// rustls's words.
        message: String,
    },
}

impl CredentialsError {
    fn pem(path: &Path, message: String) -> CredentialsError {
        CredentialsError::Pem {
            path: path.to_owned(),
            message,
        }
    }
}

impl std::fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CredentialsError::Env {
                source,
                line,
                service,
                variable,
                empty,
            } => write!(
                f,
                "{}:{line}: service {service:?}: bearer_token_env: the environment variable {variable} is {}",
                source.display(),
                if *empty { "empty" } else { "not set" }
            ),
            CredentialsError::Read { path, error } => {
                write!(f, "{}: cannot read: {error}", path.display())
            }
            CredentialsError::Pem { path, message } => write!(f, "{}: {message}", path.display()),
            CredentialsError::Tls { message } => write!(f, "TLS client configuration: {message}"),
        }
    }
}

impl std::error::Error for CredentialsError {}
