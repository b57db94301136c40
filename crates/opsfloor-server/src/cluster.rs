//! Replicas with one leader. Any number of `opsfloor serve` replicas share one
//! PostgreSQL history; each polls and serves from its own engine (so reads scale and
//! a replica answers while the database is down), and exactly one, the leader,
//! stores transitions (and sends alerts).
//!
//! Leadership is a lease row with a fencing token (`History::acquire_lease`): the
//! leader renews it every third of its time to live; a replica that cannot renew
//! stops saying it leads when its lease would have run out, and the store refuses
//! a stale leader's late write by its token (the token changes only when another
//! replica takes the lease, so a lone replica's writes queued while its database
//! was down are stored when it is back). When the leader dies, another replica takes
//! the lease once it expires: failover takes at most the lease's time to live plus
//! one attempt period, the poll interval or a third of the lease if shorter (10 s
//! plus at most 3.3 s by default; `--lease-ttl` sets the lease).
//!
//! Every replica also checks in at each renewal, so each knows how many share the
//! store: those seen within one time to live ("replica b of 2, leader a").
//!
//! A new leader reconciles before anything else: for every subject whose latest
//! recorded state differs from what this replica sees now, it records one
//! transition from the recorded state to the current one. It never writes a flap
//! nobody saw (only the current state is compared) and never duplicates a stored
//! transition (a subject that agrees is left alone). The lease's clock is the wall
//! clock, never a simulated `--now`: replicas must agree on it.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use opsfloor_contract::time::format_timestamp;
use opsfloor_contract::{ReasonCode, State};
use opsfloor_engine::{Subject, Transition};
use opsfloor_history::{History, Journal, WriteMode};
use serde::Serialize;
use tokio::sync::watch;

use crate::floor::Floor;

/// How long a lease holds without renewal, unless `--lease-ttl` says otherwise.
pub const LEASE_TTL: Duration = Duration::from_secs(10);

/// Who this replica is among others: its name and how long its lease (and its
/// check-in) holds without renewal. Made from a bare name, it has the default
/// [`LEASE_TTL`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replica {
    /// `--replica-name`, default the host name.
    pub name: String,
    /// A shorter lease fails over sooner but lets a replica that stalls that
    /// long (a pause, a slow database) lose the lead.
    pub lease_ttl: Duration,
}

impl From<String> for Replica {
    fn from(name: String) -> Replica {
        Replica {
            name,
            lease_ttl: LEASE_TTL,
        }
    }
}

impl From<&str> for Replica {
    fn from(name: &str) -> Replica {
        Replica::from(name.to_owned())
    }
}

impl Replica {
    fn ttl(&self) -> SignedDuration {
        SignedDuration::try_from(self.lease_ttl).unwrap_or(SignedDuration::from_secs(10))
    }
}

/// What `/api/v1/cluster` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterView {
    /// This replica's name (`--replica-name`, default the host name).
    pub replica: String,
    /// True when replicas share the store and elect a leader (PostgreSQL).
    pub replicated: bool,
    /// True when this replica stores transitions.
    pub leader: bool,
    /// The lease holder, as last read from the store.
    pub leader_name: Option<String>,
    /// When the holder's lease runs out unless renewed.
    pub lease_expires_utc: Option<String>,
    /// Every replica that checked in within one lease time to live, this one
    /// included, sorted by name; this replica alone when not replicated.
    pub replicas: Vec<String>,
}

/// This replica's place in the cluster. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Cluster(Arc<RwLock<ClusterView>>);

impl Cluster {
    /// A single replica: it leads, alone.
    pub fn single(replica: String) -> Cluster {
        Cluster(Arc::new(RwLock::new(ClusterView {
            leader_name: Some(replica.clone()),
            replicas: vec![replica.clone()],
            replica,
            replicated: false,
            leader: true,
            lease_expires_utc: None,
        })))
    }

    /// A replica among others, leading or not yet.
    pub fn replicated(replica: String, leader: bool) -> Cluster {
        Cluster(Arc::new(RwLock::new(ClusterView {
            leader_name: leader.then(|| replica.clone()),
            replicas: vec![replica.clone()],
            replica,
            replicated: true,
            leader,
            lease_expires_utc: None,
        })))
    }

