//! What the floor knows about one service, updated poll by poll. Pure: no I/O,
//! no clock (`now` is passed in), so a sequence of outcomes always gives the same
//! sequence of states.
//!
//! Calm rules:
//! - a failed poll does not make a service OFFLINE at once: it keeps its last state
//!   (shown with "last seen N s ago") until `failure_threshold` consecutive polls
//!   have failed; only then is it `OFFLINE [UNREACHABLE]`;
//! - an execution service that the inventory scales to zero or disables is
//!   `OFFLINE [EXECUTION_DISABLED]` and is not polled;
//! - a transition is a change of state or of reason codes, nothing else.
//!
//! Re-evaluation: the floor applies the truth table to a valid document's own
//! fields (its kind, kill switch, heartbeat age and TTL, market data freshness),
//! with the market open or closed *at the document's own `last_updated_utc`* (the
//! service's notion of now, so clock skew at the open and close cannot flap), and
//! the inventory's `enabled`/`replicas` for execution. A service that reports
//! `EXECUTION_DISABLED` is taken at its word on being disabled (it knows its
//! deployment better than the document says). When the result differs from the
//! reported state, the entry gets the finding `STATE_MISMATCH` and shows both; the
//! reported state stays the service's state. Floors nested as services are not
//! re-evaluated: their state comes from a rollup, not from the truth table.

use std::collections::VecDeque;

use jiff::Timestamp;
use opsfloor_contract::{
    Criticality, Document, Inputs, ReasonCode, Received, ServiceKind, State, evaluate,
};

use crate::outcome::Outcome;
use crate::transition::{Subject, Transition};

/// How many polls' latencies a service keeps in memory for its sparkline.
pub const RECENT_POLLS: usize = 60;

/// The floor's view of one service.
#[derive(Debug, Clone, PartialEq)]
pub struct Tracked {
    /// The service's name.
    pub name: String,
    /// Its kind.
    pub kind: ServiceKind,
    /// Its criticality.
    pub criticality: Criticality,
    /// Its base URL.
    pub url: String,
    /// Other names its document may carry as `service_name` (the inventory's `aliases`).
    pub aliases: Vec<String>,
    /// False when the inventory scales it to zero or disables it.
    pub expected_to_run: bool,
    /// The calm state.
    pub state: State,
    /// Its reason codes.
    pub reason_codes: Vec<ReasonCode>,
    /// The service's own summary, or the state's.
    pub summary: String,
    /// The document's `status.last_updated_utc`, if any.
    pub last_updated: Option<Timestamp>,
    /// Since when `state` and `reason_codes` hold.
    pub since: Timestamp,
    /// The last poll, successful or not.
    pub last_poll: Option<Timestamp>,
    /// The last poll that got an answer.
    pub last_seen: Option<Timestamp>,
    /// The last poll's latency, milliseconds.
    pub latency_ms: Option<f64>,
    /// The last [`RECENT_POLLS`] timed polls' latencies, oldest first; `None` for a
    /// poll that got no answer. In memory only: the dashboard's sparkline.
    pub recent_latency_ms: VecDeque<Option<f64>>,
    /// The last poll's problem, if it had one.
    pub last_error: Option<String>,
    /// Failed polls in a row.
    pub consecutive_failures: u32,
    /// Failed polls since the floor started (a counter, for `/metrics`).
    pub failures_total: u64,
    /// The service reports its kill switch engaged.
    pub kill_switch: bool,
    /// Findings beyond the state (`STATE_MISMATCH`).
    pub findings: Vec<ReasonCode>,
    /// The truth table's answer on the document's own fields, when it was re-evaluated.
    pub evaluated: Option<(State, Vec<ReasonCode>)>,
    /// What is wrong with the last document, by JSON pointer.
    pub problems: Vec<String>,
    /// The last document received, as text (unredacted: redact before showing).
    pub document: Option<Box<str>>,
    /// The last valid document, typed.
    pub typed: Option<Document>,
    /// False while `state` is only a placeholder (never resumed, never observed).
    known: bool,
}

/// Inventory facts the tracker needs about execution services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Deployment {
    /// `enabled` from the inventory.
    pub enabled: Option<bool>,
    /// `replicas` from the inventory.
    pub replicas: Option<i64>,
}

