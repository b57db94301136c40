//! `opsfloor rules` and `opsfloor grafana`: the generated Prometheus rules and
//! Grafana dashboard for the floor's `/metrics`, printed to stdout (byte-identical
//! every time, so they can be committed and diffed).

use opsfloor_alerts::{DashboardOptions, RulesOptions, grafana_dashboard_json, prometheus_rules};

use crate::cmd::write_stdout;
use crate::error::CliError;

/// Arguments of `opsfloor rules`.
#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    /// The Prometheus job that scrapes the floor (the `job` label the rules select).
    #[arg(long, default_value = "opsfloor")]
    job: String,
    /// The p99 poll-latency budget in seconds (`OpsfloorPollLatencyHigh`).
    #[arg(long, default_value_t = 0.5)]
    latency_budget: f64,
    /// The p99 poll-lag budget in seconds (`OpsfloorPollLagHigh`).
    #[arg(long, default_value_t = 1.0)]
    lag_budget: f64,
}

/// Arguments of `opsfloor grafana`.
#[derive(Debug, clap::Args)]
pub struct GrafanaArgs {
    /// The Prometheus job that scrapes the floor.
    #[arg(long, default_value = "opsfloor")]
    job: String,
    /// The dashboard's title.
    #[arg(long, default_value = "opsfloor: trading floor")]
    title: String,
    /// The dashboard's uid (Grafana keys imports by it).
    #[arg(long, default_value = "opsfloor-floor")]
    uid: String,
}

/// A budget must be a positive, finite number of seconds.
fn budget(value: f64, flag: &str) -> Result<f64, CliError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(CliError::Usage(format!(
            "{flag}: {value} is not a positive number of seconds"
        )))
    }
}

/// Prints the Prometheus alerting and recording rules (YAML, for `promtool`).
pub fn rules(args: &RulesArgs) -> Result<u8, CliError> {
    let options = RulesOptions {
        job: args.job.clone(),
        poll_latency_budget_seconds: budget(args.latency_budget, "--latency-budget")?,
        poll_lag_budget_seconds: budget(args.lag_budget, "--lag-budget")?,
        ..RulesOptions::default()
    };
    write_stdout(prometheus_rules(&options).as_bytes())?;
    Ok(0)
}

/// Prints the Grafana dashboard (JSON, for import).
pub fn grafana(args: &GrafanaArgs) -> Result<u8, CliError> {
    let options = DashboardOptions {
        job: args.job.clone(),
        title: args.title.clone(),
        uid: args.uid.clone(),
    };
    write_stdout(grafana_dashboard_json(&options).as_bytes())?;
    Ok(0)
}
