//! The dashboard in a real browser (issue 5, section 3): Debian's chromium, headless,
//! driven through the DevTools protocol against an in-process fleet and floor on a
//! simulated clock.
//!
//! - the seed's five examples: the banner and the rows as the live DOM shows them,
//!   after the script has applied the stream's snapshot;
//! - a transition arriving over the stream changes the page without a reload;
//! - axe-core finds no serious or critical accessibility violation on the floor
//!   (light and dark), service, history and report pages;
//! - screenshots of every scenario under `target/browser-screenshots/`;
//! - first contentful paint is printed (the budget itself is a benchmark:
//!   `bench/dashboard-fcp.sh` runs the ignored `fcp_benchmark` below).
//!
//! Needs chromium (`$OPSFLOOR_CHROMIUM`) and axe-core (`$OPSFLOOR_AXE`), both
//! installed by `./scripts/test`. Either missing fails the tests; nothing skips.

mod common;

#[path = "browser/chromium.rs"]
mod chromium;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chromium::{Browser, Tab};
use common::*;
use opsfloor_fleet::{EXECUTION, GAMMA, INGEST, MARKETDATA, Scenario, WHALE};
use serde::Deserialize;
use serde_json::Value;

const ASLEEP: &str = "Offline: scaled to zero, expected";
const LIVE: &str = "Live: changes appear as they happen.";

/// One browser test at a time: each starts its own chromium, fleet and floor, and
/// two cores are enough for one of those, not for six at once.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

// ---------------------------------------------------------------------------
// The page as the browser shows it.

/// The floor page's live DOM, read with `querySelector` after the script ran.
#[derive(Debug, Deserialize)]
struct Dom {
    banner: Banner,
    market: Market,
    live: String,
    groups: Vec<String>,
    rows: Vec<Row>,
    marker: Option<f64>,
    body_class: String,
}

#[derive(Debug, Deserialize)]
struct Banner {
    class: String,
    state: String,
    word: String,
    codes: String,
    reason: String,
    since: String,
    contributors: String,
    counts: String,
}

#[derive(Debug, Deserialize)]
struct Market {
    class: String,
    word: String,
    verb: String,
    count: String,
}

#[derive(Debug, Deserialize)]
struct Row {
    name: String,
    class: String,
    word: String,
    reason: String,
    /// The reason cell's hover text (`CODES — reason`).
    title: String,
    /// The reason's box is taller inside than shown (clamped).
    clamped: bool,
    since: String,
    poll: String,
    latency: String,
    criticality: String,
}

impl Dom {
    fn row(&self, name: &str) -> &Row {
        self.rows
            .iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("no row for {name} in the page: {self:#?}"))
    }
}

const READ_DOM: &str = r#"(() => {
  const text = (sel, root) => {
    const e = (root || document).querySelector(sel);
    return e ? e.textContent.replace(/\s+/g, ' ').trim() : '';
  };
  const cell = (tr, i) => tr.cells[i] ? tr.cells[i].textContent.replace(/\s+/g, ' ').trim() : '';
  const box = document.querySelector('#banner-box');
  const banner = document.querySelector('#banner');
  const market = document.querySelector('#market');
  return {
    banner: {
      class: box ? box.className : '',
      state: banner ? banner.getAttribute('data-state') || '' : '',
      word: text('.b-word'), codes: text('.b-codes'), reason: text('.b-reason'),
      since: text('.b-since'), contributors: text('.b-contrib'), counts: text('.b-counts'),
    },
    market: {
      class: market ? market.className : '',
      word: text('.m-word', market), verb: text('.m-verb', market), count: text('.count', market),
    },
    live: text('#live'),
    groups: [...document.querySelectorAll('table.services tr.g th')].map(th => th.textContent.trim()),
    rows: [...document.querySelectorAll('table.services tbody tr:not(.g)')].map(tr => ({
      name: text('th', tr), class: tr.className, word: cell(tr, 1), reason: cell(tr, 2),
      title: tr.cells[2] ? tr.cells[2].getAttribute('title') || '' : '',
      clamped: (() => { const s = tr.cells[2] && tr.cells[2].querySelector('.rs'); return !!s && s.scrollHeight > s.clientHeight + 1; })(),
      since: cell(tr, 3), poll: cell(tr, 4), latency: cell(tr, 5), criticality: cell(tr, 6),
    })),
    marker: typeof window.__opsfloorMarker === 'number' ? window.__opsfloorMarker : null,
    body_class: document.body.className,
  };
})()"#;

async fn dom(tab: &Tab<'_>) -> Dom {
    let value = tab.eval(READ_DOM).await;
    serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("reading the page's DOM: {e}\n{value:#}"))
}