impl Tracked {
    /// A service not heard from yet. `resumed` is its last known state from history,
    /// so a restarted floor shows what it knew instead of flashing UNKNOWN.
    pub fn new(
        name: String,
        kind: ServiceKind,
        criticality: Criticality,
        url: String,
        expected_to_run: bool,
        resumed: Option<(State, Vec<ReasonCode>, Timestamp)>,
        now: Timestamp,
    ) -> Tracked {
        let known = resumed.is_some();
        let (state, reason_codes, since) = resumed.unwrap_or((State::Unknown, Vec::new(), now));
        Tracked {
            name,
            kind,
            criticality,
            url,
            aliases: Vec::new(),
            expected_to_run,
            summary: state.summary().to_owned(),
            state,
            reason_codes,
            last_updated: None,
            since,
            last_poll: None,
            last_seen: None,
            latency_ms: None,
            recent_latency_ms: VecDeque::new(),
            last_error: None,
            consecutive_failures: 0,
            failures_total: 0,
            kill_switch: false,
            findings: Vec::new(),
            evaluated: None,
            problems: Vec::new(),
            document: None,
            typed: None,
            known,
        }
    }

    /// Marks a service the inventory scales to zero or disables: calm OFFLINE, not polled.
    pub fn disabled(&mut self, now: Timestamp) -> Option<Transition> {
        self.last_error = None;
        self.problems.clear();
        self.findings.clear();
        self.kill_switch = false;
        self.set(
            State::Offline,
            vec![ReasonCode::ExecutionDisabled],
            None,
            now,
        )
    }

    /// Remembers the last poll's latency (`None`: no answer) in the bounded
    /// [`Tracked::recent_latency_ms`], dropping the oldest past [`RECENT_POLLS`].
    pub fn record_latency(&mut self) {
        if self.recent_latency_ms.len() >= RECENT_POLLS {
            self.recent_latency_ms.pop_front();
        }
        self.recent_latency_ms.push_back(self.latency_ms);
    }

    /// Applies one poll's outcome.
    pub fn observe(
        &mut self,
        outcome: Outcome,
        latency_ms: f64,
        now: Timestamp,
        failure_threshold: u32,
        deployment: Deployment,
        market_open_at: impl Fn(Timestamp) -> Option<bool>,
    ) -> Option<Transition> {
        self.last_poll = Some(now);
        self.latency_ms = Some(latency_ms);
        match outcome {
            Outcome::NoAnswer { error } => {
                // No answer, no latency: a dead service must not look fast.
                self.latency_ms = None;
                self.last_error = Some(error);
                self.consecutive_failures = self.consecutive_failures.saturating_add(1);
                self.failures_total = self.failures_total.saturating_add(1);
                if self.consecutive_failures >= failure_threshold.max(1) {
                    self.kill_switch = false;
                    return self.set(State::Offline, vec![ReasonCode::Unreachable], None, now);
                }
                None
            }
            Outcome::Untrusted { problem } => {
                self.seen(now);
                self.problems = vec![problem.clone()];
                self.last_error = Some(problem);
                self.document = None;
                self.typed = None;
                self.untrusted(now)
            }
            Outcome::Document { received, raw } => {
                self.seen(now);
                self.document = Some(raw);
                self.problems = received.problems.iter().map(ToString::to_string).collect();
                self.last_error = None;
                self.take(*received, now, deployment, market_open_at)
            }
        }
    }

    /// True when `service_name` is this entry's name or one of its aliases.
    pub fn is_named(&self, service_name: &str) -> bool {
        self.name == service_name || self.aliases.iter().any(|a| a == service_name)
    }

    /// True while the last poll got no answer: what is shown of the last document
    /// (heartbeat age, market data) is as of `last_seen`, not current.
    pub fn out_of_contact(&self) -> bool {
        self.consecutive_failures > 0
    }

    fn seen(&mut self, now: Timestamp) {
        self.last_seen = Some(now);
        self.consecutive_failures = 0;
    }

    fn untrusted(&mut self, now: Timestamp) -> Option<Transition> {
        self.kill_switch = false;
        self.findings.clear();
        self.evaluated = None;
        self.set(
            State::Unknown,
            vec![ReasonCode::RequiredFieldsMissing],
            None,
            now,
        )
    }

