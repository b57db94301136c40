//! [`Sinks`]: every configured sink running on its own task, fed the same changes.
//!
//! The floor calls [`Sinks::send`] with the changes of each [`crate::AlertBook`]
//! observation; the Alertmanager sink (all Alertmanagers) and each webhook get
//! their own copy through an unbounded channel, so a slow receiver never holds up
//! the floor's poll loop or another sink.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use crate::alertmanager::AlertmanagerSink;
use crate::book::Change;
use crate::clock::WallClock;
use crate::config::ResolvedAlerts;
use crate::tls::ClientError;
use crate::webhook::{Backoff, RandomJitter, WebhookSink};

/// How long one webhook attempt may take.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// The running sinks.
#[derive(Debug)]
pub struct Sinks {
    senders: Vec<UnboundedSender<Vec<Change>>>,
    /// The Alertmanagers' sender, also in `senders`, for [`Sinks::seed`].
    alertmanager: Option<UnboundedSender<Vec<Change>>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Sinks {
    /// Starts one task for the Alertmanagers (if any) and one per webhook. Must be
    /// called inside a tokio runtime.
    pub fn spawn(config: &ResolvedAlerts, clock: Arc<dyn WallClock>) -> Result<Sinks, ClientError> {
        let mut sinks = Sinks {
            senders: Vec::new(),
            alertmanager: None,
            tasks: Vec::new(),
        };
        if !config.alertmanagers.is_empty() {
            let sink = AlertmanagerSink::trusting(
                config.alertmanagers.clone(),
                config.alertmanager,
                clock.clone(),
                &config.tls,
            )?;
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            sinks.alertmanager = Some(tx.clone());
            sinks.senders.push(tx);
            sinks.tasks.push(tokio::spawn(sink.run(rx)));
        }
        for target in &config.webhooks {
            let sink = WebhookSink::trusting(
                target.clone(),
                Backoff::default(),
                WEBHOOK_TIMEOUT,
                Arc::new(RandomJitter),
                clock.clone(),
                &config.tls,
            )?;
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            sinks.senders.push(tx);
            sinks.tasks.push(tokio::spawn(sink.run(rx)));
        }
        Ok(sinks)
    }

    /// Hands the changes to every sink; returns at once. Empty batches are skipped.
    pub fn send(&self, changes: &[Change]) {
        if changes.is_empty() {
            return;
        }
        for tx in &self.senders {
            // A sink whose task has ended has nothing left to do with them.
            let _ = tx.send(changes.to_vec());
        }
    }

    /// Hands the whole firing picture to the Alertmanagers only (they want it all,
    /// and deduplicate by labels); webhooks get changes, never a picture again.
    pub fn seed(&self, picture: &[Change]) {
        if let (Some(tx), false) = (&self.alertmanager, picture.is_empty()) {
            let _ = tx.send(picture.to_vec());
        }
    }

    /// Stops every sink at once, delivering nothing more: a replica that stops
    /// leading must not re-send its picture over the new leader's.
    pub fn abort(self) {
        for task in &self.tasks {
            task.abort();
        }
    }

    /// How many sink tasks run.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// True when nothing is configured.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Closes the channels and waits for every sink to deliver what it holds (the
    /// webhooks' retries included), for at most `grace`.
    pub async fn shutdown(self, grace: Duration) {
        drop(self.senders);
        let all = async {
            for task in self.tasks {
                let _ = task.await;
            }
        };
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!("alert sinks did not finish within {grace:?}");
        }
    }
}
