//! [`Journal`]: a bounded in-memory queue in front of the store, so a slow, locked
//! or failing store never stalls the caller (the poll loop).
//!
//! - [`Journal::submit`] never blocks: it queues and returns a [`Receipt`] at once.
//! - One writer task stores the queue's front in batches ([`History::record_all`]),
//!   retrying I/O failures with exponential backoff (50 ms doubling to 5 s).
//! - [`Receipt::durable`] waits until the submitted transitions are stored, or
//!   until a write deadline passes, and says which: the server publishes (SSE,
//!   API, alerts) after it resolves, so what clients see is stored unless the
//!   store is failing, in which case publishing goes on after the deadline and the
//!   status says why.
//! - When the queue is full, the OLDEST unstored transitions are kept and the new
//!   ones dropped (history stays gap-free up to the failure); every drop is
//!   counted ([`Journal::dropped`]) and logged. A batch the store refuses as bad
//!   data (not I/O) would never succeed: it is dropped, counted and logged too.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::{History, Transition};

/// The first retry's wait; doubled after each failure.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
/// The longest wait between retries.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Transitions per write.
const BATCH: usize = 10_000;

/// Who stores what this journal accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// The only replica: every transition is stored.
    Single,
    /// The leader among replicas, holding this fencing token: writes are refused
    /// (and this replica becomes a follower) once the lease has moved on.
    Leader(i64),
    /// A follower: the leader stores the floor's transitions; this replica's are
    /// published without being stored (they are acknowledged at once).
    Follower,
}

/// Whether the store is keeping up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JournalStatus {
    /// The last write succeeded (or none was needed).
    Healthy,
    /// The last write failed; it is being retried.
    Failing {
        /// The store's error message (no password).
        reason: String,
    },
}

/// What [`Journal::submit`] accepted: await [`Receipt::durable`] before publishing.
#[derive(Debug)]
pub struct Receipt {
    /// The sequence number of the last accepted transition (0: none accepted).
    last: u64,
    /// How many of the submitted transitions were dropped (queue full).
    pub dropped: usize,
    durable: watch::Receiver<u64>,
}

impl Receipt {
    /// Waits until every accepted transition is stored (`true`) or `deadline`
    /// passes (`false`: still queued, still being retried).
    pub async fn durable(mut self, deadline: Duration) -> bool {
        let last = self.last;
        tokio::time::timeout(deadline, self.durable.wait_for(|&d| d >= last))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}

struct Shared {
    queue: Mutex<VecDeque<(u64, Transition)>>,
    next_seq: AtomicU64,
    dropped: AtomicU64,
    status: Mutex<JournalStatus>,
    wake: Notify,
    durable: watch::Sender<u64>,
    capacity: usize,
    mode: Mutex<WriteMode>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded data stays consistent at every await-free step, so a panic
    // elsewhere cannot leave it half-updated.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The durable journal: a handle to the queue and its writer task. Cheap to clone.
#[derive(Clone)]
pub struct Journal {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Journal(pending {}, {:?})",
            self.pending(),
            self.status()
        )
    }
}

