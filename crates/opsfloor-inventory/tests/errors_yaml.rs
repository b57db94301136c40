//! Every kind of problem in a YAML inventory (the Python deployments' format), with
//! its exact message, line and column (golden strings).

use std::path::Path;

use opsfloor_inventory::{Format, parse};

/// The error for an invalid inventory, one problem per line.
fn err(text: &str) -> String {
    parse(text, Path::new("floor.yaml"), Format::Yaml)
        .expect_err("the inventory is invalid")
        .to_string()
}

fn lines(expected: &[&str]) -> String {
    expected.join("\n")
}

#[test]
fn unknown_kind_and_criticality() {
    let text = "agents:
  - agent_name: risk-engine
    service_dns: http://risk:8080
    kind: risk
    criticality: High
";
    assert_eq!(
        err(text),
        lines(&[
            "floor.yaml:4:11: agents[0].kind: unknown kind \"risk\"; \
             expected one of marketdata, strategy, execution, ingest, ops, floor",
            "floor.yaml:5:18: agents[0].criticality: unknown criticality \"High\"; \
             expected one of critical, important, optional",
        ])
    );
}

#[test]
fn duplicate_name() {
    let text = "# floor
agents:
  - agent_name: gamma-strategy
    service_dns: http://gamma:8080
    kind: strategy
  - service_dns: http://gamma-2:8080
    agent_name: gamma-strategy
    kind: strategy
";
    assert_eq!(
        err(text),
        "floor.yaml:7:17: agents[1].agent_name: duplicate name \"gamma-strategy\" (first defined at line 3)"
    );
}

#[test]
fn bad_urls() {
    let text = "agents:
  - agent_name: a
    service_dns: ftp://a.example
    kind: ops
  - agent_name: b
    service_dns: http://exa mple
    kind: ops
  - agent_name: c
    service_dns: b.example:http
    kind: ops
  - agent_name: d
    service_dns: ''
    kind: ops
";
    assert_eq!(
        err(text),
        lines(&[
            "floor.yaml:3:18: agents[0].service_dns: invalid URL \"ftp://a.example\": scheme \"ftp\" is not http or https",
            "floor.yaml:6:18: agents[1].service_dns: invalid URL \"http://exa mple\": invalid international domain name",
            "floor.yaml:9:18: agents[2].service_dns: invalid URL \"b.example:http\": invalid port number",
            "floor.yaml:12:18: agents[3].service_dns: must not be empty",
        ])
    );
}

#[test]
fn unknown_keys_anywhere() {
    let text = "floor:
  poll_interval: 5000
agents:
  - agent_name: a
    service_dns: a:80
    kind: ops
    replica: 1
version: 2
";
    assert_eq!(
        err(text),
        lines(&[
            "floor.yaml:2:3: floor.poll_interval: unknown key \"poll_interval\"; did you mean \"poll_interval_ms\"?",
            "floor.yaml:7:5: agents[0].replica: unknown key \"replica\"; did you mean \"replicas\"?",
            "floor.yaml:8:1: version: unknown key \"version\"; expected one of agents, floor, alerts, maintenance",
        ])
    );
}

#[test]
fn missing_required_fields() {
    let text = "agents:\n  - service_dns: http://a\n    kind: ops\n  - {agent_name: b}\n";
    assert_eq!(
        err(text),
        lines(&[
            "floor.yaml:2:5: agents[0].agent_name: missing required field",
            "floor.yaml:4:5: agents[1].kind: missing required field",
            "floor.yaml:4:5: agents[1].service_dns: missing required field",
        ])
    );
    assert_eq!(
        err("floor:\n  name: x\n"),
        "floor.yaml:1:1: agents: missing required field"
    );
    assert_eq!(
        err("# nothing yet\n"),
        "floor.yaml:1:1: agents: missing required field"
    );
}

