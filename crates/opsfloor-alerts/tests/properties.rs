//! Property tests for the pure rules and the alert book.

use jiff::Timestamp;
use opsfloor_alerts::{AlertBook, AlertSettings, Observation, Status, Subject, alert_for};
use opsfloor_contract::{Criticality, ReasonCode, ServiceKind, State};
use proptest::prelude::*;

fn state() -> impl Strategy<Value = State> {
    proptest::sample::select(State::ALL.to_vec())
}

fn reasons() -> impl Strategy<Value = Vec<ReasonCode>> {
    let mut codes = ReasonCode::ALL.to_vec();
    codes.push(ReasonCode::from_wire("SOLAR_FLARE"));
    proptest::collection::vec(proptest::sample::select(codes), 0..3).prop_map(|mut v| {
        v.sort();
        v.dedup();
        v
    })
}

fn subject() -> impl Strategy<Value = Subject> {
    prop_oneof![
        Just(Subject::Floor {
            floor: "trading-floor".into()
        }),
        (
            proptest::sample::select(vec!["md-feed", "whale-strategy", "exec-agent"]),
            proptest::sample::select(ServiceKind::ALL.to_vec()),
            proptest::sample::select(Criticality::ALL.to_vec()),
        )
            .prop_map(|(service, kind, criticality)| Subject::Service {
                floor: "trading-floor".into(),
                service: service.into(),
                kind,
                criticality,
            }),
    ]
}

fn observation() -> impl Strategy<Value = Observation> {
    (subject(), state(), reasons(), any::<bool>(), any::<bool>()).prop_map(
        |(subject, state, reasons, market_open, in_maintenance)| Observation {
            subject,
            state,
            reasons,
            contributors: vec!["whale-strategy".into()],
            since: Timestamp::UNIX_EPOCH,
            market_open,
            in_maintenance,
            dashboard_url: "http://floor.example/".into(),
        },
    )
}

fn settings() -> impl Strategy<Value = AlertSettings> {
    any::<bool>().prop_map(|page_only_when_market_open| AlertSettings {
        page_only_when_market_open,
    })
}

fn at(s: usize) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + s as i64).expect("in range")
}

proptest! {
    #[test]
    fn the_expected_never_alerts(mut obs in observation(), settings in settings()) {
        for (state, reasons) in [
            (State::Ok, vec![]),
            (State::MarketClosed, vec![ReasonCode::MarketClosed]),
            (State::Offline, vec![ReasonCode::ExecutionDisabled]),
        ] {
            obs.state = state;
            obs.reasons = reasons;
            prop_assert_eq!(alert_for(&obs, &settings), None);
        }
    }

    #[test]
    fn optional_services_and_maintenance_never_alert(mut obs in observation(), settings in settings()) {
        obs.in_maintenance = true;
        prop_assert_eq!(alert_for(&obs, &settings), None);
        obs.in_maintenance = false;
        if let Subject::Service { criticality, .. } = &mut obs.subject {
            *criticality = Criticality::Optional;
            prop_assert_eq!(alert_for(&obs, &settings), None);
        }
    }

    #[test]
    fn a_kill_switch_always_pages(mut obs in observation(), settings in settings()) {
        obs.in_maintenance = false;
        obs.state = State::Halted;
        obs.reasons.insert(0, ReasonCode::KillSwitch);
        if let Subject::Service { criticality, .. } = &mut obs.subject {
            *criticality = Criticality::Critical;
        }
        let alert = alert_for(&obs, &settings).expect("a halted critical subject alerts");
        prop_assert_eq!(alert.label("severity"), Some("page"));
        prop_assert_eq!(alert.label("reason"), Some("KILL_SWITCH"));
    }

    #[test]
    fn every_fired_alert_resolves_when_calm(
        steps in proptest::collection::vec(observation(), 0..40),
        settings in settings(),
    ) {
        let mut book = AlertBook::new(settings);
        let mut open = std::collections::BTreeSet::new();
        let mut subjects = Vec::new();
        for (i, obs) in steps.iter().enumerate() {
            for change in book.observe(obs, at(i)) {
                match change.status {
                    Status::Firing => prop_assert!(open.insert(change.fingerprint)),
                    Status::Resolved => prop_assert!(open.remove(&change.fingerprint)),
                }
            }
            prop_assert_eq!(open.len(), book.len());
            subjects.push(obs.clone());
        }
        // Everything becomes calm: every alert that fired resolves, once.
        for (i, mut obs) in subjects.into_iter().enumerate() {
            obs.state = State::Ok;
            obs.reasons.clear();
            for change in book.observe(&obs, at(1000 + i)) {
                prop_assert_eq!(change.status, Status::Resolved);
                prop_assert!(open.remove(&change.fingerprint));
            }
        }
        prop_assert!(open.is_empty());
        prop_assert!(book.is_empty());
    }

    #[test]
    fn same_inputs_same_output(
        steps in proptest::collection::vec(observation(), 0..30),
        settings in settings(),
    ) {
        let run = || {
            let mut book = AlertBook::new(settings);
            steps
                .iter()
                .enumerate()
                .flat_map(|(i, o)| book.observe(o, at(i)))
                .collect::<Vec<_>>()
        };
        prop_assert_eq!(run(), run());
        for o in &steps {
            prop_assert_eq!(alert_for(o, &settings), alert_for(o, &settings));
        }
    }
}