/// Polls the DOM until `want` holds, failing after `within` with the last DOM read.
async fn wait_dom(tab: &Tab<'_>, what: &str, within: Duration, want: impl Fn(&Dom) -> bool) -> Dom {
    let start = Instant::now();
    loop {
        let d = dom(tab).await;
        if want(&d) {
            return d;
        }
        assert!(
            start.elapsed() < within,
            "the page did not show {what} within {within:?}; it shows:\n{d:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Loads the floor page and waits until its script follows the stream and the
/// banner shows `state` (the stream's snapshot has been painted by then).
async fn load_floor(tab: &Tab<'_>, url: &str, state: &str) -> Dom {
    tab.goto(url).await;
    wait_dom(
        tab,
        &format!("a live page with the banner {state}"),
        Duration::from_secs(10),
        |d| d.live == LIVE && d.banner.state == state,
    )
    .await
}

/// Where the page's boxes are: the banner, the market, the table and every row
/// (`[left, top, width, height]` in CSS pixels, keyed by a short name).
async fn boxes(tab: &Tab<'_>) -> Vec<(String, Vec<f64>)> {
    let value = tab
        .eval(
            r#"(() => {
  const r = e => { const b = e.getBoundingClientRect(); return [b.left, b.top, b.width, b.height]; };
  const out = [['banner', r(document.querySelector('#banner-box'))],
               ['market', r(document.querySelector('#market'))],
               ['table', r(document.querySelector('table.services'))]];
  document.querySelectorAll('table.services tbody tr').forEach((tr, i) => out.push(['row ' + i + ' ' + tr.cells[0].textContent.trim(), r(tr)]));
  return out;
})()"#,
        )
        .await;
    serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("reading boxes: {e}\n{value:#}"))
}

// ---------------------------------------------------------------------------
// Artifacts, paint timing and axe-core.

/// `target/browser-screenshots/`, next to the other build outputs.
fn screenshot_dir() -> PathBuf {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent()
        .map(|target| target.join("browser-screenshots"))
        .unwrap_or_else(|| tmp.join("browser-screenshots"))
}

async fn screenshot(tab: &Tab<'_>, name: &str) {
    let path = screenshot_dir().join(format!("{name}.png"));
    tab.screenshot(&path).await;
    println!("screenshot: {}", path.display());
}

/// The page's first contentful paint in milliseconds since navigation started.
async fn first_contentful_paint(tab: &Tab<'_>) -> f64 {
    let value = tab
        .eval(
            r#"new Promise(resolve => {
  const seen = () => {
    const e = performance.getEntriesByName('first-contentful-paint')[0];
    return e ? e.startTime : null;
  };
  if (seen() !== null) return resolve(seen());
  new PerformanceObserver(() => { if (seen() !== null) resolve(seen()); })
    .observe({ type: 'paint', buffered: true });
  setTimeout(() => resolve(seen()), 5000);
})"#,
        )
        .await;
    value
        .as_f64()
        .unwrap_or_else(|| panic!("the page reported no first contentful paint ({value})"))
}

/// axe-core's source: `$OPSFLOOR_AXE`, else the copy `scripts/test` installs.
fn axe_source() -> String {
    let path = std::env::var_os("OPSFLOOR_AXE")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/browser/node_modules/axe-core/axe.min.js")
        });
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "axe-core is needed at {} ({e}). Run `./scripts/test`, which installs it with \
             npm from tests/browser/package-lock.json, or set OPSFLOOR_AXE.",
            path.display()
        )
    })
}

#[derive(Debug, Deserialize)]
struct Violation {
    id: String,
    impact: Option<String>,
    help: String,
    nodes: Vec<String>,
}

/// Runs axe-core on the tab's page and fails on any serious or critical violation,
/// listing every violation found. Prints the minor and moderate ones.
async fn assert_accessible(tab: &Tab<'_>, what: &str, axe: &str) {
    check_axe(tab, what, axe, false).await;
}

/// Runs axe-core on the tab's page and fails on any violation at all.
async fn assert_no_violations(tab: &Tab<'_>, what: &str, axe: &str) {
    check_axe(tab, what, axe, true).await;
}

