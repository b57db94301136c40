//! Probe configuration, from code or from the environment.
//!
//! The environment variables are the ones the Python services already use, so a
//! deployment keeps its settings:
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `SERVICE_NAME` | `service_name` | required |
//! | `SERVICE_KIND` | `marketdata`, `strategy`, `execution`, `ingest` or `ops` | required |
//! | `REPO_ID` | `repo_id` | required |
//! | `AGENT_NAME` | `agent_identity.agent_name` | `SERVICE_NAME` |
//! | `AGENT_ROLE` | `agent_identity.agent_role` | `SERVICE_KIND` |
//! | `AGENT_MODE` | `agent_identity.agent_mode` | none |
//! | `GIT_SHA`, `BUILD_ID` | build information | none |
//! | `OPS_HEARTBEAT_TTL_S` | heartbeat TTL, seconds | 60 |
//! | `MARKETDATA_STALE_THRESHOLD_S` | stale threshold, seconds | 120 |
//! | `EXECUTION_ENABLED` | flag | unknown |
//! | `EXECUTION_REPLICAS` | integer ≥ 0 | unknown |
//! | `EXECUTION_HALTED` | flag: kill switch engaged | off |
//! | `EXECUTION_HALTED_FILE` | file whose first line engages the kill switch | none |
//! | `OPS_HEARTBEAT_FILE` | file whose modification time is the last heartbeat (cron jobs) | none |
//! | `OPS_ORDERS_PERMITTED` | flag: this deployment may execute orders | off |
//! | `OPS_CALENDAR` | a calendar name (`XNYS`, `XTKS`, `CMES`, `FX`, `always-open`, ...; `nyse` is an alias) | `XNYS` |
//! | `OPS_SESSIONS` | `regular` or `extended` (pre-market and after-hours count as open; XNYS only) | `regular` |
//! | `OPS_CALENDAR_OVERRIDES` | the operators' overrides file, re-read when it changes | none |
//!
//! Flags accept `1 true yes on` / `0 false no off` in any case. An empty variable is
//! unset. A malformed value is an error naming the variable, at startup.

use std::path::PathBuf;

use opsfloor_contract::calendar::Overrides;
use opsfloor_contract::{Calendar, CalendarError, Identity, ServiceConfig, ServiceKind, Sessions};

use crate::calendar_file::CalendarFile;
use crate::kill_switch::{KillSwitchSource, parse_flag};

/// Everything a probe needs to know that does not change while it runs.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    /// Identity, thresholds and the order-execution policy.
    pub service: ServiceConfig,
    /// Where the kill switch is read from.
    pub kill_switch: KillSwitchSource,
    /// `EXECUTION_ENABLED` at startup (can be changed at run time).
    pub execution_enabled: Option<bool>,
    /// `EXECUTION_REPLICAS` at startup (can be changed at run time).
    pub execution_replicas: Option<i64>,
    /// A file whose modification time counts as a heartbeat (for cron-style jobs).
    pub heartbeat_file: Option<PathBuf>,
    /// The market calendar (at start, with the overrides file applied).
    pub calendar: Calendar,
    /// The overrides file to keep `calendar` in step with, if one is named.
    pub calendar_file: Option<CalendarFile>,
}

/// A variable with a value the probe cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}{}: {problem}", value.as_ref().map(|v| format!("={v:?}")).unwrap_or_default())]
pub struct ConfigError {
    /// The variable's name.
    pub variable: &'static str,
    /// Its value, if it had one.
    pub value: Option<String>,
    /// What is wrong with it.
    pub problem: String,
}

