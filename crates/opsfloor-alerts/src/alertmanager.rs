//! The Alertmanager sink: `POST /api/v2/alerts`, the way Prometheus does it.
//!
//! - Every firing alert is re-sent each `resend_interval` (default 60 s) with
//!   `endsAt` [`ENDS_AT_INTERVALS`] intervals ahead, so that Alertmanager resolves it
//!   on its own if opsfloor dies and stops re-sending.
//! - A resolved alert is sent with `endsAt` = the wall-clock instant it resolved,
//!   and is kept for a target until that target has accepted it (or for
//!   [`RESOLVED_RETENTION`], whichever is first).
//! - Each Alertmanager (several are allowed; a cluster wants every member told) has
//!   its own schedule. A target whose last POST failed is retried every
//!   `retry_interval` (default 1 s) with the whole current picture, so an
//!   Alertmanager that was down receives it as soon as it is back.
//! - Any change is sent to every target at once, without waiting for the resend.
//!
//! `startsAt`/`endsAt` are wall-clock ([`WallClock`]); the schedule uses tokio's
//! monotonic clock. Duplicates are harmless: Alertmanager deduplicates by labels.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::book::{Change, Status};
use crate::clock::WallClock;
use crate::rules::Alert;
use crate::tls::{ClientError, Tls};

/// `endsAt` of a firing alert is this many resend intervals ahead (as Prometheus).
pub const ENDS_AT_INTERVALS: i32 = 4;

/// A resolved alert not yet accepted by a target is dropped this long after it
/// resolved (Prometheus keeps resolved alerts for the same 15 minutes). By then the
/// target has expired the firing copy on its own (`endsAt` passed), or restarted
/// and forgotten it; so the queue stays bounded while a target is down for days.
pub const RESOLVED_RETENTION: SignedDuration = SignedDuration::from_secs(15 * 60);

/// One Alertmanager to send to.
#[derive(Clone, PartialEq, Eq)]
pub struct AlertmanagerTarget {
    /// Its base URL, e.g. `http://127.0.0.1:9093` (the API path is appended).
    pub url: url::Url,
    /// A bearer token for `Authorization`, already read from its environment variable.
    pub bearer_token: Option<String>,
}

/// The token never reaches a log line.
impl std::fmt::Debug for AlertmanagerTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertmanagerTarget")
            .field("url", &self.url.as_str())
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// How often to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertmanagerSettings {
    /// Every firing alert is re-sent this often.
    pub resend_interval: Duration,
    /// A target whose last POST failed is retried this often.
    pub retry_interval: Duration,
    /// One POST's timeout.
    pub timeout: Duration,
}

impl Default for AlertmanagerSettings {
    fn default() -> Self {
        AlertmanagerSettings {
            resend_interval: Duration::from_secs(60),
            retry_interval: Duration::from_secs(1),
            timeout: Duration::from_secs(5),
        }
    }
}

/// One alert in Alertmanager's v2 `postableAlerts` shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostableAlert {
    /// The identity.
    pub labels: BTreeMap<String, String>,
    /// The words.
    pub annotations: BTreeMap<String, String>,
    /// When it began.
    #[serde(rename = "startsAt")]
    pub starts_at: String,
    /// When it ends (ahead while firing; the resolution instant once resolved).
    #[serde(rename = "endsAt")]
    pub ends_at: String,
    /// A link back: the dashboard page.
    #[serde(rename = "generatorURL", skip_serializing_if = "String::is_empty")]
    pub generator_url: String,
}

/// A firing or resolved alert as the sink keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Kept {
    alert: Alert,
    starts_at: Timestamp,
    ends_at: Option<Timestamp>,
}

/// Alertmanager writes times in RFC 3339 with fractions; whole milliseconds suffice.
fn rfc3339(ts: Timestamp) -> String {
    ts.round(jiff::Unit::Millisecond).unwrap_or(ts).to_string()
}

