//! The `[alerts]` configuration: serde types as written, and [`AlertsConfig::resolve`]
//! turning them into the sinks' settings, with every problem named by its field.
//!
//! ```toml
//! [alerts]
//! page_only_when_market_open = true   # default true
//! resend_interval = "60s"             # default 60 s; "1m", "PT1M" work too
//! retry_interval = "1s"               # a failing Alertmanager is retried this often
//!
//! [[alerts.alertmanager]]
//! url = "http://127.0.0.1:9093"
//! bearer_token_env = "ALERTMANAGER_TOKEN"   # optional
//!
//! [[alerts.webhook]]
//! url = "https://hooks.internal/opsfloor"   # https trusts the system's roots and ca_file
//! secret_env = "OPSFLOOR_WEBHOOK_SECRET"    # required, except for format = "slack"
//! format = "json"                           # or "slack"
//! ```
//!
//! Secrets never appear in the file: only the names of the environment variables
//! holding them. `resolve` reads them through a lookup function (the process
//! environment in production, a map in tests).

use std::fmt;
use std::time::Duration;

use jiff::SignedDuration;
use serde::Deserialize;

use crate::alertmanager::{AlertmanagerSettings, AlertmanagerTarget};
use crate::rules::AlertSettings;
use crate::tls::Tls;
use crate::webhook::{WebhookFormat, WebhookTarget};

/// One problem in the configuration, at one field (e.g. `alerts.webhook[1].url`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The dotted path of the field.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// Every problem found, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigProblem>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{}: {}", p.field, p.message)?;
        }
        Ok(())
    }
}

/// `[alerts]` as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsConfig {
    /// Downgrade pages to tickets while the market is closed (except a kill switch).
    #[serde(default = "yes")]
    pub page_only_when_market_open: bool,
    /// How often firing alerts are re-sent to Alertmanager.
    pub resend_interval: Option<String>,
    /// How often a failing Alertmanager is retried.
    pub retry_interval: Option<String>,
    /// Extra CA certificates (PEM) the sinks trust for `https`, next to the
    /// system's roots. The floor resolves it against the inventory's directory.
    pub ca_file: Option<std::path::PathBuf>,
    /// `[[alerts.alertmanager]]`.
    #[serde(default)]
    pub alertmanager: Vec<AlertmanagerConfig>,
    /// `[[alerts.webhook]]`.
    #[serde(default)]
    pub webhook: Vec<WebhookConfig>,
}

fn yes() -> bool {
    true
}

/// No sinks, and pages only while the market is open: what a missing `[alerts]` means.
impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            page_only_when_market_open: true,
            resend_interval: None,
            retry_interval: None,
            ca_file: None,
            alertmanager: Vec::new(),
            webhook: Vec::new(),
        }
    }
}

/// One `[[alerts.alertmanager]]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertmanagerConfig {
    /// Its base URL.
    pub url: String,
    /// The environment variable holding a bearer token, if it wants one.
    pub bearer_token_env: Option<String>,
}

/// One `[[alerts.webhook]]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where to POST.
    pub url: String,
    /// The environment variable holding the HMAC secret.
    pub secret_env: Option<String>,
    /// `json` (default) or `slack`.
    #[serde(default)]
    pub format: FormatName,
}

/// A webhook's `format` as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormatName {
    /// The generic signed JSON body.
    #[default]
    Json,
    /// A Slack incoming-webhook message.
    Slack,
}

/// The whole document, of which only `[alerts]` is read here.
#[derive(Debug, Deserialize)]
struct Document {
    #[serde(default)]
    alerts: AlertsConfig,
}

/// `[alerts]` resolved: what the rules and the sinks are built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedAlerts {
    /// For the rules and the [`crate::AlertBook`].
    pub rules: AlertSettings,
    /// For the [`crate::AlertmanagerSink`].
    pub alertmanager: AlertmanagerSettings,
    /// Every Alertmanager, tokens read.
    pub alertmanagers: Vec<AlertmanagerTarget>,
    /// Every webhook, secrets read.
    pub webhooks: Vec<WebhookTarget>,
    /// The roots the sinks trust beyond the system's (`ca_file`).
    pub tls: Tls,
}

impl AlertsConfig {
    /// Reads `[alerts]` from a whole TOML document (other tables are ignored; unknown
    /// keys inside `[alerts]` are errors). A missing `[alerts]` is the default: no sinks.
    pub fn from_toml(text: &str) -> Result<AlertsConfig, ConfigErrors> {
        toml::from_str::<Document>(text)
            .map(|d| d.alerts)
            .map_err(|e| {
                ConfigErrors(vec![ConfigProblem {
                    field: "alerts".to_owned(),
                    message: e.to_string().trim_end().to_owned(),
                }])
            })
    }

    /// Reads the contents of an `[alerts]` table given as a standalone TOML document
    /// (its keys at the top level), as the inventory keeps it
    /// (`opsfloor_inventory::Section`). Unknown keys are errors.
    pub fn from_section(text: &str) -> Result<AlertsConfig, ConfigErrors> {
        toml::from_str::<AlertsConfig>(text).map_err(|e| {
            // The text was rewritten by the inventory, so its positions would
            // mislead: only the message is kept; the caller names the file and line.
            ConfigErrors(vec![ConfigProblem {
                field: "alerts".to_owned(),
                message: e.message().trim_end().to_owned(),
            }])
        })
    }

