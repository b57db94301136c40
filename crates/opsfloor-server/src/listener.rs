//! The accept loop: every connection is bounded in time and in number, so slow or
//! idle clients cannot hold the process's file descriptors (issue 13, limits).
//!
//! `axum::serve` holds a connection for as long as the client keeps it open: 1,100
//! clients dripping one header byte at a time held 1,100 descriptors, and with the
//! common 1,024 open-files limit `/health` stopped answering and the poller could
//! not reconnect. This loop, built on hyper-util's `auto::Builder` (HTTP/1.1 and
//! HTTP/2), adds three bounds:
//!
//! - **Header-read timeout** ([`Limits::header_read_timeout`]): the whole request
//!   head must arrive within it. Hyper starts the timer when it begins waiting for a
//!   head, whether on a fresh connection or on a kept-alive one between requests, so
//!   it also closes keep-alive connections that send nothing more. Dripping bytes
//!   does not reset it.
//! - **Idle timeout** ([`Limits::idle_timeout`]): a connection on which no byte has
//!   been read or written for this long is dropped, whatever hyper is waiting for
//!   (a client that stopped reading a response, an HTTP/2 connection with no
//!   streams). The live stream sends a keep-alive comment every 15 s, so a
//!   listening dashboard is never idle.
//! - **Connection cap** ([`Limits::max_connections`]): a semaphore permit per open
//!   connection. A connection accepted at the cap **evicts the oldest connection
//!   that has not yet sent a whole request head** (a slow client, by definition:
//!   a real one sends its head in milliseconds), so slow clients can fill the cap
//!   but never keep a new client, or `/health`, waiting for their timeout. When
//!   every connection has been served a request (live streams, say), the new one
//!   waits for a permit instead.
//!
//! With [`Tls`], every connection is wrapped in rustls after it is accepted, on
//! its own task: the handshake must finish within the header-read timeout, the
//! idle timeout and the eviction at the cap count it like a request head (the
//! byte counter sits under TLS, on the raw stream), so a client that stalls its
//! handshake is bounded like one that drips headers.
//!
//! Graceful shutdown is kept: on stop the loop stops accepting and every open
//! connection is asked to finish its request in flight (hyper-util's
//! `GracefulShutdown`); [`crate::server::Running::shutdown`] bounds the wait.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, oneshot, watch};
use tokio::time::Instant;
use tower_service::Service as _;

use crate::tls::Tls;

/// The bounds on every connection the floor serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long a client has to send a whole request head (also the longest a
    /// kept-alive connection may wait for its next request).
    pub header_read_timeout: Duration,
    /// How long a connection may move no bytes at all before it is dropped.
    pub idle_timeout: Duration,
    /// How many connections are served at once; more wait to be accepted.
    pub max_connections: usize,
    /// How many live-stream (SSE) clients are served at once, counted apart from
    /// connections because each holds its connection for as long as it listens;
    /// one more is answered 503 with `Retry-After`.
    pub max_sse_clients: usize,
}

impl Default for Limits {
    /// 10 s for a request head, 60 s of silence, 10,000 connections, 1,000 live
    /// streams.
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 10_000,
            max_sse_clients: 1_000,
        }
    }
}

