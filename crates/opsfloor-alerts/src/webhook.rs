//! The signed generic webhook: one JSON body per alert change, retried with
//! exponential backoff and full jitter.
//!
//! # The body
//!
//! ```json
//! {"status":"firing","idempotency_key":"<32 hex>-firing","fingerprint":"<32 hex>",
//!  "labels":{...},"annotations":{...},
//!  "starts_at":"2026-01-07T15:00:00Z","ends_at":null}
//! ```
//!
//! The idempotency key is also sent as the `Idempotency-Key` header. A receiver that
//! has seen a key drops the copy: retries and resends after a restart repeat keys.
//!
//! # The signature
//!
//! `X-Opsfloor-Signature: t=<unix seconds>,v1=<hex>` where `<hex>` is the lowercase
//! HMAC-SHA256, keyed with the shared secret, of the bytes `<t>.<body>` (the
//! decimal timestamp, a full stop, the raw body). The timestamp is the wall clock at
//! each attempt, so a receiver can refuse old replays: [`verify`] checks the MAC in
//! constant time and that `t` is within a tolerance of its own clock.
//!
//! With `format = "slack"` the body is a Slack incoming-webhook message instead
//! (`{"text": ...}`: icon, state word, reason and a link); it is signed too when a
//! secret is configured, though Slack does not check.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use crate::book::{Change, Status};
use crate::clock::WallClock;
use crate::tls::{ClientError, Tls};

/// The signature header's name.
pub const SIGNATURE_HEADER: &str = "X-Opsfloor-Signature";
/// The idempotency header's name.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

type HmacSha256 = Hmac<Sha256>;

/// The MAC of `<t>.<body>` under `secret`.
fn mac(secret: &[u8], unix: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(unix.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The signature header's value for `body` sent at `unix` seconds.
pub fn sign(secret: &[u8], unix: i64, body: &[u8]) -> String {
    let tag = mac(secret, unix, body).finalize().into_bytes();
    format!("t={unix},v1={}", hex::encode(tag))
}

/// Why a signature does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The header is not `t=<unix>,v1=<hex>`.
    #[error("malformed signature header {0:?}: expected t=<unix>,v1=<hex>")]
    Malformed(String),
    /// The timestamp is further from now than the tolerance.
    #[error("signature timestamp {t} is {skew} s away from now (tolerance {tolerance} s)")]
    Stale {
        /// The header's timestamp.
        t: i64,
        /// How far it is from the receiver's clock.
        skew: i64,
        /// The allowed distance.
        tolerance: i64,
    },
    /// The MAC does not match: wrong secret, or the body was changed.
    #[error("signature does not match the body")]
    Mismatch,
}

/// Checks a signature header against the raw body, as a receiver would: the MAC
/// (constant-time) and the timestamp within `tolerance_secs` of `now_unix`.
pub fn verify(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now_unix: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    let malformed = || VerifyError::Malformed(header.to_owned());
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => t = value.parse::<i64>().ok(),
            Some(("v1", value)) => v1 = hex::decode(value).ok(),
            _ => {}
        }
    }
    let (t, v1) = t.zip(v1).ok_or_else(malformed)?;
    let skew = (now_unix - t).abs();
    if skew > tolerance_secs {
        return Err(VerifyError::Stale {
            t,
            skew,
            tolerance: tolerance_secs,
        });
    }
    mac(secret, t, body)
        .verify_slice(&v1)
        .map_err(|_| VerifyError::Mismatch)
}

/// What a webhook posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WebhookFormat {
    /// The generic JSON body above.
    #[default]
    Json,
    /// A Slack incoming-webhook message.
    Slack,
}

/// The generic body, field for field.
#[derive(Debug, Serialize)]
struct Body<'a> {
    status: &'static str,
    idempotency_key: &'a str,
    fingerprint: &'a str,
    labels: &'a std::collections::BTreeMap<String, String>,
    annotations: &'a std::collections::BTreeMap<String, String>,
    starts_at: String,
    ends_at: Option<String>,
}

/// The bytes posted for one change in this format. Pure.
pub fn body_for(change: &Change, format: WebhookFormat) -> Vec<u8> {
    let text = match format {
        WebhookFormat::Json => serde_json::to_string(&Body {
            status: change.status.as_str(),
            idempotency_key: &change.idempotency_key,
            fingerprint: &change.fingerprint,
            labels: &change.alert.labels,
            annotations: &change.alert.annotations,
            starts_at: change.starts_at.to_string(),
            ends_at: change.ends_at.map(|t| t.to_string()),
        }),
        WebhookFormat::Slack => {
            serde_json::to_string(&serde_json::json!({ "text": slack_text(change) }))
        }
    };
    // Serialising string maps cannot fail; an empty body would be refused loudly.
    text.unwrap_or_default().into_bytes()
}

