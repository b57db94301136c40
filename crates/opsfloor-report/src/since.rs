//! `--since PREVIOUS.json`: what changed since an earlier report.

use std::collections::BTreeMap;

use opsfloor_contract::State;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Report;

/// The differences between an earlier report and this one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Changes {
    /// When the earlier report was generated.
    pub previous_generated_at: String,
    /// The floor's state then, if it changed.
    pub floor: Option<StateChange>,
    /// Services whose state changed, by name.
    pub states: Vec<ServiceStateChange>,
    /// Services whose build (git sha or build id) changed.
    pub builds: Vec<BuildChange>,
    /// Services in this report but not the earlier one.
    pub added: Vec<String>,
    /// Services in the earlier report but not this one.
    pub removed: Vec<String>,
}

/// A state before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StateChange {
    /// Before.
    pub from: State,
    /// After.
    pub to: State,
}

/// One service's state change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServiceStateChange {
    /// The service.
    pub service_name: String,
    /// Before.
    pub from: State,
    /// After.
    pub to: State,
}

/// One service's build change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BuildChange {
    /// The service.
    pub service_name: String,
    /// `git_sha (build_id)` before.
    pub from: String,
    /// `git_sha (build_id)` after.
    pub to: String,
}

/// The little of an earlier report that `--since` needs (any version of the JSON).
#[derive(Debug, Deserialize)]
pub struct Previous {
    generated_at: String,
    floor: PreviousFloor,
    services: Vec<PreviousService>,
}

#[derive(Debug, Deserialize)]
struct PreviousFloor {
    status: PreviousStatus,
}

#[derive(Debug, Deserialize)]
struct PreviousStatus {
    state: State,
}

#[derive(Debug, Deserialize)]
struct PreviousService {
    service_name: String,
    status: PreviousStatus,
    #[serde(default)]
    build: Option<PreviousBuild>,
}

#[derive(Debug, Deserialize)]
struct PreviousBuild {
    git_sha: Option<String>,
    build_id: Option<String>,
}

fn build_text(git_sha: Option<&str>, build_id: Option<&str>) -> String {
    format!("{} ({})", git_sha.unwrap_or("-"), build_id.unwrap_or("-"))
}

/// Compares `previous` with `current`.
pub fn changes(previous: &Previous, current: &Report) -> Changes {
    let before: BTreeMap<&str, &PreviousService> = previous
        .services
        .iter()
        .map(|s| (s.service_name.as_str(), s))
        .collect();
    let mut c = Changes {
        previous_generated_at: previous.generated_at.clone(),
        ..Changes::default()
    };
    if previous.floor.status.state != current.state() {
        c.floor = Some(StateChange {
            from: previous.floor.status.state,
            to: current.state(),
        });
    }
    let mut now_names: Vec<&str> = Vec::new();
    for s in &current.services {
        now_names.push(&s.service_name);
        let Some(old) = before.get(s.service_name.as_str()) else {
            c.added.push(s.service_name.clone());
            continue;
        };
        if old.status.state != s.status.state {
            c.states.push(ServiceStateChange {
                service_name: s.service_name.clone(),
                from: old.status.state,
                to: s.status.state,
            });
        }
        // A build is compared only when both reports know it.
        if let (Some(a), Some(b)) = (&old.build, &s.build) {
            let (from, to) = (
                build_text(a.git_sha.as_deref(), a.build_id.as_deref()),
                build_text(b.git_sha.as_deref(), b.build_id.as_deref()),
            );
            if from != to {
                c.builds.push(BuildChange {
                    service_name: s.service_name.clone(),
                    from,
                    to,
                });
            }
        }
    }
    c.removed = before
        .keys()
        .filter(|n| !now_names.contains(n))
        .map(|n| (*n).to_owned())
        .collect();
    c.states.sort_by(|a, b| a.service_name.cmp(&b.service_name));
    c.builds.sort_by(|a, b| a.service_name.cmp(&b.service_name));
    c.added.sort();
    c
}

impl Changes {
    /// One line per change, for the text formats: `name` wraps a service name
    /// (backticks in markdown) and `arrow` joins before and after.
    pub fn lines(&self, name: impl Fn(&str) -> String, arrow: &str) -> Vec<String> {
        let mut lines = Vec::new();
        if let Some(f) = &self.floor {
            lines.push(format!("floor: {} {arrow} {}", f.from, f.to));
        }
        for s in &self.states {
            lines.push(format!(
                "{}: {} {arrow} {}",
                name(&s.service_name),
                s.from,
                s.to
            ));
        }
        for b in &self.builds {
            lines.push(format!(
                "{}: build {} {arrow} {}",
                name(&b.service_name),
                b.from,
                b.to
            ));
        }
        lines.extend(self.added.iter().map(|n| format!("{}: added", name(n))));
        lines.extend(self.removed.iter().map(|n| format!("{}: removed", name(n))));
        lines
    }

    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.floor.is_none()
            && self.states.is_empty()
            && self.builds.is_empty()
            && self.added.is_empty()
            && self.removed.is_empty()
    }
}
