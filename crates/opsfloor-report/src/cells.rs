//! The words a report shows for a service, shared by the markdown and table forms.

use opsfloor_contract::{ReasonCode, State};

use opsfloor_engine::view::{MaintenanceBadge, ServiceView};

/// A state in words with a text icon (never colour alone).
pub fn state_word(state: State) -> &'static str {
    match state {
        State::Ok => "● OK",
        State::Degraded => "▲ DEGRADED",
        State::Halted => "■ HALTED",
        State::MarketClosed => "◐ MARKET_CLOSED",
        State::Offline => "○ OFFLINE",
        State::Unknown => "? UNKNOWN",
    }
}

/// `CODE (description); …`, or `-`.
pub fn reasons(codes: &[ReasonCode]) -> String {
    if codes.is_empty() {
        return "-".to_owned();
    }
    codes
        .iter()
        .map(|c| format!("{c} ({})", c.description()))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `sha / build / mode`, with `-` for unknowns.
pub fn build(s: &ServiceView) -> String {
    match &s.build {
        Some(b) => format!(
            "{} / {} / {}",
            b.git_sha.as_deref().unwrap_or("-"),
            b.build_id.as_deref().unwrap_or("-"),
            b.agent_mode.as_deref().unwrap_or("-")
        ),
        None => "-".to_owned(),
    }
}

/// ` at last contact` while the service does not answer: what its last document
/// said is then history, never the present.
fn as_of(s: &ServiceView) -> &'static str {
    if s.document_as_of_utc.is_some() {
        " at last contact"
    } else {
        ""
    }
}

/// The heartbeat age, rounded to a tenth of a second.
pub fn heartbeat(s: &ServiceView) -> String {
    s.heartbeat_age_seconds
        .map_or("-".to_owned(), |a| format!("{a:.1} s{}", as_of(s)))
}

/// `fresh`, `stale` or `-` (with ` at last contact` while out of contact).
pub fn marketdata(s: &ServiceView) -> String {
    match s.marketdata_is_fresh {
        Some(true) => format!("fresh{}", as_of(s)),
        Some(false) => format!("stale{}", as_of(s)),
        None => "-".to_owned(),
    }
}

/// `run yes, orders no` and the kill switch, or `-`.
pub fn safety(s: &ServiceView) -> String {
    let yes = |b: bool| if b { "yes" } else { "no" };
    match &s.safety {
        Some(g) => {
            let kill = if g.kill_switch { ", KILL SWITCH" } else { "" };
            format!(
                "run {}, orders {}{kill}",
                yes(g.safe_to_run_strategies),
                yes(g.safe_to_execute_orders)
            )
        }
        None => "-".to_owned(),
    }
}

/// The state with a calm note where one helps. A service scaled to zero has its
/// own mark (`◌`), so it never looks like one that does not answer (`○`).
pub fn state_note(s: &ServiceView) -> String {
    let scaled_to_zero = s
        .status
        .reason_codes
        .contains(&ReasonCode::ExecutionDisabled);
    let mut text = if scaled_to_zero && s.status.state == State::Offline {
        "◌ OFFLINE".to_owned()
    } else {
        state_word(s.status.state).to_owned()
    };
    if scaled_to_zero {
        text.push_str(" (scaled to zero, expected)");
    }
    if !s.findings.is_empty() {
        let found: Vec<String> = s.findings.iter().map(ToString::to_string).collect();
        text.push_str(&format!(" [{}]", found.join(", ")));
    }
    if let Some(m) = &s.maintenance {
        text.push_str(&format!(" ({})", maintenance(m)));
    }
    text
}

/// `maintenance until 2026-01-07T16:00:00Z: Broker migration` (the note, if any).
pub fn maintenance(m: &MaintenanceBadge) -> String {
    if m.note.is_empty() {
        format!("maintenance until {}", m.until_utc)
    } else {
        format!("maintenance until {}: {}", m.until_utc, m.note)
    }
}

