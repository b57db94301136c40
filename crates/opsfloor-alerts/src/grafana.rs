//! A Grafana dashboard for the floor's `/metrics`, for `opsfloor grafana` to print.
//! Pure: options in, JSON out, byte-identical every time.
//!
//! Panels: the floor's state over time and each service's state timeline (states
//! encoded as numbers 1 to 6 in the contract's order, with value mappings back to
//! the state words and the dashboard's colours), poll latency (floor-wide p50 and
//! p99, and each service's last poll), poll lag (how late polls start), and poll
//! failures per service. The families are the server's (`opsfloor-server`'s
//! `metrics.rs`); `opsfloor_service_state` carries only the series of the state a
//! service is in, so the state queries never rely on zeros. The Prometheus data source is a dashboard variable
//! (`${datasource}`), so the file imports anywhere.

use opsfloor_contract::State;
use serde_json::{Value, json};

/// What the dashboard is built for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardOptions {
    /// The Prometheus job that scrapes the floor.
    pub job: String,
    /// The dashboard's title.
    pub title: String,
    /// The dashboard's stable uid (Grafana keys imports by it).
    pub uid: String,
}

impl Default for DashboardOptions {
    fn default() -> Self {
        DashboardOptions {
            job: "opsfloor".to_owned(),
            title: "opsfloor: trading floor".to_owned(),
            uid: "opsfloor-floor".to_owned(),
        }
    }
}

/// The state's number on the panels: its position in [`State::ALL`], from 1.
fn code(state: State) -> usize {
    State::ALL
        .iter()
        .position(|s| *s == state)
        .map_or(0, |i| i + 1)
}

/// The dashboard's colour for each state (Grafana colour names).
fn colour(state: State) -> &'static str {
    match state {
        State::Ok => "green",
        State::Degraded => "yellow",
        State::Halted => "red",
        State::MarketClosed => "blue",
        State::Offline => "purple",
        State::Unknown => "orange",
    }
}

/// PromQL for a state code per `by` group: for each state `s`, `code(s)` where the
/// family's series for `s` is 1, joined with `or`. Works whether the family is
/// fully one-hot (the floor's, with zeros) or carries only the current state's
/// series (the services'): the `== 1` filter drops zeros, and `or` takes, per
/// group, the one state left.
pub fn state_code_expr(metric: &str, job: &str, by: &str) -> String {
    let job = serde_json::to_string(job).unwrap_or_else(|_| "\"\"".to_owned());
    State::ALL
        .iter()
        .map(|s| {
            format!(
                "{} * (max by ({by}) ({metric}{{job={job}, state=\"{}\"}} == 1))",
                code(*s),
                s.as_str()
            )
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

fn state_mappings() -> Value {
    let options: serde_json::Map<String, Value> = State::ALL
        .iter()
        .map(|s| {
            (
                code(*s).to_string(),
                json!({ "text": s.as_str(), "color": colour(*s), "index": code(*s) - 1 }),
            )
        })
        .collect();
    json!([{ "type": "value", "options": options }])
}

fn datasource() -> Value {
    json!({ "type": "prometheus", "uid": "${datasource}" })
}

fn target(expr: String, legend: &str, ref_id: &str) -> Value {
    json!({
        "datasource": datasource(),
        "expr": expr,
        "legendFormat": legend,
        "refId": ref_id,
    })
}

/// One panel at a grid position (24 columns wide).
fn panel(
    id: u32,
    kind: &str,
    title: &str,
    grid: (u32, u32, u32, u32),
    targets: Vec<Value>,
) -> Value {
    let (x, y, w, h) = grid;
    json!({
        "id": id,
        "type": kind,
        "title": title,
        "datasource": datasource(),
        "gridPos": { "x": x, "y": y, "w": w, "h": h },
        "targets": targets,
    })
}

fn state_panel(id: u32, title: &str, y: u32, h: u32, expr: String, legend: &str) -> Value {
    let mut p = panel(
        id,
        "state-timeline",
        title,
        (0, y, 24, h),
        vec![target(expr, legend, "A")],
    );
    p["fieldConfig"] = json!({
        "defaults": { "mappings": state_mappings(), "color": { "mode": "thresholds" } },
        "overrides": [],
    });
    p["options"] = json!({ "showValue": "never", "mergeValues": true });
    p
}

fn series_panel(
    id: u32,
    title: &str,
    grid: (u32, u32, u32, u32),
    unit: &str,
    targets: Vec<Value>,
) -> Value {
    let mut p = panel(id, "timeseries", title, grid, targets);
    p["fieldConfig"] = json!({ "defaults": { "unit": unit }, "overrides": [] });
    p
}

/// The dashboard's panels, top to bottom.
fn panels(job: &str) -> Vec<Value> {
    let j = serde_json::to_string(job).unwrap_or_else(|_| "\"\"".to_owned());
    let quantile = |family: &str, q: &str| {
        format!("histogram_quantile({q}, sum by (le) (rate({family}_bucket{{job={j}}}[5m])))")
    };
    let latency = "opsfloor_poll_latency_seconds";
    let lag = "opsfloor_poll_lag_seconds";
    vec![
        state_panel(
            1,
            "Floor state",
            0,
            4,
            state_code_expr("opsfloor_floor_state", job, "instance"),
            "{{instance}}",
        ),
        state_panel(
            2,
            "Service states",
            4,
            10,
            state_code_expr("opsfloor_service_state", job, "service"),
            "{{service}}",
        ),
        series_panel(
            3,
            "Poll latency",
            (0, 14, 12, 8),
            "s",
            vec![
                target(quantile(latency, "0.5"), "p50", "A"),
                target(quantile(latency, "0.99"), "p99", "B"),
                target(
                    format!("opsfloor_service_latency_seconds{{job={j}}}"),
                    "last {{service}}",
                    "C",
                ),
            ],
        ),
        series_panel(
            4,
            "Poll lag (how late polls start)",
            (12, 14, 12, 8),
            "s",
            vec![
                target(quantile(lag, "0.5"), "p50", "A"),
                target(quantile(lag, "0.99"), "p99", "B"),
            ],
        ),
        series_panel(
            5,
            "Poll failures",
            (0, 22, 24, 8),
            "reqps",
            vec![target(
                format!(
                    "sum by (service) (rate(opsfloor_service_poll_failures_total{{job={j}}}[5m]))"
                ),
                "{{service}}",
                "A",
            )],
        ),
    ]
}

/// The dashboard as a JSON value (Grafana's dashboard model, schema version 39).
pub fn grafana_dashboard(o: &DashboardOptions) -> Value {
    json!({
        "uid": o.uid,
        "title": o.title,
        "tags": ["opsfloor"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": true,
        "refresh": "10s",
        "time": { "from": "now-6h", "to": "now" },
        "templating": { "list": [{
            "name": "datasource",
            "label": "Prometheus",
            "type": "datasource",
            "query": "prometheus",
        }]},
        "annotations": { "list": [] },
        "panels": panels(&o.job),
    })
}

/// The dashboard as pretty-printed JSON text with a final newline.
pub fn grafana_dashboard_json(o: &DashboardOptions) -> String {
    let mut text = serde_json::to_string_pretty(&grafana_dashboard(o)).unwrap_or_default();
    text.push('\n');
    text
}
