//! Keeps the README's reason-code table equal to the contract's list of codes.

use opsfloor_contract::ReasonCode;

#[test]
fn the_readme_lists_every_reason_code_in_order() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let in_readme: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("| code | severity | meaning |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| l.split('|').nth(1))
        .map(|c| c.trim().trim_matches('`'))
        .collect();
    let in_code: Vec<&str> = ReasonCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(in_readme, in_code, "README.md's reason-code table");
}
