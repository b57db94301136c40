//! The floor's HTTP API. GET (and HEAD) only: there are no write endpoints.
//!
//! | path | what |
//! |---|---|
//! | `/ops/status` | the floor's own contract document (kind `floor`) |
//! | `/health` | readiness: 200 `ok`; 503 `degraded` with the reason while history is not being recorded |
//! | `/api/v1/floor` | the floor document, rule, contributors, market status, counts |
//! | `/api/v1/services?kind=&state=&criticality=` | every service, or those matching; `ETag`, 304 on `If-None-Match` |
//! | `/api/v1/services/{name}` | one service with its last document, redacted |
//! | `/api/v1/transitions?service=&since=&limit=` | history, newest first (`service=@floor` for the floor's own) |
//! | `/api/v1/slo?window=30d` | share of market-hours time in each state |
//! | `/api/v1/stream` | Server-Sent Events: a `snapshot` on connect, then every `transition` |
//! | `/api/v1/report?format=markdown\|json` | the deployment report on the current state |
//! | `/metrics` | Prometheus text |
//! | `/api/v1/cluster` | this replica's name, whether it leads, the leader and its lease |
//! | `/api/v1/maintenance?window=7d` | maintenance windows open now or starting within the window |

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, RawQuery, State as AxumState};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::StreamExt;
use opsfloor_contract::time::{format_timestamp, parse_timestamp};
use opsfloor_contract::{ReasonCode, State};
use opsfloor_history::{History, TransitionQuery};
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use opsfloor_engine::view::{FloorView, ServiceView, floor_document};
use opsfloor_engine::{Subject, Transition};

use crate::floor::Floor;
use crate::query::{Params, QueryError};
use crate::recorder::{HistoryHealth, Recorder};

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct ApiState {
    /// The floor.
    pub floor: Floor,
    /// The history store, when the floor keeps one.
    pub history: Option<History>,
    /// The recording path, for the history's health.
    pub recorder: Recorder,
    /// This replica's place among replicas.
    pub cluster: crate::cluster::Cluster,
    /// The last `/api/v1/services` answer (computed at most once a second).
    pub lists: crate::services::ListCache,
    /// Turns true when the floor stops: live streams end then, so a graceful
    /// shutdown never waits on a dashboard that stays connected.
    pub stopping: tokio::sync::watch::Receiver<bool>,
    /// One permit per live-stream client ([`crate::listener::Limits::max_sse_clients`]):
    /// a stream holds its permit until it ends, and a client finding none is
    /// answered 503, so dashboards cannot take every connection the floor has.
    pub sse_clients: Arc<Semaphore>,
}

/// The API router.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/ops/status", get(ops_status))
        .route("/health", get(health))
        .route("/api/v1/floor", get(floor))
        .route("/api/v1/services", get(crate::services::list))
        .route("/api/v1/services/{name}", get(service))
        .route("/api/v1/transitions", get(transitions))
        .route("/api/v1/slo", get(slo))
        .route("/api/v1/stream", get(stream))
        .route("/api/v1/report", get(report))
        .route("/metrics", get(metrics))
        .route("/api/v1/cluster", get(cluster))
        .route("/api/v1/maintenance", get(crate::maintenance::list))
        .with_state(state)
}

/// A body as JSON bytes; one that cannot be serialised is a 500 that says so,
/// never an empty 200.
pub(crate) fn json_bytes<T: Serialize>(body: &T) -> Result<Vec<u8>, Box<Response>> {
    serde_json::to_vec(body).map_err(|e| {
        Box::new(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the response could not be serialised: {e}"),
        ))
    })
}

/// A JSON response. (`Cache-Control: no-store` is the router's default layer.)
pub(crate) fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match json_bytes(body) {
        Ok(bytes) => {
            let mut response = (status, bytes).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Err(response) => *response,
    }
}

/// A query parameter that cannot be used: 400, naming it.
pub(crate) fn query_error(e: &QueryError) -> Response {
    json(e.status(), e)
}

/// A JSON error body `{"error": message}` with `status`.
pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let body = format!(
        "{{\"error\":{}}}",
        serde_json::Value::String(message.into())
    );
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

async fn ops_status(AxumState(s): AxumState<ApiState>) -> Response {
    let now = s.floor.now();
    json(StatusCode::OK, &s.floor.read(|f| floor_document(f, now)))
}

/// `/health`'s body.
#[derive(Serialize)]
struct HealthBody {
    /// `ok`, or `degraded` while history is not being recorded.
    status: &'static str,
    /// Why it is degraded; `None` when ok.
    reason: Option<String>,
    /// The history's queue: transitions not yet stored, and dropped since start;
    /// `None` when no history is kept.
    history: Option<HistoryCounts>,
}

#[derive(Serialize)]
struct HistoryCounts {
    pending: usize,
    dropped: u64,
}

/// Readiness. `degraded` answers 503 so that a readiness probe takes a replica
/// whose history is failing out of rotation (its dashboard and API still answer
/// direct requests); liveness should not use it (the process is fine).
async fn health(AxumState(s): AxumState<ApiState>) -> Response {
    let health = s.recorder.health();
    let history = health.as_ref().map(|h| HistoryCounts {
        pending: h.pending,
        dropped: h.dropped,
    });
    match health.and_then(|h| h.failing) {
        None => json(
            StatusCode::OK,
            &HealthBody {
                status: "ok",
                reason: None,
                history,
            },
        ),
        Some(reason) => json(
            StatusCode::SERVICE_UNAVAILABLE,
            &HealthBody {
                status: "degraded",
                reason: Some(format!("history not being recorded: {reason}")),
                history,
            },
        ),
    }
}

