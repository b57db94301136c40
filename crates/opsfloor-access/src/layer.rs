//! [`AccessLayer`]: the tower layer that puts an [`Authenticator`] in front of a
//! router, for axum's `Router::layer`.
//!
//! The peer address comes from axum's `ConnectInfo<SocketAddr>` in the request's
//! extensions, which exists only when the server puts it there: `opsfloor
//! serve`'s accept loop does (`opsfloor_server::listener`), and so does axum's
//! `into_make_service_with_connect_info::<SocketAddr>()`. Without it no peer is
//! trusted: the proxy header never counts (fail closed), tokens and basic auth
//! still work.
//!
//! Apply the layer to the outermost router: a nested router sees paths with its
//! prefix stripped, and public paths are matched against the path as the layer
//! sees it. Clones of a layer share one configuration, which
//! [`AccessLayer::set_config`] replaces while serving (for a reload on SIGHUP).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::auth::{Authenticator, Denial, Principal, Step};
use crate::config::AccessConfig;

/// The realm named in every challenge.
const REALM: &str = "opsfloor";

/// The authenticator in force, replaceable while serving.
type Shared = Arc<RwLock<Arc<Authenticator>>>;

/// The authenticator in force now (a poisoned lock still holds a whole `Arc`).
fn current(shared: &Shared) -> Arc<Authenticator> {
    match shared.read() {
        Ok(auth) => Arc::clone(&auth),
        Err(poisoned) => Arc::clone(&poisoned.into_inner()),
    }
}

/// A tower [`Layer`] requiring one credential on every path but `/health` and the
/// configured public paths. Cheap to clone; clones share the configuration.
#[derive(Debug, Clone)]
pub struct AccessLayer {
    auth: Shared,
}

impl AccessLayer {
    /// A layer enforcing `config`.
    pub fn new(config: AccessConfig) -> Self {
        AccessLayer {
            auth: Arc::new(RwLock::new(Arc::new(Authenticator::new(config)))),
        }
    }

    /// Replaces the configuration for every request that starts from now on
    /// (requests already being decided finish under the old one). The memory of
    /// verified basic credentials starts empty: users or passwords may have changed.
    pub fn set_config(&self, config: AccessConfig) {
        let fresh = Arc::new(Authenticator::new(config));
        match self.auth.write() {
            Ok(mut auth) => *auth = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> AccessConfig {
        current(&self.auth).config().clone()
    }

    /// The 401 this layer answers for `denial` (also useful to a handler that
    /// wants to refuse the same way).
    pub fn unauthorized(&self, denial: Denial) -> Response {
        unauthorized(current(&self.auth).config(), denial)
    }
}

impl<S> Layer<S> for AccessLayer {
    type Service = AccessService<S>;

    fn layer(&self, inner: S) -> AccessService<S> {
        AccessService {
            inner,
            auth: Arc::clone(&self.auth),
        }
    }
}

/// The service [`AccessLayer`] wraps around an inner service.
#[derive(Debug, Clone)]
pub struct AccessService<S> {
    inner: S,
    auth: Shared,
}

impl<S, B> Service<Request<B>> for AccessService<S>
where
    S: Service<Request<B>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The service that was polled ready is the one to call: take it, and leave
        // a fresh clone behind for the next request (tower's documented pattern).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let auth = current(&self.auth);
        Box::pin(async move {
            let peer = request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0);
            let step = auth.first_step(request.uri().path(), request.headers(), peer);
            let principal = match step {
                Step::Public => None,
                Step::Allowed(p) => Some(p),
                Step::VerifyBasic(attempt) => match Arc::clone(&auth).verify_basic(attempt).await {
                    Ok(p) => Some(p),
                    Err(denial) => return Ok(unauthorized(auth.config(), denial)),
                },
                Step::Denied(denial) => return Ok(unauthorized(auth.config(), denial)),
            };
            // The proxy's header reaches handlers only when it was the credential:
            // a handler that logs "the user" must never read one a stranger wrote.
            if let Some(proxy) = &auth.config().proxy
                && !matches!(principal, Some(Principal::Proxy(_)))
            {
                request.headers_mut().remove(&proxy.header);
            }
            if let Some(principal) = principal {
                request.extensions_mut().insert(principal);
            }
            inner.call(request).await
        })
    }
}

/// 401 with a challenge and a JSON body in the API's error shape
/// (`{"error": "..."}`). The challenge is `Basic` when basic auth is configured,
/// so browsers show their login prompt; otherwise `Bearer` (RFC 6750), with
/// `error="invalid_token"` when a token was sent and refused.
fn unauthorized(config: &AccessConfig, denial: Denial) -> Response {
    let challenge = if config.has_basic() {
        format!("Basic realm=\"{REALM}\", charset=\"UTF-8\"")
    } else if denial == Denial::BadToken {
        format!("Bearer realm=\"{REALM}\", error=\"invalid_token\"")
    } else {
        format!("Bearer realm=\"{REALM}\"")
    };
    let message = match denial {
        Denial::Missing => missing_message(config),
        Denial::BadToken => "the bearer token is not accepted".to_owned(),
        Denial::BadBasic => "the user name or password is not accepted".to_owned(),
    };
    let body = serde_json::json!({ "error": message }).to_string();
    let mut response = (StatusCode::UNAUTHORIZED, Body::from(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        headers.insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// "authentication required: send ..." listing only the ways this floor accepts.
fn missing_message(config: &AccessConfig) -> String {
    let mut ways = Vec::new();
    if !config.token_digests.is_empty() {
        ways.push("an Authorization: Bearer token");
    }
    if config.has_basic() {
        ways.push("basic credentials");
    }
    if config.proxy.is_some() {
        ways.push("the request through the trusted proxy");
    }
    format!("authentication required: send {}", ways.join(", or "))
}
