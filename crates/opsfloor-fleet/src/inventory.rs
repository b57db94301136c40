//! The inventory file the fleet writes for the floor (`--write-inventory`).
//!
//! TOML, the floor's native format: one `[[services]]` table per service with
//! `name`, `kind`, `url`, `criticality`, a service's own `calendar` when it has one,
//! and for the execution agent `replicas` and `enabled`. Rewritten whenever the
//! execution agent is scaled, atomically (a
//! temporary file renamed over the old one), so a reader never sees half a file.

use std::path::Path;

use crate::FleetError;
use crate::member::Member;

/// Renders the inventory for these members, with the `toml` crate (so names,
/// URLs and paths are quoted and escaped as TOML requires, and the floor's reader
/// reads back exactly what was written); `calendar_overrides`, when given, becomes
/// the floor's `[floor] calendar_overrides`.
pub(crate) fn render(
    members: &[Member],
    execution_replicas: i64,
    execution_enabled: bool,
    calendar_overrides: Option<&Path>,
) -> String {
    let services: Vec<toml::Value> = members
        .iter()
        .map(|m| {
            let mut t = toml::Table::new();
            t.insert("name".into(), m.name.into());
            t.insert("kind".into(), m.kind.as_str().into());
            t.insert("url".into(), m.url().into());
            t.insert("criticality".into(), m.criticality.as_str().into());
            if let Some(calendar) = m.calendar {
                t.insert("calendar".into(), calendar.into());
            }
            if m.kind == opsfloor_contract::ServiceKind::Execution {
                t.insert("replicas".into(), execution_replicas.into());
                t.insert("enabled".into(), execution_enabled.into());
            }
            toml::Value::Table(t)
        })
        .collect();
    let mut doc = toml::Table::new();
    if let Some(path) = calendar_overrides {
        let mut floor = toml::Table::new();
        floor.insert(
            "calendar_overrides".into(),
            path.display().to_string().into(),
        );
        doc.insert("floor".into(), toml::Value::Table(floor));
    }
    doc.insert("services".into(), toml::Value::Array(services));
    format!(
        "# Inventory of the simulated trading floor, written by `opsfloor fleet`.\n\
         # Rewritten when the execution agent is scaled; edit the fleet's control files instead.\n\n{doc}"
    )
}

/// Writes `content` to `path` atomically.
pub(crate) fn write_atomically(path: &Path, content: &str) -> Result<(), FleetError> {
    let io = |source| FleetError::Io {
        path: path.to_owned(),
        source,
    };
    let tmp = path.with_extension("tmp-opsfloor");
    std::fs::write(&tmp, content).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}
