//! [`AlertBook`]: the pure state machine from observations to firing alerts and to
//! the changes (fired, resolved) that the sinks deliver.
//!
//! The book keys alerts by subject (the floor, or one service of it). An
//! observation either calls for an alert ([`alert_for`]) or not; comparing that with
//! what is already firing gives at most two changes:
//!
//! - nothing firing, alert wanted: **fired**;
//! - firing, no alert wanted (calm, maintenance, optional): **resolved**;
//! - firing with other labels (a new state, reason or severity): the old alert
//!   **resolved**, then the new one **fired**. Labels are an alert's identity in
//!   Alertmanager, so a changed label is a different alert;
//! - firing with the same labels: the annotations are refreshed, no change.
//!
//! Times are parameters: `wall` is the wall-clock instant of the observation
//! (Alertmanager's `startsAt`/`endsAt` are wall-clock even when the floor runs on a
//! simulated clock), read by the caller. So the book is deterministic: the same
//! observations at the same wall times give the same changes and the same keys.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[cfg(doc)]
use crate::rules::watchdog_alert;
use crate::rules::{Alert, AlertSettings, Observation, Subject, WATCHDOG_ALERT, alert_for};

/// Whether an alert is firing or has resolved: the webhook's `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The alert began.
    Firing,
    /// The alert ended.
    Resolved,
}

impl Status {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Firing => "firing",
            Status::Resolved => "resolved",
        }
    }
}

/// An alert that is firing now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firing {
    /// The alert (its labels never change while it fires; annotations may).
    pub alert: Alert,
    /// The wall-clock instant it began.
    pub starts_at: Timestamp,
    /// [`fingerprint`] of its labels and start.
    pub fingerprint: String,
}

/// One alert change, for the sinks. Serialisable (JSON, `snake_case`), so a durable
/// outbox can store it before it is sent and hand it back after a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Fired or resolved.
    pub status: Status,
    /// The alert as it was when the change happened.
    pub alert: Alert,
    /// When the alert began (wall clock).
    pub starts_at: Timestamp,
    /// When it ended (wall clock); `None` while firing.
    pub ends_at: Option<Timestamp>,
    /// [`fingerprint`] of its labels and start: the same for its fired and resolved changes.
    pub fingerprint: String,
    /// Unique per change: `<fingerprint>-firing` or `<fingerprint>-resolved`. A
    /// receiver that sees a key twice (a retry, a resend after restart) drops the copy.
    pub idempotency_key: String,
}

impl Change {
    fn new(status: Status, firing: &Firing, ends_at: Option<Timestamp>) -> Change {
        Change {
            status,
            alert: firing.alert.clone(),
            starts_at: firing.starts_at,
            ends_at,
            fingerprint: firing.fingerprint.clone(),
            idempotency_key: format!("{}-{}", firing.fingerprint, status.as_str()),
        }
    }
}

/// A deterministic identity for one alert instance: the first 16 bytes of
/// SHA-256 over the labels (sorted, as JSON) and `startsAt` (nanoseconds since the
/// Unix epoch), in lowercase hex.
pub fn fingerprint(alert: &Alert, starts_at: Timestamp) -> String {
    let mut hash = Sha256::new();
    for (name, value) in &alert.labels {
        // Length-prefixed, so no choice of label text can collide with another.
        hash.update((name.len() as u64).to_be_bytes());
        hash.update(name.as_bytes());
        hash.update((value.len() as u64).to_be_bytes());
        hash.update(value.as_bytes());
    }
    hash.update(starts_at.as_nanosecond().to_be_bytes());
    let digest = hash.finalize();
    hex::encode(&digest[..16])
}

/// Which alert slot an observation fills: the floor, its watchdog, or one service
/// by name (not by kind or criticality, so that an inventory reload that changes
/// those still resolves the old alert).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    Floor,
    Watchdog,
    Service(String),
}

type Key = (String, Slot);

fn key_of(subject: &Subject) -> Key {
    let slot = match subject.service() {
        None => Slot::Floor,
        Some(service) => Slot::Service(service.to_owned()),
    };
    (subject.floor().to_owned(), slot)
}

