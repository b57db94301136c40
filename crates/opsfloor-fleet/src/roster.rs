//! Who the fleet runs: the NYSE desk's five services, and with
//! [`MixedDesk`](crate::MixedDesk) two more on other venues.
//!
//! The order is the port order and is relied on by [`Fleet::start`](crate::Fleet::start):
//! the first member is the NYSE tick feed the watchers ask, the fourth the
//! execution agent.

use opsfloor_contract::{Calendar, Criticality, ServiceKind};

use crate::{CRYPTO_FEED, EXECUTION, GAMMA, INGEST, MARKETDATA, TOKYO, WHALE};

/// What the fleet needs to know to start one simulated service.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    pub(crate) name: &'static str,
    pub(crate) kind: ServiceKind,
    pub(crate) criticality: Criticality,
    /// The `agent_mode` its document reports.
    pub(crate) mode: &'static str,
    /// Its build's commit.
    pub(crate) sha: &'static str,
    /// Its own calendar, written to the inventory as `calendar = "..."`; `None`
    /// judges it by the fleet's calendar (the floor's default).
    pub(crate) calendar: Option<Calendar>,
    /// What feeds its market data, if anything: its own ticker, or the NYSE feed
    /// asked over HTTP each second.
    pub(crate) feed: Feed,
}

/// Where a simulated service's ticks come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Feed {
    /// None: it does not use market data (ingest).
    None,
    /// It is a feed: it ticks itself while the control file `tick-feed` says on.
    Ticks,
    /// It watches the NYSE feed over HTTP, as a real strategy would.
    Watches,
}

/// The NYSE desk, as the seed describes it.
fn nyse_desk() -> Vec<Spec> {
    let spec = |name, kind, criticality, mode, sha, feed| Spec {
        name,
        kind,
        criticality,
        mode,
        sha,
        calendar: None,
        feed,
    };
    vec![
        spec(
            MARKETDATA,
            ServiceKind::Marketdata,
            Criticality::Critical,
            "STREAM",
            "4f1c2a9",
            Feed::Ticks,
        ),
        spec(
            GAMMA,
            ServiceKind::Strategy,
            Criticality::Critical,
            "PAPER",
            "9b7e3d1",
            Feed::Watches,
        ),
        spec(
            WHALE,
            ServiceKind::Strategy,
            Criticality::Important,
            "PAPER",
            "9b7e3d1",
            Feed::Watches,
        ),
        spec(
            EXECUTION,
            ServiceKind::Execution,
            Criticality::Critical,
            "LIVE",
            "c03a5e8",
            Feed::Watches,
        ),
        spec(
            INGEST,
            ServiceKind::Ingest,
            Criticality::Optional,
            "BATCH",
            "71d0b46",
            Feed::None,
        ),
    ]
}

/// Every service the fleet starts, in port order: the NYSE desk, then, for a mixed
/// desk, a Tokyo strategy (critical, `XTKS`) and a crypto feed (critical,
/// `always-open`).
pub(crate) fn roster(tokyo: Option<&Calendar>) -> Vec<Spec> {
    let mut specs = nyse_desk();
    if let Some(tokyo) = tokyo {
        specs.push(Spec {
            name: TOKYO,
            kind: ServiceKind::Strategy,
            criticality: Criticality::Critical,
            mode: "PAPER",
            sha: "5e2b8c4",
            calendar: Some(tokyo.clone()),
            feed: Feed::Watches,
        });
        specs.push(Spec {
            name: CRYPTO_FEED,
            kind: ServiceKind::Marketdata,
            criticality: Criticality::Critical,
            mode: "STREAM",
            sha: "a81f0d6",
            calendar: Some(Calendar::always_open()),
            feed: Feed::Ticks,
        });
    }
    specs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_start_relies_on() {
        let xtks = Calendar::by_name("XTKS", &Default::default()).expect("XTKS");
        for specs in [roster(None), roster(Some(&xtks))] {
            assert_eq!(specs[0].name, MARKETDATA);
            assert_eq!(specs[0].feed, Feed::Ticks);
            assert_eq!(specs[3].kind, ServiceKind::Execution);
        }
        let mixed = roster(Some(&xtks));
        let names: Vec<&str> = mixed.iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                MARKETDATA,
                GAMMA,
                WHALE,
                EXECUTION,
                INGEST,
                TOKYO,
                CRYPTO_FEED
            ]
        );
        assert_eq!(mixed[5].calendar.as_ref().map(Calendar::name), Some("XTKS"));
        assert_eq!(
            mixed[6].calendar.as_ref().map(Calendar::name),
            Some("always-open")
        );
    }
}
