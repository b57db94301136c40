//! The floor page against `opsfloor fleet` in the seed's five examples, over real
//! loopback HTTP, with the pages mounted the way `opsfloor serve` mounts them.

mod common;

use common::*;
use opsfloor_fleet::{EXECUTION, GAMMA, MARKETDATA, Scenario};

const ASLEEP: &str = "Offline: scaled to zero, expected";

#[tokio::test]
async fn normal_market_hours_reads_ok() {
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let floor = setup.dashboard(&setup.inventory(""), false).await;
    settle(&floor, "OK []", &[(GAMMA, "OK []"), (MARKETDATA, "OK []")]).await;
    let p = page(&floor, "/").await;
    assert_eq!(p.status, 200);
    assert_eq!(p.header("content-type"), "text/html; charset=utf-8");
    assert_eq!(p.header("cache-control"), "no-store");
    assert!(
        p.header("content-security-policy")
            .contains("script-src 'self'")
    );
    let banner = p.banner();
    assert!(banner.contains("<div class=\"banner st-ok\""), "{banner}");
    assert!(banner.contains("aria-live=\"polite\""), "{banner}");
    assert!(
        banner.contains("<span class=\"b-word\">OK</span>"),
        "{banner}"
    );
    assert!(banner.contains("Every service the floor depends on is working"));
    assert!(banner.contains("Since <time datetime="), "{banner}");
    assert!(banner.contains(" EST · 2026-01-07 "), "{banner}");
    let market = p.market();
    assert!(market.contains("Market open"), "{market}");
    assert!(market.contains("closes"), "{market}");
    assert!(market.contains("Wed 7 Jan 16:00 EST"), "{market}");
    assert!(market.contains("Wed 7 Jan 21:00 UTC"), "{market}");
    // Each venue of the floor with its countdown (one venue here: the fleet's).
    assert!(
        market.contains("<li class=\"m-open\" data-calendar=\"XNYS\">XNYS open, closes in "),
        "{market}"
    );
    let gamma = p.row(GAMMA);
    assert!(gamma.starts_with("<tr class=\"st-ok\">"), "{gamma}");
    assert!(
        gamma.contains("<a href=\"/services/gamma-strategy\">"),
        "{gamma}"
    );
    assert!(gamma.contains("<td><b>OK</b></td>"), "{gamma}");
    assert!(gamma.contains(" ms</td><td>critical</td>"), "{gamma}");
    // Groups in the seed's order, inventory order inside (the group headings, not
    // the kind filter's options above the table).
    let order: Vec<usize> = [
        "colspan=\"7\">Market data<",
        "colspan=\"7\">Strategies<",
        "colspan=\"7\">Execution<",
        "colspan=\"7\">Ingest<",
        ">gamma-strategy<",
        ">whale-strategy<",
    ]
    .iter()
    .map(|s| p.body.find(s).unwrap_or_else(|| panic!("{s}")))
    .collect();
    assert!(order[..4].windows(2).all(|w| w[0] < w[1]), "{order:?}");
    assert!(order[1] < order[4] && order[4] < order[5] && order[5] < order[2]);
    // Scripts off: the page refreshes itself.
    assert!(
        p.body
            .contains("<noscript><meta http-equiv=\"refresh\" content=\"10\"></noscript>")
    );
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

#[tokio::test]
async fn execution_scaled_to_zero_reads_calm() {
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let floor = setup.dashboard(&setup.inventory(""), false).await;
    settle(
        &floor,
        "OK []",
        &[(EXECUTION, "OFFLINE [EXECUTION_DISABLED]")],
    )
    .await;
    let p = page(&floor, "/").await;
    let row = p.row(EXECUTION);
    assert!(row.starts_with("<tr class=\"st-asleep\">"), "{row}");
    assert!(row.contains("<b>Offline</b>"), "{row}");
    assert!(
        row.contains(&format!("<span class=\"rs\">{ASLEEP}</span>"))
            && row.contains("title=\"EXECUTION_DISABLED \u{2014} "),
        "{row}"
    );
    assert!(row.contains("<td>not polled</td>"), "{row}");
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

#[tokio::test]
async fn after_hours_the_market_is_closed_and_calm() {
    let setup = Setup::fleet(Scenario::Normal, AFTER_HOURS).await;
    let floor = setup.dashboard(&setup.inventory(""), false).await;
    settle(
        &floor,
        "MARKET_CLOSED [MARKET_CLOSED]",
        &[(GAMMA, "MARKET_CLOSED [MARKET_CLOSED]")],
    )
    .await;
    let p = page(&floor, "/").await;
    let banner = p.banner();
    assert!(
        banner.contains("<div class=\"banner st-closed\""),
        "{banner}"
    );
    assert!(
        banner.contains("<span class=\"b-word\">Market closed</span>"),
        "{banner}"
    );
    assert!(
        banner.contains("The market is closed (expected)"),
        "{banner}"
    );
    let market = p.market();
    assert!(
        market.contains("<section class=\"market m-closed\""),
        "{market}"
    );
    assert!(
        market.contains("<span class=\"m-verb\">opens</span>"),
        "{market}"
    );
    assert!(
        market.contains("data-at=\"2026-01-08T14:30:00Z\""),
        "{market}"
    );
    assert!(market.contains("Thu 8 Jan 09:30 EST"), "{market}");
    let gamma = p.row(GAMMA);
    assert!(gamma.starts_with("<tr class=\"st-closed\">"), "{gamma}");
    assert!(gamma.contains("<span class=\"rs\">The market is closed (expected)</span>"));
    // The state is said once: the code only in the hover text.
    assert_eq!(gamma.matches("MARKET_CLOSED").count(), 1, "{gamma}");
    assert!(gamma.contains("title=\"MARKET_CLOSED \u{2014} "), "{gamma}");
    // Calm: no row in a warning or critical look.
    for look in ["st-degraded", "st-halted", "st-offline", "st-unknown"] {
        assert!(!p.body.contains(&format!("<tr class=\"{look}")), "{look}");
    }
    assert!(p.row(EXECUTION).contains(ASLEEP));
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

#[tokio::test]
async fn stale_marketdata_halts_the_floor() {
    let setup = Setup::fleet(Scenario::StaleMarketdata, MARKET_HOURS).await;
    let floor = setup.dashboard(&setup.inventory(""), false).await;
    settle(
        &floor,
        "HALTED [MARKETDATA_STALE]",
        &[
            (MARKETDATA, "DEGRADED [MARKETDATA_STALE]"),
            (GAMMA, "HALTED [MARKETDATA_STALE]"),
        ],
    )
    .await;
    let p = page(&floor, "/").await;
    let banner = p.banner();
    assert!(
        banner.contains("<div class=\"banner st-halted\""),
        "{banner}"
    );
    assert!(
        banner.contains("<span class=\"b-word\">Halted</span>"),
        "{banner}"
    );
    assert!(
        banner.contains("<code class=\"b-codes\">MARKETDATA_STALE</code>"),
        "{banner}"
    );
    assert!(
        banner.contains("Market data is older than its stale threshold while the market is open")
    );
    assert!(
        banner.contains("Decided by ") && banner.contains(GAMMA),
        "{banner}"
    );
    assert!(p.row(MARKETDATA).starts_with("<tr class=\"st-degraded\">"));
    assert!(p.row(GAMMA).starts_with("<tr class=\"st-halted\">"));
    assert!(p.row(GAMMA).contains("<b>Halted</b>"));
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

#[tokio::test]
async fn the_kill_switch_halts_the_floor_in_words() {
    let setup = Setup::fleet(Scenario::KillSwitch, MARKET_HOURS).await;
    let floor = setup.dashboard(&setup.inventory(""), false).await;
    settle(&floor, "HALTED [KILL_SWITCH]", &[]).await;
    let p = page(&floor, "/").await;
    let banner = p.banner();
    assert!(
        banner.contains("<div class=\"banner st-halted\""),
        "{banner}"
    );
    assert!(
        banner.contains("<code class=\"b-codes\">KILL_SWITCH</code>"),
        "{banner}"
    );
    assert!(
        banner.contains("The kill switch is engaged: trading is stopped on purpose"),
        "{banner}"
    );
    assert!(p.row(GAMMA).contains("title=\"KILL_SWITCH \u{2014} "));
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

#[tokio::test]
async fn kiosk_mode_is_large_and_has_no_navigation() {
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let floor = setup.dashboard(&setup.inventory(""), false).await;
    let p = page(&floor, "/?kiosk=1").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("<body class=\"page-floor kiosk\""));
    assert!(!p.body.contains("<nav aria-label=\"Pages\">"));
    let normal = page(&floor, "/").await;
    assert!(normal.body.contains("<nav aria-label=\"Pages\">"));
    assert!(
        normal
            .body
            .contains("<a href=\"/\" aria-current=\"page\">Floor</a>")
    );
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}
