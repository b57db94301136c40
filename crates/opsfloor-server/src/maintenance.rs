//! `GET /api/v1/maintenance?window=7d`: the inventory's maintenance windows that are
//! open now and those starting within `window` (7 days by default), by start; and
//! the stretches the SLO leaves out of a subject's time ([`excluded`]).
//!
//! The windows are read from the inventory in force, so they follow every reload.
//! Only the small `[[maintenance]]` section is copied out of the floor's lock; it is
//! parsed outside it. The inventory was checked when it was loaded, so a parse
//! error here means a reload raced with a broken edit: it answers 500 with the
//! problem rather than an empty list that would say "no maintenance".

use axum::extract::{RawQuery, State as AxumState};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::Timestamp;
use opsfloor_alerts::maintenance::listing;
use opsfloor_alerts::{MaintenanceWindow, Scope, WindowView};
use opsfloor_contract::UtcTimestamp;
use opsfloor_contract::time::format_timestamp;
use opsfloor_engine::Subject;
use opsfloor_engine::view::{FloorView, MaintenanceBadge, ServiceView};
use serde::Serialize;

use crate::alerting::AlertingError;
use crate::api::{ApiState, error, json, query_error};
use crate::floor::Floor;
use crate::query::Params;

/// The answer: when it was asked, how far ahead it looks, and the windows.
#[derive(Debug, Serialize)]
struct MaintenanceBody {
    /// The floor's clock when it answered.
    now_utc: String,
    /// The `window` asked for (`7d`).
    window: String,
    /// Open now (`active`), or starting before `now + window`, by start.
    windows: Vec<WindowView>,
}

/// The handler.
pub(crate) async fn list(AxumState(s): AxumState<ApiState>, RawQuery(raw): RawQuery) -> Response {
    let (window, horizon) =
        match Params::parse(raw.as_deref(), &["window"]).and_then(|p| p.window("7d")) {
            Ok(w) => w,
            Err(e) => return query_error(&e),
        };
    let now = s.floor.now();
    match windows_in_force(&s.floor) {
        Ok(windows) => json(
            StatusCode::OK,
            &MaintenanceBody {
                now_utc: format_timestamp(now),
                window,
                windows: listing(&windows, now, horizon),
            },
        ),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// Whether `window` covers a service (`None`: the floor): a `floor = true` window
/// covers the floor and every service, a services window only those services.
fn covers(window: &MaintenanceWindow, service: Option<&str>) -> bool {
    match (&window.scope, service) {
        (Scope::Floor, _) => true,
        (Scope::Services(names), Some(name)) => names.iter().any(|n| n == name),
        (Scope::Services(_), None) => false,
    }
}

/// The occurrences, within `[from, to)`, of the windows covering `subject`. What
/// `/api/v1/slo` and `/history` leave out.
pub fn excluded(
    windows: &[MaintenanceWindow],
    subject: &Subject,
    from: Timestamp,
    to: Timestamp,
) -> Vec<(Timestamp, Timestamp)> {
    windows
        .iter()
        .filter(|w| covers(w, subject.service_name()))
        .flat_map(|w| w.occurrences(from, to))
        .collect()
}

/// The badge of the first window (in file order) open at `now` over a service
/// (`None`: the floor).
pub fn badge(
    windows: &[MaintenanceWindow],
    service: Option<&str>,
    now: Timestamp,
) -> Option<MaintenanceBadge> {
    windows.iter().filter(|w| covers(w, service)).find_map(|w| {
        let (start, end) = w.occurrence(now)?;
        (start <= now).then(|| MaintenanceBadge {
            note: w.note.clone(),
            until_utc: UtcTimestamp(end),
        })
    })
}

/// Sets the badge of every view (and of the floor, if given) from the windows in
/// force on `floor` at `now`.
pub fn badge_views(
    floor: &Floor,
    now: Timestamp,
    services: &mut [ServiceView],
    floor_view: Option<&mut FloorView>,
) {
    let windows = windows_or_none(floor);
    if windows.is_empty() {
        return;
    }
    for view in services {
        view.maintenance = badge(&windows, Some(&view.service_name), now);
    }
    if let Some(view) = floor_view {
        view.maintenance = badge(&windows, None, now);
    }
}

/// The windows in force, or none when they cannot be read (a reload racing a
/// broken edit): the views still answer, without badges, and the log says why.
pub fn windows_or_none(floor: &Floor) -> Vec<MaintenanceWindow> {
    windows_in_force(floor).unwrap_or_else(|e| {
        tracing::error!(error = %e, "maintenance windows not read: no badges");
        Vec::new()
    })
}

/// The `[[maintenance]]` windows of the inventory in force: only the small section
/// is copied out of the floor's lock, and it is parsed outside it.
///
/// # Errors
/// The section does not parse: only when a reload raced with a broken edit, since
/// the inventory was checked when it was loaded.
pub fn windows_in_force(floor: &Floor) -> Result<Vec<MaintenanceWindow>, AlertingError> {
    let (source, section) =
        floor.read(|f| (f.inventory.source.clone(), f.inventory.maintenance.clone()));
    crate::alerting::windows_in(&source, section.as_ref())
}
