//! Poll results are applied by identity (service name and the exact URL polled),
//! never by position: a reload between a poll and its result can reorder, remove or
//! move services, and no outcome may land on the wrong one.

use std::time::Duration;

use jiff::Timestamp;
use opsfloor_contract::{Calendar, State};
use opsfloor_engine::{Applied, FloorState, Outcome, Polled};
use opsfloor_inventory::{Format, Inventory};

fn inventory(entries: &[(&str, &str)]) -> Inventory {
    let mut text = String::from("[floor]\ncalendar = \"always-open\"\n");
    for (name, url) in entries {
        text.push_str(&format!(
            "\n[[services]]\nname = \"{name}\"\nkind = \"ops\"\nurl = \"{url}\"\nfailure_threshold = 1\n"
        ));
    }
    opsfloor_inventory::parse(&text, "floor.toml".as_ref(), Format::Toml).expect("inventory")
}

fn refused() -> Polled {
    Polled {
        outcome: Outcome::NoAnswer {
            error: "connection refused".into(),
        },
        latency: Duration::from_millis(1),
    }
}

fn at(s: i64) -> Timestamp {
    Timestamp::from_second(1_767_798_000 + s).expect("instant")
}

#[test]
fn results_follow_names_and_urls_across_a_reload() {
    let a = "http://10.0.0.1:9100";
    let b = "http://10.0.0.2:9100";
    let mut floor = FloorState::new(
        inventory(&[("alpha", a), ("beta", b)]),
        Calendar::always_open(),
        &[],
        at(0),
    );
    // A reload reverses the order and moves beta to another address.
    let moved = "http://10.0.0.3:9100";
    floor.reload(
        inventory(&[("beta", moved), ("alpha", a)]),
        Calendar::always_open(),
        at(1),
    );
    let url = |u: &str| format!("{u}/ops/status");
    // A result polled before the reload, for beta's old address: dropped.
    assert_eq!(
        floor.apply("beta", &url(b), refused(), at(2)),
        Applied::Stale
    );
    // A result for a service the reload removed: dropped.
    assert_eq!(
        floor.apply("gamma", &url(a), refused(), at(2)),
        Applied::Stale
    );
    // alpha's result lands on alpha, whatever its position now.
    assert!(matches!(
        floor.apply("alpha", &url(a), refused(), at(3)),
        Applied::Applied(Some(_))
    ));
    let state = |name: &str| floor.service(name).expect(name).state;
    assert_eq!(state("alpha"), State::Offline);
    assert_eq!(state("beta"), State::Unknown, "beta saw nothing yet");
}
