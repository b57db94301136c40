//! Per-service scheduling: every service is polled by its own task, every interval,
//! at its stable phase ([`opsfloor_engine::schedule`]). There are no whole-floor
//! cycles: a hung service costs its own timeout and nobody else's, and a poll never
//! waits for another. Results go to the engine over a channel.
//!
//! On a reload the tasks are reconciled by target: a service whose URL, timeout or
//! interval changed gets a new task; unchanged services keep theirs (and their phase).

use std::collections::HashMap;
use std::time::Duration;

use opsfloor_engine::Target;
use opsfloor_engine::schedule::{first_slot, next_slot};
use opsfloor_poller::Poller;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::floor::PollResult;

/// The running poll tasks, one per polled service.
#[derive(Debug)]
pub struct Scheduler {
    epoch: Instant,
    results: mpsc::UnboundedSender<PollResult>,
    tasks: HashMap<String, (Target, JoinHandle<()>)>,
}

impl Scheduler {
    /// A scheduler sending results to `results`; slots count from now.
    pub fn new(results: mpsc::UnboundedSender<PollResult>) -> Scheduler {
        Scheduler {
            epoch: Instant::now(),
            results,
            tasks: HashMap::new(),
        }
    }

    /// Makes the running tasks match `targets` with `poller`: starts the new,
    /// stops the removed, restarts the changed (or all of them when `restart_all`,
    /// after the poller itself changed).
    pub fn reconcile(&mut self, targets: Vec<Target>, poller: &Poller, restart_all: bool) {
        let mut keep: HashMap<String, (Target, JoinHandle<()>)> = HashMap::new();
        for target in targets {
            match self.tasks.remove(&target.service) {
                Some((old, task)) if old == target && !restart_all => {
                    keep.insert(target.service.clone(), (old, task));
                }
                other => {
                    if let Some((_, task)) = other {
                        task.abort();
                    }
                    let task = tokio::spawn(poll_forever(
                        target.clone(),
                        poller.clone(),
                        self.epoch,
                        self.results.clone(),
                    ));
                    keep.insert(target.service.clone(), (target, task));
                }
            }
        }
        for (_, (_, task)) in self.tasks.drain() {
            task.abort();
        }
        self.tasks = keep;
    }

    /// Stops every task.
    pub fn stop(&mut self) {
        for (_, (_, task)) in self.tasks.drain() {
            task.abort();
        }
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One service's loop: wait for the slot, poll, send the result, repeat. A slot
/// missed because a poll ran long is skipped, not caught up: the phase holds.
async fn poll_forever(
    target: Target,
    poller: Poller,
    epoch: Instant,
    results: mpsc::UnboundedSender<PollResult>,
) {
    // At the floor's start, the first round is compressed (a complete picture
    // within about a second); a task started later (a reload) keeps the phase.
    let started = epoch.elapsed();
    let mut slot = if started < target.interval {
        first_slot(target.phase, target.interval).max(started)
    } else {
        next_slot(started, target.phase, target.interval)
    };
    loop {
        let due = epoch + slot;
        tokio::time::sleep_until(due).await;
        let lag = Instant::now().saturating_duration_since(due);
        // Boxed: an idle task holds only its timer, not a poll's state.
        let polled =
            Box::pin(poller.poll_service(&target.service, &target.url, target.timeout)).await;
        let sent = results.send(PollResult {
            service: target.service.clone(),
            url: target.url.clone(),
            polled,
            lag,
        });
        if sent.is_err() {
            return; // The engine is gone: the floor is stopping.
        }
        let after = epoch.elapsed();
        slot = next_slot(
            after.max(slot + Duration::from_nanos(1)),
            target.phase,
            target.interval,
        );
    }
}
