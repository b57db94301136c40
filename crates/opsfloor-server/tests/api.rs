//! The API's other faces: the live stream, metrics, transitions and SLO history,
//! restart persistence, and nesting a floor inside another floor.

mod common;

use std::time::Duration;

use common::*;
use futures_util::StreamExt;
use opsfloor_fleet::{GAMMA, Scenario};

#[tokio::test]
async fn the_stream_sends_a_snapshot_then_transitions() {
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let floor = setup.floor(&setup.inventory(""), None).await;
    expect_floor(&floor, "OK []").await;
    let response = reqwest::get(format!("http://{}/api/v1/stream", floor.addr))
        .await
        .expect("GET stream");
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.bytes_stream();
    let mut text = String::new();
    let mut engaged = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !text.contains("event: transition") {
        let chunk = tokio::time::timeout_at(deadline, body.next())
            .await
            .expect("stream in time")
            .expect("open")
            .expect("chunk");
        text.push_str(&String::from_utf8_lossy(&chunk));
        if !engaged && text.contains("event: snapshot") {
            assert!(text.contains("\"services\""), "{text}");
            std::fs::write(setup.fleet.control().kill_switch_file(), "on\n").expect("write");
            engaged = true;
        }
    }
    assert!(text.contains("\"to\":\"HALTED\""), "{text}");
    assert!(text.contains("KILL_SWITCH"), "{text}");
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

#[tokio::test]
async fn metrics_in_prometheus_text() {
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let floor = setup.floor(&setup.inventory(""), None).await;
    expect_floor(&floor, "OK []").await;
    let text = reqwest::get(format!("http://{}/metrics", floor.addr))
        .await
        .expect("GET")
        .text()
        .await
        .expect("text");
    assert!(
        text.contains("opsfloor_floor_state{state=\"OK\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("opsfloor_floor_state{state=\"HALTED\"} 0"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "opsfloor_service_state{{service=\"{GAMMA}\",state=\"OK\"}} 1"
        )),
        "{text}"
    );
    assert!(
        text.contains(
            "opsfloor_services{kind=\"strategy\",criticality=\"critical\",state=\"OK\"} "
        ),
        "{text}"
    );
    assert!(
        text.contains("opsfloor_poll_latency_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("opsfloor_poll_lag_seconds_bucket"), "{text}");
    promtool_accepts(&text);
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

#[tokio::test]
async fn history_survives_a_restart() {
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let inventory = setup.inventory("");
    let db = setup.dir.path().join("data/history.sqlite");
    let floor = setup.floor(&inventory, Some(db.clone())).await;
    let first = expect_floor(&floor, "OK []").await;
    let since = first["since"].clone();
    // History is written just after the state changes: wait for the row.
    let start = std::time::Instant::now();
    let t = loop {
        let (_, t) = get(&floor, "/api/v1/transitions?service=@floor").await;
        if t["transitions"][0]["to"] == "OK" {
            break t;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{t}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        t["transitions"][0]["from"],
        serde_json::Value::Null,
        "the first state known has no `from`"
    );
    let (_, t) = get(
        &floor,
        &format!("/api/v1/transitions?service={GAMMA}&limit=1"),
    )
    .await;
    assert_eq!(t["transitions"].as_array().map(Vec::len), Some(1), "{t}");
    let (status, slo) = get(&floor, "/api/v1/slo?window=1d").await;
    assert_eq!(status, 200, "{slo}");
    let (status, _) = get(&floor, "/api/v1/slo?window=soon").await;
    assert_eq!(status, 400);
    floor.shutdown().await;

    // Restarted: the floor resumes its state and its "since" instead of flashing UNKNOWN.
    let floor = setup.floor(&inventory, Some(db)).await;
    let (_, body) = get(&floor, "/api/v1/floor").await;
    assert_eq!(summary(&body["floor"]["status"]), "OK []", "{body}");
    assert_eq!(body["since"], since);
    let (_, gamma) = get(&floor, &format!("/api/v1/services/{GAMMA}")).await;
    assert_eq!(gamma["status"]["state"], "OK");
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

#[tokio::test]
async fn a_floor_nests_inside_another_floor() {
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let desk = setup.floor(&setup.inventory(""), None).await;
    expect_floor(&desk, "OK []").await;
    let region_inventory = setup.dir.path().join("region.toml");
    std::fs::write(
        &region_inventory,
        format!(
            "[floor]\nname = \"region\"\npoll_interval_ms = 200\n\n[[services]]\nname = \"equities-desk\"\nkind = \"floor\"\nurl = \"http://{}\"\ncriticality = \"critical\"\naliases = [\"test-floor\"]\n",
            desk.addr
        ),
    )
    .expect("write");
    let region = setup.floor(&region_inventory, None).await;
    expect_service(&region, "equities-desk", "OK []").await;
    expect_floor(&region, "OK []").await;
    std::fs::write(setup.fleet.control().kill_switch_file(), "on\n").expect("write");
    expect_floor(&region, "HALTED [KILL_SWITCH]").await;
    region.shutdown().await;
    desk.shutdown().await;
    setup.fleet.shutdown().await;
}

#[tokio::test]
async fn no_write_endpoints_and_unknown_services_are_404() {
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let floor = setup.floor(&setup.inventory(""), None).await;
    let client = reqwest::Client::new();
    for path in [
        "/api/v1/floor",
        "/api/v1/services",
        "/ops/status",
        "/metrics",
    ] {
        let r = client
            .post(format!("http://{}{path}", floor.addr))
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), 405, "{path}");
    }
    let (status, body) = get(&floor, "/api/v1/services/nope").await;
    assert_eq!(status, 404);
    assert!(body["error"].as_str().is_some_and(|e| e.contains("nope")));
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

/// How many polls the floor has made: the count of its poll-latency histogram.
async fn polls(floor: &opsfloor_server::server::Running) -> u64 {
    let text = reqwest::get(format!("http://{}/metrics", floor.addr))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .find_map(|l| l.strip_prefix("opsfloor_poll_latency_seconds_count "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no poll count in /metrics:\n{text}"))
}

#[tokio::test]
async fn the_floor_records_a_transition_only_when_it_changes() {
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let db = setup.dir.path().join("h.sqlite");
    let floor = setup.floor(&setup.inventory(""), Some(db)).await;
    let first = expect_floor(&floor, "OK []").await;
    // Several more cycles with nothing changing: wait (bounded) until the floor has
    // polled twenty more times by its own count, checking `since` on every look.
    let before = polls(&floor).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while polls(&floor).await < before + 20 {
        let (_, later) = get(&floor, "/api/v1/floor").await;
        assert_eq!(
            later["since"], first["since"],
            "since moves only on a change"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "the floor did not poll 20 more times"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, later) = get(&floor, "/api/v1/floor").await;
    assert_eq!(
        later["since"], first["since"],
        "since moves only on a change"
    );
    let (_, t) = get(&floor, "/api/v1/transitions?service=@floor").await;
    assert_eq!(t["transitions"].as_array().map(Vec::len), Some(1), "{t}");
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

#[tokio::test]
async fn pages_are_mounted_next_to_the_api() {
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let clock = setup.clock;
    let pages: opsfloor_server::server::Pages = std::sync::Arc::new(|_state| {
        axum::Router::new().route("/hello", axum::routing::get(|| async { "pages" }))
    });
    let floor = opsfloor_server::server::start(opsfloor_server::server::ServeConfig {
        inventory: setup.inventory(""),
        listen: "127.0.0.1:0".parse().expect("addr"),
        db: None,
        retention: Duration::from_secs(86_400),
        now: std::sync::Arc::new(move || clock.now()),
        pages: Some(pages),
        subscribers: Vec::new(),
        replica: "test".into(),
        guard: None,
        limits: opsfloor_server::listener::Limits::default(),
        tls: None,
    })
    .await
    .expect("start");
    let body = reqwest::get(format!("http://{}/hello", floor.addr))
        .await
        .expect("GET")
        .text()
        .await
        .expect("text");
    assert_eq!(body, "pages");
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

/// `promtool check metrics` (from Debian's `prometheus` package, which
/// `scripts/test` installs) parses and lints the exposition: a malformed line, a
/// counter without `_total` or a missing HELP fails the test.
fn promtool_accepts(text: &str) {
    use std::io::Write as _;
    let promtool = std::env::var("OPSFLOOR_PROMTOOL").unwrap_or_else(|_| "promtool".into());
    let mut child = std::process::Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{promtool}: {e} (scripts/test installs it)"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write to promtool");
    let out = child.wait_with_output().expect("promtool");
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn queries_are_strict_and_the_list_is_cacheable() {
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let db = setup.dir.path().join("history.db");
    let floor = setup.floor(&setup.inventory(""), Some(db)).await;
    expect_floor(&floor, "OK []").await;
    let client = reqwest::Client::new();
    let url = |path: &str| format!("http://{}{path}", floor.addr);

    // Bad parameters: a JSON 400 naming the parameter, never a panic or plain text.
    for (query, parameter) in [
        ("/api/v1/slo?window=3%C3%A9", "window"),
        ("/api/v1/slo?window=106751991167300d", "window"),
        ("/api/v1/transitions?limit=5&limit=6", "limit"),
        ("/api/v1/transitions?limit=0", "limit"),
        ("/api/v1/transitions?since=yesterday", "since"),
        ("/api/v1/transitions?servce=md", "servce"),
        ("/api/v1/services?state=FINE", "state"),
        ("/api/v1/report?format=pdf", "format"),
    ] {
        let r = client.get(url(query)).send().await.expect("GET");
        assert_eq!(r.status(), 400, "{query}");
        assert_eq!(
            r.headers()[reqwest::header::CONTENT_TYPE],
            "application/json",
            "{query}"
        );
        let body: serde_json::Value = r.json().await.expect("JSON body");
        assert_eq!(body["parameter"], parameter, "{query}: {body}");
    }

    // Filters.
    let (_, all) = get(&floor, "/api/v1/services").await;
    let (_, strategies) = get(
        &floor,
        "/api/v1/services?kind=strategy&criticality=critical",
    )
    .await;
    let strategies = strategies["services"].as_array().expect("services").clone();
    assert!(!strategies.is_empty());
    assert!(strategies.len() < all["services"].as_array().expect("services").len());
    assert!(
        strategies
            .iter()
            .all(|s| s["service_kind"] == "strategy" && s["criticality"] == "critical")
    );

    // An entity tag: the same answer again is a 304 without a body.
    let first = client
        .get(url("/api/v1/services"))
        .send()
        .await
        .expect("GET");
    let tag = first.headers()[reqwest::header::ETAG].clone();
    let again = client
        .get(url("/api/v1/services"))
        .header(reqwest::header::IF_NONE_MATCH, tag.clone())
        .send()
        .await
        .expect("GET");
    // The clock moves the ages in the views, so a later answer may differ; a 304
    // must then not be given, and a 200 must carry a new tag.
    match again.status().as_u16() {
        304 => assert!(again.bytes().await.expect("body").is_empty()),
        200 => assert_ne!(again.headers()[reqwest::header::ETAG], tag),
        other => panic!("If-None-Match answered {other}"),
    }

    // Gzip when asked, and the shared headers on every answer.
    let zipped = client
        .get(url("/api/v1/services"))
        .header(reqwest::header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .expect("GET");
    assert_eq!(zipped.headers()[reqwest::header::CONTENT_ENCODING], "gzip");
    assert_eq!(zipped.headers()[reqwest::header::CACHE_CONTROL], "no-store");
    assert_eq!(zipped.headers()["x-content-type-options"], "nosniff");
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}
