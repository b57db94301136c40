//! The simulated floor over real loopback HTTP: the seed's five examples and every
//! scenario knob, changed while the fleet runs.

use std::time::{Duration, Instant};

use opsfloor_fleet::{EXECUTION, Fleet, FleetConfig, GAMMA, INGEST, MARKETDATA, Scenario, WHALE};
use opsfloor_probe::Clock;
use serde_json::Value;

const MARKET_HOURS: &str = "2026-01-07T15:00:00Z"; // Wednesday 10:00 New York
const AFTER_HOURS: &str = "2026-01-07T22:00:00Z"; // Wednesday 17:00 New York

struct Running {
    fleet: Fleet,
    _dir: tempfile::TempDir,
    inventory: std::path::PathBuf,
}

async fn start(scenario: Scenario, now: &str) -> Running {
    let dir = tempfile::tempdir().expect("tmp");
    let inventory = dir.path().join("inventory.toml");
    let mut config = FleetConfig::new(0, dir.path().join("control"));
    config.clock = Clock::simulated_from(now.parse().expect("ts"));
    config.scenario = scenario;
    config.inventory = Some(inventory.clone());
    config.tick_interval = Duration::from_millis(200);
    config.stale_threshold_seconds = 2.0;
    config.control_interval = Duration::from_millis(50);
    let fleet = Fleet::start(config).await.expect("fleet starts");
    Running {
        fleet,
        _dir: dir,
        inventory,
    }
}

/// GET a service's status; `None` when it does not answer.
async fn status(fleet: &Fleet, name: &str) -> Option<Value> {
    let url = format!("{}/ops/status", fleet.url(name).expect("known service"));
    let response = reqwest::Client::new()
        .get(url)
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .ok()?;
    response.json().await.ok()
}

fn summary(doc: &Value) -> String {
    let codes: Vec<&str> = doc["status"]["reason_codes"]
        .as_array()
        .expect("codes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    format!(
        "{} [{}]",
        doc["status"]["state"].as_str().expect("state"),
        codes.join(",")
    )
}

