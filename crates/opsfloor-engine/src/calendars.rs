//! The floor's calendars: one per venue its services name, built once per
//! inventory (start and reload), so judging a poll is a map lookup and a binary
//! search, never a table build.

use std::collections::BTreeMap;

use opsfloor_contract::calendar::{Overrides, VenueOverrides};
use opsfloor_contract::{Calendar, CalendarError};
use opsfloor_inventory::Inventory;

/// The floor's default calendar (`[floor] calendar`) and every venue by canonical
/// name. Cheap to clone (calendars are shared tables).
#[derive(Debug, Clone)]
pub struct Calendars {
    /// The calendar of services that name none.
    floor: Calendar,
    /// Canonical name → calendar, the floor's own included.
    venues: BTreeMap<&'static str, Calendar>,
}

impl From<Calendar> for Calendars {
    /// A floor with one calendar (services naming another venue get its built-in
    /// calendar when a [`crate::FloorState`] is made).
    fn from(floor: Calendar) -> Calendars {
        let venues = BTreeMap::from([(floor.name(), floor.clone())]);
        Calendars { floor, venues }
    }
}

impl Calendars {
    /// Every venue `inventory` names (the floor's and each service's), with the
    /// overrides file's entries applied.
    ///
    /// # Errors
    /// An unknown calendar name (a validated inventory has none).
    pub fn for_inventory(
        inventory: &Inventory,
        overrides: &VenueOverrides,
    ) -> Result<Calendars, CalendarError> {
        let mut calendars = Calendars::from(overrides.calendar(&inventory.floor.calendar)?);
        for e in &inventory.services {
            let name = e.calendar_name(&inventory.floor);
            if !calendars.venues.contains_key(name) {
                let calendar = overrides.calendar(name)?;
                calendars.venues.insert(calendar.name(), calendar);
            }
        }
        Ok(calendars)
    }

    /// Adds the built-in calendar of every venue `inventory` names that is missing
    /// (unknown names are left to fall back on the floor's calendar).
    pub(crate) fn complete(&mut self, inventory: &Inventory) {
        for e in &inventory.services {
            let name = e.calendar_name(&inventory.floor);
            if !self.venues.contains_key(name)
                && let Ok(calendar) = Calendar::by_name(name, &Overrides::default())
            {
                self.venues.insert(calendar.name(), calendar);
            }
        }
    }

    /// The floor's default calendar.
    pub fn floor(&self) -> &Calendar {
        &self.floor
    }

    /// The calendar named `name` (canonical), else the floor's.
    pub fn get(&self, name: &str) -> &Calendar {
        self.venues.get(name).unwrap_or(&self.floor)
    }

    /// Every venue, by canonical name.
    pub fn venues(&self) -> impl Iterator<Item = &Calendar> {
        self.venues.values()
    }
}
