//! The HTTP face of a probe: an axum `Router`, which is a tower `Service`, so any
//! tower or hyper stack can mount it, at the root or under a prefix.
//!
//! - `GET /ops/status`: the document, built per request with the probe's clock.
//! - `GET /health`: liveness, 200 while the process serves.
//! - `HEAD` for both (same headers, no body); any other method gets 405 with `Allow`.
//! - Always `Content-Type: application/json` and `Cache-Control: no-store`: a status
//!   must never be served from a cache.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::probe::Probe;

pub(crate) fn router(probe: Probe) -> Router {
    Router::new()
        .route("/ops/status", get(status))
        .route("/health", get(health))
        .with_state(probe)
}

fn json(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn status(State(probe): State<Probe>) -> Response {
    match probe.document_bytes() {
        Ok(bytes) => json(StatusCode::OK, bytes),
        // Only a clock outside the calendar's supported range gets here: say so
        // rather than guess whether the market is open.
        Err(e) => {
            tracing::error!(error = %e, "cannot build the status document");
            let body = serde_json::json!({ "error": e.to_string() })
                .to_string()
                .into_bytes();
            json(StatusCode::INTERNAL_SERVER_ERROR, body)
        }
    }
}

async fn health() -> Response {
    json(StatusCode::OK, br#"{"status":"ok"}"#.to_vec())
}