/// Polls until `name` reports `want` (e.g. `"OK []"`, or `"down"` for no answer),
/// failing after `within`. Returns how long it took.
async fn expect(fleet: &Fleet, name: &str, want: &str, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let seen = match status(fleet, name).await {
            Some(doc) => summary(&doc),
            None => "down".to_owned(),
        };
        if seen == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "{name}: expected {want}, still {seen} after {:?}",
            start.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const SOON: Duration = Duration::from_secs(5);

#[tokio::test]
async fn seed_example_ok_during_market_hours() {
    let r = start(Scenario::Normal, MARKET_HOURS).await;
    for name in [MARKETDATA, GAMMA, WHALE, INGEST] {
        expect(&r.fleet, name, "OK []", SOON).await;
    }
    let doc = status(&r.fleet, GAMMA).await.expect("answers");
    assert_eq!(
        doc["marketdata"]["is_fresh"], true,
        "the strategy learned the tick from marketdata over HTTP"
    );
    assert_eq!(doc["git_sha"], "9b7e3d1");
    r.fleet.shutdown().await;
}

#[tokio::test]
async fn seed_example_market_closed_after_hours() {
    let r = start(Scenario::Normal, AFTER_HOURS).await;
    for name in [MARKETDATA, GAMMA, WHALE, INGEST] {
        expect(&r.fleet, name, "MARKET_CLOSED [MARKET_CLOSED]", SOON).await;
    }
    r.fleet.shutdown().await;
}

#[tokio::test]
async fn seed_example_degraded_stale_marketdata() {
    let r = start(Scenario::StaleMarketdata, MARKET_HOURS).await;
    expect(&r.fleet, MARKETDATA, "DEGRADED [MARKETDATA_STALE]", SOON).await;
    expect(&r.fleet, GAMMA, "HALTED [MARKETDATA_STALE]", SOON).await;
    // Restart the feed while it runs: marketdata recovers, and so do the strategies.
    std::fs::write(r.fleet.control().path().join("tick-feed"), "on\n").expect("write");
    expect(&r.fleet, MARKETDATA, "OK []", SOON).await;
    expect(&r.fleet, GAMMA, "OK []", SOON).await;
    r.fleet.shutdown().await;
}

#[tokio::test]
async fn seed_example_halted_kill_switch() {
    let r = start(Scenario::KillSwitch, MARKET_HOURS).await;
    for name in [MARKETDATA, GAMMA, WHALE, INGEST] {
        expect(&r.fleet, name, "HALTED [KILL_SWITCH]", SOON).await;
    }
    // Release it through the same file, while it runs; the probes see it within a second.
    std::fs::write(r.fleet.control().kill_switch_file(), "off\n").expect("write");
    let took = expect(&r.fleet, GAMMA, "OK []", SOON).await;
    assert!(took <= Duration::from_secs(1), "took {took:?}");
    std::fs::write(r.fleet.control().kill_switch_file(), "on\n").expect("write");
    expect(&r.fleet, GAMMA, "HALTED [KILL_SWITCH]", SOON).await;
    r.fleet.shutdown().await;
}

#[tokio::test]
async fn seed_example_offline_execution_scaled_to_zero() {
    // Scaled to zero: nothing listens, and the inventory says replicas = 0.
    let r = start(Scenario::Normal, MARKET_HOURS).await;
    expect(&r.fleet, EXECUTION, "down", SOON).await;
    let inventory = std::fs::read_to_string(&r.inventory).expect("inventory");
    assert!(
        inventory.contains("name = \"execution-agent\"\nkind = \"execution\""),
        "{inventory}"
    );
    assert!(
        inventory.contains("replicas = 0\nenabled = true"),
        "{inventory}"
    );
    r.fleet.shutdown().await;

    // Running with EXECUTION_ENABLED=false, the agent itself reports it.
    let r = start(Scenario::ExecutionDisabled, MARKET_HOURS).await;
    expect(&r.fleet, EXECUTION, "OFFLINE [EXECUTION_DISABLED]", SOON).await;
    r.fleet.shutdown().await;
}

#[tokio::test]
async fn start_the_execution_agent_while_running() {
    let r = start(Scenario::Normal, MARKET_HOURS).await;
    expect(&r.fleet, EXECUTION, "down", SOON).await;
    std::fs::write(r.fleet.control().path().join("execution-replicas"), "1\n").expect("write");
    expect(&r.fleet, EXECUTION, "OK []", SOON).await;
    let inventory = std::fs::read_to_string(&r.inventory).expect("inventory");
    assert!(
        inventory.contains("replicas = 1\nenabled = true"),
        "the inventory follows: {inventory}"
    );
    let doc = status(&r.fleet, EXECUTION).await.expect("answers");
    assert_eq!(
        doc["safety"]["safe_to_execute_orders"], false,
        "the order policy is off by default"
    );
    std::fs::write(r.fleet.control().path().join("execution-replicas"), "0\n").expect("write");
    expect(&r.fleet, EXECUTION, "down", SOON).await;
    r.fleet.shutdown().await;
}

#[tokio::test]
async fn stop_and_restart_a_service() {
    let r = start(Scenario::Normal, MARKET_HOURS).await;
    expect(&r.fleet, WHALE, "OK []", SOON).await;
    std::fs::write(r.fleet.control().path().join("stopped"), "whale-strategy\n").expect("write");
    expect(&r.fleet, WHALE, "down", SOON).await;
    expect(&r.fleet, GAMMA, "OK []", SOON).await;
    std::fs::write(r.fleet.control().path().join("stopped"), "").expect("write");
    expect(&r.fleet, WHALE, "OK []", SOON).await;
    r.fleet.shutdown().await;
}

#[tokio::test]
async fn stopping_the_feed_makes_marketdata_stale_and_halts_strategies() {
    let r = start(Scenario::Normal, MARKET_HOURS).await;
    expect(&r.fleet, MARKETDATA, "OK []", SOON).await;
    std::fs::write(r.fleet.control().path().join("tick-feed"), "off\n").expect("write");
    // The stale threshold is 2 s in this test.
    expect(&r.fleet, MARKETDATA, "DEGRADED [MARKETDATA_STALE]", SOON).await;
    expect(&r.fleet, GAMMA, "HALTED [MARKETDATA_STALE]", SOON).await;
    r.fleet.shutdown().await;
}

#[tokio::test]
async fn marketdata_down_leaves_strategies_with_aging_data() {
    let r = start(Scenario::Normal, MARKET_HOURS).await;
    expect(&r.fleet, GAMMA, "OK []", SOON).await;
    std::fs::write(
        r.fleet.control().path().join("stopped"),
        "marketdata-mcp-server\n",
    )
    .expect("write");
    expect(&r.fleet, MARKETDATA, "down", SOON).await;
    expect(&r.fleet, GAMMA, "HALTED [MARKETDATA_STALE]", SOON).await;
    r.fleet.shutdown().await;
}

#[tokio::test]
async fn fixed_ports_follow_the_base_port() {
    let dir = tempfile::tempdir().expect("tmp");
    // Find five free consecutive ports by binding a probe listener first.
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = probe.local_addr().expect("addr").port().saturating_sub(10);
    drop(probe);
    let config = FleetConfig::new(base, dir.path().join("control"));
    match Fleet::start(config).await {
        Ok(fleet) => {
            let urls: Vec<String> = fleet.services().iter().map(|s| s.url.clone()).collect();
            for (i, url) in urls.iter().enumerate() {
                assert_eq!(url, &format!("http://127.0.0.1:{}", base + i as u16));
            }
            fleet.shutdown().await;
        }
        // Another process may hold one of these ports; the error must say which.
        Err(e) => assert!(e.to_string().contains("cannot listen on 127.0.0.1:"), "{e}"),
    }
}

#[tokio::test]
async fn a_closure_in_the_probes_calendar_shows_market_closed_and_the_inventory_names_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let inventory = dir.path().join("inventory.toml");
    let overrides = dir.path().join("overrides.toml");
    let text = "[[closures]]\ncalendar = \"XNYS\"\ndate = \"2026-01-07\"\n";
    let file = opsfloor_contract::calendar::VenueOverrides::parse(text).expect("valid");
    let mut config = FleetConfig::new(0, dir.path().join("control"));
    config.clock = Clock::simulated_from(MARKET_HOURS.parse().expect("ts"));
    config.inventory = Some(inventory.clone());
    config.calendar = file.calendar("XNYS").expect("calendar");
    config.calendar_overrides = Some(overrides.clone());
    config.tick_interval = Duration::from_millis(200);
    config.control_interval = Duration::from_millis(50);
    let fleet = Fleet::start(config).await.expect("fleet starts");
    // Wednesday 10:00 New York, but closed today: calm, not MARKETDATA_MISSING.
    expect(
        &fleet,
        MARKETDATA,
        "MARKET_CLOSED [MARKET_CLOSED]",
        Duration::from_secs(5),
    )
    .await;
    let written = std::fs::read_to_string(&inventory).expect("inventory");
    let parsed = opsfloor_inventory::parse(&written, &inventory, opsfloor_inventory::Format::Toml)
        .expect("a valid inventory");
    assert_eq!(
        parsed.floor.calendar_overrides.as_deref(),
        Some(overrides.as_path())
    );
    fleet.shutdown().await;
}