    /// Checks every field and reads the secrets through `env`; collects every problem.
    pub fn resolve(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ResolvedAlerts, ConfigErrors> {
        let mut problems = Vec::new();
        let defaults = AlertmanagerSettings::default();
        let resend = interval(
            self.resend_interval.as_deref(),
            "alerts.resend_interval",
            defaults.resend_interval,
            &mut problems,
        );
        let retry = interval(
            self.retry_interval.as_deref(),
            "alerts.retry_interval",
            defaults.retry_interval,
            &mut problems,
        );
        let alertmanagers = self.alertmanagers(&env, &mut problems);
        let webhooks = self.webhooks(&env, &mut problems);
        let tls = self.tls(&mut problems);
        if !problems.is_empty() {
            return Err(ConfigErrors(problems));
        }
        Ok(ResolvedAlerts {
            rules: AlertSettings {
                page_only_when_market_open: self.page_only_when_market_open,
            },
            alertmanager: AlertmanagerSettings {
                resend_interval: resend,
                retry_interval: retry,
                ..defaults
            },
            alertmanagers,
            webhooks,
            tls,
        })
    }

    /// The certificates of `ca_file`, read and checked now, so that a bad file is a
    /// configuration error at start (or a refused reload), not a failing send.
    fn tls(&self, problems: &mut Vec<ConfigProblem>) -> Tls {
        let Some(path) = &self.ca_file else {
            return Tls::default();
        };
        let read = std::fs::read(path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))
            .and_then(|pem| Tls::from_pem(path, &pem));
        read.unwrap_or_else(|message| {
            problems.push(problem("alerts.ca_file", message));
            Tls::default()
        })
    }

    /// Every `[[alerts.alertmanager]]`, tokens read.
    fn alertmanagers(
        &self,
        env: &impl Fn(&str) -> Option<String>,
        problems: &mut Vec<ConfigProblem>,
    ) -> Vec<AlertmanagerTarget> {
        let mut alertmanagers = Vec::new();
        for (i, am) in self.alertmanager.iter().enumerate() {
            let at = format!("alerts.alertmanager[{i}]");
            let url = http_url(&am.url, &format!("{at}.url"), problems);
            let token = am
                .bearer_token_env
                .as_deref()
                .and_then(|name| secret(name, &format!("{at}.bearer_token_env"), env, problems));
            if let Some(url) = url {
                alertmanagers.push(AlertmanagerTarget {
                    url,
                    bearer_token: token,
                });
            }
        }
        alertmanagers
    }

    /// Every `[[alerts.webhook]]`, secrets read.
    fn webhooks(
        &self,
        env: &impl Fn(&str) -> Option<String>,
        problems: &mut Vec<ConfigProblem>,
    ) -> Vec<WebhookTarget> {
        let mut webhooks = Vec::new();
        for (i, hook) in self.webhook.iter().enumerate() {
            let at = format!("alerts.webhook[{i}]");
            let url = http_url(&hook.url, &format!("{at}.url"), problems);
            let format = match hook.format {
                FormatName::Json => WebhookFormat::Json,
                FormatName::Slack => WebhookFormat::Slack,
            };
            let field = format!("{at}.secret_env");
            let key = match (&hook.secret_env, format) {
                (Some(name), _) => secret(name, &field, env, problems),
                (None, WebhookFormat::Slack) => None,
                (None, WebhookFormat::Json) => {
                    problems.push(problem(
                        &field,
                        "required: the environment variable holding the signing secret",
                    ));
                    None
                }
            };
            if let Some(url) = url {
                webhooks.push(WebhookTarget {
                    url,
                    secret: key.map(String::into_bytes),
                    format,
                });
            }
        }
        webhooks
    }
}

