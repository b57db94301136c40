//! Property tests: parsing never panics on any text in either format, problems
//! always point into the text, and valid inventories read the same from both.

use std::fmt::Write as _;
use std::path::Path;

use opsfloor_contract::{Criticality, ServiceKind};
use opsfloor_inventory::{Format, ServiceEntry, parse};
use proptest::prelude::*;

/// Parses and checks what any result must satisfy; never panics itself.
fn check(text: &str, format: Format) {
    let path = Path::new("p.inv");
    let Err(e) = parse(text, path, format) else {
        return;
    };
    assert!(!e.problems.is_empty());
    // Lines break at \n, and for YAML also at a lone \r.
    let last_line = 1 + text.matches('\n').count() + text.matches('\r').count();
    for p in &e.problems {
        assert_eq!(p.file, path);
        assert!(
            (1..=last_line).contains(&p.line),
            "{p} (last line {last_line})"
        );
        assert!(p.column.is_none_or(|c| c >= 1), "{p}");
        assert!(!p.message.is_empty(), "{p}");
        assert!(
            !p.to_string().contains('\n') || p.message.contains('\n'),
            "{p}"
        );
    }
}

const SAMPLES: [(&str, Format); 3] = [
    (include_str!("data/fleet-inventory.toml"), Format::Toml),
    (include_str!("data/native.toml"), Format::Toml),
    (include_str!("data/python-floor.yaml"), Format::Yaml),
];

/// One edit: delete, insert or replace a character at a position.
fn mutate(text: &str, edits: &[(prop::sample::Index, char, u8)]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for (at, c, op) in edits {
        let i = at.index(chars.len() + 1);
        match op {
            0 if i < chars.len() => {
                chars.remove(i);
            }
            1 if i < chars.len() => chars[i] = *c,
            _ => chars.insert(i, *c),
        }
    }
    chars.into_iter().collect()
}

#[derive(Debug, Clone)]
struct Spec {
    name: String,
    kind: ServiceKind,
    host: String,
    port: u16,
    criticality: Option<Criticality>,
    replicas: Option<i64>,
    enabled: Option<bool>,
    timeout_ms: Option<u64>,
    status_path: Option<String>,
    failure_threshold: Option<u32>,
    expected_endpoints: Vec<String>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        (
            "[a-z][a-z0-9-]{0,12}",
            prop::sample::select(ServiceKind::ALL.to_vec()),
            "[a-z][a-z0-9]{0,8}(\\.[a-z]{1,6}){0,3}",
            1u16..,
            prop::option::of(prop::sample::select(Criticality::ALL.to_vec())),
            prop::option::of(0i64..10),
        ),
        (
            prop::option::of(any::<bool>()),
            prop::option::of(1u64..100_000),
            prop::option::of("(/[a-z]{1,8}){1,3}"),
            prop::option::of(1u32..10),
            prop::collection::vec("/[a-z]{0,8}", 0..3),
        ),
    )
        .prop_map(|((name, kind, host, port, criticality, replicas), rest)| {
            let (enabled, timeout_ms, status_path, failure_threshold, expected_endpoints) = rest;
            Spec {
                name,
                kind,
                host,
                port,
                criticality,
                replicas,
                enabled,
                timeout_ms,
                status_path,
                failure_threshold,
                expected_endpoints,
            }
        })
}

/// The spec as TOML (`yaml` false) or YAML key-value lines.
fn render(specs: &[Spec], yaml: bool) -> String {
    let mut out = String::from(match (yaml, specs.is_empty()) {
        (true, true) => "agents: []\n",
        (true, false) => "agents:\n",
        (false, true) => "services = []\n",
        (false, false) => "",
    });
    let (name_key, url_key, sep) = if yaml {
        ("agent_name", "service_dns", ": ")
    } else {
        ("name", "url", " = ")
    };
    for (i, s) in specs.iter().enumerate() {
        let mut fields = vec![
            (name_key, format!("{:?}", format!("{}-{i}", s.name))),
            ("kind", format!("{:?}", s.kind.as_str())),
            (url_key, format!("\"http://{}:{}\"", s.host, s.port)),
        ];
        if let Some(c) = s.criticality {
            fields.push(("criticality", format!("{:?}", c.as_str())));
        }
        let mut push = |key, value: Option<String>| {
            if let Some(v) = value {
                fields.push((key, v));
            }
        };
        push("replicas", s.replicas.map(|v| v.to_string()));
        push("enabled", s.enabled.map(|v| v.to_string()));
        push("timeout_ms", s.timeout_ms.map(|v| v.to_string()));
        push(
            "status_path",
            s.status_path.as_ref().map(|v| format!("{v:?}")),
        );
        push(
            "failure_threshold",
            s.failure_threshold.map(|v| v.to_string()),
        );
        let endpoints: Vec<String> = s
            .expected_endpoints
            .iter()
            .map(|e| format!("{e:?}"))
            .collect();
        fields.push(("expected_endpoints", format!("[{}]", endpoints.join(", "))));
        out.push_str(if yaml { "  -\n" } else { "\n[[services]]\n" });
        for (key, value) in fields {
            let indent = if yaml { "    " } else { "" };
            let _ = writeln!(out, "{indent}{key}{sep}{value}");
        }
    }
    out
}