impl ProbeConfig {
    /// A configuration with every default for this identity.
    pub fn new(identity: Identity) -> ProbeConfig {
        ProbeConfig {
            service: ServiceConfig::new(identity),
            kill_switch: KillSwitchSource::default(),
            execution_enabled: None,
            execution_replicas: None,
            heartbeat_file: None,
            calendar: Calendar::nyse(),
            calendar_file: None,
        }
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<ProbeConfig, ConfigError> {
        ProbeConfig::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<ProbeConfig, ConfigError> {
        let vars = Vars(&lookup);
        let service_name = vars.required("SERVICE_NAME")?;
        let kind_text = vars.required("SERVICE_KIND")?;
        let service_kind = ServiceKind::from_wire(&kind_text).ok_or_else(|| ConfigError {
            variable: "SERVICE_KIND",
            value: Some(kind_text.clone()),
            problem: format!(
                "expected one of {}",
                ServiceKind::ALL
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })?;
        let identity = Identity {
            agent_name: vars
                .optional("AGENT_NAME")
                .unwrap_or_else(|| service_name.clone()),
            agent_role: Some(
                vars.optional("AGENT_ROLE")
                    .unwrap_or_else(|| kind_text.clone()),
            ),
            agent_mode: vars.optional("AGENT_MODE"),
            service_name,
            service_kind,
            repo_id: vars.required("REPO_ID")?,
            git_sha: vars.optional("GIT_SHA"),
            build_id: vars.optional("BUILD_ID"),
        };
        let mut config = ProbeConfig::new(identity);
        if let Some(ttl) = vars.seconds("OPS_HEARTBEAT_TTL_S")? {
            config.service.heartbeat_ttl_seconds = ttl;
        }
        if let Some(threshold) = vars.seconds("MARKETDATA_STALE_THRESHOLD_S")? {
            config.service.stale_threshold_seconds = threshold;
        }
        config.service.orders_permitted = vars.flag("OPS_ORDERS_PERMITTED")?.unwrap_or(false);
        config.execution_enabled = vars.flag("EXECUTION_ENABLED")?;
        config.execution_replicas = vars.replicas("EXECUTION_REPLICAS")?;
        config.kill_switch = KillSwitchSource {
            fixed: vars.flag("EXECUTION_HALTED")?.unwrap_or(false),
            file: vars.optional("EXECUTION_HALTED_FILE").map(PathBuf::from),
        };
        config.heartbeat_file = vars.optional("OPS_HEARTBEAT_FILE").map(PathBuf::from);
        calendar(&vars, &mut config)?;
        Ok(config)
    }
}

/// `OPS_CALENDAR`, `OPS_SESSIONS` and `OPS_CALENDAR_OVERRIDES`.
fn calendar<F: Fn(&str) -> Option<String>>(
    vars: &Vars<'_, F>,
    config: &mut ProbeConfig,
) -> Result<(), ConfigError> {
    let name = vars.optional("OPS_CALENDAR");
    let hours = match vars.optional("OPS_SESSIONS") {
        None => Sessions::Regular,
        Some(word) => Sessions::parse(&word)
            .ok_or_else(|| vars.bad("OPS_SESSIONS", word, "expected regular or extended"))?,
    };
    let base = name.as_deref().unwrap_or("XNYS");
    config.calendar = Calendar::by_name_with(base, hours, &Overrides::default()).map_err(|e| {
        let variable = if matches!(e, CalendarError::NoExtendedHours(_)) {
            "OPS_SESSIONS"
        } else {
            "OPS_CALENDAR"
        };
        ConfigError {
            variable,
            value: vars.optional(variable),
            problem: e.to_string(),
        }
    })?;
    if let Some(path) = vars.optional("OPS_CALENDAR_OVERRIDES") {
        let file = CalendarFile {
            path: PathBuf::from(&path),
            calendar: config.calendar.name().to_owned(),
        };
        config.calendar = file
            .load()
            .map_err(|problem| vars.bad("OPS_CALENDAR_OVERRIDES", path, &problem))?;
        config.calendar_file = Some(file);
    }
    Ok(())
}

/// Typed access to variables, each error naming its variable.
struct Vars<'a, F: Fn(&str) -> Option<String>>(&'a F);

impl<F: Fn(&str) -> Option<String>> Vars<'_, F> {
    /// The value, with surrounding blanks removed; empty counts as unset.
    fn optional(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.optional(name).ok_or_else(|| ConfigError {
            variable: name,
            value: None,
            problem: "is required and not set".into(),
        })
    }

    fn bad(&self, name: &'static str, value: String, problem: &str) -> ConfigError {
        ConfigError {
            variable: name,
            value: Some(value),
            problem: problem.into(),
        }
    }

    fn flag(&self, name: &'static str) -> Result<Option<bool>, ConfigError> {
        match self.optional(name) {
            None => Ok(None),
            Some(v) => parse_flag(&v).map(Some).ok_or_else(|| {
                self.bad(
                    name,
                    v,
                    "expected a flag: 1, true, yes, on or 0, false, no, off",
                )
            }),
        }
    }

    fn seconds(&self, name: &'static str) -> Result<Option<f64>, ConfigError> {
        match self.optional(name) {
            None => Ok(None),
            Some(v) => match v.parse::<f64>() {
                Ok(s) if s.is_finite() && s > 0.0 => Ok(Some(s)),
                _ => Err(self.bad(name, v, "expected a positive number of seconds, such as 60")),
            },
        }
    }

    fn replicas(&self, name: &'static str) -> Result<Option<i64>, ConfigError> {
        match self.optional(name) {
            None => Ok(None),
            Some(v) => match v.parse::<i64>() {
                Ok(n) if n >= 0 => Ok(Some(n)),
                _ => Err(self.bad(name, v, "expected a whole number of replicas, 0 or more")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<ProbeConfig, ConfigError> {
        let mut env: HashMap<String, String> = [
            ("SERVICE_NAME", "md"),
            ("SERVICE_KIND", "marketdata"),
            ("REPO_ID", "r/x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in pairs {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
        ProbeConfig::from_lookup(|k| env.get(k).cloned())
    }

    #[test]
    fn defaults_and_values() {
        let c = config(&[]).expect("valid");
        assert_eq!(c.service.identity.agent_name, "md");
        assert_eq!(c.service.identity.agent_role.as_deref(), Some("marketdata"));
        assert_eq!(c.service.heartbeat_ttl_seconds, 60.0);
        assert_eq!(c.service.stale_threshold_seconds, 120.0);
        assert!(!c.service.orders_permitted);
        assert_eq!(c.kill_switch, KillSwitchSource::default());
        let c = config(&[
            ("OPS_HEARTBEAT_TTL_S", "30"),
            ("MARKETDATA_STALE_THRESHOLD_S", "7.5"),
            ("EXECUTION_ENABLED", "No"),
            ("EXECUTION_REPLICAS", "0"),
            ("EXECUTION_HALTED", "ON"),
            ("EXECUTION_HALTED_FILE", "/run/halt"),
            ("GIT_SHA", " abc123 "),
            ("BUILD_ID", ""),
        ])
        .expect("valid");
        assert_eq!(c.service.heartbeat_ttl_seconds, 30.0);
        assert_eq!(c.service.stale_threshold_seconds, 7.5);
        assert_eq!(
            (c.execution_enabled, c.execution_replicas),
            (Some(false), Some(0))
        );
        assert!(c.kill_switch.fixed);
        assert_eq!(c.kill_switch.file, Some(PathBuf::from("/run/halt")));
        assert_eq!(c.service.identity.git_sha.as_deref(), Some("abc123"));
        assert_eq!(c.service.identity.build_id, None);
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = config(&[("EXECUTION_REPLICAS", "abc")]).expect_err("abc");
        assert_eq!(e.variable, "EXECUTION_REPLICAS");
        assert_eq!(
            e.to_string(),
            "EXECUTION_REPLICAS=\"abc\": expected a whole number of replicas, 0 or more"
        );
        assert_eq!(
            config(&[("EXECUTION_REPLICAS", "-1")])
                .expect_err("neg")
                .variable,
            "EXECUTION_REPLICAS"
        );
        assert_eq!(
            config(&[("EXECUTION_HALTED", "maybe")])
                .expect_err("flag")
                .variable,
            "EXECUTION_HALTED"
        );
        assert_eq!(
            config(&[("OPS_HEARTBEAT_TTL_S", "0")])
                .expect_err("ttl")
                .variable,
            "OPS_HEARTBEAT_TTL_S"
        );
        assert_eq!(
            config(&[("OPS_HEARTBEAT_TTL_S", "NaN")])
                .expect_err("ttl")
                .variable,
            "OPS_HEARTBEAT_TTL_S"
        );
        assert_eq!(
            config(&[("SERVICE_KIND", "risk")])
                .expect_err("kind")
                .variable,
            "SERVICE_KIND"
        );
        assert_eq!(
            config(&[("OPS_CALENDAR", "lse")])
                .expect_err("cal")
                .variable,
            "OPS_CALENDAR"
        );
        let e = config(&[("SERVICE_NAME", " ")]).expect_err("empty name");
        assert_eq!(e.to_string(), "SERVICE_NAME: is required and not set");
    }

    #[test]
    fn calendars_sessions_and_the_overrides_file() {
        let c = config(&[("OPS_CALENDAR", "xtks")]).expect("valid");
        assert_eq!(c.calendar.name(), "XTKS");
        assert!(c.calendar_file.is_none());
        let c = config(&[("OPS_SESSIONS", "extended")]).expect("valid");
        assert_eq!(c.calendar.name(), "XNYS extended");
        let e = config(&[("OPS_CALENDAR", "XTKS"), ("OPS_SESSIONS", "extended")])
            .expect_err("XTKS has no extended hours");
        assert_eq!(e.variable, "OPS_SESSIONS");
        assert!(e.to_string().contains("XTKS"), "{e}");
        let e = config(&[("OPS_SESSIONS", "overnight")]).expect_err("bad word");
        assert_eq!(e.variable, "OPS_SESSIONS");

        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("overrides.toml");
        std::fs::write(
            &path,
            "[[closures]]\ncalendar = \"XTKS\"\ndate = \"1900-01-02\"\n",
        )
        .expect("write");
        let file = path.to_string_lossy().into_owned();
        let e = config(&[("OPS_CALENDAR_OVERRIDES", &file)]).expect_err("bad file");
        assert_eq!(e.variable, "OPS_CALENDAR_OVERRIDES");
        assert!(e.problem.contains("overrides.toml:"), "{e}");
        std::fs::write(
            &path,
            "[[closures]]\ncalendar = \"XNYS\"\ndate = \"2026-01-07\"\n",
        )
        .expect("write");
        let c = config(&[("OPS_CALENDAR_OVERRIDES", &file)]).expect("valid");
        let at: jiff::Timestamp = "2026-01-07T15:00:00Z".parse().expect("ts");
        assert!(
            !c.calendar.is_open(at).expect("in range"),
            "the closure applies at start"
        );
        assert_eq!(c.calendar_file.expect("kept").calendar, "XNYS");
    }
}
