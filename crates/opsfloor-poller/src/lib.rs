//! Polling: one status GET as a [`tower::Service`], with its behaviour composed from
//! layers, and [`poll_all`] for one round over an inventory.
//!
//! The stack, outermost first ([`Poller`]):
//! 1. [`Deadline`]: the whole poll, retries included, ends within the request's
//!    timeout; past it the outcome is `NoAnswer` ("no answer within N ms").
//! 2. [`RetryOnce`]: a second chance inside the same poll, so one lost packet never
//!    counts as a failure. An attempt that fails fast (refused, reset, a 5xx) is
//!    retried at once; an attempt still silent after half the timeout gets a second
//!    attempt in parallel (a hedge), and the first usable answer wins. Either way the
//!    poll stays within its deadline, so a hung service costs its own timeout once.
//! 3. a floor-wide [`tower::limit::GlobalConcurrencyLimit`]: at most `max_in_flight`
//!    requests in flight, shared by every poll.
//! 4. [`HttpGet`]: one GET, classified into an [`Outcome`].
//!
//! `opsfloor serve` and `opsfloor report` use this same stack. What each service
//! is polled with (a bearer token, a TLS client certificate, the CA file) is
//! resolved once into [`Outgoing`] (`credentials.rs`); `tls.rs` builds one HTTP
//! client per distinct TLS identity.

mod credentials;
mod poll;
mod retry;
mod tls;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use opsfloor_engine::state::disabled_execution;
use opsfloor_engine::{Outcome, Polled};
use opsfloor_inventory::Inventory;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::util::BoxCloneSyncService;
use tower::{Service, ServiceBuilder, ServiceExt};

pub use credentials::{CredentialsError, LoadedIdentity, Outgoing, Secret, ServiceAuth};
pub use poll::HttpGet;
pub use retry::{RetryOnce, RetryOnceLayer};
pub use tls::PollerError;

/// One poll request: where, how long the whole poll may take, and with what
/// credentials (`Debug` never shows a token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The status document's URL.
    pub url: String,
    /// The deadline for the whole poll, retries included.
    pub timeout: Duration,
    /// The client certificate and bearer token to present.
    pub auth: ServiceAuth,
}

/// The [`Deadline`] layer.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeadlineLayer;

impl<S> tower::Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;
    fn layer(&self, inner: S) -> Deadline<S> {
        Deadline { inner }
    }
}

/// Ends a poll at its request's timeout with `NoAnswer`. Unlike
/// `tower::timeout::Timeout`, the duration comes from each request (services have
/// their own `timeout_ms`) and the result is an outcome, not an error.
#[derive(Debug, Clone)]
pub struct Deadline<S> {
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S> Service<Request> for Deadline<S>
where
    S: Service<Request, Response = Outcome> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Outcome;
    type Error = S::Error;
    type Future = BoxFuture<Result<Outcome, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let timeout = request.timeout;
        let call = self.inner.call(request);
        Box::pin(async move {
            match tokio::time::timeout(timeout, call).await {
                Ok(result) => result,
                Err(_) => Ok(Outcome::NoAnswer {
                    error: format!("no answer within {} ms", timeout.as_millis()),
                }),
            }
        })
    }
}

/// The whole polling stack, cheap to clone; every clone shares one HTTP client and
/// one in-flight limit.
#[derive(Clone)]
pub struct Poller {
    service: BoxCloneSyncService<Request, Outcome, tower::BoxError>,
    settings: Arc<PollerSettings>,
    clients: usize,
}

impl std::fmt::Debug for Poller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller").finish_non_exhaustive()
    }
}

/// How to build a [`Poller`]; equal settings make an equal poller (a reload
/// rebuilds the poller only when they change).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollerSettings {
    /// Status bodies larger than this are refused (`UNKNOWN`, with the problem kept).
    pub body_limit: usize,
    /// At most this many requests in flight, floor-wide.
    pub max_in_flight: usize,
    /// How long idle connections are kept; `None`: a fresh connection for every poll.
    pub keep_alive: Option<Duration>,
    /// The credentials each service is polled with.
    pub outgoing: Outgoing,
}