    fn take(
        &mut self,
        received: Received,
        now: Timestamp,
        deployment: Deployment,
        market_open_at: impl Fn(Timestamp) -> Option<bool>,
    ) -> Option<Transition> {
        let Some(doc) = received.valid_document().cloned() else {
            self.typed = None;
            return self.untrusted(now);
        };
        if !self.is_named(&doc.service_name) {
            // Another service's document (a copied URL): never shown as this one's state.
            let problem = format!(
                "/service_name: the document is {:?}'s, not {:?}'s (add it to `aliases` if it is the same service)",
                doc.service_name, self.name
            );
            self.problems = vec![problem.clone()];
            self.last_error = Some(problem);
            self.typed = None;
            self.kill_switch = false;
            self.findings.clear();
            self.evaluated = None;
            return self.set(
                State::Unknown,
                vec![ReasonCode::IdentityMismatch],
                None,
                now,
            );
        }
        self.kill_switch = doc.safety.kill_switch;
        self.evaluated = reevaluate(&doc, deployment, market_open_at);
        self.findings.clear();
        if let Some((state, codes)) = &self.evaluated
            && (*state != doc.status.state || *codes != doc.status.reason_codes)
        {
            self.findings.push(ReasonCode::StateMismatch);
        }
        let summary = Some(doc.status.summary.clone()).filter(|s| !s.is_empty());
        self.last_updated = doc.last_updated();
        let change = self.set(
            doc.status.state,
            doc.status.reason_codes.clone(),
            summary,
            now,
        );
        self.typed = Some(doc);
        change
    }

    fn set(
        &mut self,
        state: State,
        reason_codes: Vec<ReasonCode>,
        summary: Option<String>,
        now: Timestamp,
    ) -> Option<Transition> {
        self.summary = summary.unwrap_or_else(|| state.summary().to_owned());
        if self.known && state == self.state && reason_codes == self.reason_codes {
            return None;
        }
        let from = self.known.then_some(self.state);
        self.state = state;
        self.reason_codes = reason_codes.clone();
        self.since = now;
        self.known = true;
        Some(Transition {
            subject: Subject::Service(self.name.clone()),
            from,
            to: state,
            reason_codes,
            at: now,
        })
    }
}

