//! Alerts that stay calm.

pub mod alertmanager;
pub mod book;
pub mod clock;
pub mod config;
pub mod maintenance;
pub mod rules;
pub mod webhook;

pub use alertmanager::{AlertmanagerSettings, AlertmanagerSink, AlertmanagerTarget};
pub use book::{AlertBook, Change, Firing, Status, fingerprint};
pub use clock::{SystemClock, WallClock};
pub use config::{AlertsConfig, ConfigErrors, ConfigProblem, ResolvedAlerts};
pub use maintenance::{MaintenanceWindow, Schedule, Scope};
pub use rules::{
    Alert, AlertSettings, FLOOR_ALERT, Observation, SERVICE_ALERT, Severity, Subject, alert_for,
    is_calm, severity_of,
};
pub use webhook::{
    Backoff, Jitter, RandomJitter, WebhookError, WebhookFormat, WebhookSink, WebhookTarget,
};