/// True for characters a terminal or a renderer may act on rather than show:
/// C0 and C1 controls (ESC, BEL, NUL, CR, LF, ...), DEL, and the bidirectional
/// overrides and isolates that reorder what the eye reads.
fn is_active(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` safe to print on a terminal: every control character (ESC, BEL, NUL,
/// CR, LF, ...) and bidirectional override is written as a visible escape
/// (`\u{1b}`), so a service's text can never move the cursor, retitle the window
/// or rewrite what the operator sees. Applied to every field the table shows.
pub fn terminal(text: &str) -> String {
    if !text.chars().any(is_active) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_active(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// `text` safe inside a GitHub-flavoured markdown table cell or line: HTML is
/// escaped (`&` `<` `>` as entities, so `<img onerror=…>` and `</textarea>` are
/// text), table and inline syntax is escaped with a backslash (`\` first, then
/// `|`, `` ` ``, `[`, `]`), CR, LF and tabs become spaces (a line break would end
/// the table row), and other control characters are dropped.
pub fn markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '|' | '`' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' | '\t' => out.push(' '),
            c if is_active(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// `text` safe inside a markdown code span (`` `name` ``): a backtick would end
/// the span, so it becomes `'`; line breaks become spaces and other controls are
/// dropped. HTML needs nothing here: a code span shows it as text.
pub fn code(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            '`' => Some('\''),
            '\r' | '\n' | '\t' => Some(' '),
            c if is_active(c) => None,
            c => Some(c),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_terminal_sees_no_control_characters() {
        let shown = terminal("a\u{1b}[2J\u{7}\u{0}b\r\u{9b}c\u{202e}d");
        assert_eq!(shown, "a\\u{1b}[2J\\u{7}\\u{0}b\\u{d}\\u{9b}c\\u{202e}d");
        assert!(!shown.chars().any(is_active));
        assert_eq!(terminal("plain ünïcode ●"), "plain ünïcode ●");
    }

    #[test]
    fn markdown_cells_hold_no_html_table_syntax_or_line_breaks() {
        assert_eq!(
            markdown("<img src=x onerror=alert(1)></textarea>"),
            "&lt;img src=x onerror=alert(1)&gt;&lt;/textarea&gt;"
        );
        assert_eq!(
            markdown("a|b\\|c`d`&e\r\nf\u{1b}"),
            "a\\|b\\\\\\|c\\`d\\`&amp;e  f"
        );
        assert_eq!(markdown("[x](javascript:y)"), "\\[x\\](javascript:y)");
        assert_eq!(code("a`b\r\nc\u{7}"), "a'b  c");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]

        /// Whatever a service sends, the table gets no active character and the
        /// markdown no tag, no line break and no pipe that ends a cell.
        #[test]
        fn no_service_text_escapes(text in "\\PC*|[\\x00-\\x1f\\x7f-\\u{9f}<>&|`\\\\\\[\\]\\u{202a}-\\u{202e} a-z]*") {
            let shown = terminal(&text);
            proptest::prop_assert!(!shown.chars().any(is_active), "{shown:?}");
            let cell = markdown(&text);
            proptest::prop_assert!(!cell.chars().any(is_active), "{cell:?}");
            proptest::prop_assert!(!cell.contains('<') && !cell.contains('>'), "{cell:?}");
            // Every pipe or backtick is preceded by an odd run of backslashes.
            let chars: Vec<char> = cell.chars().collect();
            for (i, c) in chars.iter().enumerate() {
                if matches!(c, '|' | '`') {
                    let run = chars[..i].iter().rev().take_while(|b| **b == '\\').count();
                    proptest::prop_assert!(run % 2 == 1, "unescaped {c} in {cell:?}");
                }
            }
            proptest::prop_assert!(!code(&text).contains('`') && !code(&text).chars().any(is_active));
        }
    }
}
