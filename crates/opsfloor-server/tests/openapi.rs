//! The committed OpenAPI document (`schema/openapi.json`) against the router and
//! against real responses: every route is documented and nothing else is, and every
//! JSON body a live floor (with history) returns validates against the schema the
//! document gives for its path, status and media type.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::*;
use futures_util::StreamExt;
use jsonschema::{Draft, Registry, Validator};
use opsfloor_fleet::{GAMMA, Scenario};
use opsfloor_server::server::Running;
use serde_json::{Value, json};

/// Where the OpenAPI document is taken to live: `$ref`s in it are relative to this.
const OPENAPI_URI: &str = "https://opsfloor.dev/schema/openapi.json";

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schema")
}

fn load(name: &str) -> Value {
    let path = schema_dir().join(name);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

/// Escapes one JSON pointer segment.
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// The OpenAPI document and a registry holding it and the contract's schema.
struct Spec {
    doc: Value,
    registry: Registry<'static>,
}

impl Spec {
    fn load() -> Spec {
        let doc = load("openapi.json");
        let contract = load("ops-status.schema.json");
        let contract_id = contract["$id"].as_str().expect("$id").to_owned();
        assert_eq!(
            url_join(OPENAPI_URI, "ops-status.schema.json"),
            contract_id,
            "the contract schema's $id is where openapi.json's relative $ref points"
        );
        let registry = Registry::new()
            .draft(Draft::Draft202012)
            .add(OPENAPI_URI, doc.clone())
            .expect("add openapi.json")
            .add(contract_id, contract)
            .expect("add ops-status.schema.json")
            .add(
                url_join(OPENAPI_URI, "report.schema.json"),
                load("report.schema.json"),
            )
            .expect("add report.schema.json")
            .prepare()
            .expect("registry");
        Spec { doc, registry }
    }

    /// A validator for the schema at `pointer` in the OpenAPI document.
    fn validator(&self, pointer: &str) -> Validator {
        assert!(
            self.doc.pointer(pointer).is_some(),
            "openapi.json has nothing at {pointer}"
        );
        jsonschema::options()
            .with_draft(Draft::Draft202012)
            .with_registry(&self.registry)
            .should_validate_formats(true)
            .offline()
            .build(&json!({ "$ref": format!("{OPENAPI_URI}#{}", fragment(pointer)) }))
            .unwrap_or_else(|e| panic!("schema at {pointer}: {e}"))
    }

    /// Checks one real response against the document: the status is documented for
    /// the path, the media type is one the document lists for that status, and a JSON
    /// body validates against its schema.
    fn check(&self, path: &str, r: &Fetched) {
        let content = format!("/paths/{}/get/responses/{}/content", escape(path), r.status);
        let media = self
            .doc
            .pointer(&content)
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("{path}: status {} is not documented", r.status));
        assert!(
            media.contains_key(&r.media_type),
            "{path} {}: media type {:?} is not documented (documented: {:?})",
            r.status,
            r.media_type,
            media.keys().collect::<Vec<_>>()
        );
        if r.media_type == "application/json" {
            let body: Value = serde_json::from_str(&r.body)
                .unwrap_or_else(|e| panic!("{path} {}: not JSON: {e}: {}", r.status, r.body));
            let pointer = format!("{content}/{}/schema", escape(&r.media_type));
            self.validate(&pointer, &body, &format!("{path} {}", r.status));
        }
    }

    /// Validates `body` against a whole schema file beside openapi.json.
    fn validate_against_file(&self, file: &str, body: &Value, what: &str) {
        let validator = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .with_registry(&self.registry)
            .offline()
            .build(&json!({ "$ref": url_join(OPENAPI_URI, file) }))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        report(&validator, body, &format!("{what} against {file}"));
    }

    fn validate(&self, pointer: &str, body: &Value, what: &str) {
        let validator = self.validator(pointer);
        report(
            &validator,
            body,
            &format!("{what} against openapi.json#{pointer}"),
        );
    }
}

