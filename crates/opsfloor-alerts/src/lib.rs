//! Alerts that stay calm: pages only for what needs a person, never for the expected.
//!
//! A functional core with thin shells, like the rest of opsfloor:
//!
//! - **Rules** ([`rules`], pure): [`alert_for`] turns one [`Observation`] (the floor
//!   or a service, its displayed state and reasons, whether its market is open,
//!   whether a maintenance window covers it) into an [`Alert`] or nothing. `OK`,
//!   `MARKET_CLOSED`, `OFFLINE [EXECUTION_DISABLED]`, optional services and anything
//!   in maintenance never alert. Severity is `page` for a critical reason and
//!   `ticket` otherwise; a page becomes a ticket while the market is closed
//!   (`page_only_when_market_open`), except for a kill switch.
//! - **Book** ([`book`], pure): [`AlertBook`] keeps what is firing and turns each
//!   observation into [`Change`]s (fired, resolved), each with a deterministic
//!   fingerprint (labels + `startsAt`) and idempotency key. It reads no clock: the
//!   wall-clock instant is a parameter.
//! - **Maintenance windows** ([`maintenance`], pure): one-off (RFC 3339) or weekly
//!   in a venue's time zone; [`MaintenanceWindow::is_in_window`].
//! - **Configuration** ([`config`]): `[alerts]`, `[[alerts.alertmanager]]`,
//!   `[[alerts.webhook]]`; [`AlertsConfig::resolve`] reads secrets from the
//!   environment and names the field of every problem.
//! - **Sinks** (the shells): [`AlertmanagerSink`] posts to Alertmanager's API v2 as
//!   Prometheus does (resend every interval with `endsAt` ahead, resolved with
//!   `endsAt` = when it resolved, several Alertmanagers, a failing one retried with
//!   the current picture); [`WebhookSink`] posts one signed JSON body per change,
//!   retried with exponential backoff and full jitter. Both speak `https`
//!   ([`tls`]: the system's roots plus `[alerts] ca_file`).
//!
//! - **Generators** (pure, for `opsfloor rules` and `opsfloor grafana`):
//!   [`prometheus_rules`] (alerting and recording rules over the floor's
//!   `/metrics`) and [`grafana_dashboard`].
//! - **Watchdog**: [`watchdog_alert`] fires `OpsfloorWatchdog` while polling
//!   completes cycles and stops after [`STALLED_AFTER_INTERVALS`] stalled intervals;
//!   route it to a dead man's switch.
//!
//! # Routing in Alertmanager
//!
//! `examples/alertmanager.yml` (checked by `amtool` and routed by a real
//! Alertmanager in the tests) sends `severity="page"` to the pager, everything else
//! to tickets, the watchdog to a dead man's switch, and inhibits a service's alert
//! while its floor is halted for the same reason. Because opsfloor downgrades pages
//! while the market is closed (kill switch excepted), the pager gets only critical
//! problems during market hours.
//!
//! # Maintenance windows
//!
//! `[[maintenance]]` tables with `services = [...]` or `floor = true`, `start` and
//! `end` as RFC 3339 instants or weekly `"sat 06:00"` times with a `timezone`, and a
//! `note`: see [`maintenance`].
//!
//! # The webhook signature
//!
//! `X-Opsfloor-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`,
//! plus `Idempotency-Key: <fingerprint>-<firing|resolved>`. Verify with
//! [`webhook::verify`]: recompute the MAC over the raw body, compare in constant
//! time, and refuse a `t` far from your clock. See [`webhook`] for the body.
//!
//! # Limits of this version
//!
//! - No durable outbox yet: a change that exhausts a webhook's retries is logged
//!   and dropped, and the picture held for Alertmanager is in memory. Alertmanager
//!   is re-sent the whole picture on schedule, so after a restart it converges; the
//!   history-store outbox of the issue is not built yet.
//!
//! # Wiring (for the floor)
//!
//! ```no_run
//! # async fn wire(config: &str) -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use opsfloor_alerts::*;
//!
//! let resolved = AlertsConfig::from_toml(config)?.resolve(|k| std::env::var(k).ok())?;
//! let clock: Arc<dyn WallClock> = Arc::new(SystemClock);
//! let mut book = AlertBook::new(resolved.rules);
//! let sinks = Sinks::spawn(&resolved, clock.clone())?;
//! # let observation: Observation = todo!();
//! // On every transition of the displayed state (and the watchdog on a timer):
//! sinks.send(&book.observe(&observation, clock.now()));
//! // After an inventory reload: `book.sync(&all_observations, clock.now())`.
//! // After a restart: `AlertBook::restore(rules, stored_changes)`, then the
//! // Alertmanager sink is seeded with `book.picture()`.
//! // On shutdown:
//! sinks.shutdown(std::time::Duration::from_secs(5)).await;
//! # Ok(()) }
//! ```

pub mod alertmanager;
pub mod book;
pub mod clock;
pub mod config;
pub mod grafana;
pub mod maintenance;
pub mod prometheus;
pub mod rules;
pub mod sinks;
pub mod tls;
pub mod webhook;

pub use alertmanager::{AlertmanagerSettings, AlertmanagerSink, AlertmanagerTarget};
pub use book::{AlertBook, Change, Firing, Status, fingerprint};
pub use clock::{SystemClock, WallClock};
pub use config::{AlertsConfig, ConfigErrors, ConfigProblem, ResolvedAlerts};
pub use grafana::{DashboardOptions, grafana_dashboard, grafana_dashboard_json};
pub use maintenance::{MaintenanceWindow, Schedule, Scope, WindowView};
pub use prometheus::{RulesOptions, prometheus_rules};
pub use rules::{
    Alert, AlertSettings, FLOOR_ALERT, Observation, SERVICE_ALERT, STALLED_AFTER_INTERVALS,
    Severity, Subject, WATCHDOG_ALERT, alert_for, is_calm, severity_of, watchdog_alert,
};
pub use sinks::Sinks;
pub use tls::{ClientError, Tls};
pub use webhook::{
    Backoff, Jitter, RandomJitter, WebhookError, WebhookFormat, WebhookSink, WebhookTarget,
};
