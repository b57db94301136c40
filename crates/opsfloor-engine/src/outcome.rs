//! What one poll found, classified once by the poller (`opsfloor-poller`):
//! - a body that parses as JSON → [`Outcome::Document`] (valid or not: the checker
//!   decides, and an invalid one evaluates to `UNKNOWN [REQUIRED_FIELDS_MISSING]`);
//! - an answer that is no document (not JSON, too large, a redirect, a 4xx) →
//!   [`Outcome::Untrusted`], also `UNKNOWN`, with the precise problem kept;
//! - no answer (refused, timeout, reset, a 5xx without a document) →
//!   [`Outcome::NoAnswer`], which counts toward `OFFLINE [UNREACHABLE]`.

use std::time::Duration;

use opsfloor_contract::Received;

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

impl Outcome {
    /// True when the service gave no usable answer (counts toward UNREACHABLE).
    pub fn is_no_answer(&self) -> bool {
        matches!(self, Outcome::NoAnswer { .. })
    }
}

/// An outcome with how long it took.
#[derive(Debug, Clone, PartialEq)]
pub struct Polled {
    /// What was found.
    pub outcome: Outcome,
    /// From sending the first request to having the whole body (or giving up),
    /// retries included.
    pub latency: Duration,
}
