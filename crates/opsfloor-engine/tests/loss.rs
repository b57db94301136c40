//! Calm under packet loss, as a deterministic simulation on the pure engine.
//!
//! 100 services polled every 5 s through one NYSE trading day (09:30 to 16:00 New
//! York, 4,680 polls each), every request lost independently with probability 5%
//! (half connection resets, half stalls past the timeout). The poller gives each poll
//! a second chance within the same interval (`opsfloor-poller`'s `RetryOnce`: a
//! retry after a quick failure, a hedged request at half the timeout after a stall),
//! so a poll fails only when both of its requests are lost. The engine turns a
//! service `OFFLINE [UNREACHABLE]` only after `failure_threshold` (default 3) failed
//! polls in a row.
//!
//! Expected false transitions per day: 468,000 × (0.05²)³ ≈ 0.007, so every seeded
//! day must show none. The control run (no second chance) shows that the simulation
//! can fail: 468,000 × 0.05³ ≈ 58 false transitions.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use opsfloor_contract::Calendar;
use opsfloor_engine::{Applied, FloorState, Outcome, Polled};
use opsfloor_inventory::{Format, Inventory};

const SERVICES: usize = 100;
const INTERVAL: SignedDuration = SignedDuration::from_secs(5);
const LOSS: f64 = 0.05;
/// Rounds before counting: the first look at each service (a first poll that is
/// lost leaves it UNKNOWN until its next answer) is start-up, not a change.
const WARMUP: usize = 3;

/// xorshift64*: a small, seedable generator, so each day is the same on every run.
struct Rng(u64);

impl Rng {
    fn chance(&mut self, p: f64) -> bool {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        ((x >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

fn inventory() -> Inventory {
    let mut text = String::from(
        "[floor]\nname = \"sim\"\ncalendar = \"nyse\"\npoll_interval_ms = 5000\ntimeout_ms = 1000\n",
    );
    for i in 0..SERVICES {
        text.push_str(&format!(
            "\n[[services]]\nname = \"svc-{i:03}\"\nkind = \"ops\"\nurl = \"http://10.0.{}.{}:9100\"\ncriticality = \"critical\"\n",
            i / 250,
            i % 250 + 1
        ));
    }
    opsfloor_inventory::parse(&text, "sim.toml".as_ref(), Format::Toml).expect("inventory")
}

/// Service `i`'s healthy document (an ops service: no heartbeat TTL or market data
/// to go stale, so one document stays valid all day).
fn healthy(i: usize) -> Outcome {
    let text = format!(
        r#"{{"service_name":"svc-{i:03}","service_kind":"ops","repo_id":"desk/ops","git_sha":"abc123","build_id":null,
        "agent_identity":{{"agent_name":"svc-{i:03}","agent_role":"ops","agent_mode":"WATCH"}},
        "status":{{"state":"OK","summary":"Healthy","reason_codes":[],"last_updated_utc":"2026-01-07T14:30:00Z"}},
        "heartbeat":{{"last_heartbeat_utc":null,"age_seconds":null,"ttl_seconds":null}},
        "marketdata":{{"last_tick_utc":null,"last_bar_utc":null,"stale_threshold_seconds":null,"is_fresh":null}},
        "safety":{{"kill_switch":false,"safe_to_run_strategies":true,"safe_to_execute_orders":false,"gating_reasons":[]}},
        "endpoints":{{"healthz":"/health","heartbeat":null,"metrics":null}}}}"#
    );
    let received = opsfloor_contract::parse_document(&text).expect("document");
    assert!(received.problems.is_empty(), "{:?}", received.problems);
    Outcome::Document {
        received: Box::new(received),
        raw: text.into(),
    }
}

/// Runs one trading day; returns the transitions after the warm-up rounds.
fn day(seed: u64, second_chance: bool) -> usize {
    let inventory = inventory();
    let urls: Vec<(String, String)> = inventory
        .services
        .iter()
        .map(|e| (e.name.clone(), e.status_url()))
        .collect();
    let documents: Vec<Outcome> = (0..SERVICES).map(healthy).collect();
    let open: Timestamp = "2026-01-07T14:30:00Z".parse().expect("open");
    let close: Timestamp = "2026-01-07T21:00:00Z".parse().expect("close");
    let mut floor = FloorState::new(inventory, Calendar::nyse(), &[], open);
    let mut rng = Rng(seed);
    let mut transitions = 0;
    let mut round = 0;
    let mut start = open;
    while start < close {
        for (i, (name, url)) in urls.iter().enumerate() {
            let lost = rng.chance(LOSS) && (!second_chance || rng.chance(LOSS));
            let outcome = if lost {
                Outcome::NoAnswer {
                    error: "connection reset".into(),
                }
            } else {
                documents[i].clone()
            };
            let polled = Polled {
                outcome,
                latency: Duration::from_millis(2),
            };
            let at = start + SignedDuration::from_millis(i as i64 * 50);
            match floor.apply(name, url, polled, at) {
                Applied::Applied(Some(t)) if round >= WARMUP => {
                    eprintln!("round {round}: {t:?}");
                    transitions += 1;
                }
                Applied::Applied(_) => {}
                Applied::Stale => panic!("{name}: a result was dropped as stale"),
            }
        }
        // Rolled up once per round, inside the session (the close itself is a real
        // change: MARKET_CLOSED).
        if let Some(t) = floor.roll(start + SignedDuration::from_millis((SERVICES as i64 - 1) * 50))
            && round >= WARMUP
        {
            eprintln!("round {round}: {t:?}");
            transitions += 1;
        }
        round += 1;
        start += INTERVAL;
        if round == WARMUP {
            assert_eq!(
                floor.verdict.state,
                opsfloor_contract::State::Ok,
                "after the warm-up"
            );
        }
    }
    assert_eq!(round, 4_680, "one trading day of 5 s polls");
    transitions
}

#[test]
fn a_lossy_day_shows_no_transition_at_all() {
    for seed in [0x5eed_0001, 0x5eed_0002, 0x5eed_0003] {
        assert_eq!(day(seed, true), 0, "seed {seed:#x}");
    }
}

#[test]
fn without_the_second_chance_the_same_loss_is_noise() {
    let noisy = day(0x5eed_0001, false);
    assert!(
        noisy > 10,
        "expected dozens of false OFFLINEs without the retry, got {noisy}"
    );
}