    /// The current view.
    pub fn view(&self) -> ClusterView {
        match self.0.read() {
            Ok(v) => v.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn update(&self, f: impl FnOnce(&mut ClusterView)) {
        match self.0.write() {
            Ok(mut v) => f(&mut v),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }
}

/// At start, before the first poll: takes the lease if it is free (or this
/// replica's own, from before a restart) and sets the journal's mode. A replica
/// that leads from its start needs no reconciling: its engine resumed from the
/// store. Returns the token, if taken.
pub async fn first_lease(history: &History, journal: &Journal, replica: &Replica) -> Option<i64> {
    let token = match history
        .acquire_lease(&replica.name, Timestamp::now(), replica.ttl())
        .await
    {
        Ok(token) => token,
        Err(e) => {
            tracing::warn!(error = %e, "cannot take the leader lease at start");
            None
        }
    };
    journal.set_mode(match token {
        Some(t) => WriteMode::Leader(t),
        None => WriteMode::Follower,
    });
    token
}

/// How often the lease is tried (renewed, or taken when free): a third of its time
/// to live, or the poll interval if shorter (at least 100 ms), so a follower takes
/// over at most one poll interval after the lease expired.
fn attempt_every(ttl: Duration, floor: &Floor) -> Duration {
    let poll = Duration::from_millis(floor.read(|f| f.inventory.floor.poll_interval_ms));
    (ttl / 3).min(poll).max(Duration::from_millis(100))
}

/// Holds, renews and loses the lease until `stopped`, starting from `first` (the
/// token taken at start, if any); switches the journal's write mode accordingly,
/// reconciles on every new acquisition, and checks in.
pub async fn lease_loop(
    cluster: Cluster,
    replica: Replica,
    history: History,
    journal: Journal,
    floor: Floor,
    first: Option<i64>,
    mut stopped: watch::Receiver<bool>,
) {
    let name = replica.name.clone();
    let ttl = replica.ttl();
    let mut renew = tokio::time::interval(attempt_every(replica.lease_ttl, &floor));
    renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut held: Option<(i64, Timestamp)> = first.map(|t| (t, Timestamp::now())); // token, renewed at
    loop {
        tokio::select! {
            _ = renew.tick() => {}
            _ = stopped.changed() => return,
        }
        let now = Timestamp::now(); // the lease is between processes: the wall clock
        match history.acquire_lease(&name, now, ttl).await {
            Ok(Some(token)) => {
                if held.map(|(t, _)| t) != Some(token) {
                    tracing::info!(replica = %name, token, "took the leader lease");
                    journal.set_mode(WriteMode::Leader(token));
                    reconcile(&history, &journal, &floor).await;
                }
                held = Some((token, now));
            }
            Ok(None) => {
                if held.take().is_some() {
                    tracing::warn!(replica = %name, "lost the leader lease");
                }
                journal.set_mode(WriteMode::Follower);
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot renew the leader lease");
                // Past the lease's end another replica may lead, so this one no
                // longer says it does; but it keeps its queue and its token. The
                // store refuses those writes (fenced) if another replica took the
                // lease meanwhile, and takes them if none did: a lone replica
                // whose database was down loses nothing.
            }
        }
        if journal.mode() == WriteMode::Follower {
            held = None; // fenced by the writer: another replica leads
        }
        let leading = held.is_some_and(|(_, at)| now.duration_since(at) < ttl);
        let lease = history.lease().await.ok().flatten();
        // On a failing store the last list is kept: the lease's warning says why.
        let replicas = history.check_in(&name, now, ttl).await.ok();
        cluster.update(|v| {
            v.leader = leading;
            v.leader_name = lease.as_ref().map(|l| l.holder.clone());
            v.lease_expires_utc = lease.as_ref().map(|l| format_timestamp(l.expires));
            if let Some(replicas) = replicas {
                v.replicas = replicas;
            }
        });
    }
}

/// Records, for every subject whose latest stored state differs from what this
/// replica sees, one transition to what it sees. Retries until no transition of
/// its own was submitted while it read the store, so none is written twice.
async fn reconcile(history: &History, journal: &Journal, floor: &Floor) {
    // Only a complete picture is compared: before every service's first poll, the
    // engine's UNKNOWN is not something it saw.
    for _ in 0..300 {
        if floor.read(|f| f.oldest_result_age(floor.now()).is_some()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for _ in 0..50 {
        // Everything accepted before `accepted` is stored once the queue is
        // empty; if nothing is accepted after it until the comparison below (made
        // under the floor's lock, which every submission happens under), the
        // stored states read in between are exactly what the engine has recorded.
        let accepted = journal.accepted();
        while journal.pending() > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let recorded = match history.last_states().await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::error!(error = %e, "cannot reconcile: history unreadable");
                return;
            }
        };
        let recorded: HashMap<Subject, (State, Vec<ReasonCode>)> = recorded
            .into_iter()
            .map(|t| (t.subject, (t.to, t.reason_codes)))
            .collect();
        // Under the read lock no new transition can be made, so what is compared
        // and what is submitted see the same engine.
        let done = floor.read(|f| {
            if journal.accepted() != accepted {
                return false;
            }
            let now = floor.now();
            let mut current: Vec<(Subject, State, Vec<ReasonCode>)> = f
                .services()
                .iter()
                .map(|t| {
                    (
                        Subject::Service(t.name.clone()),
                        t.state,
                        t.reason_codes.clone(),
                    )
                })
                .collect();
            current.push((
                Subject::Floor,
                f.verdict.state,
                f.verdict.reason_codes.clone(),
            ));
            let changes: Vec<Transition> = current
                .into_iter()
                .filter_map(|(subject, to, codes)| {
                    let stored = recorded.get(&subject);
                    (stored != Some(&(to, codes.clone()))).then(|| Transition {
                        from: stored.map(|(s, _)| *s),
                        subject,
                        to,
                        reason_codes: codes,
                        at: now,
                    })
                })
                .collect();
            if !changes.is_empty() {
                tracing::info!(
                    transitions = changes.len(),
                    "reconciled history with what this replica sees"
                );
                journal.submit(&changes);
            }
            true
        });
        if done {
            return;
        }
    }
    tracing::warn!("reconcile gave up: transitions kept arriving");
}
