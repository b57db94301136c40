//! The service, history and report pages and the assets, over loopback HTTP.

mod common;

use std::time::{Duration, Instant};

use common::*;
use opsfloor_fleet::{EXECUTION, GAMMA, Scenario};

#[tokio::test]
async fn the_service_page_shows_everything_about_one_service() {
    let setup = Setup::fleet(Scenario::KillSwitch, MARKET_HOURS).await;
    let floor = setup.dashboard(&setup.inventory(""), true).await;
    settle(
        &floor,
        "HALTED [KILL_SWITCH]",
        &[(GAMMA, "HALTED [KILL_SWITCH]")],
    )
    .await;
    let p = page(&floor, "/services/gamma-strategy").await;
    assert_eq!(p.status, 200);
    assert_eq!(p.header("content-type"), "text/html; charset=utf-8");
    let b = &p.body;
    assert!(b.contains("<h1>gamma-strategy</h1>"));
    assert!(
        b.contains("<section class=\"banner st-halted compact\""),
        "{b}"
    );
    for text in [
        "<dt>Kind</dt><dd>strategy</dd>",
        "<dt>Criticality</dt><dd>critical</dd>",
        "<dt>Git SHA</dt><dd>9b7e3d1</dd>",
        "<dt>Agent mode</dt>",
        "<dt>Heartbeat age</dt>",
        "<dt>Market data</dt><dd>Fresh</dd>",
        "<dt>Kill switch</dt><dd class=\"wrap\">Engaged: trading stopped on purpose</dd>",
        "<dt>Safe to run strategies</dt><dd>No</dd>",
        "Find who engaged the kill switch and why before releasing it",
        "<svg class=\"strip\" viewBox=\"0 0 1000 24\" preserveAspectRatio=\"none\" role=\"img\"",
        "<pre class=\"doc\" tabindex=\"0\"><code>{\n",
        "&#34;service_name&#34;: &#34;gamma-strategy&#34;",
    ] {
        assert!(b.contains(text), "missing {text:?} in\n{b}");
    }
    // The floor kept history: the transition into HALTED is in the table and the strip.
    let start = Instant::now();
    loop {
        let p = page(&floor, "/services/gamma-strategy").await;
        if p.body.contains("<table class=\"transitions\">") {
            assert!(p.body.contains("<code>KILL_SWITCH</code>"));
            assert!(p.body.contains("<rect class=\"st-halted\""), "{}", p.body);
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{}", p.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Three strips from the one history read: 24 hours, 7 days, 30 days.
    let p = page(&floor, "/services/gamma-strategy").await;
    for title in ["Last 24 hours", "Last 7 days", "Last 30 days"] {
        assert!(
            p.body
                .contains(&format!("<h3 class=\"strip-title\">{title}</h3>")),
            "{title} in\n{}",
            p.body
        );
    }
    assert_eq!(
        p.body.matches("<svg class=\"strip\"").count(),
        3,
        "{}",
        p.body
    );
    // The polls so far, timed: the latency sparkline.
    assert!(
        p.body.contains("<svg class=\"spark\"")
            && p.body.contains("aria-label=\"Latency over the last ")
            && p.body.contains("<polyline points=\""),
        "{}",
        p.body
    );
    let missing = page(&floor, "/services/no-such-service").await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("No service named “no-such-service”"));
    assert_eq!(missing.header("content-type"), "text/html; charset=utf-8");
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

#[tokio::test]
async fn a_floor_without_history_still_draws_the_current_state() {
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let floor = setup.dashboard(&setup.inventory(""), false).await;
    settle(
        &floor,
        "OK []",
        &[(EXECUTION, "OFFLINE [EXECUTION_DISABLED]")],
    )
    .await;
    let p = page(&floor, "/services/execution-agent").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("This floor keeps no history"));
    assert!(p.body.contains("<rect class=\"st-asleep\""), "{}", p.body);
    assert!(p.body.contains("Offline: scaled to zero, expected"));
    assert!(
        p.body
            .contains("No: scaled to zero or disabled by the inventory")
    );
    let h = page(&floor, "/history").await;
    assert_eq!(h.status, 200);
    assert!(h.body.contains("This floor keeps no history"));
    assert!(
        h.body.contains(
            "<div class=\"lane\"><span class=\"day\">Wed 7 Jan</span><svg class=\"strip\""
        )
    );
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

#[tokio::test]
async fn the_history_page_draws_days_and_market_hour_shares() {
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let floor = setup.dashboard(&setup.inventory(""), true).await;
    settle(&floor, "OK []", &[(GAMMA, "OK []")]).await;
    // Wait (with a deadline) until market time has passed on the simulated clock and
    // the shares have minutes: the SLO table names gamma-strategy at 100.0%.
    let start = Instant::now();
    let p = loop {
        let p = page(&floor, "/history?days=3").await;
        if p.body.contains("<table class=\"slo\">")
            && p.body.contains(">gamma-strategy</a></th>")
            && p.body.contains("<td>100.0%</td>")
        {
            break p;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the history page showed no market-hour shares within 10 s:\n{}",
            p.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(p.status, 200);
    let b = &p.body;
    assert_eq!(
        b.matches("<div class=\"lane\"><span class=\"day\">")
            .count(),
        3,
        "{b}"
    );
    assert!(b.contains("<span class=\"day\">Wed 7 Jan</span>"));
    assert!(b.contains("<rect class=\"session\""), "{b}");
    assert!(b.contains("<rect class=\"st-ok\""), "{b}");
    // Every daily bar's stretch says its state, from and to, on hover.
    let lane = b
        .split("<div class=\"lane\"><span class=\"day\">")
        .nth(3)
        .unwrap_or_default();
    let ok_title = lane
        .split("<rect class=\"st-ok\"")
        .nth(1)
        .and_then(|r| r.split("</rect>").next())
        .unwrap_or_default();
    assert!(
        ok_title.contains("><title>OK from Wed 7 Jan ") && ok_title.contains(" to Wed 7 Jan "),
        "{ok_title:?} in {lane}"
    );
    assert!(b.contains("<table class=\"slo\">"), "{b}");
    assert!(b.contains("<th scope=\"row\">Floor</th>"), "{b}");
    assert!(b.contains(
        "<th scope=\"row\"><a href=\"/services/gamma-strategy\">gamma-strategy</a></th>"
    ));
    assert!(b.contains("<td>100.0%</td>"), "{b}");
    // The floor first, then inventory order.
    let floor_at = b.find("<th scope=\"row\">Floor</th>").unwrap_or(usize::MAX);
    let md_at = b.find(">marketdata-mcp-server</a></th>").unwrap_or(0);
    let gamma_at = b.find(">gamma-strategy</a></th>").unwrap_or(0);
    assert!(floor_at < md_at && md_at < gamma_at);
    // A bad `days` falls back to the default rather than failing.
    let p = page(&floor, "/history?days=lots").await;
    assert_eq!(
        p.body
            .matches("<div class=\"lane\"><span class=\"day\">")
            .count(),
        7
    );
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

#[tokio::test]
async fn the_report_page_is_html_from_the_reports_data() {
    let setup = Setup::fleet(Scenario::KillSwitch, MARKET_HOURS).await;
    let floor = setup.dashboard(&setup.inventory(""), false).await;
    settle(
        &floor,
        "HALTED [KILL_SWITCH]",
        &[(GAMMA, "HALTED [KILL_SWITCH]")],
    )
    .await;
    let p = page(&floor, "/report").await;
    assert_eq!(p.status, 200);
    let b = &p.body;
    // No markdown anywhere: no <pre>, no literal emphasis, no table pipes.
    assert!(!b.contains("<pre"), "{b}");
    assert!(!b.contains("**"), "{b}");
    assert!(!b.contains("| gamma-strategy |"), "{b}");
    // The floor banner.
    assert!(
        b.contains("<section class=\"banner st-halted compact\" aria-label=\"Floor state\">"),
        "{b}"
    );
    assert!(
        b.contains(
            "<span class=\"b-word\">Halted</span> <code class=\"b-codes\">KILL_SWITCH</code>"
        ),
        "{b}"
    );
    // Each top issue once, with its services under it.
    let issues = &b[b.find("<ul class=\"issues\">").expect("issues")..];
    let issues = &issues[..issues.find("</ul>").expect("end of issues")];
    assert_eq!(
        issues.matches("<code>KILL_SWITCH</code>").count(),
        1,
        "{issues}"
    );
    assert!(
        issues.contains("<a href=\"/services/gamma-strategy\">gamma-strategy</a>"),
        "{issues}"
    );
    assert!(!issues.contains('`'), "{issues}");
    // Every service in a table, with a label on each cell for the phone's cards.
    assert!(b.contains("<table class=\"report-services\">"), "{b}");
    assert!(b.contains("<th scope=\"row\"><a href=\"/services/gamma-strategy\">gamma-strategy</a></th><td data-label=\"Kind\">strategy</td><td data-label=\"Criticality\">critical</td>"), "{b}");
    // The downloads, and they answer.
    for (href, kind) in [
        (
            "/api/v1/report?format=markdown",
            "text/markdown; charset=utf-8",
        ),
        ("/api/v1/report?format=json", "application/json"),
    ] {
        assert!(
            b.contains(&format!("<a href=\"{}\"", href.replace('&', "&#38;"))),
            "{href} in {b}"
        );
        let d = page(&floor, href).await;
        assert_eq!(d.status, 200, "{href}");
        assert!(
            d.header("content-type").starts_with(kind),
            "{href}: {}",
            d.header("content-type")
        );
    }
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

#[tokio::test]
async fn assets_are_embedded_hashed_and_cached_for_long() {
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let floor = setup.dashboard(&setup.inventory(""), false).await;
    let home = page(&floor, "/").await;
    let href = |prefix: &str| -> String {
        let start = home.body.find(prefix).unwrap_or_else(|| panic!("{prefix}")) + prefix.len();
        let end = home.body[start..].find('"').expect("quote");
        home.body[start..start + end].to_owned()
    };
    let css = href("<link rel=\"stylesheet\" href=\"");
    let js = href("<script src=\"");
    let icon = href("<link rel=\"icon\" href=\"");
    for (url, content_type, needle) in [
        (
            &css,
            "text/css; charset=utf-8",
            "prefers-color-scheme: dark",
        ),
        (
            &js,
            "text/javascript; charset=utf-8",
            "new EventSource('/api/v1/stream')",
        ),
        (&icon, "image/svg+xml", "<svg"),
    ] {
        assert!(url.starts_with("/assets/"), "{url}");
        let a = page(&floor, url).await;
        assert_eq!(a.status, 200, "{url}");
        assert_eq!(a.header("content-type"), content_type, "{url}");
        assert_eq!(
            a.header("cache-control"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(a.header("x-content-type-options"), "nosniff");
        assert!(a.body.contains(needle), "{url}");
    }
    assert_eq!(
        opsfloor_dashboard::assets::CSS,
        page(&floor, &css).await.body
    );
    // An old hash is gone, not served stale.
    let old = page(&floor, "/assets/dashboard.0000000000000000.css").await;
    assert_eq!(old.status, 404);
    assert_eq!(old.header("cache-control"), "no-store");
    // No CDN: nothing is loaded from another origin.
    assert!(!home.body.contains("http://") && !home.body.contains("https://"));
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

#[tokio::test]
async fn names_are_escaped_on_every_page() {
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let extra = "\n[[services]]\nname = \"<script>alert(1)</script>\"\nkind = \"strategy\"\nurl = \"http://127.0.0.1:9\"\ncriticality = \"optional\"\n";
    let floor = setup.dashboard(&setup.inventory(extra), true).await;
    settle(
        &floor,
        "OK []",
        &[("<script>alert(1)</script>", "OFFLINE [UNREACHABLE]")],
    )
    .await;
    let escaped = "&#60;script&#62;alert(1)&#60;/script&#62;";
    let home = page(&floor, "/").await;
    assert!(!home.body.contains("<script>alert"), "{}", home.body);
    let row = home.row(escaped);
    assert!(
        row.contains("href=\"/services/%3Cscript%3Ealert%281%29%3C%2Fscript%3E\""),
        "{row}"
    );
    assert!(row.starts_with("<tr class=\"st-offline late\">"), "{row}");
    assert!(row.contains("<td>never seen</td>"), "{row}");
    let p = page(&floor, "/services/%3Cscript%3Ealert%281%29%3C%2Fscript%3E").await;
    assert_eq!(p.status, 200);
    assert!(!p.body.contains("<script>alert"));
    assert!(p.body.contains(&format!("<h1>{escaped}</h1>")));
    assert!(
        p.body
            .contains(&format!("aria-label=\"{escaped} over the last 24 hours"))
    );
    let h = page(&floor, "/history?days=1").await;
    assert!(!h.body.contains("<script>alert"));
    let r = page(&floor, "/report").await;
    assert!(!r.body.contains("<script>alert"));
    // The report page is HTML from the report's data: the name is escaped once.
    assert!(
        r.body.contains(&format!(">{escaped}</a></th>")),
        "{}",
        r.body
    );
    let missing = page(&floor, "/services/%3Cimg%20src%3Dx%3E").await;
    assert_eq!(missing.status, 404);
    assert!(
        missing.body.contains("“&#60;img src=x&#62;”"),
        "{}",
        missing.body
    );
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

#[tokio::test]
async fn every_page_says_the_clock_is_simulated() {
    // The test floor runs on a simulated clock from MARKET_HOURS (15:00 UTC), far
    // from the real one: every page carries the badge, with both times.
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let floor = setup.dashboard(&setup.inventory(""), false).await;
    settle(&floor, "OK []", &[]).await;
    for path in [
        "/",
        "/services/gamma-strategy",
        "/history",
        "/report",
        "/services/nope",
    ] {
        let p = page(&floor, path).await;
        let b = &p.body;
        let at = b
            .find("<p class=\"sim-clock\" id=\"sim-clock\"")
            .unwrap_or_else(|| panic!("no badge on {path}:\n{b}"));
        let badge = &b[at..at + b[at..].find("</p>").expect("end of badge")];
        assert!(
            badge.contains("Simulated clock: <span class=\"sim-floor\">15:0"),
            "{path}: {badge}"
        );
        assert!(
            badge.contains("(real time <span class=\"sim-real\">"),
            "{path}: {badge}"
        );
    }
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

/// Wednesday 2026-01-07 15:00 UTC (MARKET_HOURS): the whale strategy is in a window
/// now, the floor's window starts tomorrow morning, and one next month is not
/// announced yet.
const WINDOWS: &str = r#"
[[maintenance]]
services = ["whale-strategy"]
start = "2026-01-07T14:00:00Z"
end = "2026-01-07T16:00:00Z"
note = "Broker <migration>"

[[maintenance]]
floor = true
start = "2026-01-08T11:00:00Z"
end = "2026-01-08T12:00:00Z"
note = "Patching"

[[maintenance]]
floor = true
start = "2026-02-20T00:00:00Z"
end = "2026-02-21T00:00:00Z"
note = "Data-centre move"
"#;

#[tokio::test]
async fn the_floor_page_shows_maintenance_now_and_a_day_ahead_with_a_badge() {
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let floor = setup.dashboard(&setup.inventory(WINDOWS), false).await;
    settle(&floor, "OK []", &[(GAMMA, "OK []")]).await;
    let p = page(&floor, "/").await;
    let b = &p.body;
    assert!(
        b.contains("<section class=\"maint\" aria-label=\"Maintenance\">"),
        "{b}"
    );
    assert!(
        b.contains(
            "<li class=\"m-now\">Now: whale-strategy, until Wed 7 Jan 11:00 EST (Wed 7 Jan 16:00 UTC). \
             Broker &#60;migration&#62;</li>"
        ),
        "{b}"
    );
    assert!(
        b.contains("<li class=\"m-soon\">Upcoming: the whole floor, from Thu 8 Jan 06:00 EST"),
        "{b}"
    );
    assert!(
        !b.contains("Data-centre move"),
        "a month ahead is not announced"
    );
    // The badge is on the whale strategy's row only, its note on hover, escaped;
    // the state is still shown as it is.
    let whale = b
        .split("<tr ")
        .find(|r| r.contains(">whale-strategy<"))
        .expect("whale row");
    assert!(
        whale.contains(
            "<span class=\"badge-maint\" title=\"Broker &#60;migration&#62;\">maintenance</span>"
        ),
        "{whale}"
    );
    assert!(whale.contains("<b>OK</b>"), "{whale}");
    let gamma = b
        .split("<tr ")
        .find(|r| r.contains(">gamma-strategy<"))
        .expect("gamma row");
    assert!(!gamma.contains("badge-maint"), "{gamma}");

    // The service's own page says it in its banner, with the end in both zones.
    let service = page(&floor, "/services/whale-strategy").await.body;
    assert!(
        service.contains(
            "<p class=\"b-maint\"><span class=\"badge-maint\">maintenance</span> until Wed 7 Jan \
             11:00 EST (Wed 7 Jan 16:00 UTC). Broker &#60;migration&#62;: its state is shown"
        ),
        "{service}"
    );
    assert!(
        !page(&floor, "/services/gamma-strategy")
            .await
            .body
            .contains("b-maint")
    );
    // The report page badges the row, the end and note on hover.
    let report = page(&floor, "/report").await.body;
    let whale = report
        .split("<tr ")
        .find(|r| r.contains(">whale-strategy<"))
        .expect("whale row in the report");
    assert!(
        whale.contains("<span class=\"badge-maint\" title=\"until Wed 7 Jan 11:00 EST"),
        "{whale}"
    );
    assert!(
        !report.contains("The whole floor,"),
        "no floor window is open"
    );
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}
