//! The inventory file the fleet writes for the floor (`--write-inventory`).
//!
//! TOML, the floor's native format: one `[[services]]` table per service with
//! `name`, `kind`, `url`, `criticality`, and for the execution agent `replicas` and
//! `enabled`. Rewritten whenever the execution agent is scaled, atomically (a
//! temporary file renamed over the old one), so a reader never sees half a file.

use std::fmt::Write as _;
use std::path::Path;

use crate::FleetError;
use crate::member::Member;

/// Renders the inventory for these members; `calendar_overrides`, when given,
/// becomes the floor's `[floor] calendar_overrides`.
pub(crate) fn render(
    members: &[Member],
    execution_replicas: i64,
    execution_enabled: bool,
    calendar_overrides: Option<&Path>,
) -> String {
    let mut out = String::from(
        "# Inventory of the simulated trading floor, written by `opsfloor fleet`.\n\
         # Rewritten when the execution agent is scaled; edit the fleet's control files instead.\n",
    );
    if let Some(path) = calendar_overrides {
        // A TOML basic string: the path's backslashes and quotes escaped.
        let quoted = toml::Value::String(path.display().to_string()).to_string();
        let _ = write!(out, "\n[floor]\ncalendar_overrides = {quoted}\n");
    }
    for m in members {
        let _ = write!(
            out,
            "\n[[services]]\nname = \"{}\"\nkind = \"{}\"\nurl = \"{}\"\ncriticality = \"{}\"\n",
            m.name,
            m.kind,
            m.url(),
            m.criticality.as_str()
        );
        if m.kind == opsfloor_contract::ServiceKind::Execution {
            let _ = write!(
                out,
                "replicas = {execution_replicas}\nenabled = {execution_enabled}\n"
            );
        }
    }
    out
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