impl ApiState {
    /// Why history is not being recorded, for the dashboard's banner.
    pub fn history_problem(&self) -> Option<String> {
        self.recorder
            .health()
            .and_then(|h: HistoryHealth| h.failing)
    }
}

async fn cluster(AxumState(s): AxumState<ApiState>) -> Response {
    json(StatusCode::OK, &s.cluster.view())
}

async fn floor(AxumState(s): AxumState<ApiState>) -> Response {
    let now = s.floor.now();
    let mut view = s.floor.read(|f| FloorView::of(f, now));
    crate::maintenance::badge_views(&s.floor, now, &mut [], Some(&mut view));
    json(StatusCode::OK, &view)
}

async fn service(AxumState(s): AxumState<ApiState>, Path(name): Path<String>) -> Response {
    let now = s.floor.now();
    // Take a copy under the lock; parse and redact the document outside it.
    match s
        .floor
        .read(|f| f.service(&name).cloned())
        .map(|t| ServiceView::detail(&t, now))
    {
        Some(mut view) => {
            crate::maintenance::badge_views(&s.floor, now, std::slice::from_mut(&mut view), None);
            json(StatusCode::OK, &view)
        }
        None => error(
            StatusCode::NOT_FOUND,
            format!("no service named {name:?} in the inventory"),
        ),
    }
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

async fn transitions(AxumState(s): AxumState<ApiState>, RawQuery(raw): RawQuery) -> Response {
    let p = match Params::parse(raw.as_deref(), &["service", "since", "limit"]) {
        Ok(p) => p,
        Err(e) => return query_error(&e),
    };
    let Some(history) = &s.history else {
        return error(
            StatusCode::NOT_FOUND,
            "this floor keeps no history (started without a database)",
        );
    };
    let since = match p.get("since").map(parse_timestamp).transpose() {
        Ok(since) => since,
        Err(e) => {
            return query_error(&QueryError {
                error: format!("query parameter \"since\": {e}"),
                parameter: "since".into(),
            });
        }
    };
    let limit = match p.limit(100) {
        Ok(limit) => limit,
        Err(e) => return query_error(&e),
    };
    let subject = p.get("service").map(|name| {
        if name == "@floor" {
            Subject::Floor
        } else {
            Subject::Service(name.to_owned())
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

async fn slo(AxumState(s): AxumState<ApiState>, RawQuery(raw): RawQuery) -> Response {
    let (window, span) =
        match Params::parse(raw.as_deref(), &["window"]).and_then(|p| p.window("30d")) {
            Ok(w) => w,
            Err(e) => return query_error(&e),
        };
    let Some(history) = &s.history else {
        return error(
            StatusCode::NOT_FOUND,
            "this floor keeps no history (started without a database)",
        );
    };
    let now = s.floor.now();
    let from = now.checked_sub(span).unwrap_or(now);
    let calendar = s.floor.read(|f| f.calendar.clone());
    let windows = match crate::maintenance::windows_in_force(&s.floor) {
        Ok(windows) => windows,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let excluded = |subject: &Subject| crate::maintenance::excluded(&windows, subject, from, now);
    match history.slo_excluding(from, now, &calendar, excluded).await {
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
    let (mut floor_view, mut services): (FloorView, Vec<ServiceView>) = floor.read(|f| {
        (
            FloorView::of(f, now),
            f.services()
                .iter()
                .map(|t| ServiceView::of(t, now))
                .collect(),
        )
    });
    crate::maintenance::badge_views(floor, now, &mut services, Some(&mut floor_view));
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

/// How long a client turned away from the live stream is asked to wait.
const SSE_RETRY_AFTER_SECS: u32 = 5;

async fn stream(AxumState(s): AxumState<ApiState>) -> Response {
    let Ok(permit) = Arc::clone(&s.sse_clients).try_acquire_owned() else {
        let mut response = error(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many live-stream clients; retry later",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(SSE_RETRY_AFTER_SECS));
        return response;
    };
    // Subscribe before taking the snapshot, so no transition falls between them.
    let receiver = s.floor.subscribe();
    let first = snapshot_event(&s.floor);
    let floor = s.floor.clone();
    let rest = BroadcastStream::new(receiver).map(move |item| {
        // The permit lives (and counts) as long as the stream does.
        let _held = &permit;
        Ok::<_, Infallible>(match item {
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
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

async fn report(AxumState(s): AxumState<ApiState>, RawQuery(raw): RawQuery) -> Response {
    let p = match Params::parse(raw.as_deref(), &["format"]) {
        Ok(p) => p,
        Err(e) => return query_error(&e),
    };
    let now = s.floor.now();
    let windows = crate::maintenance::windows_or_none(&s.floor);
    let report = s
        .floor
        .read(|f| opsfloor_report::Report::of(f, now))
        .with_maintenance(|service| crate::maintenance::badge(&windows, service, now));
    match p.get("format").unwrap_or("json") {
        "json" => json(StatusCode::OK, &report),
        "markdown" => {
            let mut response = opsfloor_report::markdown::render(&report).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/markdown; charset=utf-8"),
            );
            response
        }
        other => query_error(&QueryError {
            error: format!("query parameter \"format\": {other:?}: expected markdown or json"),
            parameter: "format".into(),
        }),
    }
}

async fn metrics(AxumState(s): AxumState<ApiState>) -> Response {
    let now = s.floor.now();
    let history = s.recorder.health();
    let text = s
        .floor
        .read(|f| s.floor.metrics().encode(f, history.as_ref(), now));
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}