/// The truth table on a valid document's own fields (see the module docs).
fn reevaluate(
    doc: &Document,
    deployment: Deployment,
    market_open_at: impl Fn(Timestamp) -> Option<bool>,
) -> Option<(State, Vec<ReasonCode>)> {
    if doc.service_kind == ServiceKind::Floor {
        return None;
    }
    let market_is_open = market_open_at(doc.last_updated()?)?;
    let reported_disabled = doc
        .status
        .reason_codes
        .contains(&ReasonCode::ExecutionDisabled);
    let verdict = evaluate(&Inputs {
        service_kind: doc.service_kind,
        process_up: true,
        kill_switch: doc.safety.kill_switch,
        market_is_open,
        required_fields_present: true,
        heartbeat_age_seconds: doc.heartbeat.age_seconds,
        heartbeat_ttl_seconds: doc.heartbeat.ttl_seconds.map(|s| s.0),
        marketdata_is_fresh: doc.marketdata.as_ref().and_then(|m| m.is_fresh),
        execution_enabled: if reported_disabled {
            Some(false)
        } else {
            deployment.enabled
        },
        execution_replicas: deployment.replicas,
    });
    Some((verdict.state, verdict.reason_codes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = include_str!("../../opsfloor-contract/tests/data/seed-example.json");

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_767_798_000 + s).expect("ts") // 2026-01-07T15:00:00Z, market open
    }

    fn tracked() -> Tracked {
        Tracked::new(
            "marketdata-mcp-server".into(),
            ServiceKind::Marketdata,
            Criticality::Critical,
            "http://x".into(),
            true,
            None,
            at(0),
        )
    }

    fn document(edit: impl Fn(&mut serde_json::Value)) -> Outcome {
        let mut raw: serde_json::Value = serde_json::from_str(SEED).expect("seed");
        raw["status"]["last_updated_utc"] = "2026-01-07T15:00:00Z".into();
        edit(&mut raw);
        let text = raw.to_string();
        let received = opsfloor_contract::parse_document(&text).expect("JSON");
        Outcome::Document {
            received: Box::new(received),
            raw: text.into(),
        }
    }

    fn no_answer() -> Outcome {
        Outcome::NoAnswer {
            error: "connection refused".into(),
        }
    }

    fn open(_: Timestamp) -> Option<bool> {
        Some(true)
    }

    fn step(t: &mut Tracked, outcome: Outcome, s: i64) -> Option<Transition> {
        t.observe(outcome, 1.0, at(s), 2, Deployment::default(), open)
    }

    #[test]
    fn offline_only_after_the_threshold_and_deterministic() {
        let run = || {
            let mut t = tracked();
            let mut changes = Vec::new();
            changes.push(step(&mut t, document(|_| {}), 1));
            changes.push(step(&mut t, no_answer(), 2));
            assert_eq!(t.state, State::Ok, "one failure keeps the last state");
            assert_eq!(t.last_seen, Some(at(1)));
            changes.push(step(&mut t, no_answer(), 3));
            assert_eq!(
                (t.state, t.reason_codes.clone()),
                (State::Offline, vec![ReasonCode::Unreachable])
            );
            changes.push(step(&mut t, no_answer(), 4));
            changes.push(step(&mut t, document(|_| {}), 5));
            (changes, t.since)
        };
        let (changes, since) = run();
        assert_eq!(
            run(),
            (changes.clone(), since),
            "the same outcomes give the same states"
        );
        let kinds: Vec<Option<(Option<State>, State)>> = changes
            .iter()
            .map(|c| c.as_ref().map(|c| (c.from, c.to)))
            .collect();
        assert_eq!(
            kinds,
            [
                Some((None, State::Ok)),
                None,
                Some((Some(State::Ok), State::Offline)),
                None,
                Some((Some(State::Offline), State::Ok))
            ]
        );
        assert_eq!(since, at(5));
    }

    #[test]
    fn a_contradiction_is_a_finding_not_an_override() {
        let mut t = tracked();
        // Reports OK while its own fields say market data is stale in market hours.
        step(
            &mut t,
            document(|d| d["marketdata"]["is_fresh"] = false.into()),
            1,
        );
        assert_eq!(t.state, State::Ok);
        assert_eq!(t.findings, [ReasonCode::StateMismatch]);
        assert_eq!(
            t.evaluated,
            Some((State::Degraded, vec![ReasonCode::MarketdataStale]))
        );
        step(&mut t, document(|_| {}), 2);
        assert!(t.findings.is_empty());
    }

    #[test]
    fn an_invalid_document_is_unknown_with_its_problems() {
        let mut t = tracked();
        step(
            &mut t,
            document(|d| d["service_name"] = serde_json::Value::Null),
            1,
        );
        assert_eq!(
            (t.state, t.reason_codes.clone()),
            (State::Unknown, vec![ReasonCode::RequiredFieldsMissing])
        );
        assert_eq!(t.problems, ["/service_name: required field is missing"]);
    }

    #[test]
    fn another_services_document_is_an_identity_mismatch() {
        let mut t = tracked();
        step(
            &mut t,
            document(|d| d["service_name"] = "gamma-strategy".into()),
            1,
        );
        assert_eq!(
            (t.state, t.reason_codes.clone()),
            (State::Unknown, vec![ReasonCode::IdentityMismatch])
        );
        assert!(t.problems[0].contains("\"gamma-strategy\"'s, not \"marketdata-mcp-server\"'s"));
        t.aliases = vec!["gamma-strategy".into()];
        step(
            &mut t,
            document(|d| d["service_name"] = "gamma-strategy".into()),
            2,
        );
        assert_eq!(t.state, State::Ok, "an alias is the same service");
    }

    #[test]
    fn recent_latencies_keep_the_last_polls_only() {
        let mut t = tracked();
        for i in 0..(RECENT_POLLS as i64 + 5) {
            step(&mut t, document(|_| {}), i + 1);
            t.record_latency();
        }
        step(&mut t, no_answer(), 100);
        t.record_latency();
        assert_eq!(t.recent_latency_ms.len(), RECENT_POLLS);
        assert_eq!(t.recent_latency_ms.back(), Some(&None));
        assert_eq!(t.recent_latency_ms.front(), Some(&Some(1.0)));
    }

    #[test]
    fn no_answer_clears_the_latency() {
        let mut t = tracked();
        step(&mut t, document(|_| {}), 1);
        assert_eq!(t.latency_ms, Some(1.0));
        step(&mut t, no_answer(), 2);
        assert_eq!(t.latency_ms, None);
        assert!(t.out_of_contact());
    }

    #[test]
    fn resumed_state_is_kept_until_something_changes() {
        let mut t = Tracked::new(
            "marketdata-mcp-server".into(),
            ServiceKind::Marketdata,
            Criticality::Critical,
            "http://x".into(),
            true,
            Some((State::Ok, Vec::new(), at(-3600))),
            at(0),
        );
        assert_eq!(step(&mut t, document(|_| {}), 1), None);
        assert_eq!(t.since, at(-3600));
    }
}
