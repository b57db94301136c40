//! Reading valid inventories: the fleet's TOML, the Python deployments' YAML, every
//! native setting, and `load`'s own errors (unreadable, unknown format, not UTF-8).

use std::path::{Path, PathBuf};

use opsfloor_contract::{Criticality, ServiceKind};
use opsfloor_inventory::{FloorSettings, Format, ServiceEntry, load, parse};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("opsfloor-inventory");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("scratch file");
    path
}

#[test]
fn the_fleets_inventory_parses() {
    let path = data("fleet-inventory.toml");
    let inv = load(&path).expect("the fleet's inventory is valid");
    assert_eq!(inv.source, path);
    assert_eq!(inv.format, Format::Toml);
    assert_eq!(inv.floor, FloorSettings::default());
    let summary: Vec<_> = inv
        .services
        .iter()
        .map(|s| {
            (
                s.name.as_str(),
                s.kind,
                s.criticality,
                s.line,
                s.expected_to_run(),
            )
        })
        .collect();
    use Criticality::*;
    use ServiceKind::*;
    assert_eq!(
        summary,
        [
            ("marketdata-mcp-server", Marketdata, Critical, 4, true),
            ("gamma-strategy", Strategy, Critical, 10, true),
            ("whale-strategy", Strategy, Important, 16, true),
            ("execution-agent", Execution, Critical, 22, false),
            ("bars-ingest", Ingest, Optional, 30, true),
        ]
    );
    let execution = &inv.services[3];
    assert_eq!(
        *execution,
        ServiceEntry {
            aliases: Vec::new(),
            calendar: None,
            name: "execution-agent".into(),
            kind: Execution,
            url: "http://127.0.0.1:9103".into(),
            criticality: Critical,
            replicas: Some(0),
            enabled: Some(true),
            timeout_ms: None,
            status_path: "/ops/status".into(),
            failure_threshold: None,
            expected_endpoints: vec![],
            bearer_token_env: None,
            client_identity: None,
            line: 22,
        }
    );
    assert_eq!(execution.status_url(), "http://127.0.0.1:9103/ops/status");
    assert_eq!(execution.timeout_ms(&inv.floor), 1500);
    assert_eq!(execution.failure_threshold(&inv.floor), 3);
}

#[test]
fn the_python_yaml_inventory_parses_unchanged() {
    let inv = load(&data("python-floor.yaml")).expect("the Python inventory is valid");
    assert_eq!(inv.format, Format::Yaml);
    assert_eq!(
        inv.floor,
        FloorSettings {
            name: "prod-floor".into(),
            poll_interval_ms: 2000,
            ..FloorSettings::default()
        }
    );
    let names: Vec<_> = inv.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "marketdata-mcp-server",
            "gamma-strategy",
            "whale-strategy",
            "execution-agent",
            "bars-ingest"
        ]
    );
    let [marketdata, gamma, whale, execution, ingest] = &inv.services[..] else {
        panic!("five services");
    };
    let endpoints = vec!["/ops/status".to_owned(), "/health".to_owned()];
    assert_eq!(
        marketdata.url,
        "http://marketdata.trading.svc.cluster.local:8080"
    );
    assert_eq!(marketdata.expected_endpoints, endpoints);
    assert_eq!(marketdata.line, 8);
    // No scheme: http:// is assumed; the trailing slash goes; the alias is resolved.
    assert_eq!(gamma.url, "http://gamma.trading.svc.cluster.local:8080");
    assert_eq!(gamma.expected_endpoints, endpoints);
    assert_eq!(gamma.line, 14);
    // Merged from gamma (`<<: *strategy`), with its own keys winning.
    assert_eq!(whale.kind, ServiceKind::Strategy);
    assert_eq!(whale.url, "https://whale.trading.svc.cluster.local");
    assert_eq!(whale.criticality, Criticality::Important);
    assert_eq!(whale.timeout_ms, Some(800));
    assert_eq!(whale.failure_threshold(&inv.floor), 3);
    assert_eq!(whale.expected_endpoints, endpoints);
    // `yes` is a boolean, as PyYAML reads it; scaled to zero all the same.
    assert_eq!(
        (execution.replicas, execution.enabled),
        (Some(0), Some(true))
    );
    assert!(!execution.expected_to_run());
    assert_eq!(ingest.enabled, Some(false));
    assert!(!ingest.expected_to_run());
    assert_eq!(ingest.timeout_ms, None, "an empty value is left out");
    assert_eq!(
        ingest.status_url(),
        "http://bars-ingest.trading.svc.cluster.local:9000/internal/ops/status"
    );
}

