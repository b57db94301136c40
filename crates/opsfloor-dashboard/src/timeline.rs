//! A subject's transitions over a window, from the history store (or, for a floor that
//! keeps none, from what the floor knows now), as the marks a strip is drawn from.

use jiff::Timestamp;
use opsfloor_contract::{ReasonCode, State};
use opsfloor_history::{History, Subject, Transition, TransitionQuery};

use crate::strip::Mark;

/// The most transitions one page reads for one subject.
pub const LIMIT: usize = 5_000;

/// What is known about a subject's states over a window.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    /// The transition in force when the window starts, if any.
    pub prior: Option<Transition>,
    /// The transitions inside the window, oldest first.
    pub inside: Vec<Transition>,
    /// The window held more than [`LIMIT`] transitions: the oldest are left out.
    pub truncated: bool,
}

impl Recorded {
    /// The marks for [`crate::strip::segments`], oldest first.
    pub fn marks(&self) -> Vec<Mark> {
        self.prior
            .iter()
            .chain(&self.inside)
            .map(|t| Mark {
                at: t.at,
                state: t.to,
                codes: t.reason_codes.clone(),
            })
            .collect()
    }
}

/// `subject`'s transitions from `from` on, and the one in force at `from`.
pub async fn load(
    history: &History,
    subject: Subject,
    from: Timestamp,
) -> Result<Recorded, opsfloor_history::HistoryError> {
    let mut inside = history
        .transitions(&TransitionQuery {
            subject: Some(subject.clone()),
            since: Some(from),
            until: None,
            limit: LIMIT,
        })
        .await?;
    let truncated = inside.len() >= LIMIT;
    inside.reverse(); // newest first → oldest first
    let prior = history
        .transitions(&TransitionQuery {
            subject: Some(subject),
            since: None,
            until: Some(from),
            limit: 1,
        })
        .await?
        .pop();
    Ok(Recorded {
        prior,
        inside,
        truncated,
    })
}

/// For a floor without history: the state it is in, since when it holds.
pub fn current_only(state: State, codes: &[ReasonCode], since: Timestamp) -> Vec<Mark> {
    vec![Mark {
        at: since,
        state,
        codes: codes.to_vec(),
    }]
}
