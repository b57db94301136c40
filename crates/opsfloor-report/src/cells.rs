//! The words a report shows for a service, shared by the markdown and table forms.

use opsfloor_contract::{ReasonCode, State};

use opsfloor_engine::view::ServiceView;

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

/// The heartbeat age, rounded to a tenth of a second.
pub fn heartbeat(s: &ServiceView) -> String {
    s.heartbeat_age_seconds
        .map_or("-".to_owned(), |a| format!("{a:.1} s"))
}

/// `fresh`, `stale` or `-`.
pub fn marketdata(s: &ServiceView) -> String {
    match s.marketdata_is_fresh {
        Some(true) => "fresh".to_owned(),
        Some(false) => "stale".to_owned(),
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

/// The state with a calm note where one helps.
pub fn state_note(s: &ServiceView) -> String {
    let mut text = state_word(s.status.state).to_owned();
    if s.status
        .reason_codes
        .contains(&ReasonCode::ExecutionDisabled)
    {
        text.push_str(" (scaled to zero, expected)");
    }
    if !s.findings.is_empty() {
        let found: Vec<String> = s.findings.iter().map(ToString::to_string).collect();
        text.push_str(&format!(" [{}]", found.join(", ")));
    }
    text
}
