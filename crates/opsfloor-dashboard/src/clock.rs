//! Instants as the pages write them: in UTC and in the calendar's own zone (New York
//! for the NYSE), and the market's next open or close as a countdown.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use opsfloor_contract::Calendar;
use opsfloor_contract::time::{format_timestamp, parse_timestamp};
use opsfloor_engine::view::MarketView;

use crate::words::countdown;

/// The calendar's time zone, with a short human label ("New York").
#[derive(Debug, Clone)]
pub struct Zone {
    tz: TimeZone,
    iana: String,
    label: String,
}

impl Zone {
    /// The zone of `calendar`.
    pub fn of(calendar: &Calendar) -> Zone {
        let tz = calendar.time_zone();
        let iana = tz.iana_name().unwrap_or("UTC").to_owned();
        let label = iana.rsplit('/').next().unwrap_or("UTC").replace('_', " ");
        Zone { tz, iana, label }
    }

    /// The IANA name, for the script's `Intl.DateTimeFormat` (`America/New_York`).
    pub fn iana(&self) -> &str {
        &self.iana
    }

    /// The short label (`New York`).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// True when the zone is UTC itself (then the pages show UTC only).
    pub fn is_utc(&self) -> bool {
        self.iana == "UTC" || self.iana == "Etc/UTC"
    }

    /// The zone itself.
    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }

    /// `Wed 7 Jan 10:00 EST`.
    pub fn day_time(&self, t: Timestamp) -> String {
        t.to_zoned_datetime(self.tz.clone())
            .strftime("%a %-d %b %H:%M %Z")
            .to_string()
    }

    /// `10:00:05 EST`.
    pub fn clock(&self, t: Timestamp) -> String {
        t.to_zoned_datetime(self.tz.clone())
            .strftime("%H:%M:%S %Z")
            .to_string()
    }

    /// `Wed 7 Jan` (the date in this zone).
    pub fn date(&self, t: Timestamp) -> String {
        t.to_zoned_datetime(self.tz.clone())
            .strftime("%a %-d %b")
            .to_string()
    }
}

/// `2026-01-07 15:00:05 UTC`.
pub fn utc_long(t: Timestamp) -> String {
    let iso = format_timestamp(t);
    format!("{} UTC", iso.trim_end_matches('Z').replacen('T', " ", 1))
}

/// `Wed 7 Jan 15:00 UTC`.
pub fn utc_day_time(t: Timestamp) -> String {
    t.to_zoned_datetime(TimeZone::UTC)
        .strftime("%a %-d %b %H:%M UTC")
        .to_string()
}

/// `15:00:05 UTC`.
pub fn utc_clock(t: Timestamp) -> String {
    t.to_zoned_datetime(TimeZone::UTC)
        .strftime("%H:%M:%S UTC")
        .to_string()
}

/// Whole seconds from `from` to `to` (negative when `to` is earlier).
pub fn seconds_between(from: Timestamp, to: Timestamp) -> i64 {
    to.as_second() - from.as_second()
}

/// Reads an instant the views wrote; `None` for a missing or unreadable one.
pub fn instant(text: Option<&str>) -> Option<Timestamp> {
    text.and_then(|t| parse_timestamp(t).ok())
}

/// The market as the banner shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Market {
    /// `m-open`, `m-closed` or `m-unknown`.
    pub class: &'static str,
    /// `Market open`, `Market closed`, `Market hours unknown`.
    pub word: &'static str,
    /// The next change, if the calendar has one.
    pub next: Option<NextChange>,
    /// A note when there is no next change.
    pub note: &'static str,
}

/// The next open or close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextChange {
    /// `closes` or `opens`.
    pub verb: &'static str,
    /// The instant, RFC 3339 (for the script's countdown).
    pub iso: String,
    /// `in 5 h 29 min 59 s`.
    pub countdown: String,
    /// In the calendar's zone: `Wed 7 Jan 16:00 EST`; empty when the zone is UTC.
    pub zoned: String,
    /// In UTC: `Wed 7 Jan 21:00 UTC`.
    pub utc: String,
}

impl Market {
    /// The market from the floor's view of it at `now`.
    pub fn of(view: &MarketView, zone: &Zone, now: Timestamp) -> Market {
        let (class, word, verb, at) = match view.is_open {
            Some(true) => (
                "m-open",
                "Market open",
                "closes",
                view.next_close_utc.as_deref(),
            ),
            Some(false) => (
                "m-closed",
                "Market closed",
                "opens",
                view.next_open_utc.as_deref(),
            ),
            None => ("m-unknown", "Market hours unknown", "", None),
        };
        let next = instant(at).map(|t| NextChange {
            verb,
            iso: format_timestamp(t),
            countdown: format!("in {}", countdown(seconds_between(now, t))),
            zoned: if zone.is_utc() {
                String::new()
            } else {
                zone.day_time(t)
            },
            utc: utc_day_time(t),
        });
        let note = match (view.is_open, &next) {
            (_, Some(_)) => "",
            (Some(true), None) => "This calendar never closes",
            (Some(false), None) => "No session is scheduled within the calendar's range",
            (None, None) => "The clock is outside the calendar's supported dates",
        };
        Market {
            class,
            word,
            next,
            note,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    #[test]
    fn new_york_and_utc() {
        let zone = Zone::of(&Calendar::nyse());
        assert_eq!(zone.label(), "New York");
        assert_eq!(zone.iana(), "America/New_York");
        let t = ts("2026-01-07T21:00:00Z");
        assert_eq!(zone.day_time(t), "Wed 7 Jan 16:00 EST");
        assert_eq!(utc_day_time(t), "Wed 7 Jan 21:00 UTC");
        assert_eq!(
            utc_long(ts("2026-01-07T15:00:05.9Z")),
            "2026-01-07 15:00:05 UTC"
        );
        assert_eq!(zone.clock(ts("2026-07-07T14:00:05Z")), "10:00:05 EDT");
    }

    #[test]
    fn the_market_counts_down_to_its_next_change() {
        let calendar = Calendar::nyse();
        let zone = Zone::of(&calendar);
        let now = ts("2026-01-07T15:30:00Z");
        let view = MarketView {
            calendar: calendar.name(),
            is_open: Some(true),
            next_open_utc: Some("2026-01-08T14:30:00Z".into()),
            next_close_utc: Some("2026-01-07T21:00:00Z".into()),
            venues: Vec::new(),
        };
        let m = Market::of(&view, &zone, now);
        assert_eq!(m.word, "Market open");
        let next = m.next.expect("next close");
        assert_eq!(next.verb, "closes");
        assert_eq!(next.countdown, "in 5 h 30 min 00 s");
        assert_eq!(next.zoned, "Wed 7 Jan 16:00 EST");

        let always = Calendar::by_name("always-open", &Default::default()).expect("calendar");
        let zone = Zone::of(&always);
        assert!(zone.is_utc());
        let view = MarketView {
            calendar: always.name(),
            is_open: Some(true),
            next_open_utc: None,
            next_close_utc: None,
            venues: Vec::new(),
        };
        let m = Market::of(&view, &zone, now);
        assert_eq!(m.next, None);
        assert_eq!(m.note, "This calendar never closes");
    }
}
