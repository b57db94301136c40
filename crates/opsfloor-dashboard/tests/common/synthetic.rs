//! A floor of any size without a network: an inventory generated as TOML and one
//! round of poll outcomes, evaluated with `FloorState::evaluate` (as the report's
//! replay does). Shared by the tests and the render benchmark.

#![allow(dead_code, missing_docs)]

use std::path::Path;

use jiff::Timestamp;
use opsfloor_contract::{Calendar, parse_document};
use opsfloor_engine::FloorState;
use opsfloor_engine::Outcome;
use opsfloor_inventory::{Format, parse};

/// Wednesday 10:00 in New York: the market is open.
pub const MARKET_HOURS: &str = "2026-01-07T15:00:00Z";

/// A valid document for `name` of `kind` at `now`, OK unless `kill_switch`.
pub fn document(name: &str, kind: &str, now: &str, kill_switch: bool) -> String {
    let (state, codes, summary) = if kill_switch {
        ("HALTED", "[\"KILL_SWITCH\"]", "Halted")
    } else {
        ("OK", "[]", "Healthy")
    };
    let marketdata = if matches!(kind, "marketdata" | "strategy" | "execution") {
        format!(
            "{{\"last_tick_utc\":\"{now}\",\"last_bar_utc\":null,\"stale_threshold_seconds\":120,\"is_fresh\":true}}"
        )
    } else {
        "null".to_owned()
    };
    let name = serde_json::to_string(name).unwrap_or_default();
    format!(
        "{{\"service_name\":{name},\"service_kind\":\"{kind}\",\"repo_id\":\"acme/floor\",\
         \"git_sha\":\"9b7e3d1\",\"build_id\":\"build-1842\",\
         \"agent_identity\":{{\"agent_name\":{name},\"agent_role\":\"{kind}\",\"agent_mode\":\"STREAM\"}},\
         \"status\":{{\"state\":\"{state}\",\"summary\":\"{summary}\",\"reason_codes\":{codes},\"last_updated_utc\":\"{now}\"}},\
         \"heartbeat\":{{\"last_heartbeat_utc\":\"{now}\",\"age_seconds\":0.5,\"ttl_seconds\":60}},\
         \"marketdata\":{marketdata},\
         \"safety\":{{\"kill_switch\":{kill_switch},\"safe_to_run_strategies\":{run},\"safe_to_execute_orders\":false,\"gating_reasons\":{codes}}},\
         \"endpoints\":{{\"healthz\":\"/health\",\"heartbeat\":null,\"metrics\":null}},\
         \"debug\":{{\"api_token\":\"sk-secret\",\"note\":\"<b>bold</b>\"}}}}",
        run = !kill_switch,
    )
}

/// An outcome carrying `text` as the document received.
pub fn received(text: &str) -> Outcome {
    Outcome::Document {
        received: Box::new(parse_document(text).expect("document")),
        raw: text.into(),
    }
}

/// A floor of `n` services at `now`: mostly healthy strategies, a feed every 20, an
/// ingest job every 10, an execution agent every 50 (scaled to zero), a kill switch
/// on every 97th and no answer from every 89th.
pub fn floor(n: usize, now: &str, extra_names: &[&str]) -> FloorState {
    let mut toml = String::from("[floor]\nname = \"bench-floor\"\n");
    let mut outcomes = Vec::new();
    let names: Vec<(String, &str)> = (0..n)
        .map(|i| {
            let kind = match i {
                i if i % 50 == 3 => "execution",
                i if i % 20 == 0 => "marketdata",
                i if i % 10 == 5 => "ingest",
                _ => "strategy",
            };
            (format!("{kind}-{i:04}-svc"), kind)
        })
        .chain(extra_names.iter().map(|n| ((*n).to_owned(), "strategy")))
        .collect();
    for (i, (name, kind)) in names.iter().enumerate() {
        let quoted = serde_json::to_string(name).unwrap_or_default();
        toml.push_str(&format!(
            "\n[[services]]\nname = {quoted}\nkind = \"{kind}\"\nurl = \"http://10.0.{}.{}:9100\"\ncriticality = \"{}\"\n",
            i / 250,
            i % 250,
            ["critical", "important", "optional"][i % 3],
        ));
        if *kind == "execution" {
            toml.push_str("replicas = 0\n");
            outcomes.push((name.clone(), None));
        } else if i % 89 == 88 {
            outcomes.push((
                name.clone(),
                Some(Outcome::NoAnswer {
                    error: "connection failed: Connection refused".into(),
                }),
            ));
        } else {
            outcomes.push((
                name.clone(),
                Some(received(&document(name, kind, now, i % 97 == 96))),
            ));
        }
    }
    let inventory = parse(&toml, Path::new("bench.toml"), Format::Toml).expect("inventory");
    let now: Timestamp = now.parse().expect("now");
    let mut state = FloorState::evaluate(inventory, Calendar::nyse(), outcomes, now);
    // `evaluate` leaves timing out (it serves deterministic reports); a live floor has it.
    for (i, t) in state.services_mut().iter_mut().enumerate() {
        if t.last_poll.is_some() {
            t.latency_ms = Some(1.0 + (i % 37) as f64 * 0.71);
        }
    }
    state
}
