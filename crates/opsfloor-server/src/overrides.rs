//! The operators' calendar overrides file (`[floor] calendar_overrides`): read from
//! disk here, parsed by the contract ([`VenueOverrides::parse`]), turned into one
//! calendar per venue of the inventory ([`Calendars::for_inventory`]). `serve`,
//! `report`, `fleet` and `demo` all load it through [`calendars_for`].

use std::path::{Path, PathBuf};

use opsfloor_contract::CalendarError;
use opsfloor_contract::calendar::VenueOverrides;
use opsfloor_engine::Calendars;
use opsfloor_inventory::Inventory;

/// Why the overrides file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum OverridesError {
    /// The file cannot be read.
    #[error("{}: cannot read the calendar overrides: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid overrides file: `file:line: message` lines.
    #[error("{0}")]
    Invalid(String),
    /// A calendar the inventory names cannot be built.
    #[error("inventory: {0}")]
    Calendar(#[from] CalendarError),
}

/// Reads and checks the overrides file at `path`.
///
/// # Errors
/// The file cannot be read, or is invalid (every problem with file:line).
pub fn load_overrides(path: &Path) -> Result<VenueOverrides, OverridesError> {
    let text = std::fs::read_to_string(path).map_err(|source| OverridesError::Read {
        path: path.to_owned(),
        source,
    })?;
    VenueOverrides::parse(&text)
        .map_err(|e| OverridesError::Invalid(e.in_file(&path.display().to_string())))
}

/// The overrides file `inventory` names (none named: no overrides).
///
/// # Errors
/// As [`load_overrides`].
pub fn overrides_for(inventory: &Inventory) -> Result<VenueOverrides, OverridesError> {
    match &inventory.floor.calendar_overrides {
        Some(path) => load_overrides(path),
        None => Ok(VenueOverrides::default()),
    }
}

/// Every venue of `inventory`, with its overrides file applied.
///
/// # Errors
/// As [`load_overrides`], or a calendar that cannot be built.
pub fn calendars_for(inventory: &Inventory) -> Result<Calendars, OverridesError> {
    let overrides = overrides_for(inventory)?;
    Ok(Calendars::for_inventory(inventory, &overrides)?)
}
