//! The handlers. Each takes what it needs from the floor under its lock (the API's
//! views), reads history outside it, and renders outside it.

use askama::Template;
use axum::extract::{Path, Query, State as AxumState};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use opsfloor_history::Subject;
use opsfloor_server::api::ApiState;
use opsfloor_server::maintenance;
use serde::Deserialize;

use crate::chrome::{Chrome, Page, SimClock, Viewer};
use crate::clock::Zone;
use crate::floor_page::{self, Snapshot};
use crate::history_page::{self, Answers, DEFAULT_DAYS, HistorySnapshot};
use crate::report_page;
use crate::service_page::{self, LONG_WINDOW, ServiceSnapshot};
use crate::strip::Mark;
use crate::timeline;

/// The query every page understands.
#[derive(Debug, Default, Deserialize)]
pub struct Params {
    /// `?kiosk=1`: the wall-screen mode.
    kiosk: Option<String>,
    /// `?days=N` on the history page.
    days: Option<String>,
}

impl Params {
    fn kiosk(&self) -> bool {
        matches!(self.kiosk.as_deref(), Some("1" | "true" | "yes" | "on"))
    }

    fn days(&self) -> i64 {
        self.days
            .as_deref()
            .and_then(|d| d.parse::<i64>().ok())
            .map_or(DEFAULT_DAYS, |d| d.clamp(1, history_page::MAX_DAYS))
    }
}

/// The policy for the pages: everything from this origin, nothing inline but data.
pub(crate) const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// An HTML response: never cached (it is live), with a strict content policy.
pub fn html(status: StatusCode, body: Result<String, askama::Error>) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(e) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the page could not be rendered: {e}\n"),
            )
                .into_response();
        }
    };
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

#[derive(Template)]
#[template(path = "missing.html")]
struct Missing {
    chrome: Chrome,
    message: String,
}

/// The viewer of a request: its kiosk flag, the floor's history banner and, when
/// the floor's clock is not the real one, the simulated clock's badge. This shell
/// reads the real clock once per page, only to compare it with the floor's.
fn viewer(s: &ApiState, p: &Params) -> Viewer {
    let cluster = s.cluster.view();
    Viewer {
        simulated: SimClock::of(s.floor.now(), Timestamp::now()),
        kiosk: p.kiosk(),
        history_problem: s.history_problem(),
        replica_note: cluster.replicated.then(|| {
            let leader = cluster.leader_name.as_deref().unwrap_or("none yet");
            format!(
                "replica {} of {}, leader {leader}",
                cluster.replica,
                cluster.replicas.len().max(1)
            )
        }),
    }
}

fn not_found(s: &ApiState, now: Timestamp, message: String, viewer: &Viewer) -> Response {
    let (name, zone) = s
        .floor
        .read(|f| (f.inventory.floor.name.clone(), Zone::of(&f.calendar)));
    let page = Missing {
        chrome: Chrome::new(
            Page::Missing,
            "Not found".to_owned(),
            &name,
            &zone,
            now,
            viewer,
        ),
        message,
    };
    html(StatusCode::NOT_FOUND, page.render())
}

/// `GET /`.
pub async fn floor(AxumState(s): AxumState<ApiState>, Query(p): Query<Params>) -> Response {
    let now = s.floor.now();
    let mut snapshot = s.floor.read(|f| Snapshot::of(f, now));
    snapshot.maintenance = crate::maintenance::windows(&s.floor, now);
    html(
        StatusCode::OK,
        floor_page::render(&snapshot, now, &viewer(&s, &p)),
    )
}

/// `GET /services/{name}`.
pub async fn service(
    AxumState(s): AxumState<ApiState>,
    Path(name): Path<String>,
    Query(p): Query<Params>,
) -> Response {
    let now = s.floor.now();
    let Some(mut snapshot) = s.floor.read(|f| ServiceSnapshot::of(f, &name, now)) else {
        return not_found(
            &s,
            now,
            format!("No service named “{name}” is in the floor's inventory."),
            &viewer(&s, &p),
        );
    };
    let history = match &s.history {
        Some(h) => {
            // 30 days, for the longest strip; the 24 h table is cut from the same.
            let from = now.checked_sub(LONG_WINDOW).unwrap_or(now);
            Some(timeline::load(h, Subject::Service(name), from).await)
        }
        None => None,
    };
    maintenance::badge_views(
        &s.floor,
        now,
        std::slice::from_mut(&mut snapshot.view),
        None,
    );
    html(
        StatusCode::OK,
        service_page::render(&snapshot, history, now, &viewer(&s, &p)),
    )
}

/// `GET /history`.
pub async fn history(AxumState(s): AxumState<ApiState>, Query(p): Query<Params>) -> Response {
    let now = s.floor.now();
    let snapshot = s.floor.read(|f| HistorySnapshot {
        floor_name: f.inventory.floor.name.clone(),
        calendar: f.calendar.clone(),
        zone: Zone::of(&f.calendar),
        services: f.services().iter().map(|t| t.name.clone()).collect(),
        current: Mark {
            at: f.since,
            state: f.verdict.state,
            codes: f.verdict.reason_codes.clone(),
        },
    });
    let days = p.days();
    let answers = match &s.history {
        None => Answers::NoHistory,
        Some(h) => {
            let from = history_page::days(now, &snapshot.zone, days)
                .first()
                .map_or(now, |(_, start, _)| *start);
            let loaded = async {
                let recorded = timeline::load(h, Subject::Floor, from).await?;
                // Maintenance is in no state's share, as on `/api/v1/slo`. Windows
                // that cannot be read (a reload racing a broken edit) leave nothing
                // out, and say so in the log.
                let windows = maintenance::windows_in_force(&s.floor).unwrap_or_else(|e| {
                    tracing::error!(error = %e, "maintenance windows not read for /history");
                    Vec::new()
                });
                let excluded =
                    |subject: &Subject| maintenance::excluded(&windows, subject, from, now);
                let slo = h
                    .slo_excluding(from, now, &snapshot.calendar, excluded)
                    .await?;
                Ok((recorded, slo))
            };
            Answers::Loaded(loaded.await)
        }
    };
    html(
        StatusCode::OK,
        history_page::render(&snapshot, answers, now, days, &viewer(&s, &p)),
    )
}

/// The report page for `state` at `now` (see [`report_page::render`]).
///
/// # Errors
/// When the template cannot be rendered.
pub fn report_page(
    state: &opsfloor_engine::FloorState,
    windows: &[opsfloor_alerts::MaintenanceWindow],
    now: Timestamp,
    viewer: &Viewer,
) -> Result<String, askama::Error> {
    report_page::render(state, windows, now, viewer)
}

/// `GET /report`.
pub async fn report(AxumState(s): AxumState<ApiState>, Query(p): Query<Params>) -> Response {
    let now = s.floor.now();
    let viewer = viewer(&s, &p);
    let windows = maintenance::windows_or_none(&s.floor);
    let body = s.floor.read(|f| report_page(f, &windows, now, &viewer));
    html(StatusCode::OK, body)
}