#[tokio::test]
async fn a_mixed_desk_names_each_services_own_calendar_in_the_inventory() {
    let dir = tempfile::tempdir().expect("tmp");
    let inventory = dir.path().join("inventory.toml");
    let mut config = FleetConfig::new(0, dir.path().join("control"));
    config.clock = Clock::simulated_from(MARKET_HOURS.parse().expect("ts"));
    config.inventory = Some(inventory.clone());
    config.mixed_desk = Some(opsfloor_fleet::MixedDesk {
        xtks: opsfloor_contract::Calendar::by_name("XTKS", &Default::default()).expect("XTKS"),
    });
    let fleet = Fleet::start(config).await.expect("fleet starts");
    // Thursday 00:00 in Tokyo: its strategy is calm; crypto trades.
    expect(
        &fleet,
        opsfloor_fleet::TOKYO,
        "MARKET_CLOSED [MARKET_CLOSED]",
        SOON,
    )
    .await;
    expect(&fleet, opsfloor_fleet::CRYPTO_FEED, "OK []", SOON).await;
    let doc = status(&fleet, opsfloor_fleet::TOKYO)
        .await
        .expect("answers");
    assert_eq!(doc["market"]["calendar"], "XTKS");
    assert_eq!(doc["market"]["next_open_utc"], "2026-01-08T00:00:00Z");
    let written = std::fs::read_to_string(&inventory).expect("inventory");
    let parsed = opsfloor_inventory::parse(&written, &inventory, opsfloor_inventory::Format::Toml)
        .expect("a valid inventory");
    let calendars: Vec<(&str, Option<&str>)> = parsed
        .services
        .iter()
        .map(|s| (s.name.as_str(), s.calendar.as_deref()))
        .collect();
    assert_eq!(
        calendars,
        [
            (MARKETDATA, None),
            (GAMMA, None),
            (WHALE, None),
            (EXECUTION, None),
            (INGEST, None),
            (opsfloor_fleet::TOKYO, Some("XTKS")),
            (opsfloor_fleet::CRYPTO_FEED, Some("always-open")),
        ]
    );
    fleet.shutdown().await;
}
