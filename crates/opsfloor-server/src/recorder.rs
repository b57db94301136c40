//! Durable before visible: every transition goes to the history journal first and
//! is published (the live stream, then each [`Subscriber`], such as alert sinks)
//! only once it is stored.
//!
//! The engine loop never waits for the store: [`Recorder::record`] queues the batch
//! in the journal (which never blocks, see `opsfloor_history::Journal`) and hands it
//! to one publisher task, which publishes batches in the order they were recorded,
//! each after its receipt says "stored". So a slow store delays what clients see,
//! never polling.
//!
//! A store that is *failing* (its last write failed and is being retried) must not
//! freeze every dashboard until it recovers: while the journal reports failing, a
//! batch is published without waiting, and the floor says why at once: `/health`
//! answers `degraded` with the store's error, `/metrics` counts the transitions not
//! yet stored, and the dashboard shows "history not being recorded". What was
//! published early is still stored when the store comes back (the journal keeps
//! it, oldest first), unless the journal overflowed, which is counted and logged.

use std::sync::Arc;
use std::time::Duration;

use opsfloor_engine::Transition;
use opsfloor_history::{Journal, JournalStatus, Receipt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::cluster::Cluster;
use crate::floor::Floor;

/// How long a healthy store may take to store a batch before it is published
/// anyway (and counted as a failing store by the journal's own retry).
const STORE_WAIT: Duration = Duration::from_secs(2);

/// How many unstored transitions the journal holds before it drops the newest.
pub const JOURNAL_CAPACITY: usize = 100_000;

/// Something that receives every transition after it is stored, in order: the
/// seam alert sinks plug into. Called on the publisher task: keep it quick and
/// hand slow work (network) to a task of your own.
pub trait Subscriber: Send + Sync {
    /// The floor is up and listens at `addr`; called once, before any batch is
    /// published, so a subscriber can take the whole current picture (an
    /// Alertmanager learns what fires after a floor restart), and this replica's
    /// place among replicas (only the leader sends alerts). Quick, like
    /// [`Subscriber::published`].
    fn started(&self, floor: &Floor, addr: std::net::SocketAddr, cluster: &Cluster) {
        let _ = (floor, addr, cluster);
    }

    /// `changes` were stored (or the store is failing, see the module docs).
    fn published(&self, changes: &[Transition]);
}

/// What the floor says about its history, for `/health`, `/metrics` and pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryHealth {
    /// `None` while transitions are being stored; else the store's error.
    pub failing: Option<String>,
    /// Transitions accepted and not yet stored.
    pub pending: usize,
    /// Transitions dropped since start (journal full, or refused as bad data).
    pub dropped: u64,
}

struct Batch {
    receipt: Option<Receipt>,
    changes: Vec<Transition>,
}

/// The recording and publishing path. Cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    journal: Option<Journal>,
    batches: mpsc::UnboundedSender<Batch>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("journal", &self.journal)
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// Starts the publisher task for `floor`; with no journal (no history kept),
    /// batches are published at once.
    pub fn start(
        journal: Option<Journal>,
        floor: Floor,
        subscribers: Vec<Arc<dyn Subscriber>>,
    ) -> (Recorder, JoinHandle<()>) {
        let (batches, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(publisher(rx, journal.clone(), floor, subscribers));
        (Recorder { journal, batches }, task)
    }

    /// Queues `changes` for storing and publishing; never waits.
    pub fn record(&self, changes: Vec<Transition>) {
        if changes.is_empty() {
            return;
        }
        let receipt = self.journal.as_ref().map(|j| j.submit(&changes));
        // The publisher ends only after every sender is gone, so this cannot fail
        // while `self` exists.
        let _ = self.batches.send(Batch { receipt, changes });
    }

    /// The history's health; `None` when no history is kept.
    pub fn health(&self) -> Option<HistoryHealth> {
        let journal = self.journal.as_ref()?;
        Some(HistoryHealth {
            failing: match journal.status() {
                JournalStatus::Healthy => None,
                JournalStatus::Failing { reason } => Some(reason),
            },
            pending: journal.pending(),
            dropped: journal.dropped(),
        })
    }

    /// Waits (at most `limit`) until every accepted transition is stored: a clean
    /// shutdown loses nothing to a store that is merely slow.
    pub async fn drain(&self, limit: Duration) {
        let Some(journal) = &self.journal else { return };
        let deadline = tokio::time::Instant::now() + limit;
        while journal.pending() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if journal.pending() > 0 {
            tracing::error!(
                pending = journal.pending(),
                "shutting down with transitions not stored"
            );
        }
    }
}

async fn publisher(
    mut rx: mpsc::UnboundedReceiver<Batch>,
    journal: Option<Journal>,
    floor: Floor,
    subscribers: Vec<Arc<dyn Subscriber>>,
) {
    while let Some(batch) = rx.recv().await {
        if let (Some(receipt), Some(journal)) = (batch.receipt, &journal) {
            let failing = matches!(journal.status(), JournalStatus::Failing { .. });
            let wait = if failing { Duration::ZERO } else { STORE_WAIT };
            if !receipt.durable(wait).await {
                tracing::warn!(
                    transitions = batch.changes.len(),
                    pending = journal.pending(),
                    "history is not keeping up: publishing transitions not yet stored"
                );
            }
        }
        floor.publish(&batch.changes);
        for subscriber in &subscribers {
            subscriber.published(&batch.changes);
        }
    }
}