fn expected(specs: &[Spec]) -> Vec<ServiceEntry> {
    specs
        .iter()
        .enumerate()
        .map(|(i, s)| ServiceEntry {
            aliases: Vec::new(),
            calendar: None,
            name: format!("{}-{i}", s.name),
            kind: s.kind,
            url: if s.port == 80 {
                format!("http://{}", s.host)
            } else {
                format!("http://{}:{}", s.host, s.port)
            },
            criticality: s.criticality.unwrap_or_default(),
            replicas: s.replicas,
            enabled: s.enabled,
            timeout_ms: s.timeout_ms,
            status_path: s
                .status_path
                .clone()
                .unwrap_or_else(|| "/ops/status".into()),
            failure_threshold: s.failure_threshold,
            expected_endpoints: s.expected_endpoints.clone(),
            bearer_token_env: None,
            client_identity: None,
            line: 0,
        })
        .collect()
}

fn without_lines(mut services: Vec<ServiceEntry>) -> Vec<ServiceEntry> {
    for s in &mut services {
        s.line = 0;
    }
    services
}

proptest! {
    // 256 cases each by default; PROPTEST_CASES=100000 for a long run.
    #[test]
    fn toml_never_panics(text in any::<String>()) {
        check(&text, Format::Toml);
    }

    #[test]
    fn yaml_never_panics(text in any::<String>()) {
        check(&text, Format::Yaml);
    }

    #[test]
    fn toml_like_text_never_panics(text in "[\\[\\]{}=\",.#'a-z0-9_: \\n\\t-]{0,300}") {
        check(&text, Format::Toml);
    }

    #[test]
    fn yaml_like_text_never_panics(text in "[-:\\[\\]{}#&*!|>'\",?<%@` \\n\\ta-z0-9_]{0,300}") {
        check(&text, Format::Yaml);
    }

    #[test]
    fn edited_samples_never_panic(
        which in 0..SAMPLES.len(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<char>(), 0u8..3), 1..6),
    ) {
        let (text, format) = SAMPLES[which];
        check(&mutate(text, &edits), format);
    }

    #[test]
    fn valid_inventories_read_the_same_from_both_formats(
        specs in prop::collection::vec(spec(), 0..6),
    ) {
        let want = expected(&specs);
        let toml = render(&specs, false);
        let yaml = render(&specs, true);
        let from_toml = parse(&toml, Path::new("i.toml"), Format::Toml)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{toml}")))?;
        let from_yaml = parse(&yaml, Path::new("i.yaml"), Format::Yaml)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{yaml}")))?;
        prop_assert_eq!(without_lines(from_toml.services), want.clone());
        prop_assert_eq!(without_lines(from_yaml.services), want);
    }
}

#[test]
fn very_deep_nesting_is_refused_without_overflowing_the_stack() {
    let n = 100_000;
    let cases = [
        (
            format!("a = {}{}", "[".repeat(n), "]".repeat(n)),
            Format::Toml,
        ),
        (format!("a = {}", "{ b = ".repeat(n)), Format::Toml),
        (
            format!("agents: {}{}", "[".repeat(n), "]".repeat(n)),
            Format::Yaml,
        ),
        (format!("agents:\n{}", "- ".repeat(n)), Format::Yaml),
        (
            (0..2_000)
                .map(|i| format!("{}k:\n", " ".repeat(i)))
                .collect(),
            Format::Yaml,
        ),
    ];
    for (text, format) in cases {
        let e = parse(&text, Path::new("deep"), format).expect_err("too deep");
        assert!(!e.problems.is_empty());
    }
}
