//! One poll of one service: an HTTP GET with a timeout, no redirects, and a capped body.
//!
//! What comes back is classified once, here:
//! - a body that parses as JSON → [`Outcome::Document`] (valid or not: the checker
//!   decides, and an invalid one evaluates to `UNKNOWN [REQUIRED_FIELDS_MISSING]`);
//! - an answer that is no document (not JSON, too large, a redirect, a 4xx) →
//!   [`Outcome::Untrusted`], also `UNKNOWN`, with the precise problem kept;
//! - no answer (refused, timeout, reset, a 5xx without a document) →
//!   [`Outcome::NoAnswer`], which counts toward `OFFLINE [UNREACHABLE]`.

use std::time::{Duration, Instant};

use opsfloor_contract::{Received, parse_document};

/// What one poll found.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A JSON body, checked against the contract.
    Document {
        /// The checked document (boxed: it is much larger than the other variants).
        received: Box<Received>,
        /// The body as received, kept as text: parsed (and redacted) only when
        /// someone asks to see it, which keeps a 10,000-service floor small.
        raw: Box<str>,
    },
    /// The service answered, but not with a status document.
    Untrusted {
        /// What was wrong, for display.
        problem: String,
    },
    /// No usable answer.
    NoAnswer {
        /// Why, for display.
        error: String,
    },
}

/// An outcome with how long it took.
#[derive(Debug, Clone, PartialEq)]
pub struct Polled {
    /// What was found.
    pub outcome: Outcome,
    /// From sending the request to having the whole body (or giving up).
    pub latency: Duration,
}

/// A shared HTTP client for polling: keep-alive, no redirects, bounded bodies.
#[derive(Debug, Clone)]
pub struct Poller {
    client: reqwest::Client,
    body_limit: usize,
}

impl Poller {
    /// A poller whose bodies are capped at `body_limit` bytes.
    pub fn new(body_limit: usize) -> Result<Poller, reqwest::Error> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .user_agent(concat!("opsfloor/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Poller { client, body_limit })
    }

    /// GETs `url` within `timeout` (for the whole exchange, body included).
    pub async fn poll(&self, url: &str, timeout: Duration) -> Polled {
        let start = Instant::now();
        let outcome = match tokio::time::timeout(timeout, self.exchange(url)).await {
            Ok(outcome) => outcome,
            Err(_) => Outcome::NoAnswer {
                error: format!("no answer within {} ms", timeout.as_millis()),
            },
        };
        Polled {
            outcome,
            latency: start.elapsed(),
        }
    }

    async fn exchange(&self, url: &str) -> Outcome {
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