/// The Slack message: icon, state word, where, reason, and a link to the dashboard.
fn slack_text(change: &Change) -> String {
    let label = |name: &str| change.alert.label(name).unwrap_or("");
    let state = label("state");
    let place = change.alert.label("service").map_or_else(
        || label("floor").to_owned(),
        |s| format!("{s} · {}", label("floor")),
    );
    let (icon, word) = match (change.status, state) {
        (Status::Resolved, _) => (":white_check_mark:", "RESOLVED"),
        (Status::Firing, "HALTED") => (":octagonal_sign:", state),
        (Status::Firing, "DEGRADED") => (":warning:", state),
        (Status::Firing, "OFFLINE") => (":red_circle:", state),
        (Status::Firing, _) => (":grey_question:", state),
    };
    let summary = change
        .alert
        .annotations
        .get("summary")
        .map_or("", String::as_str);
    let mut text = format!(
        "{icon} *{word}* · {place} · `{}`: {summary}",
        label("reason")
    );
    if let Some(url) = change
        .alert
        .annotations
        .get("dashboard")
        .filter(|u| !u.is_empty())
    {
        text.push_str(&format!(" <{url}|Open the dashboard>"));
    }
    text
}

/// Full-jitter source: a duration drawn uniformly from `[0, max]`.
pub trait Jitter: Send + Sync + std::fmt::Debug {
    /// A duration in `[0, max]`.
    fn pick(&self, max: Duration) -> Duration;
}

/// [`Jitter`] from the `fastrand` generator.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomJitter;

impl Jitter for RandomJitter {
    fn pick(&self, max: Duration) -> Duration {
        let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(fastrand::u64(0..=nanos))
    }
}

/// Exponential backoff: before retry `n` (0-based) wait a jittered duration up to
/// `min(cap, base × 2ⁿ)`; give up after `max_attempts` attempts in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first retry's ceiling.
    pub base: Duration,
    /// No wait is longer than this.
    pub cap: Duration,
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
            max_attempts: 8,
        }
    }
}

impl Backoff {
    /// The ceiling of the wait before retry `n` (0-based).
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }
}

/// One webhook endpoint, its secret already read from the environment.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    /// Where to POST.
    pub url: url::Url,
    /// The HMAC key; `None` sends unsigned (only allowed for Slack by the config).
    pub secret: Option<Vec<u8>>,
    /// The body's format.
    pub format: WebhookFormat,
}

/// The secret never reaches a log line.
impl std::fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("url", &self.url.as_str())
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("format", &self.format)
            .finish()
    }
}

/// Why a change was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The receiver refused it for good (a 4xx other than 408, 425, 429).
    #[error("POST {url}: rejected with status {status}: {body}")]
    Rejected {
        /// The endpoint.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The start of the answer's body.
        body: String,
    },
    /// Every attempt failed; the last failure.
    #[error("POST {url}: gave up after {attempts} attempts; last: {last}")]
    GaveUp {
        /// The endpoint.
        url: String,
        /// How many attempts were made.
        attempts: u32,
        /// The last attempt's failure.
        last: String,
    },
}

/// Delivers alert changes to one webhook.
#[derive(Debug, Clone)]
pub struct WebhookSink {
    client: reqwest::Client,
    target: WebhookTarget,
    backoff: Backoff,
    jitter: Arc<dyn Jitter>,
    clock: Arc<dyn WallClock>,
}

/// One attempt's failure: worth retrying or not.
enum Failure {
    Retry(String),
    Permanent(WebhookError),
}

impl WebhookSink {
    /// A sink for `target`, trusting the system's roots for `https`; `timeout`
    /// bounds each attempt.
    ///
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn new(
        target: WebhookTarget,
        backoff: Backoff,
        timeout: Duration,
        jitter: Arc<dyn Jitter>,
        clock: Arc<dyn WallClock>,
    ) -> Result<WebhookSink, ClientError> {
        WebhookSink::trusting(target, backoff, timeout, jitter, clock, &Tls::default())
    }

    /// As [`WebhookSink::new`], trusting `tls`'s extra roots too.
    ///
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn trusting(
        target: WebhookTarget,
        backoff: Backoff,
        timeout: Duration,
        jitter: Arc<dyn Jitter>,
        clock: Arc<dyn WallClock>,
        tls: &Tls,
    ) -> Result<WebhookSink, ClientError> {
        let client = tls.client(timeout)?;
        Ok(WebhookSink {
            client,
            target,
            backoff,
            jitter,
            clock,
        })
    }

