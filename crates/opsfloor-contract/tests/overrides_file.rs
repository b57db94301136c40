//! The multi-venue overrides file: one file, every venue, errors by line.

use jiff::Timestamp;
use opsfloor_contract::calendar::VenueOverrides;

fn at(s: &str) -> Timestamp {
    s.parse().expect("instant")
}

#[test]
fn one_file_serves_every_venue() {
    let text = r#"
[[closures]]
calendar = "xnys"
date = "2026-12-03"
note = "drill"

[[early_closes]]
calendar = "XTKS"
date = "2026-12-03"
close = "13:00"
"#;
    let file = VenueOverrides::parse(text).expect("valid");
    assert_eq!(file.venues().collect::<Vec<_>>(), ["XNYS", "XTKS"]);
    let nyse = file.calendar("nyse").expect("known");
    assert_eq!(nyse.is_open(at("2026-12-03T15:00:00Z")), Ok(false));
    assert_eq!(nyse.is_open(at("2026-12-04T15:00:00Z")), Ok(true));
    // Tokyo closes at 13:00 local (04:00 UTC) instead of 15:30.
    let tokyo = file.calendar("XTKS").expect("known");
    assert_eq!(tokyo.is_open(at("2026-12-03T03:59:00Z")), Ok(true));
    assert_eq!(tokyo.is_open(at("2026-12-03T04:00:00Z")), Ok(false));
    // Venues the file does not name are the built-in calendars.
    let london = file.calendar("XLON").expect("known");
    assert_eq!(london.is_open(at("2026-12-03T10:00:00Z")), Ok(true));
    assert!(file.overrides("XLON").is_empty());
}

#[test]
fn errors_name_the_line() {
    let text = r#"[[closures]]
calendar = "XNYS"
date = "2026-12-03"

[[closures]]
calendar = "nyse"
date = "2026-12-03"

[[closures]]
calendar = "XNAS"
date = "2026-12-04"
"#;
    let err = VenueOverrides::parse(text).expect_err("duplicate and unknown");
    let lines: Vec<usize> = err.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [5, 10], "{err}");
    assert!(
        err.problems[0]
            .message
            .contains("duplicate override for XNYS on 2026-12-03 (first at line 1)")
    );
    assert!(
        err.problems[1].message.contains("unknown calendar"),
        "{err}"
    );
    assert!(
        err.in_file("o.toml").starts_with("o.toml:5: duplicate"),
        "{err}"
    );
}

#[test]
fn out_of_range_and_close_outside_the_session() {
    let range = "[[closures]]\ncalendar = \"XTKS\"\ndate = \"2041-01-02\"\n";
    let err = VenueOverrides::parse(range).expect_err("outside the range");
    assert_eq!(err.problems[0].line, 1);
    assert!(
        err.problems[0]
            .message
            .contains("outside the supported range"),
        "{err}"
    );

    let late = "# a comment\n[[early_closes]]\ncalendar = \"XNYS\"\ndate = \"2026-12-03\"\nclose = \"17:00\"\n";
    let err = VenueOverrides::parse(late).expect_err("after the close");
    assert_eq!(err.problems[0].line, 2, "{err}");
    assert!(
        err.problems[0].message.contains("must lie between"),
        "{err}"
    );

    let syntax = "[[closures]]\ncalendar = \"XNYS\"\ndate = \"2026-12-03\"\nwhen = 1\n";
    let err = VenueOverrides::parse(syntax).expect_err("unknown key");
    assert!(err.problems[0].message.contains("when"), "{err}");

    let missing = "[[closures]]\ndate = \"2026-12-03\"\n";
    let err = VenueOverrides::parse(missing).expect_err("calendar is required");
    assert!(err.problems[0].message.contains("calendar"), "{err}");
}

#[test]
fn an_empty_file_overrides_nothing() {
    let file = VenueOverrides::parse("").expect("valid");
    assert!(file.is_empty());
}
