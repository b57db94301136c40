//! The report as GitHub-flavoured markdown.

use std::fmt::Write as _;

use super::cells::{
    build, code, heartbeat, maintenance, markdown as cell, marketdata, reasons, safety, state_note,
    state_word,
};
use super::{Changes, Report};

/// Renders the report.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let f = &r.floor;
    let _ = writeln!(out, "# Trading Floor report: {}\n", cell(&f.service_name));
    let _ = writeln!(out, "Generated for {}.\n", r.generated_at);
    let _ = writeln!(
        out,
        "**Floor: {}** — {}",
        state_word(f.status.state),
        reasons(&f.status.reason_codes)
    );
    if !r.contributors.is_empty() {
        let _ = writeln!(
            out,
            "(rule {}; decided by {})",
            r.rule,
            cell(&r.contributors.join(", "))
        );
    } else {
        let _ = writeln!(out, "(rule {})", r.rule);
    }
    if let Some(m) = &r.maintenance {
        let _ = writeln!(out, "\nThe whole floor is in {}.", cell(&maintenance(m)));
    }
    let m = &r.market;
    let open = match m.is_open {
        Some(true) => "open",
        Some(false) => "closed",
        None => "unknown (outside the calendar's range)",
    };
    let _ = writeln!(
        out,
        "\nMarket ({}): **{open}**; next open {}, next close {}.\n",
        cell(m.calendar),
        m.next_open_utc.as_deref().unwrap_or("-"),
        m.next_close_utc.as_deref().unwrap_or("-")
    );

    let _ = writeln!(out, "## Top issues\n");
    if r.top_issues.is_empty() {
        let _ = writeln!(out, "None: every service is calm.\n");
    } else {
        // Each issue once: five services under one kill switch are one row.
        let _ = writeln!(
            out,
            "| # | services | state | severity | reason | what to do |\n|---|---|---|---|---|---|"
        );
        for (i, group) in r.issue_groups().iter().enumerate() {
            let issue = group.issue;
            let codes: Vec<String> = issue.reason_codes.iter().map(ToString::to_string).collect();
            let services: Vec<String> = group.services.iter().map(|n| cell(n)).collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {}: {} | {} |",
                i + 1,
                services.join(", "),
                state_word(issue.state),
                issue.severity,
                codes.join(", "),
                issue.description,
                issue.runbook
            );
        }
        out.push('\n');
    }

    let _ = writeln!(out, "## Services\n");
    let _ = writeln!(
        out,
        "| service | kind | criticality | state | reasons | build (sha / id / mode) | heartbeat age | market data | safety | url |\n\
         |---|---|---|---|---|---|---|---|---|---|"
    );
    for s in &r.services {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&s.service_name),
            s.service_kind,
            s.criticality.as_str(),
            cell(&state_note(s)),
            cell(&reasons(&s.status.reason_codes)),
            cell(&build(s)),
            cell(&heartbeat(s)),
            cell(&marketdata(s)),
            cell(&safety(s)),
            cell(&s.url)
        );
    }
    let problems: Vec<(&str, &String)> = r
        .services
        .iter()
        .flat_map(|s| s.problems.iter().map(move |p| (s.service_name.as_str(), p)))
        .collect();
    if !problems.is_empty() {
        let _ = writeln!(out, "\n### Problems\n");
        for (name, p) in problems {
            let _ = writeln!(out, "- `{}`: {}", code(name), cell(p));
        }
    }
    if let Some(c) = &r.changes {
        out.push('\n');
        out.push_str(&changes(c));
    }
    out
}

fn changes(c: &Changes) -> String {
    let mut out = format!("## Changes since {}\n\n", c.previous_generated_at);
    if c.is_empty() {
        out.push_str("None.\n");
        return out;
    }
    for line in c.lines(|n| format!("`{}`", code(n)), "→") {
        let _ = writeln!(out, "- {line}");
    }
    out
}
