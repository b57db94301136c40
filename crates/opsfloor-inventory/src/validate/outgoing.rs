//! The outgoing credentials of the floor and of each service (issue 13): a bearer
//! token's environment variable, the extra CA file and a client certificate for
//! mutual TLS.

use std::path::PathBuf;

use super::{Validator, join, optional};
use crate::tree::{Entry, Node};
use crate::{ClientIdentity, FloorSettings};

impl Validator<'_> {
    /// `[floor] ca_file`, `client_cert` and `client_key`.
    pub(super) fn floor_tls(&mut self, node: &Node, entries: &[Entry], floor: &mut FloorSettings) {
        if let Some(n) = optional(entries, "ca_file") {
            floor.ca_file = self.non_empty(n, "floor.ca_file").map(PathBuf::from);
        }
        floor.client_identity = self.client_identity(node, entries, "floor", &mut true);
    }

    /// `client_cert` and `client_key`, which go together; clears `ok` when either
    /// is invalid or one is given without the other.
    pub(super) fn client_identity(
        &mut self,
        item: &Node,
        entries: &[Entry],
        prefix: &str,
        ok: &mut bool,
    ) -> Option<ClientIdentity> {
        let mut path = |key: &str| {
            optional(entries, key).map(|n| {
                let p = self.non_empty(n, &join(prefix, key));
                *ok &= p.is_some();
                p.map(PathBuf::from)
            })
        };
        let (cert, key) = (path("client_cert"), path("client_key"));
        match (cert, key) {
            (Some(cert), Some(key)) => Some(ClientIdentity {
                cert: cert?,
                key: key?,
            }),
            (None, None) => None,
            (cert, _) => {
                let (given, missing) = if cert.is_some() {
                    ("client_cert", "client_key")
                } else {
                    ("client_key", "client_cert")
                };
                self.problems.add(
                    item.pos,
                    &join(prefix, missing),
                    format!(
                        "missing: {given} needs {missing} (the certificate and its key go together)"
                    ),
                );
                *ok = false;
                None
            }
        }
    }

    /// `bearer_token_env`: the name of an environment variable, never the token.
    pub(super) fn bearer_token_env(
        &mut self,
        entries: &[Entry],
        prefix: &str,
        ok: &mut bool,
    ) -> Option<String> {
        let node = optional(entries, "bearer_token_env")?;
        let field = join(prefix, "bearer_token_env");
        let name = self.non_empty(node, &field);
        let name = name.filter(|name| {
            let good = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit());
            if !good {
                // The value is not echoed: it may be a token pasted by mistake.
                self.problems.add(
                    node.pos,
                    &field,
                    "must name an environment variable (letters, digits and _), not hold the token",
                );
            }
            good
        });
        *ok &= name.is_some();
        name
    }
}