fn postable(kept: &Kept, ends_at: Timestamp) -> PostableAlert {
    PostableAlert {
        labels: kept.alert.labels.clone(),
        annotations: kept.alert.annotations.clone(),
        starts_at: rfc3339(kept.starts_at),
        ends_at: rfc3339(ends_at),
        generator_url: kept
            .alert
            .annotations
            .get("dashboard")
            .cloned()
            .unwrap_or_default(),
    }
}

/// The body of one POST: every firing alert with `endsAt` = `now` + 4 × `resend`,
/// then every resolved alert not yet accepted, with its own `endsAt`. Pure.
fn picture<'a>(
    firing: impl Iterator<Item = &'a Kept>,
    resolved: &[Kept],
    now: Timestamp,
    resend: Duration,
) -> Vec<PostableAlert> {
    let ahead = SignedDuration::try_from(resend)
        .unwrap_or(SignedDuration::from_secs(60))
        .checked_mul(ENDS_AT_INTERVALS)
        .unwrap_or(SignedDuration::from_secs(240));
    let until = now.checked_add(ahead).unwrap_or(now);
    let mut out: Vec<PostableAlert> = firing.map(|k| postable(k, until)).collect();
    // Alertmanager knows an alert by its labels: a resolved copy with the labels of
    // one firing again (a watchdog that stalled and recovered, a state that came
    // back) would resolve the firing one. What fires now is the last word.
    let resolved: Vec<PostableAlert> = resolved
        .iter()
        .filter(|k| !out.iter().any(|f| f.labels == k.alert.labels))
        .map(|k| postable(k, k.ends_at.unwrap_or(now)))
        .collect();
    out.extend(resolved);
    out
}

/// Why one POST failed.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    /// No answer: connection refused, timeout, DNS.
    #[error("POST {url}: {source}")]
    Transport {
        /// The endpoint.
        url: String,
        /// What reqwest said.
        #[source]
        source: reqwest::Error,
    },
    /// An answer other than 2xx.
    #[error("POST {url}: status {status}: {body}")]
    Status {
        /// The endpoint.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The start of the answer's body.
        body: String,
    },
}

/// One target's schedule and its queue of resolved alerts not yet accepted.
#[derive(Debug)]
struct TargetState {
    target: AlertmanagerTarget,
    endpoint: String,
    resolved: Vec<Kept>,
    next_due: Instant,
    healthy: bool,
    /// A POST is on its way: no second one starts until it is answered.
    in_flight: bool,
    /// Changes arrived since the last POST started.
    changed: bool,
}

/// An answered POST, for [`AlertmanagerSink::finish`].
#[derive(Debug)]
struct Sent {
    target: usize,
    /// How many resolved alerts (from the front of the target's queue) it carried.
    resolved: usize,
    alerts: usize,
    result: Result<(), PostError>,
}

/// What one round of sending did for one target.
#[derive(Debug)]
pub struct Outcome {
    /// The target's base URL.
    pub url: String,
    /// How many alerts the POST carried.
    pub alerts: usize,
    /// `Ok` when Alertmanager accepted them.
    pub result: Result<(), PostError>,
}

/// Sends the current picture to one or more Alertmanagers.
#[derive(Debug)]
pub struct AlertmanagerSink {
    client: reqwest::Client,
    clock: Arc<dyn WallClock>,
    settings: AlertmanagerSettings,
    firing: BTreeMap<String, Kept>,
    targets: Vec<TargetState>,
}

impl AlertmanagerSink {
    /// A sink for these targets, trusting the system's roots for `https`; nothing
    /// is sent until changes arrive.
    ///
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn new(
        targets: Vec<AlertmanagerTarget>,
        settings: AlertmanagerSettings,
        clock: Arc<dyn WallClock>,
    ) -> Result<AlertmanagerSink, ClientError> {
        AlertmanagerSink::trusting(targets, settings, clock, &Tls::default())
    }