fn problem(field: &str, message: impl Into<String>) -> ConfigProblem {
    ConfigProblem {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// A positive duration of at most a day ("60s", "1m", "PT1M"), or the default.
fn interval(
    text: Option<&str>,
    field: &str,
    default: Duration,
    problems: &mut Vec<ConfigProblem>,
) -> Duration {
    let Some(text) = text else {
        return default;
    };
    let parsed = text.parse::<SignedDuration>().ok();
    match parsed.and_then(|d| Duration::try_from(d).ok()) {
        Some(d) if !d.is_zero() && d <= Duration::from_secs(86_400) => d,
        _ => {
            problems.push(problem(
                field,
                format!("{text:?} is not a duration between 1 ms and 24 h, such as \"60s\""),
            ));
            default
        }
    }
}

/// An absolute `http` or `https` URL with a host.
fn http_url(text: &str, field: &str, problems: &mut Vec<ConfigProblem>) -> Option<url::Url> {
    match url::Url::parse(text) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Some(u),
        Ok(_) => {
            problems.push(problem(field, format!("{text:?} is not an http(s) URL")));
            None
        }
        Err(e) => {
            problems.push(problem(field, format!("{text:?} is not a URL: {e}")));
            None
        }
    }
}

/// The non-empty value of environment variable `name`.
fn secret(
    name: &str,
    field: &str,
    env: &impl Fn(&str) -> Option<String>,
    problems: &mut Vec<ConfigProblem>,
) -> Option<String> {
    let valid_name = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid_name {
        problems.push(problem(
            field,
            format!("{name:?} is not an environment variable name"),
        ));
        return None;
    }
    match env(name) {
        Some(value) if !value.is_empty() => Some(value),
        _ => {
            problems.push(problem(
                field,
                format!("environment variable {name} is not set or is empty"),
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "AM_TOKEN" => Some("tok".into()),
            "HOOK_SECRET" => Some("s3cret".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn a_full_config_resolves() {
        let text = r#"
[floor]
name = "ignored here"

[alerts]
page_only_when_market_open = false
resend_interval = "30s"

[[alerts.alertmanager]]
url = "http://127.0.0.1:9093"
bearer_token_env = "AM_TOKEN"

[[alerts.alertmanager]]
url = "http://127.0.0.1:9094/"

[[alerts.webhook]]
url = "http://hooks.internal:8080/opsfloor"
secret_env = "HOOK_SECRET"

[[alerts.webhook]]
url = "http://slack-relay.internal/services/T/B/X"
format = "slack"
"#;
        let resolved = AlertsConfig::from_toml(text)
            .expect("parses")
            .resolve(env)
            .expect("valid");
        assert!(!resolved.rules.page_only_when_market_open);
        assert_eq!(
            resolved.alertmanager.resend_interval,
            Duration::from_secs(30)
        );
        assert_eq!(resolved.alertmanager.retry_interval, Duration::from_secs(1));
        assert_eq!(resolved.alertmanagers.len(), 2);
        assert_eq!(
            resolved.alertmanagers[0].bearer_token.as_deref(),
            Some("tok")
        );
        assert_eq!(resolved.webhooks[0].secret.as_deref(), Some(&b"s3cret"[..]));
        assert_eq!(resolved.webhooks[1].format, WebhookFormat::Slack);
        assert_eq!(resolved.webhooks[1].secret, None);
        let debug = format!("{resolved:?}");
        assert!(
            !debug.contains("s3cret") && !debug.contains("\"tok\""),
            "{debug}"
        );
        assert!(debug.contains("<redacted>"));
    }

    #[test]
    fn defaults_without_an_alerts_table() {
        let resolved = AlertsConfig::from_toml("[floor]\nname = \"x\"\n")
            .expect("parses")
            .resolve(env)
            .expect("valid");
        assert!(resolved.rules.page_only_when_market_open);
        assert_eq!(
            resolved.alertmanager.resend_interval,
            Duration::from_secs(60)
        );
        assert!(resolved.alertmanagers.is_empty() && resolved.webhooks.is_empty());
    }

    #[test]
    fn every_problem_names_its_field() {
        let text = r#"
[alerts]
resend_interval = "soon"
ca_file = "/nonexistent/ca.pem"

[[alerts.alertmanager]]
url = "ftp://127.0.0.1"
bearer_token_env = "MISSING"

[[alerts.webhook]]
url = "not a url"

[[alerts.webhook]]
url = "http://127.0.0.1/hook"
secret_env = "EMPTY"

[[alerts.webhook]]
url = "https://hooks.slack.com/services/T/B/X"
format = "slack"
"#;
        let errors = AlertsConfig::from_toml(text)
            .expect("parses")
            .resolve(env)
            .expect_err("invalid");
        let fields: Vec<&str> = errors.0.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "alerts.resend_interval",
                "alerts.alertmanager[0].url",
                "alerts.alertmanager[0].bearer_token_env",
                "alerts.webhook[0].url",
                "alerts.webhook[0].secret_env",
                "alerts.webhook[1].secret_env",
                "alerts.ca_file",
            ]
        );
        assert!(errors.to_string().contains(
            "alerts.alertmanager[0].bearer_token_env: environment variable MISSING is not set"
        ));
    }

    #[test]
    fn a_section_reads_like_the_table() {
        let section =
            "resend_interval = \"5s\"\n\n[[alertmanager]]\nurl = \"http://127.0.0.1:9093\"\n";
        let config = AlertsConfig::from_section(section).expect("parses");
        assert_eq!(config.resend_interval.as_deref(), Some("5s"));
        assert_eq!(config.alertmanager.len(), 1);
        let err = AlertsConfig::from_section("resend_intervall = \"1s\"\n").expect_err("typo");
        assert!(
            err.to_string()
                .starts_with("alerts: unknown field `resend_intervall`"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_are_errors() {
        let err =
            AlertsConfig::from_toml("[alerts]\nresend_intervall = \"1s\"\n").expect_err("typo");
        let text = err.to_string();
        assert!(text.contains("resend_intervall"), "{text}");
        assert!(text.starts_with("alerts: "), "{text}");
    }
}