/// The slot an alert fills, read back from its labels (for [`AlertBook::restore`]).
fn key_of_labels(alert: &Alert) -> Option<Key> {
    let floor = alert.label("floor")?.to_owned();
    let slot = match (alert.label("alertname"), alert.label("service")) {
        (Some(WATCHDOG_ALERT), _) => Slot::Watchdog,
        (_, Some(service)) => Slot::Service(service.to_owned()),
        (_, None) => Slot::Floor,
    };
    Some((floor, slot))
}

/// The set of firing alerts, changed only by observations.
#[derive(Debug, Clone, Default)]
pub struct AlertBook {
    settings: AlertSettings,
    firing: BTreeMap<Key, Firing>,
}

impl AlertBook {
    /// An empty book that applies these settings.
    pub fn new(settings: AlertSettings) -> AlertBook {
        AlertBook {
            settings,
            firing: BTreeMap::new(),
        }
    }

    /// Applies new settings (an `[alerts]` reload) from the next observation on; the
    /// caller syncs the whole picture again so that what fires follows them.
    pub fn set_settings(&mut self, settings: AlertSettings) {
        self.settings = settings;
    }

    /// A book rebuilt from the changes it once emitted (from a durable outbox or the
    /// history store, oldest first), so that after a restart the alerts still firing
    /// keep their `startsAt` and keys: the same state observed again changes nothing
    /// and no receiver sees a second "firing".
    pub fn restore(
        settings: AlertSettings,
        changes: impl IntoIterator<Item = Change>,
    ) -> AlertBook {
        let mut book = AlertBook::new(settings);
        for change in changes {
            let Some(key) = key_of_labels(&change.alert) else {
                continue;
            };
            match change.status {
                Status::Firing => {
                    book.firing.insert(
                        key,
                        Firing {
                            alert: change.alert,
                            starts_at: change.starts_at,
                            fingerprint: change.fingerprint,
                        },
                    );
                }
                Status::Resolved => {
                    if book
                        .firing
                        .get(&key)
                        .is_some_and(|f| f.fingerprint == change.fingerprint)
                    {
                        book.firing.remove(&key);
                    }
                }
            }
        }
        book
    }

    /// Takes one observation made at wall-clock `wall`; returns the changes it
    /// causes (none, one, or a resolve followed by a fire).
    pub fn observe(&mut self, obs: &Observation, wall: Timestamp) -> Vec<Change> {
        let wanted = alert_for(obs, &self.settings);
        self.settle(key_of(&obs.subject), wanted, wall)
    }

    /// Sets the floor's watchdog from [`watchdog_alert`]: fired while polling is
    /// healthy, resolved once it has stalled. Call it after every poll cycle and on
    /// a timer (a stalled loop calls nothing, so the timer is what notices).
    pub fn watchdog(
        &mut self,
        watchdog: Option<Alert>,
        floor: &str,
        wall: Timestamp,
    ) -> Vec<Change> {
        self.settle((floor.to_owned(), Slot::Watchdog), watchdog, wall)
    }

    /// Compares the wanted alert for a slot with what fires there.
    fn settle(&mut self, key: Key, wanted: Option<Alert>, wall: Timestamp) -> Vec<Change> {
        let mut changes = Vec::new();
        if let Some(current) = self.firing.get_mut(&key) {
            match &wanted {
                Some(alert) if alert.labels == current.alert.labels => {
                    current.alert.annotations = alert.annotations.clone();
                    return changes;
                }
                _ => {
                    changes.push(Change::new(Status::Resolved, current, Some(wall)));
                    self.firing.remove(&key);
                }
            }
        }
        if let Some(alert) = wanted {
            let firing = Firing {
                fingerprint: fingerprint(&alert, wall),
                alert,
                starts_at: wall,
            };
            changes.push(Change::new(Status::Firing, &firing, None));
            self.firing.insert(key, firing);
        }
        changes
    }

    /// Takes the whole picture at once (at start, and after an inventory reload):
    /// observes every subject, then resolves the alerts of floors and services that
    /// are no longer observed. Watchdogs are left to [`AlertBook::watchdog`].
    pub fn sync(&mut self, observations: &[Observation], wall: Timestamp) -> Vec<Change> {
        let mut changes: Vec<Change> = observations
            .iter()
            .flat_map(|o| self.observe(o, wall))
            .collect();
        let seen: std::collections::BTreeSet<Key> =
            observations.iter().map(|o| key_of(&o.subject)).collect();
        let gone: Vec<Key> = self
            .firing
            .keys()
            .filter(|k| k.1 != Slot::Watchdog && !seen.contains(*k))
            .cloned()
            .collect();
        for key in gone {
            if let Some(f) = self.firing.remove(&key) {
                changes.push(Change::new(Status::Resolved, &f, Some(wall)));
            }
        }
        changes
    }

