//! Keeps the README's reason-code table equal to the contract's table of codes:
//! the same codes in the same order, with the same severity, "expected" flag and
//! meaning.

use opsfloor_contract::ReasonCode;

#[test]
fn the_readme_lists_every_reason_code_in_order() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let in_readme: Vec<Vec<String>> = readme
        .lines()
        .skip_while(|l| !l.starts_with("| code | severity | expected | meaning |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().trim_matches('`').to_owned())
                .collect()
        })
        .collect();
    let in_code: Vec<Vec<String>> = ReasonCode::ALL
        .iter()
        .map(|c| {
            let severity = serde_json::to_value(c.severity()).expect("severity serialises");
            vec![
                c.as_str().to_owned(),
                severity.as_str().unwrap_or_default().to_owned(),
                if c.is_expected() { "yes" } else { "no" }.to_owned(),
                c.description().to_owned(),
            ]
        })
        .collect();
    assert_eq!(in_readme, in_code, "README.md's reason-code table");
}

#[test]
fn the_readme_lists_every_exit_code_as_help_does() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let in_readme: Vec<(String, String)> = readme
        .lines()
        .skip_while(|l| !l.starts_with("| exit | meaning |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| {
            let mut cells = l.trim_matches('|').split('|').map(str::trim);
            Some((cells.next()?.to_owned(), cells.next()?.to_owned()))
        })
        .collect();
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_opsfloor"))
        .arg("--help")
        .output()
        .expect("opsfloor --help");
    let help = String::from_utf8_lossy(&help.stdout);
    let in_help: Vec<(String, String)> = help
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let (code, meaning) = l.split_once("  ")?;
            (code.len() == 2 && code.bytes().all(|b| b.is_ascii_digit()))
                .then(|| (code.to_owned(), meaning.trim().to_owned()))
        })
        .collect();
    assert!(!in_help.is_empty(), "--help lists the exit codes:\n{help}");
    assert_eq!(in_readme, in_help, "README.md's exit-code table and --help");
}
