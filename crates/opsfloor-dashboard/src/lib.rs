//! The calm Trading Floor dashboard: server-rendered pages that the floor serves next
//! to its API (`opsfloor serve` mounts [`pages`]).
//!
//! | path | what |
//! |---|---|
//! | `/` | the floor: the banner (state, reason, since when, the market) and every service by kind |
//! | `/services/{name}` | one service: identity, build, freshness, safety gates, last document, 24 h strip |
//! | `/history` | the floor's states day by day, and each service's share of market hours by state |
//! | `/report` | the deployment report: the banner, top issues once each, every service, downloads |
//! | `/assets/{name}` | the stylesheet, script and icon, embedded, named by content hash |
//!
//! Every page works without JavaScript (the floor page refreshes itself every 10 s);
//! with it, the floor page follows the live stream (`/api/v1/stream`) and changes
//! text and classes in place. Pages are rendered from the API's own views
//! ([`opsfloor_server::view`]) with askama templates (compiled, escaping by default),
//! and the same state and clock always render the same bytes. Any page takes
//! `?kiosk=1` for a wall screen: larger type, no navigation.

pub mod assets;
pub mod chrome;
pub mod clock;
pub mod floor_page;
pub mod history_page;
pub mod maintenance;
pub mod report_page;
pub mod routes;
pub mod service_page;
pub mod strip;
pub mod timeline;
pub mod words;

#[cfg(test)]
mod contrast;

use axum::Router;
use axum::routing::get;
use jiff::Timestamp;
use opsfloor_engine::FloorState;
use opsfloor_server::api::ApiState;

use crate::chrome::Viewer;

/// The dashboard's routes, to be merged next to the floor's API
/// (`ServeConfig { pages: Some(Arc::new(opsfloor_dashboard::pages)), .. }`).
///
/// Every answer carries the pages' headers, set here once: the content security
/// policy, no referrer, no sniffing and, unless a route says otherwise (the
/// content-hashed assets), no caching.
pub fn pages(state: ApiState) -> Router {
    use axum::http::{HeaderValue, header};
    use tower_http::set_header::SetResponseHeaderLayer;
    let fixed =
        |name, value| SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value));
    Router::new()
        .route("/", get(routes::floor))
        .route("/services/{name}", get(routes::service))
        .route("/history", get(routes::history))
        .route("/report", get(routes::report))
        .route("/assets/{name}", get(assets::serve))
        .with_state(state)
        .layer(fixed(header::CONTENT_SECURITY_POLICY, routes::CSP))
        .layer(fixed(header::REFERRER_POLICY, "no-referrer"))
        .layer(fixed(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// The floor page for `state` at `now`, as served at `/` (`kiosk`: `?kiosk=1`).
///
/// # Errors
/// When the template cannot be rendered (it always can: its values are plain text).
pub fn render_floor(
    state: &FloorState,
    now: Timestamp,
    kiosk: bool,
) -> Result<String, askama::Error> {
    let snapshot = floor_page::Snapshot::of(state, now);
    let viewer = Viewer {
        kiosk,
        ..Viewer::default()
    };
    floor_page::render(&snapshot, now, &viewer)
}

/// The report page for `state` at `now`, as served at `/report`, with the badges
/// of the maintenance `windows` open at `now`.
///
/// # Errors
/// When the template cannot be rendered.
pub fn render_report(
    state: &FloorState,
    windows: &[opsfloor_alerts::MaintenanceWindow],
    now: Timestamp,
) -> Result<String, askama::Error> {
    routes::report_page(state, windows, now, &Viewer::default())
}
