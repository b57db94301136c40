//! Runs every vector in `conformance/` (the language-neutral test suite).

use opsfloor_contract::{Inputs, evaluate, parse_document};
use serde_json::Value;

fn load(name: &str) -> Vec<Value> {
    let path = format!("{}/../../conformance/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let file: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    file["cases"]
        .as_array()
        .unwrap_or_else(|| panic!("{path}: no cases"))
        .clone()
}

fn codes(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("reason_codes array")
        .iter()
        .map(|c| c.as_str().expect("code string").to_owned())
        .collect()
}

#[test]
fn truth_table_vectors() {
    let cases = load("truth-table.json");
    assert!(cases.len() >= 30);
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let inputs: Inputs =
            serde_json::from_value(case["input"].clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let v = evaluate(&inputs);
        let expect = &case["expect"];
        assert_eq!(v.state.as_str(), expect["state"], "{name}");
        let got: Vec<String> = v
            .reason_codes()
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect();
        assert_eq!(got, codes(&expect["reason_codes"]), "{name}");
        assert_eq!(
            u64::from(v.rule.number()),
            expect["rule"].as_u64().expect("rule"),
            "{name}"
        );
    }
}

#[test]
fn document_vectors() {
    let cases = load("documents.json");
    assert!(cases.len() >= 10);
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let text = match case.get("text") {
            Some(t) => t.as_str().expect("text").to_owned(),
            None => case["document"].to_string(),
        };
        let expect = &case["expect"];
        match parse_document(&text) {
            Err(e) => assert_eq!(expect["malformed"], true, "{name}: {e}"),
            Ok(r) => {
                assert_eq!(expect["malformed"], false, "{name}");
                assert_eq!(
                    r.is_valid(),
                    expect["valid"].as_bool().expect("valid"),
                    "{name}: {:?}",
                    r.problems
                );
                let pointers: Vec<&str> = r.problems.iter().map(|p| p.pointer.as_str()).collect();
                let want: Vec<&str> = expect["problems"]
                    .as_array()
                    .expect("problems")
                    .iter()
                    .filter_map(Value::as_str)
                    .collect();
                assert_eq!(pointers, want, "{name}");
                let (state, reported) = r.reported();
                assert_eq!(state.as_str(), expect["state"], "{name}");
                let got: Vec<String> = reported.iter().map(|c| c.as_str().to_owned()).collect();
                assert_eq!(got, codes(&expect["reason_codes"]), "{name}");
            }
        }
    }
}