    /// Posts one change, retrying transport failures, 408, 425, 429 and 5xx with
    /// backoff; returns how many attempts it took.
    pub async fn deliver(&self, change: &Change) -> Result<u32, WebhookError> {
        let body = body_for(change, self.target.format);
        let attempts = self.backoff.max_attempts.max(1);
        let mut last = String::new();
        for attempt in 0..attempts {
            if attempt > 0 {
                let wait = self.jitter.pick(self.backoff.ceiling(attempt - 1));
                tokio::time::sleep(wait).await;
            }
            match self.attempt(&body, &change.idempotency_key).await {
                Ok(()) => return Ok(attempt + 1),
                Err(Failure::Permanent(e)) => return Err(e),
                Err(Failure::Retry(why)) => {
                    tracing::debug!(url = %self.target.url, attempt, error = %why, "webhook attempt failed");
                    last = why;
                }
            }
        }
        Err(WebhookError::GaveUp {
            url: self.target.url.to_string(),
            attempts,
            last,
        })
    }

    /// Runs until `changes` closes: delivers every change in order, one at a time
    /// (so a receiver sees a resolution after its firing), each with its retries. A
    /// change that exhausts its retries or is refused is logged and dropped here;
    /// keeping it longer is the durable outbox's job.
    pub async fn run(self, mut changes: tokio::sync::mpsc::UnboundedReceiver<Vec<Change>>) {
        while let Some(batch) = changes.recv().await {
            for change in &batch {
                if let Err(e) = self.deliver(change).await {
                    tracing::error!(
                        url = %self.target.url,
                        key = %change.idempotency_key,
                        error = %e,
                        "webhook alert change not delivered"
                    );
                }
            }
        }
    }

    /// One signed POST.
    async fn attempt(&self, body: &[u8], key: &str) -> Result<(), Failure> {
        let mut req = self
            .client
            .post(self.target.url.clone())
            .header("content-type", "application/json")
            .header(IDEMPOTENCY_HEADER, key)
            .body(body.to_vec());
        if let Some(secret) = &self.target.secret {
            let unix = self.clock.now().as_second();
            req = req.header(SIGNATURE_HEADER, sign(secret, unix, body));
        }
        let answer = req
            .send()
            .await
            .map_err(|e| Failure::Retry(e.to_string()))?;
        let status = answer.status();
        if status.is_success() {
            return Ok(());
        }
        let mut text = answer.text().await.unwrap_or_default();
        text.truncate(512);
        let code = status.as_u16();
        if status.is_server_error() || matches!(code, 408 | 425 | 429) {
            Err(Failure::Retry(format!("status {code}: {text}")))
        } else {
            Err(Failure::Permanent(WebhookError::Rejected {
                url: self.target.url.to_string(),
                status: code,
                body: text,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_tampering_does_not() {
        let body = br#"{"status":"firing"}"#;
        let header = sign(b"s3cret", 1_800_000_000, body);
        assert!(header.starts_with("t=1800000000,v1="));
        assert_eq!(verify(b"s3cret", &header, body, 1_800_000_010, 300), Ok(()));
        assert_eq!(
            verify(
                b"s3cret",
                &header,
                br#"{"status":"resolved"}"#,
                1_800_000_010,
                300
            ),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(b"other", &header, body, 1_800_000_010, 300),
            Err(VerifyError::Mismatch)
        );
        assert!(matches!(
            verify(b"s3cret", &header, body, 1_800_001_000, 300),
            Err(VerifyError::Stale { skew: 1000, .. })
        ));
        assert!(matches!(
            verify(b"s3cret", "v1=00", body, 0, 300),
            Err(VerifyError::Malformed(_))
        ));
    }

    #[test]
    fn a_known_vector() {
        // HMAC-SHA256(key="key", "1.{}"), computed independently with
        // `printf '1.{}' | openssl dgst -sha256 -hmac key`.
        assert_eq!(
            sign(b"key", 1, b"{}"),
            "t=1,v1=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224"
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let b = Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(500),
            max_attempts: 6,
        };
        let ceilings: Vec<u128> = (0..5).map(|n| b.ceiling(n).as_millis()).collect();
        assert_eq!(ceilings, [100, 200, 400, 500, 500]);
        assert_eq!(b.ceiling(200), Duration::from_millis(500));
        let j = RandomJitter;
        for _ in 0..100 {
            assert!(j.pick(Duration::from_millis(10)) <= Duration::from_millis(10));
        }
    }
}