impl PollerSettings {
    /// The settings for an inventory: its body limit and in-flight bound; connections
    /// are kept alive (for two intervals) only when services are polled at least
    /// every 2 s. Measured at 10,000 services polled every 5 s (BENCHMARKS.md),
    /// keeping 10,000 idle connections cost 281 MB resident and more CPU (40% of a
    /// core) than reconnecting (67 MB, 35%). Each `bearer_token_env` is looked up
    /// through `env` and each certificate file read ([`Outgoing::resolve`]).
    ///
    /// # Errors
    /// A [`CredentialsError`]: a configuration error naming the entry or file.
    pub fn for_inventory(
        inventory: &Inventory,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<PollerSettings, CredentialsError> {
        let interval = opsfloor_engine::state::poll_interval(inventory.floor.poll_interval_ms);
        Ok(PollerSettings {
            body_limit: inventory.floor.body_limit_bytes,
            max_in_flight: inventory.floor.max_in_flight.max(1),
            keep_alive: keeps_alive(interval).then_some(interval * 2),
            outgoing: Outgoing::resolve(inventory, env)?,
        })
    }
}

/// Whether connections are kept between polls at this interval: only when they
/// come back within 2 s (the measurement is in [`PollerSettings::for_inventory`]).
fn keeps_alive(interval: Duration) -> bool {
    interval <= Duration::from_secs(2)
}

/// The most file descriptors polling `inventory` can hold at once: one per request
/// in flight (`max_in_flight`), plus one idle kept-alive connection per service
/// when connections are kept (services polled at least every 2 s, see
/// [`PollerSettings::for_inventory`]). The server keeps this many free of serving
/// load, so a flood of clients cannot make a poll fail with "too many open files".
pub fn descriptors_needed(inventory: &Inventory) -> usize {
    let interval = opsfloor_engine::state::poll_interval(inventory.floor.poll_interval_ms);
    let kept = if keeps_alive(interval) {
        inventory.services.len()
    } else {
        0
    };
    inventory.floor.max_in_flight.max(1).saturating_add(kept)
}

impl Poller {
    /// The stack of the module docs.
    ///
    /// # Errors
    /// When the TLS material is refused or an HTTP client cannot be built.
    pub fn new(settings: PollerSettings) -> Result<Poller, PollerError> {
        let http = HttpGet::new(settings.body_limit, settings.keep_alive, &settings.outgoing)?;
        let clients = http.clients();
        let service = ServiceBuilder::new()
            .layer(DeadlineLayer)
            .layer(RetryOnceLayer)
            .layer(GlobalConcurrencyLimitLayer::new(settings.max_in_flight))
            .service(http)
            .map_err(|e: std::convert::Infallible| -> tower::BoxError { match e {} });
        Ok(Poller {
            service: BoxCloneSyncService::new(service),
            settings: Arc::new(settings),
            clients,
        })
    }

    /// The settings it was built from.
    pub fn settings(&self) -> &PollerSettings {
        &self.settings
    }

    /// How many HTTP clients it holds: one, plus one per distinct client identity.
    pub fn clients(&self) -> usize {
        self.clients
    }

    /// Polls `url` once (with the stack's second chance) within `timeout`,
    /// presenting no credentials.
    pub async fn poll(&self, url: &str, timeout: Duration) -> Polled {
        self.poll_with(url, timeout, ServiceAuth::default()).await
    }

    /// Polls the inventory's `service` at `url`, with its credentials.
    pub async fn poll_service(&self, service: &str, url: &str, timeout: Duration) -> Polled {
        let auth = self.settings.outgoing.for_service(service);
        self.poll_with(url, timeout, auth).await
    }

    async fn poll_with(&self, url: &str, timeout: Duration, auth: ServiceAuth) -> Polled {
        let start = Instant::now();
        let request = Request {
            url: url.to_owned(),
            timeout,
            auth,
        };
        let outcome = match self.service.clone().oneshot(request).await {
            Ok(outcome) => outcome,
            Err(e) => Outcome::NoAnswer {
                error: format!("poll failed: {e}"),
            },
        };
        Polled {
            outcome,
            latency: start.elapsed(),
        }
    }
}

/// Polls every service of `inventory` once, re-polling one that got no answer up to
/// `retries` more times; `progress` is told how many are done after each. Results
/// are keyed by service name (never by position), in inventory order; `None` is a
/// service not polled (execution scaled to zero or disabled).
pub async fn poll_all(
    inventory: &Inventory,
    poller: &Poller,
    retries: u32,
    progress: impl Fn(usize) + Sync,
) -> Vec<(String, Option<Outcome>)> {
    let floor = &inventory.floor;
    let done = std::sync::atomic::AtomicUsize::new(0);
    let (done, progress) = (&done, &progress);
    let polls = inventory.services.iter().map(|e| async move {
        let outcome = if disabled_execution(e) {
            None
        } else {
            let (url, timeout) = (e.status_url(), Duration::from_millis(e.timeout_ms(floor)));
            let mut outcome = poller.poll_service(&e.name, &url, timeout).await.outcome;
            for _ in 0..retries {
                if !outcome.is_no_answer() {
                    break;
                }
                outcome = poller.poll_service(&e.name, &url, timeout).await.outcome;
            }
            Some(outcome)
        };
        progress(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
        (e.name.clone(), outcome)
    });
    // `buffered` keeps inventory order; the in-flight bound is the poller's own.
    futures_util::stream::iter(polls)
        .buffered(floor.max_in_flight.max(1))
        .collect()
        .await
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use opsfloor_inventory::{Format, parse};

    use super::descriptors_needed;

    fn inventory(interval_ms: u64, services: usize) -> opsfloor_inventory::Inventory {
        let mut text = format!("[floor]\npoll_interval_ms = {interval_ms}\nmax_in_flight = 32\n");
        for i in 0..services {
            text.push_str(&format!(
                "\n[[services]]\nname = \"s{i}\"\nkind = \"ingest\"\nurl = \"http://127.0.0.1:{}\"\n",
                9000 + i
            ));
        }
        parse(&text, Path::new("floor.toml"), Format::Toml).expect("inventory")
    }

    #[test]
    fn polling_needs_a_descriptor_per_poll_in_flight_and_per_kept_connection() {
        // Every 5 s: a fresh connection per poll, so only the polls in flight.
        assert_eq!(descriptors_needed(&inventory(5_000, 100)), 32);
        // Every 2 s or faster: each service's kept-alive connection too.
        assert_eq!(descriptors_needed(&inventory(2_000, 100)), 132);
        assert_eq!(descriptors_needed(&inventory(1_000, 3)), 35);
    }
}