#[test]
fn every_native_setting_is_read() {
    let inv = load(&data("native.toml")).expect("valid");
    assert_eq!(
        inv.floor,
        FloorSettings {
            name: "desk-7".into(),
            calendar: "always-open".into(),
            poll_interval_ms: 1000,
            timeout_ms: 900,
            max_in_flight: 8,
            failure_threshold: 4,
            body_limit_bytes: 32768,
            ca_file: None,
            client_identity: None,
            calendar_overrides: None,
        }
    );
    let [feed, desk, scheduler] = &inv.services[..] else {
        panic!("three services");
    };
    assert_eq!(feed.url, "https://feed.example/prefix");
    assert_eq!(
        feed.status_url(),
        "https://feed.example/prefix/v2/ops/status"
    );
    assert_eq!(feed.timeout_ms(&inv.floor), 300);
    assert_eq!(feed.failure_threshold(&inv.floor), 1);
    assert_eq!(feed.expected_endpoints, ["/v2/ops/status", "/health"]);
    assert_eq!(desk.kind, ServiceKind::Floor);
    assert_eq!((desk.replicas, desk.enabled), (Some(2), Some(false)));
    assert!(!desk.expected_to_run());
    assert_eq!(scheduler.url, "http://[::1]:7000");
    assert_eq!(scheduler.criticality, Criticality::Important);
    assert_eq!(scheduler.status_path, "/ops/status");
    assert_eq!(scheduler.timeout_ms(&inv.floor), 900);
    assert_eq!(scheduler.failure_threshold(&inv.floor), 4);
    assert_eq!((scheduler.line, desk.line, feed.line), (29, 21, 11));
}

#[test]
fn floor_settings_default_as_documented() {
    let d = FloorSettings::default();
    assert_eq!(
        (
            d.name.as_str(),
            d.calendar.as_str(),
            d.poll_interval_ms,
            d.timeout_ms
        ),
        ("trading-floor", "XNYS", 5000, 1500)
    );
    assert_eq!(
        (d.max_in_flight, d.failure_threshold, d.body_limit_bytes),
        (64, 3, 65536)
    );
}

#[test]
fn calendar_aliases_are_canonical() {
    let inv = parse(
        "services = []\n\n[floor]\ncalendar = \"XNYS\"\n",
        Path::new("i.toml"),
        Format::Toml,
    )
    .expect("valid");
    assert_eq!(inv.floor.calendar, "XNYS");
    assert!(inv.services.is_empty(), "an explicit empty list is allowed");
}

#[test]
fn format_follows_the_extension() {
    let f = |p: &str| Format::from_path(Path::new(p));
    assert_eq!(f("inventory.toml"), Some(Format::Toml));
    assert_eq!(f("INVENTORY.TOML"), Some(Format::Toml));
    assert_eq!(f("floor.yaml"), Some(Format::Yaml));
    assert_eq!(f("dir.d/floor.yml"), Some(Format::Yaml));
    assert_eq!(f("floor.json"), None);
    assert_eq!(f("floor"), None);
}

#[test]
fn load_and_parse_agree() {
    let path = data("python-floor.yaml");
    let text = std::fs::read_to_string(&path).expect("readable");
    assert_eq!(load(&path), parse(&text, &path, Format::Yaml));
}

#[test]
fn a_byte_order_mark_is_ignored() {
    let text = "\u{feff}agents: []\n";
    assert!(parse(text, Path::new("f.yaml"), Format::Yaml).is_ok());
    let text = "\u{feff}services = []\n";
    assert!(parse(text, Path::new("f.toml"), Format::Toml).is_ok());
}

#[test]
fn an_unreadable_file_is_named() {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-such-inventory.toml");
    let err = load(&path).expect_err("missing");
    assert_eq!(err.problems.len(), 1);
    let p = &err.problems[0];
    assert_eq!(
        (p.file.as_path(), p.line, p.column, p.field.as_str()),
        (path.as_path(), 0, None, "")
    );
    assert!(
        err.to_string()
            .starts_with(&format!("{}: cannot read: ", path.display())),
        "{err}"
    );
}

#[test]
fn an_unknown_extension_is_refused() {
    let path = scratch("inventory.json", b"{}");
    let err = load(&path).expect_err("unknown format");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: unknown inventory format; expected a .toml, .yaml or .yml file",
            path.display()
        )
    );
}

#[test]
fn invalid_utf8_is_located() {
    let path = scratch("latin1.toml", b"services = []\n# caf\xe9\n");
    let err = load(&path).expect_err("not UTF-8");
    assert_eq!(
        err.to_string(),
        format!("{}:2:6: not valid UTF-8", path.display())
    );
}

