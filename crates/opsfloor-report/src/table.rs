//! The report as a terminal table, coloured only when asked (a terminal without `NO_COLOR`).

use std::fmt::Write as _;

use opsfloor_contract::State;

use super::Report;
use super::cells::{
    build, heartbeat, maintenance, marketdata, safety, state_note, state_word, terminal,
};

/// An ANSI colour for a state: calm states are not warning colours.
fn colour(state: State) -> &'static str {
    match state {
        State::Ok => "\x1b[32m",           // green
        State::MarketClosed => "\x1b[34m", // blue: calm
        State::Degraded => "\x1b[33m",     // yellow
        State::Halted | State::Offline | State::Unknown => "\x1b[31m",
    }
}

/// Reason codes as `CODE, CODE`, or `-` for none.
fn codes_or_dash(codes: &[opsfloor_contract::ReasonCode]) -> String {
    if codes.is_empty() {
        return "-".to_owned();
    }
    let codes: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
    codes.join(", ")
}

/// Renders the report; `colour` adds ANSI colours to the states.
pub fn render(r: &Report, use_colour: bool) -> String {
    let paint = |state: State, text: &str| {
        if use_colour {
            format!("{}{text}\x1b[0m", colour(state))
        } else {
            text.to_owned()
        }
    };
    let mut out = String::new();
    let f = &r.floor;
    let codes: Vec<String> = f
        .status
        .reason_codes
        .iter()
        .map(ToString::to_string)
        .collect();
    let _ = writeln!(
        out,
        "{} at {}: {} {}",
        terminal(&f.service_name),
        r.generated_at,
        paint(f.status.state, state_word(f.status.state)),
        if codes.is_empty() {
            String::new()
        } else {
            format!("[{}]", codes.join(", "))
        }
    );
    if let Some(m) = &r.maintenance {
        let _ = writeln!(out, "the whole floor: {}", terminal(&maintenance(m)));
    }
    let open = match r.market.is_open {
        Some(true) => "open",
        Some(false) => "closed",
        None => "unknown",
    };
    let _ = writeln!(
        out,
        "market {open} ({}); next open {}, next close {}\n",
        terminal(r.market.calendar),
        r.market.next_open_utc.as_deref().unwrap_or("-"),
        r.market.next_close_utc.as_deref().unwrap_or("-")
    );
    let header = [
        "SERVICE",
        "KIND",
        "CRITICALITY",
        "STATE",
        "REASONS",
        "BUILD",
        "HEARTBEAT",
        "MARKETDATA",
        "SAFETY",
    ];
    let rows: Vec<[String; 9]> = r
        .services
        .iter()
        .map(|s| {
            // Every cell, whatever its source: escaping plain words costs nothing.
            [
                s.service_name.clone(),
                s.service_kind.to_string(),
                s.criticality.as_str().to_owned(),
                state_note(s),
                codes_or_dash(&s.status.reason_codes),
                build(s),
                heartbeat(s),
                marketdata(s),
                safety(s),
            ]
            .map(|cell| terminal(&cell))
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>, states: Option<State>| {
        let mut text = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            let pad = " ".repeat(w - c.chars().count());
            let shown = match (i, states) {
                (3, Some(state)) => paint(state, c),
                _ => c.clone(),
            };
            let _ = write!(text, "{shown}{pad}  ");
        }
        text.trim_end().to_owned()
    };
    let _ = writeln!(
        out,
        "{}",
        line(header.iter().map(|h| (*h).to_owned()).collect(), None)
    );
    for (row, s) in rows.into_iter().zip(&r.services) {
        let _ = writeln!(out, "{}", line(row.to_vec(), Some(s.status.state)));
    }
    let groups = r.issue_groups();
    if !groups.is_empty() {
        let _ = writeln!(out, "\nTop issues:");
        for (i, group) in groups.iter().enumerate() {
            let issue = group.issue;
            let services: Vec<String> = group.services.iter().map(|n| terminal(n)).collect();
            let _ = writeln!(
                out,
                "{:>3}. {} [{}]: {}\n     {}",
                i + 1,
                paint(issue.state, state_word(issue.state)),
                codes_or_dash(&issue.reason_codes),
                services.join(", "),
                terminal(&issue.runbook)
            );
        }
    }
    if let Some(c) = &r.changes {
        let _ = writeln!(
            out,
            "\nChanges since {}:{}",
            c.previous_generated_at,
            if c.is_empty() { " none" } else { "" }
        );
        for line in c.lines(str::to_owned, "->") {
            let _ = writeln!(out, "  {}", terminal(&line));
        }
    }
    out
}