    /// As [`AlertmanagerSink::new`], trusting `tls`'s extra roots too.
    ///
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn trusting(
        targets: Vec<AlertmanagerTarget>,
        settings: AlertmanagerSettings,
        clock: Arc<dyn WallClock>,
        tls: &Tls,
    ) -> Result<AlertmanagerSink, ClientError> {
        let client = tls.client(settings.timeout)?;
        let now = Instant::now();
        let targets = targets
            .into_iter()
            .map(|target| TargetState {
                endpoint: format!(
                    "{}/api/v2/alerts",
                    target.url.as_str().trim_end_matches('/')
                ),
                target,
                resolved: Vec::new(),
                next_due: now + settings.resend_interval,
                healthy: true,
                in_flight: false,
                changed: false,
            })
            .collect();
        Ok(AlertmanagerSink {
            client,
            clock,
            settings,
            firing: BTreeMap::new(),
            targets,
        })
    }

    /// Takes changes from the [`crate::AlertBook`]; every target becomes due now.
    pub fn apply(&mut self, changes: &[Change], now: Instant) {
        for change in changes {
            let kept = Kept {
                alert: change.alert.clone(),
                starts_at: change.starts_at,
                ends_at: change.ends_at,
            };
            match change.status {
                Status::Firing => {
                    self.firing.insert(change.fingerprint.clone(), kept);
                }
                Status::Resolved => {
                    self.firing.remove(&change.fingerprint);
                    for t in &mut self.targets {
                        t.resolved.push(kept.clone());
                    }
                }
            }
        }
        if !changes.is_empty() {
            for t in &mut self.targets {
                t.next_due = now;
                t.changed = true;
            }
        }
    }

    /// How many alerts are firing.
    pub fn firing_count(&self) -> usize {
        self.firing.len()
    }

    /// When the next target that is not already sending is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.targets
            .iter()
            .filter(|t| !t.in_flight)
            .map(|t| t.next_due)
            .min()
    }

    /// Sends to every target that is due at `now`, all at once, and waits for
    /// their answers; returns what happened. ([`AlertmanagerSink::run`] does not
    /// wait: a slow target never holds up the others.)
    pub async fn send_due(&mut self, now: Instant) -> Vec<Outcome> {
        let mut tasks = tokio::task::JoinSet::new();
        self.start_due(now, &mut tasks);
        let mut outcomes = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            if let Ok(done) = joined {
                outcomes.push(self.finish(done));
            }
        }
        outcomes
    }

    /// Starts a POST for every due target that is not already sending.
    fn start_due(&mut self, now: Instant, tasks: &mut tokio::task::JoinSet<Sent>) {
        let wall = self.clock.now();
        let oldest = wall.checked_sub(RESOLVED_RETENTION).unwrap_or(wall);
        for i in 0..self.targets.len() {
            let t = &mut self.targets[i];
            if t.in_flight || t.next_due > now {
                continue;
            }
            // Pruned only here, while no POST of this target is in flight, so the
            // front of the queue is what the POST carried when it is answered.
            t.resolved
                .retain(|k| k.ends_at.is_none_or(|end| end >= oldest));
            t.in_flight = true;
            t.changed = false;
            let t = &self.targets[i];
            let body = picture(
                self.firing.values(),
                &t.resolved,
                wall,
                self.settings.resend_interval,
            );
            let resolved = t.resolved.len();
            let request = self.request(t, &body);
            let alerts = body.len();
            tasks.spawn(async move {
                let result = match request {
                    Some(req) => post(req).await,
                    None => Ok(()),
                };
                Sent {
                    target: i,
                    resolved,
                    alerts,
                    result,
                }
            });
        }
    }

    /// Records an answered POST and reports it.
    fn finish(&mut self, done: Sent) -> Outcome {
        self.schedule(done.target, done.resolved, &done.result, Instant::now());
        Outcome {
            url: self.targets[done.target].target.url.to_string(),
            alerts: done.alerts,
            result: done.result,
        }
    }

    /// Records one target's result: on success its accepted resolved alerts are
    /// dropped and it rests a resend interval; on failure it is retried soon.
    fn schedule(
        &mut self,
        i: usize,
        sent_resolved: usize,
        result: &Result<(), PostError>,
        now: Instant,
    ) {
        let retry = self.settings.retry_interval;
        let resend = self.settings.resend_interval;
        let t = &mut self.targets[i];
        t.in_flight = false;
        match result {
            Ok(()) => {
                // Only the ones that were in the body: more may have queued meanwhile.
                t.resolved.drain(..sent_resolved.min(t.resolved.len()));
                if !t.healthy {
                    tracing::info!(url = %t.target.url, "alertmanager is back: current alerts sent");
                }
                t.healthy = true;
                // A change that arrived while this POST was in flight goes out now.
                t.next_due = if t.changed { now } else { now + resend };
            }
            Err(e) => {
                if t.healthy {
                    tracing::warn!(url = %t.target.url, error = %e, "cannot send alerts to alertmanager; retrying");
                }
                t.healthy = false;
                t.next_due = now + retry;
            }
        }
    }

    /// The POST for one target, or `None` when there is nothing to say.
    fn request(&self, t: &TargetState, body: &[PostableAlert]) -> Option<reqwest::RequestBuilder> {
        if body.is_empty() {
            return None;
        }
        let mut req = self.client.post(&t.endpoint).json(body);
        if let Some(token) = &t.target.bearer_token {
            req = req.bearer_auth(token);
        }
        Some(req)
    }

    /// Runs until `changes` closes: applies each batch of changes and sends what is
    /// due, re-sending and retrying on schedule, each target on its own (a slow or
    /// hung Alertmanager delays only itself, up to the timeout). When `changes`
    /// closes, sends once more to every target and waits for the answers.
    pub async fn run(mut self, mut changes: mpsc::UnboundedReceiver<Vec<Change>>) {
        let mut tasks = tokio::task::JoinSet::new();
        loop {
            let due = self
                .next_due()
                .unwrap_or_else(|| Instant::now() + self.settings.resend_interval);
            tokio::select! {
                batch = changes.recv() => match batch {
                    Some(batch) => self.apply(&batch, Instant::now()),
                    None => break,
                },
                Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                    if let Ok(done) = joined {
                        self.finish(done);
                    }
                }
                () = tokio::time::sleep_until(due) => {}
            }
            self.start_due(Instant::now(), &mut tasks);
        }
        while let Some(joined) = tasks.join_next().await {
            if let Ok(done) = joined {
                self.finish(done);
            }
        }
        for t in &mut self.targets {
            t.next_due = Instant::now();
        }
        self.send_due(Instant::now()).await;
    }
}

