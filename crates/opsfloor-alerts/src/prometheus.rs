//! Prometheus alerting and recording rules for the floor's `/metrics` families, for
//! `opsfloor rules` to print. Pure: options in, YAML text out, byte-identical
//! every time.
//!
//! These complement opsfloor's own alerts: they let Prometheus notice what
//! opsfloor cannot say about itself (`up == 0`: the floor is not being scraped at
//! all) and watch the poll loop's lag, latency and failures over time. The
//! families are the server's (`opsfloor-server`'s `metrics.rs`):
//! `opsfloor_floor_state`, `opsfloor_poll_lag_seconds` and
//! `opsfloor_poll_latency_seconds` (floor-wide histograms) and
//! `opsfloor_service_poll_failures_total`.
//!
//! | alert | when | severity |
//! |---|---|---|
//! | `OpsfloorFloorNotOk` | the floor is `DEGRADED`, `HALTED`, `OFFLINE` or `UNKNOWN` for 2 minutes (a closed market is its own state, `MARKET_CLOSED`, so this holds during market hours only) | page |
//! | `OpsfloorPollLagHigh` | the p99 of how late polls start, over 5 minutes, is over budget for 10 minutes | ticket |
//! | `OpsfloorPollLatencyHigh` | the p99 poll latency over 5 minutes is over budget for 10 minutes | ticket |
//! | `OpsfloorPollFailing` | a service's polls fail more than once a minute for 10 minutes | ticket |
//! | `OpsfloorDown` | `up == 0` for the floor's scrape job for 1 minute | page |

use std::fmt::Write as _;
use std::time::Duration;

/// What the generated rules are tuned to.
#[derive(Debug, Clone, PartialEq)]
pub struct RulesOptions {
    /// The Prometheus job that scrapes the floor.
    pub job: String,
    /// How long the floor must be not OK before `OpsfloorFloorNotOk` fires.
    pub floor_not_ok_for: Duration,
    /// The p99 poll-latency budget, in seconds.
    pub poll_latency_budget_seconds: f64,
    /// The p99 poll-lag budget (how late polls start), in seconds.
    pub poll_lag_budget_seconds: f64,
}

impl Default for RulesOptions {
    fn default() -> Self {
        RulesOptions {
            job: "opsfloor".to_owned(),
            floor_not_ok_for: Duration::from_secs(120),
            poll_latency_budget_seconds: 0.5,
            poll_lag_budget_seconds: 1.0,
        }
    }
}

/// One rule, before it is written out.
struct Rule {
    /// `record` or `alert`.
    kind: &'static str,
    name: &'static str,
    expr: String,
    for_: Option<Duration>,
    severity: Option<&'static str>,
    summary: Option<String>,
    description: Option<String>,
}

