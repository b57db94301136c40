//! Maintenance on the floor page: a notice listing the windows open now and those
//! starting within a day (the alerts issue's "shown one day ahead"), and a
//! "maintenance" badge, with the window's note on hover, on the row of every
//! service in an open window. The state is still shown as it is: a window silences
//! alerts and leaves the SLO, it does not change what the floor sees.

use jiff::{SignedDuration, Timestamp};
use opsfloor_alerts::WindowView;
use opsfloor_alerts::maintenance::listing;
use opsfloor_engine::view::MaintenanceBadge;
use opsfloor_server::Floor;

use crate::clock::{Zone, utc_day_time};

/// How far ahead the floor page announces a window.
pub const AHEAD: SignedDuration = SignedDuration::from_hours(24);

/// One line of the notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// `m-now` for an open window, `m-soon` for an upcoming one.
    pub class: &'static str,
    /// "Now: whale-strategy, until Wed 7 Jan 11:00 EST (16:00 UTC). Broker migration".
    pub text: String,
}

/// The windows of the floor's inventory open at `now` or starting within
/// [`AHEAD`]. Windows that cannot be read (a reload racing a broken edit) show
/// none, and the log says why.
pub fn windows(floor: &Floor, now: Timestamp) -> Vec<WindowView> {
    match opsfloor_server::maintenance::windows_in_force(floor) {
        Ok(windows) => listing(&windows, now, AHEAD),
        Err(e) => {
            tracing::error!(error = %e, "maintenance windows not read for the floor page");
            Vec::new()
        }
    }
}

/// The notice's lines, in the listing's order (by start).
pub fn notices(windows: &[WindowView], zone: &Zone) -> Vec<Notice> {
    windows
        .iter()
        .map(|w| {
            let who = if w.floor {
                "the whole floor".to_owned()
            } else {
                w.services.join(", ")
            };
            let at = |t: Timestamp| format!("{} ({})", zone.day_time(t), utc_day_time(t));
            let (class, when) = if w.active {
                ("m-now", format!("Now: {who}, until {}", at(w.end.0)))
            } else {
                (
                    "m-soon",
                    format!("Upcoming: {who}, from {} to {}", at(w.start.0), at(w.end.0)),
                )
            };
            let text = if w.note.is_empty() {
                when
            } else {
                format!("{when}. {}", w.note)
            };
            Notice { class, text }
        })
        .collect()
}

/// What a badge says beside the word "maintenance": "until Wed 7 Jan 11:00 EST
/// (Wed 7 Jan 16:00 UTC). Broker migration".
pub fn badge_text(badge: &MaintenanceBadge, zone: &Zone) -> String {
    let end = badge.until_utc.0;
    let until = format!("until {} ({})", zone.day_time(end), utc_day_time(end));
    if badge.note.is_empty() {
        until
    } else {
        format!("{until}. {}", badge.note)
    }
}

/// The note of the first open window covering `service` (`""` when it has none),
/// or `None` when no open window covers it.
pub fn badge<'a>(windows: &'a [WindowView], service: &str) -> Option<&'a str> {
    windows
        .iter()
        .find(|w| w.active && (w.floor || w.services.iter().any(|s| s == service)))
        .map(|w| w.note.as_str())
}

#[cfg(test)]
mod tests {
    use opsfloor_contract::{Calendar, UtcTimestamp};

    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn window(floor: bool, services: &[&str], active: bool, note: &str) -> WindowView {
        WindowView {
            floor,
            services: services.iter().map(|s| (*s).to_owned()).collect(),
            start: UtcTimestamp(ts("2026-01-07T14:00:00Z")),
            end: UtcTimestamp(ts("2026-01-07T16:00:00Z")),
            active,
            note: note.to_owned(),
        }
    }

    #[test]
    fn an_open_window_says_until_and_an_upcoming_one_from_to() {
        let zone = Zone::of(&Calendar::nyse());
        let lines = notices(
            &[
                window(false, &["whale-strategy"], true, "Broker migration"),
                window(true, &[], false, ""),
            ],
            &zone,
        );
        assert_eq!(
            lines,
            [
                Notice {
                    class: "m-now",
                    text: "Now: whale-strategy, until Wed 7 Jan 11:00 EST (Wed 7 Jan 16:00 UTC). \
                           Broker migration"
                        .to_owned()
                },
                Notice {
                    class: "m-soon",
                    text:
                        "Upcoming: the whole floor, from Wed 7 Jan 09:00 EST (Wed 7 Jan 14:00 UTC) \
                           to Wed 7 Jan 11:00 EST (Wed 7 Jan 16:00 UTC)"
                            .to_owned()
                },
            ]
        );
    }

    #[test]
    fn only_an_open_window_that_covers_the_service_badges_it() {
        let windows = [
            window(false, &["whale-strategy"], false, "later"),
            window(false, &["gamma-strategy"], true, "now"),
        ];
        assert_eq!(badge(&windows, "gamma-strategy"), Some("now"));
        assert_eq!(badge(&windows, "whale-strategy"), None);
        let floor = [window(true, &[], true, "all")];
        assert_eq!(badge(&floor, "anything"), Some("all"));
    }

    #[test]
    fn a_badge_says_until_when_in_both_zones_and_its_note() {
        let zone = Zone::of(&Calendar::nyse());
        let mut b = MaintenanceBadge {
            note: "Broker migration".to_owned(),
            until_utc: UtcTimestamp(ts("2026-01-07T16:00:00Z")),
        };
        assert_eq!(
            badge_text(&b, &zone),
            "until Wed 7 Jan 11:00 EST (Wed 7 Jan 16:00 UTC). Broker migration"
        );
        b.note.clear();
        assert_eq!(
            badge_text(&b, &zone),
            "until Wed 7 Jan 11:00 EST (Wed 7 Jan 16:00 UTC)"
        );
    }
}
