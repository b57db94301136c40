//! Every venue that is "matched exactly" against its independent session list
//! (`tests/data/<mic>-sessions.csv`, from `exchange_calendars` 4.13.2; see
//! `tests/data/README.md`), and CMES against its list with only the documented
//! differences.

use jiff::civil::date;
use opsfloor_contract::Calendar;
use opsfloor_contract::calendar::Overrides;
use opsfloor_contract::time::format_timestamp;

/// The calendar's sessions 2000–2035 in the reference's CSV format.
fn ours(name: &str) -> String {
    let calendar = Calendar::by_name(name, &Overrides::default()).expect("built-in");
    let sessions = calendar
        .sessions(date(2000, 1, 1), date(2035, 12, 31))
        .expect("in range");
    let mut out = String::from("date,open_utc,close_utc,break_start_utc,break_end_utc\n");
    for s in &sessions {
        let (bs, be) = match s.pause {
            Some(b) => (format_timestamp(b.start), format_timestamp(b.end)),
            None => (String::new(), String::new()),
        };
        out.push_str(&format!(
            "{},{},{},{bs},{be}\n",
            s.date,
            format_timestamp(s.open),
            format_timestamp(s.close)
        ));
    }
    out
}

/// The rows only in `a` and only in `b` (both sorted by date), as `-a` / `+b` lines.
fn differences(a: &str, b: &str) -> Vec<String> {
    let left: std::collections::BTreeSet<&str> = a.lines().collect();
    let right: std::collections::BTreeSet<&str> = b.lines().collect();
    let mut out: Vec<String> = left
        .difference(&right)
        .map(|l| format!("ours {l}"))
        .chain(right.difference(&left).map(|l| format!("list {l}")))
        .collect();
    out.sort_by(|x, y| x[5..].cmp(&y[5..]));
    out
}

fn assert_matches(name: &str, expected: &str) {
    let diff = differences(&ours(name), expected);
    assert!(
        diff.is_empty(),
        "{name}: {} rows differ from the reference; first:\n{}",
        diff.len(),
        diff.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn xnys_matches_2000_to_2035() {
    // The NYSE's own list has no break columns; derive the same rows from it.
    let nyse = include_str!("data/nyse-sessions.csv");
    let mut expected = String::from("date,open_utc,close_utc,break_start_utc,break_end_utc\n");
    for line in nyse.lines().skip(1) {
        let year: i32 = line[..4].parse().expect("year");
        if (2000..=2035).contains(&year) {
            expected.push_str(line);
            expected.push_str(",,\n");
        }
    }
    assert_matches("XNYS", &expected);
}

#[test]
fn xlon_matches_2000_to_2035() {
    assert_matches("XLON", include_str!("data/xlon-sessions.csv"));
}

#[test]
fn xetr_matches_2000_to_2035() {
    assert_matches("XETR", include_str!("data/xetr-sessions.csv"));
}

#[test]
fn xtks_matches_2000_to_2035() {
    assert_matches("XTKS", include_str!("data/xtks-sessions.csv"));
}

#[test]
fn xhkg_matches_2000_to_2035() {
    assert_matches("XHKG", include_str!("data/xhkg-sessions.csv"));
}

#[test]
fn xtse_matches_2000_to_2035() {
    assert_matches("XTSE", include_str!("data/xtse-sessions.csv"));
}

#[test]
fn xasx_matches_2000_to_2035() {
    assert_matches("XASX", include_str!("data/xasx-sessions.csv"));
}