impl Journal {
    /// Starts the writer task (on the current tokio runtime) over `history`,
    /// holding at most `capacity` unstored transitions.
    pub fn start(history: History, capacity: usize) -> Journal {
        let (durable, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            queue: Mutex::new(VecDeque::new()),
            next_seq: AtomicU64::new(1),
            dropped: AtomicU64::new(0),
            status: Mutex::new(JournalStatus::Healthy),
            wake: Notify::new(),
            durable,
            capacity,
            mode: Mutex::new(WriteMode::Single),
        });
        tokio::spawn(writer(history, Arc::clone(&shared)));
        Journal { shared }
    }

    /// Queues `ts` (in order) without waiting; those that do not fit are dropped,
    /// counted and logged. A follower queues nothing: the leader stores the floor,
    /// and a replica that takes the lead reconciles from what it sees, so a
    /// transition made while following is never stored late, out of turn.
    pub fn submit(&self, ts: &[Transition]) -> Receipt {
        let s = &self.shared;
        let mut last = 0;
        let mut dropped = 0;
        {
            let mut q = lock(&s.queue);
            if *lock(&s.mode) == WriteMode::Follower {
                return Receipt {
                    last,
                    dropped,
                    durable: s.durable.subscribe(),
                };
            }
            for t in ts {
                if q.len() < s.capacity {
                    last = s.next_seq.fetch_add(1, Ordering::Relaxed);
                    q.push_back((last, t.clone()));
                } else {
                    dropped += 1;
                }
            }
        }
        if dropped > 0 {
            let total = s.dropped.fetch_add(dropped as u64, Ordering::Relaxed) + dropped as u64;
            tracing::error!(
                dropped,
                total,
                capacity = s.capacity,
                "history journal full: newest transitions dropped, oldest kept"
            );
        }
        s.wake.notify_one();
        Receipt {
            last,
            dropped,
            durable: s.durable.subscribe(),
        }
    }

    /// Whether the store is keeping up, and if not, why.
    pub fn status(&self) -> JournalStatus {
        lock(&self.shared.status).clone()
    }

    /// How many submitted transitions are not yet stored.
    pub fn pending(&self) -> usize {
        lock(&self.shared.queue).len()
    }

    /// How many transitions were ever queued: unchanged between two reads means
    /// nothing was submitted in between.
    pub fn accepted(&self) -> u64 {
        self.shared.next_seq.load(Ordering::Relaxed) - 1
    }

    /// Sets who stores: see [`WriteMode`].
    pub fn set_mode(&self, mode: WriteMode) {
        *lock(&self.shared.mode) = mode;
        self.shared.wake.notify_one();
    }

    /// Who stores now.
    pub fn mode(&self) -> WriteMode {
        *lock(&self.shared.mode)
    }

    /// How many transitions were dropped since start (queue full, or refused).
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

/// Stores the queue's front until every handle is gone.
async fn writer(history: History, s: Arc<Shared>) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let batch: Vec<(u64, Transition)> = lock(&s.queue).iter().take(BATCH).cloned().collect();
        let Some(&(last, _)) = batch.last() else {
            if Arc::strong_count(&s) == 1 {
                return;
            }
            // Wake on a submit, or re-check now and then for the last handle.
            let _ = tokio::time::timeout(Duration::from_secs(1), s.wake.notified()).await;
            continue;
        };
        let ts: Vec<Transition> = batch.into_iter().map(|(_, t)| t).collect();
        let mode = *lock(&s.mode);
        let written = match mode {
            WriteMode::Single => history.record_all(&ts).await,
            WriteMode::Leader(token) => history.record_all_fenced(&ts, token).await,
            WriteMode::Follower => {
                // Not this replica's to store: the leader records the floor.
                done(&s, ts.len(), last);
                continue;
            }
        };
        match written {
            Err(crate::HistoryError::Fenced { .. }) => {
                // Another replica took the lease: it reconciles what it sees, so this
                // batch is its to write, not ours.
                tracing::warn!(
                    transitions = ts.len(),
                    "leadership lost: batch left to the new leader"
                );
                *lock(&s.mode) = WriteMode::Follower;
                done(&s, ts.len(), last);
            }
            Ok(()) => {
                done(&s, ts.len(), last);
                *lock(&s.status) = JournalStatus::Healthy;
                backoff = FIRST_BACKOFF;
            }
            Err(e) if !e.is_io() => {
                done(&s, ts.len(), last);
                s.dropped.fetch_add(ts.len() as u64, Ordering::Relaxed);
                tracing::error!(error = %e, dropped = ts.len(), "history refused a batch as bad data: dropped");
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?backoff, pending = lock(&s.queue).len(), "history write failed");
                *lock(&s.status) = JournalStatus::Failing {
                    reason: e.to_string(),
                };
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Removes the `n` stored transitions from the front and announces `last` durable.
fn done(s: &Shared, n: usize, last: u64) {
    lock(&s.queue).drain(..n);
    s.durable.send_replace(last);
}