/// axe-core on the tab's page: fails on serious and critical violations, or on any
/// when `strict`.
async fn check_axe(tab: &Tab<'_>, what: &str, axe: &str, strict: bool) {
    // Runtime.evaluate is not subject to the page's CSP (`script-src 'self'`).
    tab.eval(&format!("{axe}\n;typeof axe")).await;
    let value = tab
        .eval(
            r#"axe.run(document, { resultTypes: ['violations'] }).then(r => ({
  version: axe.version,
  passes: r.passes.length,
  violations: r.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ') + (n.failureSummary ? ': ' + n.failureSummary.replace(/\s+/g, ' ') : '')),
  })),
}))"#,
        )
        .await;
    let found: Vec<Violation> = serde_json::from_value(value["violations"].clone())
        .unwrap_or_else(|e| panic!("reading axe's results: {e}\n{value:#}"));
    // axe really ran its rules on this page.
    let passes = value["passes"].as_u64().unwrap_or(0);
    assert!(
        passes > 10,
        "axe-core passed only {passes} rules on {what}: {value:#}"
    );
    let list = found
        .iter()
        .map(|v| {
            format!(
                "  [{}] {}: {} ({} nodes)\n{}",
                v.impact.as_deref().unwrap_or("?"),
                v.id,
                v.help,
                v.nodes.len(),
                v.nodes
                    .iter()
                    .map(|n| format!("      {n}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let serious = found
        .iter()
        .filter(|v| strict || matches!(v.impact.as_deref(), Some("serious" | "critical")))
        .count();
    assert!(
        serious == 0,
        "axe-core: {serious} serious or critical violation(s) on {what}; all violations:\n{list}"
    );
    if found.is_empty() {
        println!(
            "axe-core {}: {what}: no violations ({passes} rules passed)",
            value["version"].as_str().unwrap_or("?")
        );
    } else {
        println!("axe-core: {what}: no serious or critical violations; others:\n{list}");
    }
}

// ---------------------------------------------------------------------------
// A fleet and a floor, and a browser looking at it.

struct Scene {
    setup: Setup,
    floor: Served,
}

impl Scene {
    async fn start(scenario: Scenario, now: &str, history: bool) -> Scene {
        let setup = Setup::fleet(scenario, now).await;
        let floor = setup.dashboard(&setup.inventory(""), history).await;
        Scene { setup, floor }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.floor.addr, path)
    }

    async fn stop(self) {
        self.floor.shutdown().await;
        self.setup.fleet.shutdown().await;
    }
}

async fn desktop(browser: &Browser) -> Tab<'_> {
    let tab = browser.tab().await;
    tab.viewport(1280, 900, 1.0, false).await;
    tab
}

// ---------------------------------------------------------------------------
// The seed's five examples.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn normal_market_hours_in_the_browser() {
    let _one = SERIAL.lock().await;
    let axe = axe_source();
    let browser = Browser::launch().await;
    let scene = Scene::start(Scenario::Normal, MARKET_HOURS, false).await;
    settle(
        &scene.floor,
        "OK []",
        &[
            (MARKETDATA, "OK []"),
            (GAMMA, "OK []"),
            (WHALE, "OK []"),
            (EXECUTION, "OFFLINE [EXECUTION_DISABLED]"),
            (INGEST, "OK []"),
        ],
    )
    .await;
    let tab = desktop(&browser).await;
    let d = load_floor(&tab, &scene.url("/"), "OK").await;
    let fcp = first_contentful_paint(&tab).await;
    println!(
        "first contentful paint: floor page, {} services, loopback: {fcp:.1} ms",
        d.rows.len()
    );

    let b = &d.banner;
    assert_eq!(b.class, "banner st-ok", "{d:#?}");
    assert_eq!(b.word, "OK", "{d:#?}");
    assert_eq!(b.codes, "", "{d:#?}");
    assert_eq!(
        b.reason, "Every service the floor depends on is working",
        "{d:#?}"
    );
    assert!(b.since.starts_with("Since "), "{d:#?}");
    assert!(b.counts.starts_with("5 services: "), "{d:#?}");
    assert_eq!(d.market.class, "market m-open", "{d:#?}");
    assert_eq!(d.market.word, "Market open", "{d:#?}");
    assert_eq!(d.market.verb, "closes", "{d:#?}");
    assert!(d.market.count.starts_with("in "), "{d:#?}");
    assert_eq!(
        d.groups,
        ["Market data", "Strategies", "Execution", "Ingest"],
        "groups in the seed's order: {d:#?}"
    );
    let names: Vec<&str> = d.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [MARKETDATA, GAMMA, WHALE, EXECUTION, INGEST],
        "{d:#?}"
    );
    for name in [MARKETDATA, GAMMA, WHALE] {
        let r = d.row(name);
        assert_eq!(r.class, "st-ok", "{r:#?}");
        assert_eq!(r.word, "OK", "{r:#?}");
        assert!(r.latency.ends_with(" ms"), "{r:#?}");
        assert!(!r.poll.is_empty() && !r.since.is_empty(), "{r:#?}");
    }
    assert_eq!(d.row(GAMMA).criticality, "critical");
    assert!(d.row(EXECUTION).reason.contains(ASLEEP), "{d:#?}");
    screenshot(&tab, "normal-desktop").await;
    assert_accessible(&tab, "the floor page (normal, light)", &axe).await;
    tab.color_scheme("dark").await;
    assert_accessible(&tab, "the floor page (normal, dark)", &axe).await;
    screenshot(&tab, "normal-desktop-dark").await;
    tab.color_scheme("light").await;

    // A phone: the page fits the width (the table scrolls inside itself).
    tab.viewport(390, 844, 2.0, true).await;
    let d = load_floor(&tab, &scene.url("/"), "OK").await;
    assert_eq!(d.banner.word, "OK");
    let widths = tab
        .eval("[document.documentElement.scrollWidth, window.innerWidth]")
        .await;
    assert!(
        widths[0].as_f64() <= widths[1].as_f64(),
        "the page is wider than a phone (scrollWidth, innerWidth) = {widths}"
    );
    screenshot(&tab, "normal-phone").await;
    assert_accessible(&tab, "the floor page (phone)", &axe).await;

    // The wall screen.
    tab.viewport(1920, 1080, 1.0, false).await;
    let d = load_floor(&tab, &scene.url("/?kiosk=1"), "OK").await;
    assert_eq!(d.body_class, "page-floor kiosk", "{d:#?}");
    assert_eq!(
        tab.eval("document.querySelector('nav') === null").await,
        Value::Bool(true),
        "the kiosk page has no navigation"
    );
    screenshot(&tab, "normal-kiosk").await;
    assert_accessible(&tab, "the floor page (kiosk)", &axe).await;
    tab.close().await;
    drop(browser);
    scene.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_hours_in_the_browser() {
    let _one = SERIAL.lock().await;
    let axe = axe_source();
    let browser = Browser::launch().await;
    let scene = Scene::start(Scenario::Normal, AFTER_HOURS, false).await;
    settle(
        &scene.floor,
        "MARKET_CLOSED [MARKET_CLOSED]",
        &[
            (MARKETDATA, "MARKET_CLOSED [MARKET_CLOSED]"),
            (GAMMA, "MARKET_CLOSED [MARKET_CLOSED]"),
            (WHALE, "MARKET_CLOSED [MARKET_CLOSED]"),
            (EXECUTION, "OFFLINE [EXECUTION_DISABLED]"),
            (INGEST, "MARKET_CLOSED [MARKET_CLOSED]"),
        ],
    )
    .await;
    let tab = desktop(&browser).await;
    let d = load_floor(&tab, &scene.url("/"), "MARKET_CLOSED").await;
    assert_eq!(d.banner.class, "banner st-closed", "{d:#?}");
    assert_eq!(d.banner.word, "Market closed", "{d:#?}");
    assert_eq!(d.banner.codes, "MARKET_CLOSED", "{d:#?}");
    assert_eq!(d.banner.reason, "The market is closed (expected)", "{d:#?}");
    assert_eq!(d.market.class, "market m-closed", "{d:#?}");
    assert_eq!(d.market.word, "Market closed", "{d:#?}");
    assert_eq!(d.market.verb, "opens", "{d:#?}");
    let gamma = d.row(GAMMA);
    assert_eq!(gamma.class, "st-closed", "{gamma:#?}");
    assert_eq!(gamma.word, "Market closed", "{gamma:#?}");
    // The state is said once: the word in the badge, the reason in words; the code
    // only in the hover text.
    assert_eq!(
        gamma.reason, "The market is closed (expected)",
        "{gamma:#?}"
    );
    assert_eq!(
        gamma.title, "MARKET_CLOSED \u{2014} The market is closed (expected)",
        "{gamma:#?}"
    );
    // Calm: no row in a warning or critical look.
    for r in &d.rows {
        assert!(
            ["st-closed", "st-asleep", "st-ok"].contains(&r.class.as_str()),
            "a row that is not calm after hours: {r:#?}"
        );
    }
    assert!(d.row(EXECUTION).reason.contains(ASLEEP), "{d:#?}");
    assert_no_blank_banner_line(&tab, "after hours at 1400 px").await;
    screenshot(&tab, "after-hours-desktop").await;
    // At 1400 and 1024 px every reason is read whole (it wraps, it is not cut):
    // "expected" survives.
    for (width, height) in [(1400, 900), (1024, 768)] {
        tab.viewport(width, height, 1.0, false).await;
        let d = dom(&tab).await;
        for r in &d.rows {
            assert!(!r.clamped, "a reason is cut at {width} px: {r:#?}");
        }
        assert_no_blank_banner_line(&tab, &format!("after hours at {width} px")).await;
    }
    screenshot(&tab, "after-hours-1024").await;
    assert_accessible(&tab, "the floor page (after hours)", &axe).await;
    tab.close().await;
    drop(browser);
    scene.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_marketdata_in_the_browser() {
    let _one = SERIAL.lock().await;
    let axe = axe_source();
    let browser = Browser::launch().await;
    let scene = Scene::start(Scenario::StaleMarketdata, MARKET_HOURS, false).await;
    settle(
        &scene.floor,
        "HALTED [MARKETDATA_STALE]",
        &[
            (MARKETDATA, "DEGRADED [MARKETDATA_STALE]"),
            (GAMMA, "HALTED [MARKETDATA_STALE]"),
        ],
    )
    .await;
    let tab = desktop(&browser).await;
    let d = load_floor(&tab, &scene.url("/"), "HALTED").await;
    assert_eq!(d.banner.class, "banner st-halted", "{d:#?}");
    assert_eq!(d.banner.word, "Halted", "{d:#?}");
    assert_eq!(d.banner.codes, "MARKETDATA_STALE", "{d:#?}");
    assert_eq!(
        d.banner.reason, "Market data is older than its stale threshold while the market is open",
        "{d:#?}"
    );
    assert!(
        d.banner.contributors.starts_with("Decided by ") && d.banner.contributors.contains(GAMMA),
        "{d:#?}"
    );
    let md = d.row(MARKETDATA);
    assert_eq!(md.class, "st-degraded", "{md:#?}");
    assert_eq!(md.word, "Degraded", "{md:#?}");
    assert!(md.title.starts_with("MARKETDATA_STALE "), "{md:#?}");
    assert!(!md.reason.contains("MARKETDATA_STALE"), "{md:#?}");
    let gamma = d.row(GAMMA);
    assert_eq!(gamma.class, "st-halted", "{gamma:#?}");
    assert_eq!(gamma.word, "Halted", "{gamma:#?}");
    assert!(gamma.title.starts_with("MARKETDATA_STALE "), "{gamma:#?}");
    screenshot(&tab, "stale-marketdata-desktop").await;
    assert_accessible(&tab, "the floor page (stale marketdata)", &axe).await;
    tab.color_scheme("dark").await;
    assert_accessible(&tab, "the floor page (stale marketdata, dark)", &axe).await;
    tab.close().await;
    drop(browser);
    scene.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_switch_in_the_browser() {
    let _one = SERIAL.lock().await;
    let axe = axe_source();
    let browser = Browser::launch().await;
    // History on: the service and history pages then have transitions to draw.
    let scene = Scene::start(Scenario::KillSwitch, MARKET_HOURS, true).await;
    settle(
        &scene.floor,
        "HALTED [KILL_SWITCH]",
        &[(GAMMA, "HALTED [KILL_SWITCH]")],
    )
    .await;
    let tab = desktop(&browser).await;
    let d = load_floor(&tab, &scene.url("/"), "HALTED").await;
    assert_eq!(d.banner.class, "banner st-halted", "{d:#?}");
    assert_eq!(d.banner.word, "Halted", "{d:#?}");
    assert_eq!(d.banner.codes, "KILL_SWITCH", "{d:#?}");
    assert_eq!(
        d.banner.reason, "The kill switch is engaged: trading is stopped on purpose",
        "{d:#?}"
    );
    let gamma = d.row(GAMMA);
    assert_eq!(gamma.class, "st-halted", "{gamma:#?}");
    assert_eq!(gamma.word, "Halted", "{gamma:#?}");
    assert_eq!(
        gamma.reason, "The kill switch is engaged: trading is stopped on purpose",
        "{gamma:#?}"
    );
    screenshot(&tab, "kill-switch-desktop").await;
    assert_accessible(&tab, "the floor page (kill switch)", &axe).await;

    // The other pages, in the same scenario.
    tab.goto(&scene.url("/services/gamma-strategy")).await;
    let h1 = tab.eval("document.querySelector('h1').textContent").await;
    assert_eq!(h1, "gamma-strategy");
    screenshot(&tab, "service-page").await;
    assert_accessible(&tab, "the service page", &axe).await;
    tab.goto(&scene.url("/services/execution-agent")).await;
    assert_accessible(&tab, "the service page (scaled to zero)", &axe).await;
    tab.goto(&scene.url("/history")).await;
    let lanes = tab.eval("document.querySelectorAll('.lane').length").await;
    assert!(lanes.as_u64().unwrap_or(0) > 0, "no day lanes: {lanes}");
    screenshot(&tab, "history-page").await;
    assert_accessible(&tab, "the history page", &axe).await;
    tab.color_scheme("dark").await;
    assert_accessible(&tab, "the history page (dark)", &axe).await;
    tab.color_scheme("light").await;
    tab.goto(&scene.url("/report")).await;
    let report = tab
        .eval("[document.querySelector('h1').textContent, document.querySelectorAll('pre').length, Array.from(document.querySelectorAll('.issues .i-head code')).map(c => c.textContent)]")
        .await;
    assert_eq!(report[0], "Deployment report", "{report}");
    assert_eq!(report[1], 0, "no markdown box: {report}");
    let codes: Vec<&str> = report[2]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut unique = codes.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(codes.len(), unique.len(), "each issue once: {report}");
    assert!(codes.contains(&"KILL_SWITCH"), "{report}");
    screenshot(&tab, "report-page").await;
    assert_accessible(&tab, "the report page", &axe).await;
    tab.close().await;
    drop(browser);
    scene.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execution_scaled_to_zero_in_the_browser() {
    let _one = SERIAL.lock().await;
    let browser = Browser::launch().await;
    let scene = Scene::start(Scenario::Normal, MARKET_HOURS, false).await;
    settle(
        &scene.floor,
        "OK []",
        &[(EXECUTION, "OFFLINE [EXECUTION_DISABLED]")],
    )
    .await;
    let tab = desktop(&browser).await;
    let d = load_floor(&tab, &scene.url("/"), "OK").await;
    let r = d.row(EXECUTION);
    assert_eq!(r.class, "st-asleep", "{r:#?}");
    assert_eq!(r.word, "Offline", "{r:#?}");
    assert_eq!(r.reason, ASLEEP, "{r:#?}");
    assert!(r.title.starts_with("EXECUTION_DISABLED "), "{r:#?}");
    assert_eq!(r.poll, "not polled", "{r:#?}");
    // Calm: the floor stays OK.
    assert_eq!(d.banner.class, "banner st-ok", "{d:#?}");
    assert_eq!(d.banner.word, "OK", "{d:#?}");
    screenshot(&tab, "execution-scaled-to-zero-desktop").await;
    tab.close().await;
    drop(browser);
    scene.stop().await;
}

// ---------------------------------------------------------------------------
// Live: a transition over the stream, without a reload.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transition_arrives_over_the_stream_without_a_reload() {
    let _one = SERIAL.lock().await;
    let browser = Browser::launch().await;
    let scene = Scene::start(Scenario::Normal, MARKET_HOURS, false).await;
    settle(&scene.floor, "OK []", &[(GAMMA, "OK []")]).await;
    let tab = desktop(&browser).await;
    let d = load_floor(&tab, &scene.url("/"), "OK").await;
    assert_eq!(d.marker, None);
    let before = boxes(&tab).await;
    // A mark that only survives if the page is never reloaded, and a tally of
    // layout shifts from here on.
    tab.eval(
        "window.__opsfloorMarker = 1; window.__opsfloorShift = 0;
         new PerformanceObserver(l => l.getEntries().forEach(e => { if (!e.hadRecentInput) window.__opsfloorShift += e.value; }))
           .observe({ type: 'layout-shift' }); true",
    )
    .await;

    let switch = scene.setup.fleet.control().kill_switch_file();
    std::fs::write(&switch, "on\n").expect("engage the kill switch");
    let halted = Instant::now();
    let d = wait_dom(
        &tab,
        "HALTED after the kill switch",
        Duration::from_secs(10),
        |d| d.banner.state == "HALTED" && d.row(GAMMA).word == "Halted",
    )
    .await;
    println!(
        "kill switch engaged -> banner HALTED in the browser after {} ms",
        halted.elapsed().as_millis()
    );
    assert_eq!(d.marker, Some(1.0), "the page was reloaded: {d:#?}");
    assert_eq!(d.banner.class, "banner st-halted", "{d:#?}");
    assert_eq!(d.banner.word, "Halted", "{d:#?}");
    assert_eq!(d.banner.codes, "KILL_SWITCH", "{d:#?}");
    assert_eq!(
        d.banner.reason, "The kill switch is engaged: trading is stopped on purpose",
        "{d:#?}"
    );
    assert_eq!(d.row(GAMMA).class, "st-halted", "{d:#?}");
    assert!(d.row(GAMMA).title.starts_with("KILL_SWITCH "), "{d:#?}");
    assert_eq!(d.live, LIVE, "{d:#?}");
    // Nothing moved or changed size: text and classes change in place.
    let after = boxes(&tab).await;
    assert_eq!(before.len(), after.len(), "{before:?}\n{after:?}");
    for ((name, was), (_, is)) in before.iter().zip(&after) {
        let moved = was.iter().zip(is).any(|(a, b)| (a - b).abs() > 0.5);
        assert!(!moved, "{name} moved or resized: {was:?} -> {is:?}");
    }
    screenshot(&tab, "live-kill-switch-desktop").await;

    // And back: released, the floor reads OK again, still the same page.
    std::fs::write(&switch, "off\n").expect("release the kill switch");
    let d = wait_dom(
        &tab,
        "OK after the kill switch is released",
        Duration::from_secs(10),
        |d| d.banner.state == "OK" && d.row(GAMMA).word == "OK",
    )
    .await;
    assert_eq!(d.marker, Some(1.0), "the page was reloaded: {d:#?}");
    assert_eq!(d.banner.class, "banner st-ok", "{d:#?}");
    assert_eq!(d.row(GAMMA).class, "st-ok", "{d:#?}");
    let shift = tab.eval("window.__opsfloorShift").await;
    println!("cumulative layout shift over two live transitions: {shift}");
    tab.close().await;
    drop(browser);
    scene.stop().await;
}

/// Whether the row of `name` carries a maintenance badge, and its hover text.
async fn badge_of(tab: &Tab<'_>, name: &str) -> Option<String> {
    let js = format!(
        "(() => {{ const a = [...document.querySelectorAll('table.services tbody tr:not(.g) th a')]
            .find(a => a.textContent.trim() === {name:?});
          const b = a && a.parentElement.querySelector('.badge-maint');
          return b ? b.getAttribute('title') : null; }})()"
    );
    tab.eval(&js).await.as_str().map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_maintenance_badge_goes_when_its_window_closes_without_a_reload() {
    let _one = SERIAL.lock().await;
    let browser = Browser::launch().await;
    // The floor's clock starts at 15:00:00; the whale strategy's window closes 12 s
    // later, with no transition: the page learns it from its periodic refresh.
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let windows = format!(
        "\n[[maintenance]]\nservices = [\"{WHALE}\"]\nstart = \"2026-01-07T14:00:00Z\"\n\
         end = \"2026-01-07T15:00:12Z\"\nnote = \"Broker <b>migration</b>\"\n"
    );
    let floor = setup.dashboard(&setup.inventory(&windows), false).await;
    settle(&floor, "OK []", &[(GAMMA, "OK []")]).await;
    let tab = desktop(&browser).await;
    load_floor(&tab, &format!("http://{}/", floor.addr), "OK").await;
    assert_eq!(
        badge_of(&tab, WHALE).await.as_deref(),
        Some("Broker <b>migration</b>"),
        "the note is text, never markup"
    );
    assert_eq!(badge_of(&tab, GAMMA).await, None);
    tab.eval("window.__opsfloorMarker = 1; true").await;
    let start = Instant::now();
    while badge_of(&tab, WHALE).await.is_some() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the badge outlived its window by far"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "maintenance badge gone {} ms after the test began watching",
        start.elapsed().as_millis()
    );
    let d = dom(&tab).await;
    assert_eq!(d.marker, Some(1.0), "the page was reloaded: {d:#?}");
    assert_eq!(d.row(WHALE).word, "OK", "{d:#?}");
    tab.close().await;
    drop(browser);
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

// ---------------------------------------------------------------------------
// The budget: first contentful paint (a benchmark, run by bench/dashboard-fcp.sh).

/// Serves the floor page for a synthetic floor of `n` services (rendered on every
/// request, as `/` is) and its assets.
async fn synthetic_server(n: usize) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    use axum::routing::get;
    let state = Arc::new(synthetic::floor(n, synthetic::MARKET_HOURS, &[]));
    let now: jiff::Timestamp = synthetic::MARKET_HOURS.parse().expect("now");
    let app = axum::Router::new()
        .route(
            "/",
            get(move || {
                let state = Arc::clone(&state);
                async move {
                    opsfloor_dashboard::routes::html(
                        axum::http::StatusCode::OK,
                        opsfloor_dashboard::render_floor(&state, now, false),
                    )
                }
            }),
        )
        .route("/assets/{name}", get(opsfloor_dashboard::assets::serve));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: bench/dashboard-fcp.sh runs it"]
async fn fcp_benchmark() {
    let _one = SERIAL.lock().await;
    let loads: usize = std::env::var("OPSFLOOR_FCP_LOADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let browser = Browser::launch().await;
    for n in [5, 1_000] {
        let (addr, server) = synthetic_server(n).await;
        let tab = desktop(&browser).await;
        let mut samples = Vec::new();
        let mut responses = Vec::new();
        let mut bytes = 0.0;
        for _ in 0..loads {
            tab.goto(&format!("http://{addr}/")).await;
            samples.push(first_contentful_paint(&tab).await);
            let nav = tab
                .eval(
                    "(() => { const n = performance.getEntriesByType('navigation')[0]; \
                     return [n.responseEnd, n.decodedBodySize]; })()",
                )
                .await;
            responses.push(nav[0].as_f64().unwrap_or(f64::NAN));
            bytes = nav[1].as_f64().unwrap_or(0.0);
        }
        let first = samples[0];
        let median = |v: &[f64]| {
            let mut sorted = v.to_vec();
            sorted.sort_by(f64::total_cmp);
            (
                sorted[sorted.len() / 2],
                sorted[0],
                sorted[sorted.len() - 1],
            )
        };
        let (fcp, min, max) = median(&samples);
        let (response, _, _) = median(&responses);
        println!(
            "fcp: {n} services, page {:.1} KiB: median {fcp:.1} ms (min {min:.1}, max {max:.1}, \
             first load {first:.1}; response complete at {response:.1} ms) over {loads} loads; budget 500 ms",
            bytes / 1024.0,
        );
        tab.close().await;
        server.abort();
    }
}

// ---------------------------------------------------------------------------
// Every page at three widths, the simulated clock's badge, and the filters.

/// The page's width against the viewport's: nothing runs off the side.
async fn assert_fits(tab: &Tab<'_>, what: &str) {
    let widths = tab
        .eval("[document.documentElement.scrollWidth, window.innerWidth]")
        .await;
    assert!(
        widths[0].as_f64() <= widths[1].as_f64(),
        "{what} is wider than its window (scrollWidth, innerWidth) = {widths}"
    );
}

/// No empty paragraph of the banner takes a line of its own (an empty "Decided by"
/// shares the "Since" line, so it leaves no blank line).
async fn assert_no_blank_banner_line(tab: &Tab<'_>, what: &str) {
    let blank = tab
        .eval("Array.from(document.querySelectorAll('#banner-box p')).filter(p => p.textContent.trim() === '' && p.getBoundingClientRect().width > 1).map(p => p.className)")
        .await;
    assert_eq!(blank, serde_json::json!([]), "{what}: blank banner lines");
}

/// Polls `expression` in the tab until it is `true`, failing after ten seconds.
async fn wait_true(tab: &Tab<'_>, what: &str, expression: &str) {
    let start = Instant::now();
    loop {
        if tab.eval(expression).await == Value::Bool(true) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{what}: `{expression}` did not become true within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_at_three_widths_in_the_browser() {
    let _one = SERIAL.lock().await;
    let axe = axe_source();
    let browser = Browser::launch().await;
    let scene = Scene::start(Scenario::KillSwitch, MARKET_HOURS, true).await;
    settle(
        &scene.floor,
        "HALTED [KILL_SWITCH]",
        &[(GAMMA, "HALTED [KILL_SWITCH]")],
    )
    .await;
    let tab = browser.tab().await;
    let pages = [
        ("floor", "/"),
        ("service", "/services/gamma-strategy"),
        ("history", "/history"),
        ("report", "/report"),
    ];
    for (width, height, scale, mobile) in [
        (1400, 900, 1.0, false),
        (1024, 768, 1.0, false),
        (390, 844, 2.0, true),
    ] {
        tab.viewport(width, height, scale, mobile).await;
        for (name, path) in pages {
            let what = format!("the {name} page at {width} px");
            if name == "floor" {
                load_floor(&tab, &scene.url(path), "HALTED").await;
            } else {
                tab.goto(&scene.url(path)).await;
            }
            // The floor runs on a simulated clock: the badge says so, and the
            // script keeps it current (`HH:MM UTC` for both clocks).
            wait_true(
                &tab,
                &what,
                "(() => { const b = document.querySelector('#sim-clock'); return !!b && /^Simulated clock: \\d\\d:\\d\\d UTC \\(real time \\d\\d:\\d\\d UTC\\)$/.test(b.textContent); })()",
            )
            .await;
            assert_fits(&tab, &what).await;
            screenshot(&tab, &format!("page-{name}-{width}")).await;
            if name == "service" {
                // The sparkline and the three strips, further down.
                tab.eval("document.querySelector('#h-latency').scrollIntoView(); true")
                    .await;
                screenshot(&tab, &format!("page-service-strips-{width}")).await;
            }
            assert_no_violations(&tab, &what, &axe).await;
        }
    }

    // The filters, without a reload: a marker set on the page survives them.
    tab.viewport(1400, 900, 1.0, false).await;
    load_floor(&tab, &scene.url("/"), "HALTED").await;
    tab.eval("window.__filterMarker = 7; true").await;
    let visible = "Array.from(document.querySelectorAll('table.services tbody tr:not(.g)')).filter(r => r.offsetParent !== null).map(r => r.querySelector('th a').textContent)";
    let all = tab.eval(visible).await;
    assert_eq!(all.as_array().map(Vec::len), Some(5), "{all}");
    tab.eval("(() => { const i = document.querySelector('#f-name'); i.value = 'GAMMA'; i.dispatchEvent(new Event('input')); return true; })()").await;
    let named = tab.eval(visible).await;
    assert_eq!(named, serde_json::json!([GAMMA]), "search by name");
    tab.eval("(() => { const i = document.querySelector('#f-name'); i.value = ''; i.dispatchEvent(new Event('input')); const s = document.querySelector('#f-state'); s.value = 'st-halted'; s.dispatchEvent(new Event('change')); return true; })()").await;
    let halted = tab.eval(visible).await;
    let halted_rows = halted.as_array().cloned().unwrap_or_default();
    assert!(
        halted_rows.contains(&Value::from(GAMMA)) && !halted_rows.contains(&Value::from(EXECUTION)),
        "filter by state: {halted}"
    );
    tab.eval("(() => { const s = document.querySelector('#f-state'); s.value = ''; s.dispatchEvent(new Event('change')); const k = document.querySelector('#f-kind'); k.value = 'Ingest'; k.dispatchEvent(new Event('change')); return true; })()").await;
    let ingest = tab.eval(visible).await;
    assert_eq!(ingest, serde_json::json!([INGEST]), "filter by kind");
    tab.eval("(() => { const k = document.querySelector('#f-kind'); k.value = ''; k.dispatchEvent(new Event('change')); const c = document.querySelector('#f-crit'); c.value = 'critical'; c.dispatchEvent(new Event('change')); return true; })()").await;
    let critical = tab.eval(visible).await;
    assert!(
        critical
            .as_array()
            .is_some_and(|a| !a.is_empty() && a.len() < 5 && a.contains(&Value::from(GAMMA))),
        "filter by criticality: {critical}"
    );
    let count = tab
        .eval("document.querySelector('#f-count').textContent")
        .await;
    assert!(
        count.as_str().unwrap_or("").starts_with("Showing "),
        "{count}"
    );
    screenshot(&tab, "page-floor-filtered-1400").await;
    assert_no_violations(&tab, "the filtered floor page", &axe).await;
    assert_eq!(
        tab.eval("window.__filterMarker").await,
        7,
        "the filters reloaded the page"
    );

    // The footer's "Rendered for" follows the clock, and the market's "your time".
    let local = tab
        .eval("document.querySelector('.m-local').textContent")
        .await;
    assert!(
        local.as_str().unwrap_or("").ends_with(" your time"),
        "{local}"
    );
    let rendered = tab
        .eval("document.querySelector('.foot .f-now').textContent")
        .await;
    wait_true(
        &tab,
        "the footer's clock",
        &format!("document.querySelector('.foot .f-now').textContent !== {rendered}"),
    )
    .await;
    tab.close().await;
    drop(browser);
    scene.stop().await;
}
