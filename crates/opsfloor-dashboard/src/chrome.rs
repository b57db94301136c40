//! What every page shares: the document head, the header with its navigation, the
//! footer (the `base.html` template's data).

use jiff::Timestamp;
use opsfloor_contract::time::format_timestamp;

use crate::assets::HREFS;
use crate::clock::{Zone, utc_long};

/// One link of the navigation.
#[derive(Debug, Clone)]
pub struct NavItem {
    /// Where.
    pub href: &'static str,
    /// The link's text.
    pub label: &'static str,
    /// This is the page shown.
    pub current: bool,
}

/// Which page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// `/`.
    Floor,
    /// `/services/{name}`.
    Service,
    /// `/history`.
    History,
    /// `/report`.
    Report,
    /// Not found.
    Missing,
}

impl Page {
    fn id(self) -> &'static str {
        match self {
            Page::Floor => "floor",
            Page::Service => "service",
            Page::History => "history",
            Page::Report => "report",
            Page::Missing => "missing",
        }
    }
}

/// Who is looking, and what every page must tell them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Viewer {
    /// Wall-screen mode (`?kiosk=1`).
    pub kiosk: bool,
    /// Why history is not being recorded, while it is not.
    pub history_problem: Option<String>,
    /// Among replicas: "replica b of 2, leader a".
    pub replica_note: Option<String>,
    /// The floor runs on a simulated clock (`--now`): both clocks, for the badge.
    pub simulated: Option<SimClock>,
}

/// How far the floor's clock may drift from the real one before the pages call it
/// simulated. The floor's clock is a plain function of time (`ServeConfig::now`), so
/// the pages tell a `--now` clock from the system one by how far apart they are.
pub const SIMULATED_AFTER_SECONDS: i64 = 60;

/// The badge every page carries while the floor runs on a simulated clock:
/// "Simulated clock: 15:00 UTC (real time 06:12 UTC)".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimClock {
    /// The floor's (simulated) time, `15:00 UTC`.
    pub floor: String,
    /// The real time, `06:12 UTC`.
    pub real: String,
    /// Both in full, for the badge's title.
    pub title: String,
}

impl SimClock {
    /// The badge when the floor's clock `floor` is more than
    /// [`SIMULATED_AFTER_SECONDS`] away from the real clock `real`; else `None`.
    pub fn of(floor: Timestamp, real: Timestamp) -> Option<SimClock> {
        let apart = (floor.as_second() - real.as_second()).abs();
        (apart > SIMULATED_AFTER_SECONDS).then(|| SimClock {
            floor: utc_hh_mm(floor),
            real: utc_hh_mm(real),
            title: format!(
                "The floor's clock reads {}; this machine's reads {}",
                utc_long(floor),
                utc_long(real)
            ),
        })
    }
}

/// `15:00 UTC`.
fn utc_hh_mm(t: Timestamp) -> String {
    t.to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .strftime("%H:%M UTC")
        .to_string()
}

/// The layout's data.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The document title.
    pub title: String,
    /// The floor's name (from the inventory).
    pub floor_name: String,
    /// `floor`, `service`, …: the script reads it from `<body data-page>`.
    pub page: &'static str,
    /// Wall-screen mode: larger type, no navigation.
    pub kiosk: bool,
    /// Shown as a banner on every page: why history is not being recorded.
    pub history_problem: Option<String>,
    /// In the footer among replicas: "replica b of 2, leader a".
    pub replica_note: Option<String>,
    /// The simulated clock's badge, on every page while the floor runs on `--now`.
    pub simulated: Option<SimClock>,
    /// Refresh every 10 s when scripts are off.
    pub refresh: bool,
    /// The floor's clock when the page was rendered (RFC 3339), for the script.
    pub now_iso: String,
    /// The same, for people.
    pub now_text: String,
    /// The calendar's zone (IANA), for the script.
    pub tz: String,
    /// The zone's label (`New York`).
    pub tz_label: String,
    /// The stylesheet's URL.
    pub css: &'static str,
    /// The script's URL.
    pub js: &'static str,
    /// The icon's URL.
    pub icon: &'static str,
    /// The navigation.
    pub nav: Vec<NavItem>,
    /// opsfloor's version.
    pub version: &'static str,
}

impl Chrome {
    /// The layout for `page`, titled `title`.
    pub fn new(
        page: Page,
        title: String,
        floor_name: &str,
        zone: &Zone,
        now: Timestamp,
        viewer: &Viewer,
    ) -> Chrome {
        let current = |p: Page| p == page;
        Chrome {
            title,
            floor_name: floor_name.to_owned(),
            page: page.id(),
            kiosk: viewer.kiosk,
            history_problem: viewer.history_problem.clone(),
            replica_note: viewer.replica_note.clone(),
            simulated: viewer.simulated.clone(),
            refresh: page == Page::Floor,
            now_iso: format_timestamp(now),
            now_text: utc_long(now),
            tz: zone.iana().to_owned(),
            tz_label: zone.label().to_owned(),
            css: HREFS.css.as_str(),
            js: HREFS.js.as_str(),
            icon: HREFS.icon.as_str(),
            nav: vec![
                NavItem {
                    href: "/",
                    label: "Floor",
                    current: current(Page::Floor),
                },
                NavItem {
                    href: "/history",
                    label: "History",
                    current: current(Page::History),
                },
                NavItem {
                    href: "/report",
                    label: "Report",
                    current: current(Page::Report),
                },
            ],
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_far_from_the_real_one_is_simulated() {
        let real: Timestamp = "2026-12-02T06:12:30Z".parse().expect("instant");
        let floor: Timestamp = "2026-12-02T15:00:05Z".parse().expect("instant");
        let badge = SimClock::of(floor, real).expect("simulated");
        assert_eq!(badge.floor, "15:00 UTC");
        assert_eq!(badge.real, "06:12 UTC");
        assert!(badge.title.contains("2026-12-02 15:00:05 UTC"));
        // Within a minute of the real clock: the system clock, no badge.
        let near = real
            .checked_add(jiff::SignedDuration::from_secs(59))
            .expect("instant");
        assert_eq!(SimClock::of(near, real), None);
        let behind = real
            .checked_sub(jiff::SignedDuration::from_secs(61))
            .expect("instant");
        assert!(SimClock::of(behind, real).is_some());
    }
}