/// A YAML scalar: JSON's string syntax is a valid YAML double-quoted scalar.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// A Prometheus duration: whole minutes as `2m`, else seconds as `90s`.
fn prom_duration(d: Duration) -> String {
    let secs = d.as_secs().max(1);
    if secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

fn recording(job: &str) -> Vec<Rule> {
    let record = |name, expr: String| Rule {
        kind: "record",
        name,
        expr,
        for_: None,
        severity: None,
        summary: None,
        description: None,
    };
    let p99 = |family: &str| {
        format!(
            "histogram_quantile(0.99, sum by (job, instance, le) (rate({family}_bucket{{job={job}}}[5m])))"
        )
    };
    vec![
        record(
            "opsfloor:poll_lag_seconds:p99_5m",
            p99("opsfloor_poll_lag_seconds"),
        ),
        record(
            "opsfloor:poll_latency_seconds:p99_5m",
            p99("opsfloor_poll_latency_seconds"),
        ),
        record(
            "opsfloor:service_poll_failures:rate5m",
            format!(
                "sum by (job, instance, service) (rate(opsfloor_service_poll_failures_total{{job={job}}}[5m]))"
            ),
        ),
    ]
}

fn alerting(o: &RulesOptions, job: &str) -> Vec<Rule> {
    let not_ok_for = prom_duration(o.floor_not_ok_for);
    vec![
        Rule {
            kind: "alert",
            name: "OpsfloorFloorNotOk",
            expr: format!(
                "opsfloor_floor_state{{job={job}, state=~\"DEGRADED|HALTED|OFFLINE|UNKNOWN\"}} == 1"
            ),
            for_: Some(o.floor_not_ok_for),
            severity: Some("page"),
            summary: Some(format!(
                "The trading floor at {{{{ $labels.instance }}}} has been {{{{ $labels.state }}}} for {not_ok_for}"
            )),
            description: Some(
                "Open the floor's dashboard: the floor's reason codes and the services that decided its state are there.".to_owned(),
            ),
        },
        Rule {
            kind: "alert",
            name: "OpsfloorPollLagHigh",
            expr: format!(
                "opsfloor:poll_lag_seconds:p99_5m{{job={job}}} > {}",
                o.poll_lag_budget_seconds
            ),
            for_: Some(Duration::from_secs(600)),
            severity: Some("ticket"),
            summary: Some(format!(
                "Polls at {{{{ $labels.instance }}}} start {{{{ $value | humanizeDuration }}}} late (p99), over the {} s budget",
                o.poll_lag_budget_seconds
            )),
            description: Some(
                "The floor cannot keep its poll schedule: states shown are older than the poll interval says. Check the floor's CPU and its max_in_flight against the number of services.".to_owned(),
            ),
        },
        Rule {
            kind: "alert",
            name: "OpsfloorPollLatencyHigh",
            expr: format!(
                "opsfloor:poll_latency_seconds:p99_5m{{job={job}}} > {}",
                o.poll_latency_budget_seconds
            ),
            for_: Some(Duration::from_secs(600)),
            severity: Some("ticket"),
            summary: Some(format!(
                "p99 poll latency at {{{{ $labels.instance }}}} is {{{{ $value | humanizeDuration }}}}, over the {} s budget",
                o.poll_latency_budget_seconds
            )),
            description: Some(
                "Status polls are slow: check the slowest services in opsfloor_service_latency_seconds and the floor's network path.".to_owned(),
            ),
        },
        Rule {
            kind: "alert",
            name: "OpsfloorPollFailing",
            expr: format!("opsfloor:service_poll_failures:rate5m{{job={job}}} > 1/60"),
            for_: Some(Duration::from_secs(600)),
            severity: Some("ticket"),
            summary: Some(
                "Polls of {{ $labels.service }} at {{ $labels.instance }} keep failing".to_owned(),
            ),
            description: Some(
                "The floor gets no answer from the service's status endpoint more than once a minute.".to_owned(),
            ),
        },
        Rule {
            kind: "alert",
            name: "OpsfloorDown",
            expr: format!("up{{job={job}}} == 0"),
            for_: Some(Duration::from_secs(60)),
            severity: Some("page"),
            summary: Some("Prometheus cannot scrape the opsfloor floor at {{ $labels.instance }}".to_owned()),
            description: Some(
                "Nobody is watching the floor: check that opsfloor serve runs and that its /metrics answers.".to_owned(),
            ),
        },
    ]
}

fn write_rule(out: &mut String, r: &Rule) {
    let _ = writeln!(out, "      - {}: {}", r.kind, r.name);
    let _ = writeln!(out, "        expr: {}", quoted(&r.expr));
    if let Some(d) = r.for_ {
        let _ = writeln!(out, "        for: {}", prom_duration(d));
    }
    if let Some(s) = r.severity {
        let _ = writeln!(out, "        labels:\n          severity: {}", quoted(s));
    }
    if r.summary.is_some() || r.description.is_some() {
        out.push_str("        annotations:\n");
        if let Some(s) = &r.summary {
            let _ = writeln!(out, "          summary: {}", quoted(s));
        }
        if let Some(d) = &r.description {
            let _ = writeln!(out, "          description: {}", quoted(d));
        }
    }
}

/// The rules file: a recording group and an alerting group.
pub fn prometheus_rules(o: &RulesOptions) -> String {
    // The job as a PromQL string literal (JSON's escapes are PromQL's).
    let job = quoted(&o.job);
    let mut out = String::from(
        "# Prometheus rules for opsfloor's /metrics, printed by `opsfloor rules`.\n\
         # Check them with: promtool check rules <file>\n\
         groups:\n",
    );
    for (name, rules) in [
        ("opsfloor.recording", recording(&job)),
        ("opsfloor.alerts", alerting(o, &job)),
    ] {
        let _ = writeln!(out, "  - name: {name}\n    rules:");
        for r in &rules {
            write_rule(&mut out, r);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_prometheus_durations() {
        assert_eq!(prom_duration(Duration::from_secs(120)), "2m");
        assert_eq!(prom_duration(Duration::from_secs(90)), "90s");
        assert_eq!(prom_duration(Duration::ZERO), "1s");
    }

    #[test]
    fn the_job_is_quoted_into_promql() {
        let rules = prometheus_rules(&RulesOptions {
            job: "floor \"a\"".to_owned(),
            ..RulesOptions::default()
        });
        assert!(
            rules.contains(r#"up{job=\"floor \\\"a\\\"\"} == 0"#),
            "{rules}"
        );
    }
}