/// Sends one POST; any 2xx is acceptance.
async fn post(req: reqwest::RequestBuilder) -> Result<(), PostError> {
    let answer = req.send().await.map_err(|source| PostError::Transport {
        url: source.url().map(ToString::to_string).unwrap_or_default(),
        source,
    })?;
    let status = answer.status();
    if status.is_success() {
        return Ok(());
    }
    let url = answer.url().to_string();
    let mut body = answer.text().await.unwrap_or_default();
    body.truncate(512);
    Err(PostError::Status {
        url,
        status: status.as_u16(),
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(state: &str, ends_at: Option<Timestamp>) -> Kept {
        Kept {
            alert: Alert {
                labels: BTreeMap::from([
                    ("alertname".to_owned(), "OpsfloorWatchdog".to_owned()),
                    ("state".to_owned(), state.to_owned()),
                ]),
                annotations: BTreeMap::new(),
            },
            starts_at: Timestamp::UNIX_EPOCH,
            ends_at,
        }
    }

    #[test]
    fn a_resolved_copy_never_resolves_the_same_labels_firing_again() {
        let now: Timestamp = "2026-01-07T15:00:00Z".parse().expect("ts");
        let firing = [kept("x", None)];
        let resolved = [kept("x", Some(now)), kept("y", Some(now))];
        let body = picture(firing.iter(), &resolved, now, Duration::from_secs(60));
        let states: Vec<(&str, &str)> = body
            .iter()
            .map(|a| (a.labels["state"].as_str(), a.ends_at.as_str()))
            .collect();
        assert_eq!(
            states,
            [("x", "2026-01-07T15:04:00Z"), ("y", "2026-01-07T15:00:00Z")]
        );
    }
}