    /// Resolves the subject's alert, if any: for a service removed from the
    /// inventory, or a floor shutting down cleanly.
    pub fn forget(&mut self, subject: &Subject, wall: Timestamp) -> Option<Change> {
        self.firing
            .remove(&key_of(subject))
            .map(|f| Change::new(Status::Resolved, &f, Some(wall)))
    }

    /// The firing alerts: per floor, the floor's, the watchdog, then services by name.
    pub fn firing(&self) -> impl Iterator<Item = &Firing> {
        self.firing.values()
    }

    /// The "firing" change of every alert firing now: what the Alertmanager sink
    /// is seeded with after [`AlertBook::restore`] (Alertmanager wants the whole
    /// picture; webhooks saw these before the restart and need not again).
    pub fn picture(&self) -> Vec<Change> {
        self.firing
            .values()
            .map(|f| Change::new(Status::Firing, f, None))
            .collect()
    }

    /// How many alerts are firing.
    pub fn len(&self) -> usize {
        self.firing.len()
    }

    /// True when nothing is firing.
    pub fn is_empty(&self) -> bool {
        self.firing.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use opsfloor_contract::{ReasonCode, State};

    use super::*;

    fn obs(state: State, reasons: &[ReasonCode]) -> Observation {
        Observation {
            subject: Subject::Floor {
                floor: "trading-floor".into(),
            },
            state,
            reasons: reasons.to_vec(),
            contributors: Vec::new(),
            since: Timestamp::UNIX_EPOCH,
            market_open: true,
            in_maintenance: false,
            dashboard_url: "http://floor.example/".into(),
        }
    }

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).expect("in range")
    }

    #[test]
    fn fire_change_and_resolve() {
        let mut book = AlertBook::new(AlertSettings::default());
        assert!(book.observe(&obs(State::Ok, &[]), at(0)).is_empty());
        let fired = book.observe(&obs(State::Halted, &[ReasonCode::KillSwitch]), at(1));
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].status, Status::Firing);
        assert_eq!(fired[0].starts_at, at(1));
        assert!(fired[0].idempotency_key.ends_with("-firing"));
        // The same labels again: nothing new.
        assert!(
            book.observe(&obs(State::Halted, &[ReasonCode::KillSwitch]), at(2))
                .is_empty()
        );
        // Another reason: the old alert resolves and a new one fires.
        let moved = book.observe(&obs(State::Halted, &[ReasonCode::MarketdataStale]), at(3));
        let statuses: Vec<Status> = moved.iter().map(|c| c.status).collect();
        assert_eq!(statuses, [Status::Resolved, Status::Firing]);
        assert_eq!(moved[0].fingerprint, fired[0].fingerprint);
        assert_eq!(moved[0].ends_at, Some(at(3)));
        let calm = book.observe(
            &obs(State::MarketClosed, &[ReasonCode::MarketClosed]),
            at(4),
        );
        assert_eq!(calm.len(), 1);
        assert_eq!(calm[0].status, Status::Resolved);
        assert_eq!(calm[0].fingerprint, moved[1].fingerprint);
        assert!(book.is_empty());
    }

    #[test]
    fn a_restored_book_keeps_what_fires_and_its_keys() {
        let mut book = AlertBook::new(AlertSettings::default());
        let mut log = book.observe(&obs(State::Halted, &[ReasonCode::MarketdataStale]), at(0));
        log.extend(book.observe(&obs(State::Halted, &[ReasonCode::KillSwitch]), at(1)));
        let dog = crate::rules::watchdog_alert(
            "trading-floor",
            at(0),
            Some(at(1)),
            at(1),
            std::time::Duration::from_secs(1),
            "",
        );
        log.extend(book.watchdog(dog.clone(), "trading-floor", at(1)));
        let mut restored = AlertBook::restore(AlertSettings::default(), log.clone());
        assert_eq!(restored.len(), 2);
        let picture: Vec<String> = restored
            .picture()
            .into_iter()
            .map(|c| c.idempotency_key)
            .collect();
        assert_eq!(
            picture,
            [
                log[2].idempotency_key.clone(),
                log[3].idempotency_key.clone()
            ]
        );
        // The same picture after the restart: nothing new for any receiver.
        assert!(
            restored
                .observe(&obs(State::Halted, &[ReasonCode::KillSwitch]), at(9))
                .is_empty()
        );
        assert!(restored.watchdog(dog, "trading-floor", at(9)).is_empty());
        let calm = restored.observe(&obs(State::Ok, &[]), at(10));
        assert_eq!(calm[0].starts_at, at(1), "the original startsAt");
        assert_eq!(calm[0].status, Status::Resolved);
    }

    #[test]
    fn changes_round_trip_through_json_for_an_outbox() {
        let mut book = AlertBook::new(AlertSettings::default());
        let mut changes = book.observe(&obs(State::Halted, &[ReasonCode::KillSwitch]), at(0));
        changes.extend(book.observe(&obs(State::Ok, &[]), at(5)));
        let json = serde_json::to_string(&changes).expect("serialise");
        let back: Vec<Change> = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, changes);
        assert!(json.contains("\"status\":\"resolved\""), "{json}");
    }

    #[test]
    fn sync_resolves_what_is_no_longer_observed() {
        let mut book = AlertBook::new(AlertSettings::default());
        let service = |name: &str| Observation {
            subject: Subject::Service {
                floor: "trading-floor".into(),
                service: name.into(),
                kind: opsfloor_contract::ServiceKind::Strategy,
                criticality: opsfloor_contract::Criticality::Critical,
            },
            ..obs(State::Halted, &[ReasonCode::MarketdataStale])
        };
        let first = book.sync(
            &[
                service("a"),
                service("b"),
                obs(State::Degraded, &[ReasonCode::HeartbeatStale]),
            ],
            at(0),
        );
        assert_eq!(first.len(), 3);
        let dog = crate::rules::watchdog_alert(
            "trading-floor",
            at(0),
            Some(at(0)),
            at(0),
            std::time::Duration::from_secs(1),
            "",
        );
        assert_eq!(book.watchdog(dog, "trading-floor", at(0)).len(), 1);
        // After a reload "b" is gone and the floor is calm: both resolve, "a" and
        // the watchdog stay.
        let second = book.sync(&[service("a"), obs(State::Ok, &[])], at(1));
        let resolved: Vec<Option<&str>> = second.iter().map(|c| c.alert.label("service")).collect();
        assert!(second.iter().all(|c| c.status == Status::Resolved));
        assert_eq!(resolved, [None, Some("b")]);
        assert_eq!(book.len(), 2);
    }

    #[test]
    fn the_watchdog_has_its_own_slot() {
        let mut book = AlertBook::new(AlertSettings::default());
        let second = std::time::Duration::from_secs(1);
        let dog =
            crate::rules::watchdog_alert("trading-floor", at(0), Some(at(0)), at(1), second, "");
        assert_eq!(book.watchdog(dog.clone(), "trading-floor", at(1)).len(), 1);
        assert_eq!(
            book.observe(&obs(State::Halted, &[ReasonCode::KillSwitch]), at(1))
                .len(),
            1
        );
        assert!(book.watchdog(dog, "trading-floor", at(2)).is_empty());
        assert_eq!(book.len(), 2);
        let stalled = book.watchdog(None, "trading-floor", at(9));
        assert_eq!(stalled[0].status, Status::Resolved);
        assert_eq!(
            stalled[0].alert.label("alertname"),
            Some("OpsfloorWatchdog")
        );
        assert_eq!(book.len(), 1);
    }

    #[test]
    fn maintenance_resolves_and_forget_resolves() {
        let mut book = AlertBook::new(AlertSettings::default());
        let mut o = obs(State::Degraded, &[ReasonCode::HeartbeatStale]);
        assert_eq!(book.observe(&o, at(0)).len(), 1);
        o.in_maintenance = true;
        assert_eq!(book.observe(&o, at(1))[0].status, Status::Resolved);
        o.in_maintenance = false;
        assert_eq!(book.observe(&o, at(2)).len(), 1);
        let gone = book.forget(&o.subject, at(3)).expect("was firing");
        assert_eq!(gone.status, Status::Resolved);
        assert_eq!(book.forget(&o.subject, at(4)), None);
    }
}