#[test]
fn wrong_types() {
    let text = "agents:
  - agent_name: no
    service_dns: [http://a]
    kind: ops
    enabled: maybe
    replicas: 1.0
  - just-a-string
";
    assert_eq!(
        err(text),
        lines(&[
            "floor.yaml:2:17: agents[0].agent_name: expected a string, found a boolean (no); \
             quote it to make it a string",
            "floor.yaml:3:18: agents[0].service_dns: expected a string, found a list",
            "floor.yaml:5:14: agents[0].enabled: expected a boolean, found a string (\"maybe\")",
            "floor.yaml:6:15: agents[0].replicas: expected an integer, found a float (1.0)",
            "floor.yaml:7:5: agents[1]: expected a mapping, found a string (\"just-a-string\")",
        ])
    );
    assert_eq!(
        err("- a\n- b\n"),
        "floor.yaml:1:1: expected a mapping at the top level, found a list"
    );
    assert_eq!(
        err("agents:\n  marketdata: {}\nfloor: [1]\n"),
        lines(&[
            "floor.yaml:2:3: agents: expected a list, found a mapping",
            "floor.yaml:3:8: floor: expected a mapping, found a list",
        ])
    );
}

#[test]
fn negative_replicas_and_zero_thresholds() {
    let text = "floor:
  failure_threshold: 0
agents:
  - agent_name: execution-agent
    service_dns: http://execution:8080
    kind: execution
    replicas: -1
    failure_threshold: 0
";
    assert_eq!(
        err(text),
        lines(&[
            "floor.yaml:2:22: floor.failure_threshold: must be at least 1, found 0",
            "floor.yaml:7:15: agents[0].replicas: must be at least 0, found -1",
            "floor.yaml:8:24: agents[0].failure_threshold: must be at least 1, found 0",
        ])
    );
}

#[test]
fn duplicate_keys() {
    let text = "agents:
  - agent_name: a
    service_dns: http://a
    kind: ops
    kind: strategy
";
    assert_eq!(
        err(text),
        "floor.yaml:5:5: agents[0].kind: duplicate key \"kind\" (first defined at line 4)"
    );
}

#[test]
fn malformed_yaml() {
    assert_eq!(
        err("agents:\n  - agent_name: a\n   kind: ops\n"),
        "floor.yaml:3:4: invalid YAML: while parsing a block collection, did not find expected '-' indicator"
    );
    assert_eq!(
        err("agents: [\n"),
        "floor.yaml:2:1: invalid YAML: while parsing a node, did not find expected node content"
    );
    assert_eq!(
        err("agents:\n\t- agent_name: a\n"),
        "floor.yaml:2:2: invalid YAML: tabs disallowed within this context (block indentation)"
    );
}

#[test]
fn what_the_format_allows_but_an_inventory_does_not() {
    assert_eq!(
        err("agents: []\n---\nagents: []\n"),
        "floor.yaml:2:1: a second YAML document; an inventory is one document"
    );
    assert_eq!(
        err("agents: !Ref others\n"),
        lines(&[
            "floor.yaml:1:9: unsupported YAML tag \"!Ref\"",
            "floor.yaml:1:9: agents: expected a list, found a string (\"others\")",
        ])
    );
    assert_eq!(
        err("agents:\n  - <<: [1]\n"),
        lines(&[
            "floor.yaml:2:5: agents[0].agent_name: missing required field",
            "floor.yaml:2:5: agents[0].kind: missing required field",
            "floor.yaml:2:5: agents[0].service_dns: missing required field",
            "floor.yaml:2:10: a merge key (<<) takes mappings",
        ])
    );
    let deep = format!("agents: {}{}\n", "[".repeat(100), "]".repeat(100));
    assert_eq!(err(&deep), "floor.yaml:1:72: nested deeper than 64 levels");
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
";
    assert_eq!(
        err(bomb),
        "floor.yaml:4:36: aliases expand to more than 10000 values"
    );
}
