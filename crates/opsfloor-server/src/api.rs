//! The floor's HTTP API. GET (and HEAD) only: there are no write endpoints.
//!
//! | path | what |
//! |---|---|
//! | `/ops/status` | the floor's own contract document (kind `floor`) |
//! | `/health` | liveness |
//! | `/api/v1/floor` | the floor document, rule, contributors, market status, counts |
//! | `/api/v1/services` | every service |
//! | `/api/v1/services/{name}` | one service with its last document, redacted |
//! | `/api/v1/transitions?service=&since=&limit=` | history, newest first (`service=@floor` for the floor's own) |
//! | `/api/v1/slo?window=30d` | share of market-hours time in each state |
//! | `/api/v1/stream` | Server-Sent Events: a `snapshot` on connect, then every `transition` |
//! | `/api/v1/report?format=markdown\|json` | the deployment report on the current state |
//! | `/metrics` | Prometheus text |

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State as AxumState};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::{Stream, StreamExt};
use jiff::SignedDuration;
use opsfloor_contract::time::{format_timestamp, parse_timestamp};
use opsfloor_contract::{ReasonCode, State};
use opsfloor_history::{History, TransitionQuery};
use serde::{Deserialize, Serialize};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use opsfloor_engine::view::{FloorView, ServiceView, floor_document};
use opsfloor_engine::{Subject, Transition};

