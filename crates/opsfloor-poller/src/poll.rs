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

/// One HTTP GET of a status document: a shared keep-alive client that follows no
/// redirects and caps bodies. Cheap to clone (the client is shared).
#[derive(Debug, Clone)]
pub struct HttpGet {
    client: reqwest::Client,
    body_limit: usize,
}

impl HttpGet {
    /// A client whose bodies are capped at `body_limit` bytes; idle connections are
    /// kept for `keep_alive` (`None`: a fresh connection for every poll).
    pub fn new(body_limit: usize, keep_alive: Option<Duration>) -> Result<HttpGet, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true)
            .user_agent(concat!("opsfloor/", env!("CARGO_PKG_VERSION")));
        builder = match keep_alive {
            Some(idle) => builder.pool_idle_timeout(idle),
            None => builder.pool_max_idle_per_host(0),
        };
        Ok(HttpGet {
            client: builder.build()?,
            body_limit,
        })
    }

    async fn exchange(self, url: String) -> Outcome {
        let url = url.as_str();
        let mut response = match self
            .client
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
        {
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
        Box::pin(async move { Ok(this.exchange(request.url).await) })
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
