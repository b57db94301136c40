//! [`RetryOnce`]: a second chance inside one poll.
//!
//! Packet loss shows up two ways: a connection reset (the attempt fails at once) or
//! a stall (the attempt never answers). A plain retry handles the first; for the
//! second it would have to wait out the whole timeout first and then take another,
//! doubling how long a hung service takes to be noticed. So:
//! - an attempt that fails fast gets a second attempt at once;
//! - an attempt still silent after half the request's timeout gets a second attempt
//!   in parallel (a hedge), and whichever gives a usable answer first wins;
//! - never more than two attempts. The [`Deadline`](crate::Deadline) outside bounds
//!   the whole poll, so a hung service costs its timeout once.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use opsfloor_engine::Outcome;
use tower::{Service, ServiceExt};

use crate::Request;

/// The [`RetryOnce`] layer.
#[derive(Debug, Clone, Copy, Default)]
pub struct RetryOnceLayer;

impl<S> tower::Layer<S> for RetryOnceLayer {
    type Service = RetryOnce<S>;
    fn layer(&self, inner: S) -> RetryOnce<S> {
        RetryOnce { inner }
    }
}

/// See the module docs.
#[derive(Debug, Clone)]
pub struct RetryOnce<S> {
    inner: S,
}

impl<S> Service<Request> for RetryOnce<S>
where
    S: Service<Request, Response = Outcome> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Outcome;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Outcome, S::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        // Each attempt waits for readiness of its own clone (the in-flight limit).
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let inner = self.inner.clone();
        Box::pin(async move {
            let hedge_after = request.timeout / 2;
            let first = inner.clone().oneshot(request.clone());
            tokio::pin!(first);
            tokio::select! {
                result = &mut first => {
                    match result {
                        Ok(outcome) if outcome.is_no_answer() => inner.oneshot(request).await,
                        other => other,
                    }
                }
                () = tokio::time::sleep(hedge_after) => {
                    let second = inner.oneshot(request);
                    tokio::pin!(second);
                    // The first usable answer wins; if one attempt gives none, wait
                    // for the other.
                    tokio::select! {
                        result = &mut first => match result {
                            Ok(outcome) if outcome.is_no_answer() => second.await,
                            other => other,
                        },
                        result = &mut second => match result {
                            Ok(outcome) if outcome.is_no_answer() => first.await,
                            other => other,
                        },
                    }
                }
            }
        })
    }
}