use crate::floor::Floor;

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct ApiState {
    /// The floor.
    pub floor: Floor,
    /// The history store, when the floor keeps one.
    pub history: Option<History>,
    /// Turns true when the floor stops: live streams end then, so a graceful
    /// shutdown never waits on a dashboard that stays connected.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

/// The API router.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/ops/status", get(ops_status))
        .route("/health", get(health))
        .route("/api/v1/floor", get(floor))
        .route("/api/v1/services", get(services))
        .route("/api/v1/services/{name}", get(service))
        .route("/api/v1/transitions", get(transitions))
        .route("/api/v1/slo", get(slo))
        .route("/api/v1/stream", get(stream))
        .route("/api/v1/report", get(report))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// A JSON response with `Cache-Control: no-store`. A body that cannot be
/// serialised is a 500 that says so, never an empty 200.
fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    let (status, bytes) = match serde_json::to_vec(body) {
        Ok(bytes) => (status, bytes),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{{\"error\":\"the response could not be serialised: {e}\"}}").into_bytes(),
        ),
    };
    let mut response = (status, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[derive(Serialize)]
struct ErrorBody {
    error: String,
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    json(
        status,
        &ErrorBody {
            error: message.into(),
        },
    )
}

async fn ops_status(AxumState(s): AxumState<ApiState>) -> Response {
    let now = s.floor.now();
    json(StatusCode::OK, &s.floor.read(|f| floor_document(f, now)))
}

async fn health() -> Response {
    json(StatusCode::OK, &serde_json::json!({ "status": "ok" }))
}

async fn floor(AxumState(s): AxumState<ApiState>) -> Response {
    let now = s.floor.now();
    json(StatusCode::OK, &s.floor.read(|f| FloorView::of(f, now)))
}

#[derive(Serialize)]
struct ServicesBody {
    services: Vec<ServiceView>,
}

fn services_view(floor: &Floor) -> ServicesBody {
    let now = floor.now();
    ServicesBody {
        services: floor.read(|f| {
            f.services()
                .iter()
                .map(|t| ServiceView::of(t, now))
                .collect()
        }),
    }
}

async fn services(AxumState(s): AxumState<ApiState>) -> Response {
    json(StatusCode::OK, &services_view(&s.floor))
}

async fn service(AxumState(s): AxumState<ApiState>, Path(name): Path<String>) -> Response {
    let now = s.floor.now();
    // Take a copy under the lock; parse and redact the document outside it.
    match s
        .floor
        .read(|f| f.service(&name).cloned())
        .map(|t| ServiceView::detail(&t, now))
    {
        Some(view) => json(StatusCode::OK, &view),
        None => error(
            StatusCode::NOT_FOUND,
            format!("no service named {name:?} in the inventory"),
        ),
    }
}

#[derive(Debug, Deserialize)]
struct TransitionParams {
    service: Option<String>,
    since: Option<String>,
    limit: Option<String>,
}

/// One transition as the API and the stream show it.
#[derive(Debug, Clone, Serialize)]
pub struct TransitionView {
    /// The service, or `null` for the floor.
    pub service: Option<String>,
    /// The state before (`null` for the first known).
    pub from: Option<State>,
    /// The state after.
    pub to: State,
    /// The reason codes after.
    pub reason_codes: Vec<ReasonCode>,
    /// When.
    pub at: String,
}

impl From<&Transition> for TransitionView {
    fn from(t: &Transition) -> Self {
        TransitionView {
            service: t.subject.service_name().map(str::to_owned),
            from: t.from,
            to: t.to,
            reason_codes: t.reason_codes.clone(),
            at: format_timestamp(t.at),
        }
    }
}

#[derive(Serialize)]
struct TransitionsBody {
    transitions: Vec<TransitionView>,
}

async fn transitions(
    AxumState(s): AxumState<ApiState>,
    Query(p): Query<TransitionParams>,
) -> Response {
    let Some(history) = &s.history else {
        return error(
            StatusCode::NOT_FOUND,
            "this floor keeps no history (started without a database)",
        );
    };
    let since = match p.since.as_deref().map(parse_timestamp).transpose() {
        Ok(since) => since,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("since: {e}")),
    };
    let limit = match p.limit.as_deref().map(str::parse::<usize>).transpose() {
        Ok(limit) => limit.unwrap_or(100).min(10_000),
        Err(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "limit: expected a whole number, such as 100",
            );
        }
    };
    let subject = p.service.map(|name| {
        if name == "@floor" {
            Subject::Floor
        } else {
            Subject::Service(name)
        }
    });
    let query = TransitionQuery {
        subject,
        since,
        limit,
        until: None,
    };
    match history.transitions(&query).await {
        Ok(rows) => {
            let transitions = rows.iter().map(TransitionView::from).collect();
            json(StatusCode::OK, &TransitionsBody { transitions })
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[derive(Debug, Deserialize)]
struct SloParams {
    window: Option<String>,
}

#[derive(Serialize)]
struct SloEntry {
    service: Option<String>,
    market_minutes: f64,
    share: std::collections::BTreeMap<State, f64>,
}

#[derive(Serialize)]
struct SloBody {
    window: String,
    from: String,
    to: String,
    services: Vec<SloEntry>,
}

/// Parses a window such as `30d`, `12h` or `90m`.
fn parse_window(text: &str) -> Option<SignedDuration> {
    let (number, unit) = text.split_at(text.len().checked_sub(1)?);
    let n: i64 = number.parse().ok().filter(|n| *n > 0)?;
    let seconds = match unit {
        "d" => n.checked_mul(86_400)?,
        "h" => n.checked_mul(3_600)?,
        "m" => n.checked_mul(60)?,
        _ => return None,
    };
    Some(SignedDuration::from_secs(seconds))
}

async fn slo(AxumState(s): AxumState<ApiState>, Query(p): Query<SloParams>) -> Response {
    let Some(history) = &s.history else {
        return error(
            StatusCode::NOT_FOUND,
            "this floor keeps no history (started without a database)",
        );
    };
    let window = p.window.unwrap_or_else(|| "30d".to_owned());
    let Some(span) = parse_window(&window) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("window {window:?}: expected a number and d, h or m, such as 30d"),
        );
    };
    let now = s.floor.now();
    let from = now.checked_sub(span).unwrap_or(now);
    let calendar = s.floor.read(|f| f.calendar.clone());
    match history.slo(from, now, &calendar).await {
        Ok(rows) => {
            let services = rows
                .into_iter()
                .map(|r| SloEntry {
                    service: r.subject.service_name().map(str::to_owned),
                    market_minutes: r.market_minutes,
                    share: r.share,
                })
                .collect();
            json(
                StatusCode::OK,
                &SloBody {
                    window,
                    from: format_timestamp(from),
                    to: format_timestamp(now),
                    services,
                },
            )
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[derive(Serialize)]
struct Snapshot {
    floor: FloorView,
    services: Vec<ServiceView>,
}

fn snapshot_event(floor: &Floor) -> SseEvent {
    let now = floor.now();
    let (floor_view, services) = floor.read(|f| {
        (
            FloorView::of(f, now),
            f.services()
                .iter()
                .map(|t| ServiceView::of(t, now))
                .collect(),
        )
    });
    let snapshot = Snapshot {
        floor: floor_view,
        services,
    };
    sse_json("snapshot", &snapshot)
}

/// An SSE event with a JSON body; a body that cannot be serialised becomes an
/// `error` event saying so, never an empty one.
fn sse_json<T: Serialize>(name: &str, body: &T) -> SseEvent {
    match serde_json::to_string(body) {
        Ok(data) => SseEvent::default().event(name).data(data),
        Err(e) => SseEvent::default()
            .event("error")
            .data(format!("{name} could not be serialised: {e}")),
    }
}

async fn stream(
    AxumState(s): AxumState<ApiState>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    // Subscribe before taking the snapshot, so no transition falls between them.
    let receiver = s.floor.subscribe();
    let first = snapshot_event(&s.floor);
    let floor = s.floor.clone();
    let rest = BroadcastStream::new(receiver).map(move |item| {
        Ok(match item {
            Ok(change) => sse_json("transition", &TransitionView::from(&change)),
            // A slow client missed transitions: give it the whole picture again.
            Err(BroadcastStreamRecvError::Lagged(_)) => snapshot_event(&floor),
        })
    });
    let mut stopping = s.stopping.clone();
    let stopped = async move {
        let _ = stopping.wait_for(|stop| *stop).await;
    };
    let events = futures_util::stream::once(async move { Ok(first) })
        .chain(rest)
        .take_until(stopped);
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

#[derive(Debug, Deserialize)]
struct ReportParams {
    format: Option<String>,
}

async fn report(AxumState(s): AxumState<ApiState>, Query(p): Query<ReportParams>) -> Response {
    let now = s.floor.now();
    let report = s.floor.read(|f| opsfloor_report::Report::of(f, now));
    match p.format.as_deref().unwrap_or("json") {
        "json" => json(StatusCode::OK, &report),
        "markdown" => {
            let mut response = opsfloor_report::markdown::render(&report).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/markdown; charset=utf-8"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        other => error(
            StatusCode::BAD_REQUEST,
            format!("format {other:?}: expected markdown or json"),
        ),
    }
}

async fn metrics(AxumState(s): AxumState<ApiState>) -> Response {
    let now = s.floor.now();
    let text = s.floor.read(|f| s.floor.metrics().encode(f, now));
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// The SLO window parser is exposed for the CLI's validation.
pub fn window_is_valid(text: &str) -> bool {
    parse_window(text).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows() {
        assert_eq!(
            parse_window("30d"),
            Some(SignedDuration::from_secs(30 * 86_400))
        );
        assert_eq!(
            parse_window("12h"),
            Some(SignedDuration::from_secs(12 * 3_600))
        );
        assert_eq!(parse_window("0d"), None);
        assert_eq!(parse_window("d"), None);
        assert_eq!(parse_window("3w"), None);
        assert_eq!(parse_window(""), None);
    }
}