/// After a failed `accept` (out of descriptors, most often), wait this long
/// before trying again rather than spinning on the error.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `app` on `listener` within `limits` (over HTTPS with `tls`) until
/// `stopped` turns true, then lets open connections finish gracefully. Each
/// request carries its peer as axum's `ConnectInfo<SocketAddr>` (the access layer
/// trusts proxies by it).
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    limits: Limits,
    tls: Option<Tls>,
    mut stopped: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let fresh = Arc::new(Fresh::default());
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        let permit = match Arc::clone(&permits).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => match make_room(&permits, &fresh, &mut stopped).await {
                Some(permit) => permit,
                None => break,
            },
        };
        let (id, evicted) = fresh.register();
        let activity = Arc::new(Activity::new());
        let io = Counted {
            inner: stream,
            activity: Arc::clone(&activity),
        };
        let service =
            hyper::service::service_fn(service_for(app.clone(), peer, Arc::clone(&fresh), id));
        let fresh = Arc::clone(&fresh);
        let builder = Arc::clone(&builder);
        let watcher = graceful.watcher();
        let idle = limits.idle_timeout;
        let handshake = tls
            .as_ref()
            .map(|tls| (tls.acceptor(), limits.header_read_timeout));
        tokio::spawn(async move {
            let connection = async move {
                match handshake {
                    None => serve_io(&builder, io, service, watcher).await,
                    Some((acceptor, within)) => {
                        let tls = tokio::time::timeout(within, acceptor.accept(io))
                            .await
                            .map_err(|_| "no TLS handshake within the header-read timeout")??;
                        serve_io(&builder, tls, service, watcher).await
                    }
                }
            };
            tokio::select! {
                done = connection => {
                    if let Err(e) = done {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                }
                () = activity.idle_for(idle) => {
                    tracing::debug!(%peer, "idle connection dropped");
                }
                Ok(()) = evicted => {
                    tracing::debug!(%peer, "slow connection evicted at the cap");
                }
            }
            fresh.served(id);
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Serves one connection's requests over `io` (plain or TLS), under the graceful
/// shutdown's `watcher`.
async fn serve_io<I, S>(
    builder: &Builder<TokioExecutor>,
    io: I,
    service: S,
    watcher: hyper_util::server::graceful::Watcher,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::Service<
            hyper::Request<Incoming>,
            Response = axum::response::Response,
            Error = Infallible,
        > + Send
        + 'static,
    S::Future: Send + 'static,
{
    watcher
        .watch(builder.serve_connection(TokioIo::new(io), service))
        .await
}

/// A connection is evictable only once it has waited this long for its first
/// request head: younger ones (the connection just accepted, say) get their
/// chance to be served, and a slow client holds a slot at least this long.
const EVICT_AFTER: Duration = Duration::from_millis(250);

/// At the cap: evicts the oldest slow connection old enough to evict, or waits
/// for one to become so, until a permit is free. `None` when the floor stops.
async fn make_room(
    permits: &Arc<Semaphore>,
    fresh: &Fresh,
    stopped: &mut watch::Receiver<bool>,
) -> Option<tokio::sync::OwnedSemaphorePermit> {
    loop {
        let retry = fresh.evict_oldest(EVICT_AFTER).unwrap_or(EVICT_AFTER);
        tokio::select! {
            permit = Arc::clone(permits).acquire_owned() => return permit.ok(),
            () = tokio::time::sleep(retry) => {}
            _ = stopped.changed() => return None,
        }
    }
}

/// One request's answer, as hyper's `service_fn` wants it.
type Answer = Pin<Box<dyn Future<Output = Result<axum::response::Response, Infallible>> + Send>>;

/// The per-connection service: the router, with the peer in every request. The
/// first request takes the connection off the list of evictable slow ones.
fn service_for(
    app: axum::Router,
    peer: SocketAddr,
    fresh: Arc<Fresh>,
    id: u64,
) -> impl Fn(hyper::Request<Incoming>) -> Answer + Clone {
    let seen = Arc::new(std::sync::atomic::AtomicBool::new(false));
    move |mut request: hyper::Request<Incoming>| {
        if !seen.swap(true, Ordering::Relaxed) {
            fresh.served(id);
        }
        request.extensions_mut().insert(ConnectInfo(peer));
        let mut app = app.clone();
        Box::pin(async move { app.call(request.map(axum::body::Body::new)).await })
    }
}

/// The connections that have not yet sent a whole request head, oldest first,
/// each with the way to tell it to go.
#[derive(Debug, Default)]
struct Fresh {
    next: AtomicU64,
    waiting: Mutex<BTreeMap<u64, (Instant, oneshot::Sender<()>)>>,
}

impl Fresh {
    fn waiting(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, (Instant, oneshot::Sender<()>)>> {
        // A panic elsewhere leaves a whole map: keep using it.
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new connection's id and the signal that evicts it.
    fn register(&self) -> (u64, oneshot::Receiver<()>) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.waiting().insert(id, (Instant::now(), tx));
        (id, rx)
    }

    /// The connection sent a request (or ended): no longer evictable. Dropping
    /// the sender makes its receiver fail, which the connection ignores.
    fn served(&self, id: u64) {
        self.waiting().remove(&id);
    }

    /// Tells the oldest waiting connection to go if it has waited `at_least`.
    /// Returns how long until the oldest will have (`None`: one was told, or
    /// none is waiting).
    fn evict_oldest(&self, at_least: Duration) -> Option<Duration> {
        let mut waiting = self.waiting();
        let entry = waiting.first_entry()?;
        let age = entry.get().0.elapsed();
        if age < at_least {
            return Some(at_least - age);
        }
        let (_, tx) = entry.remove();
        // A connection that ended meanwhile needs no telling.
        let _ = tx.send(());
        None
    }
}

/// When a connection last moved a byte, as milliseconds since it was accepted
/// (an atomic: the I/O and the watchdog are polled from one task, but `Counted`
/// must stay `Send`).
#[derive(Debug)]
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Activity {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// Resolves once no byte has moved for `idle`. It sleeps to the deadline the
    /// last activity implies and looks again, so a busy connection costs one timer
    /// wake-up per `idle`, not one per byte.
    async fn idle_for(&self, idle: Duration) {
        loop {
            let last = self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
            let deadline = last + idle;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

/// A TCP stream that records when bytes last moved in either direction.
#[derive(Debug)]
struct Counted {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