/// Fails with every validation error of `body`.
fn report(validator: &Validator, body: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("  {} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: the body does not match:\n{}\nbody: {body:#}",
        errors.join("\n")
    );
}

/// Percent-encodes a JSON pointer for a URI fragment (`{name}` has braces).
fn fragment(pointer: &str) -> String {
    let mut out = String::new();
    for byte in pointer.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Resolves `relative` against the directory of `base`.
fn url_join(base: &str, relative: &str) -> String {
    let dir = base.rsplit_once('/').map_or(base, |(dir, _)| dir);
    format!("{dir}/{relative}")
}

/// A named way for a body to drift from its schema.
type Drift = (&'static str, fn(&mut Value));

struct Fetched {
    status: u16,
    media_type: String,
    body: String,
}

async fn fetch(running: &Running, path_and_query: &str) -> Fetched {
    let url = format!("http://{}{}", running.addr, path_and_query);
    let response = reqwest::get(&url).await.expect("GET");
    let status = response.status().as_u16();
    let media_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_owned();
    let body = response.text().await.expect("body");
    Fetched {
        status,
        media_type,
        body,
    }
}

/// The paths of api.rs's router, from its `.route("...` lines.
fn router_paths() -> BTreeSet<String> {
    let source =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/api.rs"))
            .expect("read api.rs");
    source
        .lines()
        .filter_map(|line| line.trim().strip_prefix(".route(\""))
        .filter_map(|rest| rest.split_once('"').map(|(path, _)| path.to_owned()))
        .collect()
}

#[test]
fn the_document_covers_exactly_the_router() {
    let doc = load("openapi.json");
    assert_eq!(doc["openapi"], "3.1.0");
    let documented: BTreeSet<String> = doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .cloned()
        .collect();
    let routed = router_paths();
    assert!(routed.len() >= 9, "too few routes parsed: {routed:?}");
    assert_eq!(documented, routed, "openapi.json paths vs api.rs routes");
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let methods: Vec<&String> = item
            .as_object()
            .expect("path item")
            .keys()
            .filter(|k| *k != "parameters" && *k != "summary" && *k != "description")
            .collect();
        assert_eq!(methods, ["get"], "{path}: only GET is served");
    }
}

#[test]
fn the_document_is_strict_and_consistent() {
    let doc = load("openapi.json");
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for (name, schema) in schemas {
        let Some(props) = schema.get("properties").and_then(Value::as_object) else {
            continue;
        };
        assert_eq!(
            schema["additionalProperties"], false,
            "{name}: additionalProperties must be false"
        );
        let required: BTreeSet<&str> = schema["required"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: required"))
            .iter()
            .filter_map(Value::as_str)
            .collect();
        // The state-keyed maps list every state but require none.
        if name == "StateCounts" || name == "StateShares" {
            assert!(required.is_empty(), "{name}");
            let keys: BTreeSet<&str> = props.keys().map(String::as_str).collect();
            let states: BTreeSet<&str> = schemas["State"]["enum"]
                .as_array()
                .expect("State enum")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            assert_eq!(keys, states, "{name}: keyed by every state");
            continue;
        }
        let mut expected: BTreeSet<&str> = props.keys().map(String::as_str).collect();
        if name == "ServiceDetail" {
            expected.remove("document");
        }
        // The maintenance badge is present only while a window is open (so the
        // report's golden files and every client's view stay as they were).
        if matches!(name.as_str(), "FloorView" | "ServiceView" | "ServiceDetail") {
            expected.remove("maintenance");
        }
        assert_eq!(required, expected, "{name}: every field is always present");
    }
    // The detail view is the list entry plus `document`.
    let mut detail = schemas["ServiceDetail"]["properties"].clone();
    detail
        .as_object_mut()
        .expect("properties")
        .remove("document")
        .expect("ServiceDetail has document");
    assert_eq!(detail, schemas["ServiceView"]["properties"]);
}

#[tokio::test]
async fn real_responses_match_the_document() {
    let spec = Spec::load();
    let setup = Setup::fleet(Scenario::Normal, MARKET_HOURS).await;
    let inventory = setup.inventory("");
    let db = setup.dir.path().join("data/history.sqlite");
    let floor = setup.floor(&inventory, Some(db)).await;
    expect_floor(&floor, "OK []").await;
    // The cycle publishes its state before it writes the transitions to history.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (_, t) = get(&floor, "/api/v1/transitions?service=@floor").await;
        if t["transitions"].as_array().is_some_and(|t| !t.is_empty()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the floor's transition is recorded"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // (documented path, request, expected status)
    let gamma = format!("/api/v1/services/{GAMMA}");
    let gamma_transitions = format!("/api/v1/transitions?service={GAMMA}&limit=1");
    let cases: Vec<(&str, &str, u16)> = vec![
        ("/ops/status", "/ops/status", 200),
        ("/health", "/health", 200),
        ("/api/v1/floor", "/api/v1/floor", 200),
        ("/api/v1/services", "/api/v1/services", 200),
        ("/api/v1/services", "/api/v1/services?kind=strategy", 200),
        ("/api/v1/services", "/api/v1/services?state=FINE", 400),
        ("/api/v1/services/{name}", &gamma, 200),
        ("/api/v1/services/{name}", "/api/v1/services/nope", 404),
        ("/api/v1/transitions", "/api/v1/transitions", 200),
        (
            "/api/v1/transitions",
            "/api/v1/transitions?service=@floor",
            200,
        ),
        ("/api/v1/transitions", &gamma_transitions, 200),
        (
            "/api/v1/transitions",
            "/api/v1/transitions?since=2026-01-01T00:00:00Z&limit=5",
            200,
        ),
        (
            "/api/v1/transitions",
            "/api/v1/transitions?since=yesterday",
            400,
        ),
        ("/api/v1/transitions", "/api/v1/transitions?limit=many", 400),
        ("/api/v1/slo", "/api/v1/slo", 200),
        ("/api/v1/slo", "/api/v1/slo?window=1d", 200),
        ("/api/v1/slo", "/api/v1/slo?window=soon", 400),
        ("/api/v1/slo", "/api/v1/slo?window=1d&window=2d", 400),
        ("/api/v1/report", "/api/v1/report", 200),
        ("/api/v1/report", "/api/v1/report?format=markdown", 200),
        ("/api/v1/report", "/api/v1/report?format=pdf", 400),
        ("/metrics", "/metrics", 200),
        ("/api/v1/cluster", "/api/v1/cluster", 200),
        ("/api/v1/maintenance", "/api/v1/maintenance", 200),
        ("/api/v1/maintenance", "/api/v1/maintenance?window=30d", 200),
        (
            "/api/v1/maintenance",
            "/api/v1/maintenance?window=soon",
            400,
        ),
    ];
    let mut bodies = Vec::new();
    for (path, request, status) in cases {
        let r = fetch(&floor, request).await;
        assert_eq!(r.status, status, "{request}: {}", r.body);
        spec.check(path, &r);
        bodies.push((request, r));
    }
    let json_of = |request: &str| -> Value {
        let (_, r) = bodies.iter().find(|(q, _)| *q == request).expect("fetched");
        serde_json::from_str(&r.body).expect("JSON")
    };

    // Spot checks that the validated bodies exercised what they should.
    let detail = json_of(&gamma);
    assert!(detail["document"].is_object(), "detail has a document");
    let list = json_of("/api/v1/services");
    let services = list["services"].as_array().expect("services");
    assert!(!services.is_empty());
    assert!(services.iter().all(|s| s.get("document").is_none()));
    let own = json_of("/api/v1/transitions?service=@floor");
    let own = own["transitions"].as_array().expect("transitions");
    assert!(!own.is_empty(), "the floor has transitions");
    assert!(own.iter().all(|t| t["service"].is_null()));
    let (_, metrics) = bodies
        .iter()
        .find(|(q, _)| *q == "/metrics")
        .expect("metrics");
    assert!(
        metrics.body.starts_with("# HELP opsfloor_"),
        "{}",
        metrics.body
    );

    // The report's body also matches the committed report schema.
    spec.validate_against_file(
        "report.schema.json",
        &json_of("/api/v1/report"),
        "/api/v1/report",
    );

    // The schemas are strict: drift of each kind is caught, through the contract's
    // schema too.
    let floor_schema = "/paths/~1api~1v1~1floor/get/responses/200/content/application~1json/schema";
    let floor_validator = spec.validator(floor_schema);
    let good = json_of("/api/v1/floor");
    assert!(floor_validator.is_valid(&good));
    let drifts: [Drift; 6] = [
        ("an extra field", |v| v["extra"] = json!(1)),
        ("a missing field", |v| {
            v.as_object_mut()
                .map(|o| o.remove("oldest_result_age_seconds"));
        }),
        ("an unknown state key", |v| v["counts"]["FINE"] = json!(1)),
        ("a bad timestamp", |v| v["since"] = json!("yesterday")),
        ("a bad contract state", |v| {
            v["floor"]["status"]["state"] = json!("FINE")
        }),
        ("a contract document without safety", |v| {
            v["floor"].as_object_mut().map(|o| o.remove("safety"));
        }),
    ];
    for (what, drift) in drifts {
        let mut bad = good.clone();
        drift(&mut bad);
        assert!(!floor_validator.is_valid(&bad), "{what} went unnoticed");
    }

    // The stream's first event is a snapshot.
    let snapshot = first_snapshot(&spec, &floor).await;
    spec.validate(
        "/paths/~1api~1v1~1stream/get/responses/200/content/text~1event-stream/x-sse-events/snapshot",
        &snapshot,
        "stream snapshot",
    );
    // A `transition` event's data is a TransitionView, as the history rows are.
    for t in own {
        spec.validate(
            "/paths/~1api~1v1~1stream/get/responses/200/content/text~1event-stream/x-sse-events/transition",
            t,
            "transition",
        );
    }

    // Without a database, the history endpoints answer 404.
    let bare = setup.floor(&inventory, None).await;
    for (path, request) in [
        ("/api/v1/transitions", "/api/v1/transitions"),
        ("/api/v1/slo", "/api/v1/slo"),
    ] {
        let r = fetch(&bare, request).await;
        assert_eq!(r.status, 404, "{request} without history: {}", r.body);
        spec.check(path, &r);
    }

    bare.shutdown().await;
    floor.shutdown().await;
    setup.fleet.shutdown().await;
}

/// Reads the stream until its first whole event, a `snapshot`, then drops the
/// response and returns the event's data.
async fn first_snapshot(spec: &Spec, floor: &Running) -> Value {
    let r = fetch_stream(spec, floor).await;
    let mut body = r.bytes_stream();
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let event = loop {
        // Whole events end with a blank line; the text after the last one is partial.
        if let Some((whole, _)) = text.split_once("\n\n") {
            assert!(
                whole.lines().any(|line| line == "event: snapshot"),
                "the first event is a snapshot: {whole}"
            );
            break whole.to_owned();
        }
        let chunk = tokio::time::timeout_at(deadline, body.next())
            .await
            .expect("a snapshot in time")
            .expect("stream open")
            .expect("chunk");
        text.push_str(&String::from_utf8_lossy(&chunk));
    };
    drop(body);
    let data: String = event
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .collect::<Vec<_>>()
        .join("\n");
    serde_json::from_str(&data).unwrap_or_else(|e| panic!("snapshot data: {e}: {event}"))
}

async fn fetch_stream(spec: &Spec, floor: &Running) -> reqwest::Response {
    let response = reqwest::get(format!("http://{}/api/v1/stream", floor.addr))
        .await
        .expect("GET stream");
    assert_eq!(response.status(), 200);
    let media_type = response.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .expect("content type")
        .to_owned();
    let documented = &spec.doc["paths"]["/api/v1/stream"]["get"]["responses"]["200"]["content"];
    assert!(
        documented.get(&media_type).is_some(),
        "stream media type {media_type:?} is documented"
    );
    response
}