mod maintenance {
    use jiff::Timestamp;
    use jiff::civil::{Time, Weekday};
    use jiff::tz::TimeZone;
    use opsfloor_alerts::{MaintenanceWindow, Schedule, Scope};
    use proptest::prelude::*;

    const WEEK: i64 = 7 * 24 * 60;

    fn weekday(n: i64) -> Weekday {
        Weekday::from_monday_zero_offset(i8::try_from(n).expect("small")).expect("0..7")
    }

    /// Minutes since Monday 00:00 local.
    fn minute_of_week(day: Weekday, time: Time) -> i64 {
        i64::from(day.to_monday_zero_offset()) * 1440
            + i64::from(time.hour()) * 60
            + i64::from(time.minute())
    }

    proptest! {
        /// Without daylight saving, "in the window" is plain minute-of-week arithmetic.
        #[test]
        fn weekly_windows_agree_with_minute_of_week_arithmetic(
            start in 0..WEEK,
            length in 1..WEEK,
            secs in 1_700_000_000i64..2_000_000_000,
            zone in proptest::sample::select(vec!["UTC", "Asia/Tokyo", "Asia/Kolkata"]),
        ) {
            let end = (start + length) % WEEK;
            let at_minute = |m: i64| Time::new(
                i8::try_from(m % 1440 / 60).expect("hour"),
                i8::try_from(m % 60).expect("minute"),
                0,
                0,
            ).expect("time");
            let tz = TimeZone::get(zone).expect("zone");
            let window = MaintenanceWindow {
                scope: Scope::Floor,
                schedule: Schedule::Weekly {
                    start: (weekday(start / 1440), at_minute(start)),
                    end: (weekday(end / 1440), at_minute(end)),
                    timezone: tz.clone(),
                },
                note: String::new(),
            };
            let at = Timestamp::from_second(secs).expect("in range");
            let local = at.to_zoned_datetime(tz);
            // Window edges are whole minutes, so the minute `at` falls in decides.
            let m = minute_of_week(local.date().weekday(), local.time());
            let inside = (m - start).rem_euclid(WEEK) < length;
            prop_assert_eq!(window.is_in_window(at), inside);
            let (s, e) = window.occurrence(at).expect("weekly windows recur");
            prop_assert!(s < e && at < e);
            prop_assert_eq!(e.duration_since(s).as_secs(), length * 60);
            prop_assert_eq!(s <= at, window.is_in_window(at));
            prop_assert!(s.duration_since(at).as_secs() <= WEEK * 60);
        }
    }
}