#[test]
fn a_calendar_per_service_and_an_overrides_file() {
    let text = "[floor]\ncalendar = \"nyse\"\ncalendar_overrides = \"overrides.toml\"\n\n\
        [[services]]\nname = \"tokyo\"\nkind = \"strategy\"\nurl = \"http://127.0.0.1:1\"\ncalendar = \"xtks\"\n\n\
        [[services]]\nname = \"ny\"\nkind = \"strategy\"\nurl = \"http://127.0.0.1:2\"\n";
    let path = Path::new("/etc/floor/inventory.toml");
    let inv = parse(text, path, Format::Toml).expect("valid");
    assert_eq!(inv.floor.calendar, "XNYS");
    assert_eq!(
        inv.floor.calendar_overrides.as_deref(),
        Some(Path::new("/etc/floor/overrides.toml"))
    );
    assert_eq!(inv.services[0].calendar.as_deref(), Some("XTKS"));
    assert_eq!(inv.services[0].calendar_name(&inv.floor), "XTKS");
    assert_eq!(inv.services[1].calendar_name(&inv.floor), "XNYS");

    let bad = text.replace("\"xtks\"", "\"tokyo\"");
    let err = parse(&bad, path, Format::Toml).expect_err("unknown calendar");
    assert!(
        err.to_string().starts_with(
            "/etc/floor/inventory.toml:9:12: services[0].calendar: unknown calendar \"tokyo\""
        ),
        "{err}"
    );
}

#[test]
fn the_yaml_inventory_names_calendars_too() {
    let text = "floor:\n  calendar: XNYS\n  calendar_overrides: ../shared/overrides.toml\nagents:\n  - agent_name: crypto-feed\n    service_dns: crypto.svc:8080\n    kind: marketdata\n    calendar: always-open\n";
    let path = Path::new("deploy/agents.yaml");
    let inv = parse(text, path, Format::Yaml).expect("valid");
    assert_eq!(inv.services[0].calendar.as_deref(), Some("always-open"));
    assert_eq!(
        inv.floor.calendar_overrides.as_deref(),
        Some(Path::new("deploy/../shared/overrides.toml"))
    );
    let bad = text.replace("always-open", "crypto");
    let err = parse(&bad, path, Format::Yaml).expect_err("unknown calendar");
    assert!(
        err.to_string()
            .contains("agents[0].calendar: unknown calendar \"crypto\""),
        "{err}"
    );
}

#[test]
fn outgoing_credentials_are_read_and_their_files_resolved_against_the_inventory() {
    use opsfloor_inventory::ClientIdentity;
    let text = "[floor]\nca_file = \"certs/ca.pem\"\nclient_cert = \"floor.pem\"\nclient_key = \"floor.key\"\n\n\
                [[services]]\nname = \"child\"\nkind = \"floor\"\nurl = \"https://child.example:8443\"\n\
                bearer_token_env = \"CHILD_TOKEN\"\nclient_cert = \"/etc/own.pem\"\nclient_key = \"/etc/own.key\"\n\n\
                [[services]]\nname = \"plain\"\nkind = \"strategy\"\nurl = \"https://plain.example\"\n";
    let inv = opsfloor_inventory::parse(
        text,
        std::path::Path::new("/srv/floor/inventory.toml"),
        Format::Toml,
    )
    .expect("valid");
    assert_eq!(
        inv.floor.ca_file.as_deref(),
        Some(std::path::Path::new("/srv/floor/certs/ca.pem"))
    );
    let floor_identity = ClientIdentity {
        cert: "/srv/floor/floor.pem".into(),
        key: "/srv/floor/floor.key".into(),
    };
    assert_eq!(inv.floor.client_identity.as_ref(), Some(&floor_identity));
    let (child, plain) = (&inv.services[0], &inv.services[1]);
    assert_eq!(child.bearer_token_env.as_deref(), Some("CHILD_TOKEN"));
    assert_eq!(
        child.client_identity(&inv.floor),
        Some(&ClientIdentity {
            cert: "/etc/own.pem".into(),
            key: "/etc/own.key".into()
        })
    );
    assert_eq!(plain.bearer_token_env, None);
    assert_eq!(plain.client_identity(&inv.floor), Some(&floor_identity));
}

#[test]
fn a_client_cert_without_its_key_or_a_token_in_place_of_a_variable_is_a_problem() {
    let text = "[[services]]\nname = \"child\"\nkind = \"floor\"\nurl = \"https://child.example\"\n\
                client_cert = \"own.pem\"\nbearer_token_env = \"s3cr3t-t0ken.value\"\n";
    let error =
        opsfloor_inventory::parse(text, std::path::Path::new("inventory.toml"), Format::Toml)
            .expect_err("invalid");
    let text = error.to_string();
    assert!(
        text.contains("services[0].client_key: missing: client_cert needs client_key"),
        "{text}"
    );
    assert!(
        text.contains("services[0].bearer_token_env: must name an environment variable"),
        "{text}"
    );
    assert!(
        !text.contains("s3cr3t"),
        "the value is never echoed: {text}"
    );
}
