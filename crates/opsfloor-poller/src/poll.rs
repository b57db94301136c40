//! The innermost service: one HTTP GET, no redirects, a capped body, the answer
//! classified once into an [`Outcome`] (see `opsfloor_engine::outcome` for the
//! classes). It never fails: a transport error is [`Outcome::NoAnswer`], so the
//! layers around it decide on outcomes, not on error types.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use opsfloor_contract::parse_document;
use opsfloor_engine::Outcome;

use crate::Request;
use crate::credentials::Outgoing;
use crate::tls::{Clients, PollerError};

/// One HTTP GET of a status document: shared keep-alive clients (one per TLS
/// client identity) that follow no redirects, and a cap on bodies. Cheap to clone
/// (the clients are shared).
#[derive(Debug, Clone)]
pub struct HttpGet {
    clients: Clients,
    body_limit: usize,
}

impl HttpGet {
    /// Clients for every identity of `outgoing`, whose bodies are capped at
    /// `body_limit` bytes; idle connections are kept for `keep_alive` (`None`: a
    /// fresh connection for every poll).
    ///
    /// # Errors
    /// When the TLS material is refused or a client cannot be built.
    pub fn new(
        body_limit: usize,
        keep_alive: Option<Duration>,
        outgoing: &Outgoing,
    ) -> Result<HttpGet, PollerError> {
        Ok(HttpGet {
            clients: Clients::new(outgoing, keep_alive)?,
            body_limit,
        })
    }

    /// How many distinct HTTP clients it holds: one, plus one per client identity.
    pub fn clients(&self) -> usize {
        self.clients.len()
    }

    async fn exchange(self, request: Request) -> Outcome {
        let auth = &request.auth;
        let mut get = self
            .clients
            .get(auth.identity.as_ref())
            .get(request.url.as_str())
            .header("accept", "application/json");
        if let Some(token) = &auth.bearer {
            // reqwest marks the header sensitive: never logged by hyper.
            get = get.bearer_auth(token.expose());
        }
        let mut response = match get.send().await {
            Ok(r) => r,
            Err(e) => {
                return Outcome::NoAnswer {
                    error: describe(&e),
                };
            }
        };
        let status = response.status();
        if status.is_redirection() {
            let to = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("?");
            return Outcome::Untrusted {
                problem: format!("HTTP {status}: redirect to {to} not followed"),
            };
        }
        if response
            .content_length()
            .is_some_and(|n| n > self.body_limit as u64)
        {
            return self.too_large(status);
        }
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > self.body_limit {
                        return self.too_large(status);
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Outcome::NoAnswer {
                        error: format!("HTTP {status}: body: {}", describe(&e)),
                    };
                }
            }
        }
        let text = String::from_utf8_lossy(&body);
        match parse_document(&text) {
            // A document is a document, whatever the status code or content type.
            Ok(received) if received.is_valid() || status.is_success() => Outcome::Document {
                received: Box::new(received),
                raw: text.into(),
            },
            _ if status.is_server_error() => Outcome::NoAnswer {
                error: format!("HTTP {status} without a status document"),
            },
            Err(e) => Outcome::Untrusted {
                problem: format!("HTTP {status}: not JSON: {e}"),
            },
            Ok(_) => Outcome::Untrusted {
                problem: format!("HTTP {status}: not a status document"),
            },
        }
    }

    fn too_large(&self, status: reqwest::StatusCode) -> Outcome {
        Outcome::Untrusted {
            problem: format!("HTTP {status}: body larger than {} bytes", self.body_limit),
        }
    }
}

impl tower::Service<Request> for HttpGet {
    type Response = Outcome;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Outcome, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // The client queues internally; readiness is bounded by the limit layer.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.exchange(request).await) })
    }
}

/// A short description of a transport error: refused, timed out, reset, …
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_connect() {
        "connection failed".to_owned()
    } else if e.is_timeout() {
        "timed out".to_owned()
    } else {
        "request failed".to_owned()
    };
    // The innermost cause says what actually happened ("Connection refused").
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut last = None;
    while let Some(s) = source {
        last = Some(s.to_string());
        source = s.source();
    }
    if let Some(cause) = last {
        text.push_str(": ");
        text.push_str(&cause);
    }
    text
}
