//! Instants as the pages write them: in UTC and in the calendar's own zone (New York
//! for the NYSE), and the market's next open or close as a countdown.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use opsfloor_contract::Calendar;
use opsfloor_contract::time::{format_timestamp, parse_timestamp};
use opsfloor_engine::view::{MarketView, VenueView};

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
    /// Every venue of the floor with its countdown, by name.
    pub venues: Vec<VenueLine>,
}

/// One venue in the market panel: `XNYS open, closes in 2 h`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueLine {
    /// The calendar's canonical name.
    pub calendar: &'static str,
    /// `m-open`, `m-closed` or `m-unknown`.
    pub class: &'static str,
    /// `XNYS open, closes in 2 h`; `XTKS closed, opens in 9 h`.
    pub text: String,
}

impl VenueLine {
    /// The line for `venue` at `now`.
    pub fn of(venue: &VenueView, now: Timestamp) -> VenueLine {
        let name = venue.calendar;
        let until =
            |at: &Option<String>| instant(at.as_deref()).map(|t| rough(seconds_between(now, t)));
        let (class, text) = match venue.is_open {
            Some(true) => (
                "m-open",
                match until(&venue.next_close_utc) {
                    Some(c) => format!("{name} open, closes in {c}"),
                    None => format!("{name} open, never closes"),
                },
            ),
            Some(false) => (
                "m-closed",
                match until(&venue.next_open_utc) {
                    Some(c) => format!("{name} closed, opens in {c}"),
                    None => format!("{name} closed, no session scheduled"),
                },
            ),
            None => ("m-unknown", format!("{name} hours unknown")),
        };
        VenueLine {
            calendar: name,
            class,
            text,
        }
    }
}

/// A countdown at a glance, rounded down: `3 d 4 h`, `2 h`, `35 min`, `40 s`
/// (the panel's venue lines; the main countdown keeps the seconds).
pub fn rough(seconds: i64) -> String {
    let s = seconds.max(0);
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3_600, (s % 3_600) / 60);
    if d > 0 {
        format!("{d} d {h} h")
    } else if h > 0 {
        format!("{h} h")
    } else if m > 0 {
        format!("{m} min")
    } else {
        format!("{s} s")
    }
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
            venues: view.venues.iter().map(|v| VenueLine::of(v, now)).collect(),
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

    #[test]
    fn each_venue_has_its_own_countdown() {
        let now = ts("2026-01-07T19:00:00Z"); // New York open, Tokyo closed
        let venue = |name| {
            let c = Calendar::by_name(name, &Default::default()).expect("calendar");
            VenueView::of(&c, now)
        };
        let lines: Vec<String> = ["XNYS", "XTKS", "always-open"]
            .map(|n| VenueLine::of(&venue(n), now).text)
            .into();
        assert_eq!(
            lines,
            [
                "XNYS open, closes in 2 h",
                "XTKS closed, opens in 5 h",
                "always-open open, never closes"
            ]
        );
        assert_eq!(rough(59), "59 s");
        assert_eq!(rough(3_599), "59 min");
        assert_eq!(rough(9 * 3_600 + 59 * 60), "9 h");
        assert_eq!(rough(86_400 * 2 + 3_600 * 3), "2 d 3 h");
    }
}
