//! `--record` and `--replay`: the responses a report was made from, saved so the same
//! report can be produced later without any network and diffed.
//!
//! A recording holds the inventory's text and, per service, what its poll gave: the
//! document received, the problem with an answer that was no document, the error of
//! a poll that got no answer, or "not polled" (execution scaled to zero).

use opsfloor_contract::parse_document;
use opsfloor_engine::Outcome;
use opsfloor_inventory::{Format, Inventory};
use serde::{Deserialize, Serialize};

/// The shape version written in `recording_format`.
pub const RECORDING_FORMAT: u32 = 1;

/// A saved set of responses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    /// The version of this shape.
    pub recording_format: u32,
    /// When the responses were received (the report's `now` on replay).
    pub recorded_at: String,
    /// The inventory the report was made with.
    pub inventory: RecordedInventory,
    /// One response per service, in inventory order.
    pub responses: Vec<Response>,
}

/// The inventory file, verbatim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedInventory {
    /// Its path when recorded (used in error messages).
    pub path: String,
    /// `toml` or `yaml`.
    pub format: String,
    /// Its text.
    pub text: String,
}

/// What one service's poll gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// The service.
    pub service_name: String,
    /// The outcome.
    #[serde(flatten)]
    pub outcome: Recorded,
}

/// A poll's outcome in saved form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Recorded {
    /// A JSON body.
    Document {
        /// The body.
        body: serde_json::Value,
    },
    /// An answer that was not a document.
    Untrusted {
        /// The problem.
        problem: String,
    },
    /// No answer.
    NoAnswer {
        /// Why.
        error: String,
    },
    /// Not polled: scaled to zero or disabled.
    NotPolled,
}

impl Recorded {
    /// Saves an outcome.
    pub fn of(outcome: &Option<Outcome>) -> Recorded {
        match outcome {
            None => Recorded::NotPolled,
            Some(Outcome::Document { raw, .. }) => Recorded::Document {
                body: serde_json::from_str(raw).unwrap_or(serde_json::Value::Null),
            },
            Some(Outcome::Untrusted { problem }) => Recorded::Untrusted {
                problem: problem.clone(),
            },
            Some(Outcome::NoAnswer { error }) => Recorded::NoAnswer {
                error: error.clone(),
            },
        }
    }

    /// Restores the outcome, checking a saved document again exactly as a live one.
    pub fn outcome(&self) -> Option<Outcome> {
        match self {
            Recorded::NotPolled => None,
            Recorded::Untrusted { problem } => Some(Outcome::Untrusted {
                problem: problem.clone(),
            }),
            Recorded::NoAnswer { error } => Some(Outcome::NoAnswer {
                error: error.clone(),
            }),
            Recorded::Document { body } => Some(match parse_document(&body.to_string()) {
                Ok(received) => Outcome::Document {
                    received: Box::new(received),
                    raw: body.to_string().into(),
                },
                Err(e) => Outcome::Untrusted {
                    problem: format!("not JSON: {e}"),
                },
            }),
        }
    }
}

impl Recording {
    /// Outcomes for `inventory`'s services, matched by name; a service the recording
    /// does not have is reported as not answering (never silently dropped).
    pub fn outcomes_for(&self, inventory: &Inventory) -> Vec<(String, Option<Outcome>)> {
        inventory
            .services
            .iter()
            .map(|e| {
                let outcome = match self.responses.iter().find(|r| r.service_name == e.name) {
                    Some(r) => r.outcome.outcome(),
                    None => Some(Outcome::NoAnswer {
                        error: "not in the recording".into(),
                    }),
                };
                (e.name.clone(), outcome)
            })
            .collect()
    }

    /// The inventory's format.
    pub fn inventory_format(&self) -> Format {
        if self.inventory.format == "yaml" {
            Format::Yaml
        } else {
            Format::Toml
        }
    }
}
