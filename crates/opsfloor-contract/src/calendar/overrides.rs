//! Closures and early closes an operator adds without a release.

use jiff::civil::{Date, Time};
use serde::{Deserialize, Serialize};

use super::CalendarError;
use super::rules::{Rule, Venue};

/// Closures and early closes an operator adds without a release, e.g. from TOML:
///
/// ```toml
/// [[closures]]
/// date = "2027-01-04"
/// note = "National day of mourning"
///
/// [[early_closes]]
/// date = "2027-01-05"
/// close = "13:00"        # the venue's local time; defaults to its usual early-close time
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    /// Extra full-day closures.
    #[serde(default)]
    pub closures: Vec<ClosureOverride>,
    /// Extra early closes.
    #[serde(default)]
    pub early_closes: Vec<EarlyCloseOverride>,
}

/// One extra closure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosureOverride {
    /// The date (the venue's time zone).
    pub date: Date,
    /// Why, shown to operators.
    #[serde(default)]
    pub note: Option<String>,
}

/// One extra early close.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyCloseOverride {
    /// The date (the venue's time zone).
    pub date: Date,
    /// The local close time (default: the venue's usual early close, 13:00 for the NYSE).
    #[serde(default)]
    pub close: Option<Time>,
    /// Why, shown to operators.
    #[serde(default)]
    pub note: Option<String>,
}

impl Overrides {
    /// True when there is nothing to override.
    pub fn is_empty(&self) -> bool {
        self.closures.is_empty() && self.early_closes.is_empty()
    }

    /// An error for the first override outside `[first, last]`.
    pub(super) fn check_range(&self, first: Date, last: Date) -> Result<(), CalendarError> {
        let dates = self.closures.iter().map(|c| c.date);
        for day in dates.chain(self.early_closes.iter().map(|e| e.date)) {
            if day < first || day > last {
                return Err(CalendarError::BadOverride {
                    date: day,
                    reason: format!("outside the supported range {first} to {last}"),
                });
            }
        }
        Ok(())
    }

    /// The note of a closure on `day`, if any.
    pub(super) fn closure_note(&self, day: Date) -> Option<&str> {
        self.closures
            .iter()
            .find(|c| c.date == day)?
            .note
            .as_deref()
    }

    /// The rule for `day` once the overrides are applied.
    pub(super) fn apply(
        &self,
        venue: &dyn Venue,
        day: Date,
        rule: Rule,
    ) -> Result<Rule, CalendarError> {
        if self.is_empty() {
            return Ok(rule); // the usual case: no overrides, nothing to search
        }
        let closed = self.closures.iter().any(|c| c.date == day);
        let early = self.early_closes.iter().find(|e| e.date == day);
        let bad = |reason: String| CalendarError::BadOverride { date: day, reason };
        match (rule, early) {
            (Rule::Session(_), None) if closed => Ok(Rule::Holiday("Unscheduled closure")),
            (Rule::Session(_), Some(_)) if closed => Err(bad(
                "an early close needs a trading day, and a closure is listed for that day".into(),
            )),
            (Rule::Session(hours), Some(ec)) => {
                let t = ec.close.unwrap_or_else(|| venue.early_close(day));
                let after_open = hours.open_days_before > 0 || t > hours.open;
                if !after_open || t >= hours.close && !hours.early {
                    return Err(bad(format!(
                        "early close {} must lie between {} and {}",
                        hhmm(t),
                        hhmm(hours.open),
                        hhmm(hours.close)
                    )));
                }
                if let Some((start, end)) = hours.pause
                    && start < t
                    && t < end
                {
                    return Err(bad(format!(
                        "early close {} falls in the break {} to {}",
                        hhmm(t),
                        hhmm(start),
                        hhmm(end)
                    )));
                }
                Ok(Rule::Session(hours.closing_early(t.min(hours.close))))
            }
            (_, Some(_)) => Err(bad(
                "an early close needs a trading day, and the market is closed that day".into(),
            )),
            (rule, None) => Ok(rule),
        }
    }
}

/// A local time as operators write it: `09:30`.
fn hhmm(t: Time) -> String {
    t.strftime("%H:%M").to_string()
}
