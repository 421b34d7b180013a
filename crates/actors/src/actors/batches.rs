//! The kinds of [`Batch`]: logins' new sessions, refreshes, and session revocations
//! with what publishes them.
use actix::prelude::*;
use std::{collections::HashMap, sync::Arc, time::Duration};
use tessera_core::{
    Error, Result,
    ids::{SessionId, TenantId},
    time::now,
};
use tessera_revocation::Entry;
use tessera_store::{
    DbPool,
    models::{
        session::{self, Revoked},
        session_batch::{self, RefreshItem, Refreshed, SessionStart},
    },
    pool::conn,
};

use super::{Batch, BlacklistActor, Publish, Published, Revoke};
use crate::{feed::RevocationFeed, hub::send_traced, metrics::Metrics, tenant::TenantCtx};

/// The same failure for every item of a batch (its cause is logged, not sent).
fn each<T>(n: usize, e: &Error) -> Vec<Result<T>> {
    let unavailable = matches!(e, Error::Unavailable(_));
    let cause = e.log_cause();
    (0..n)
        .map(|_| {
            Err(if unavailable {
                Error::Unavailable(cause.clone())
            } else {
                Error::Internal(cause.clone())
            })
        })
        .collect()
}

/// Logins' new sessions: [`session_batch::start_many`].
pub struct SessionStarts;

impl Batch for SessionStarts {
    const KIND: &'static str = "session_start";
    type Item = SessionStart;
    /// Whether the session started (its user still active, the password unchanged).
    type Outcome = bool;
    /// A new session has nothing to publish.
    type Publisher = ();
    fn run(pool: &DbPool, items: &[SessionStart]) -> Vec<Result<bool>> {
        match conn(pool) {
            Ok(mut c) => session_batch::start_many(&mut c, items),
            Err(e) => each(items.len(), &e),
        }
    }
}

/// Refresh-token exchanges: [`session_batch::refresh_many`].
pub struct Refreshes;

impl Batch for Refreshes {
    const KIND: &'static str = "refresh";
    type Item = RefreshItem;
    type Outcome = Refreshed;
    /// A refresh has nothing to publish.
    type Publisher = ();
    fn run(pool: &DbPool, items: &[RefreshItem]) -> Vec<Result<Refreshed>> {
        match conn(pool) {
            Ok(mut c) => session_batch::refresh_many(&mut c, now(), items),
            Err(e) => each(items.len(), &e),
        }
    }
}

/// One session to revoke.
pub struct SessionRevocation {
    /// The tenant.
    pub ctx: Arc<TenantCtx>,
    /// The session.
    pub sid: SessionId,
    /// How long its store entry lasts when the database has no such session (the
    /// presented token's expiry).
    pub fallback_until: i64,
}

/// Session revocations (logout, reuse detection): [`session_batch::revoke_many`];
/// when a batch fails, each session on its own, so one cannot fail the others. The
/// store entries of a batch are written once per tenant, with the generation the
/// tenant's sessions of the batch share, and each tenant's feed notice goes once.
pub struct SessionRevocations;

/// Where a batch of revocations is published: the revocation store (through the
/// blacklist actor, which times each write) and the revocation feed.
#[derive(Clone)]
pub struct RevocationPublisher {
    /// Writes the store and publishes notices to other nodes.
    pub blacklist: Addr<BlacklistActor>,
    /// This node's feed waiters.
    pub feed: Arc<RevocationFeed>,
    /// Where the sends are counted.
    pub metrics: Arc<Metrics>,
    /// Longest wait for the blacklist actor's reply.
    pub timeout: Duration,
}

impl Batch for SessionRevocations {
    const KIND: &'static str = "session_revocation";
    /// A logout is done even when its client did not wait for the answer.
    const COMMITS_ABANDONED: bool = true;
    type Item = SessionRevocation;
    type Outcome = Option<Revoked<i64>>;
    type Publisher = RevocationPublisher;
    fn run(pool: &DbPool, items: &[SessionRevocation]) -> Vec<Result<Self::Outcome>> {
        let mut c = match conn(pool) {
            Ok(c) => c,
            Err(e) => return each(items.len(), &e),
        };
        let t = now();
        let pairs: Vec<(TenantId, SessionId)> = items
            .iter()
            .map(|i| (i.ctx.id.clone(), i.sid.clone()))
            .collect();
        match session_batch::revoke_many(&mut c, t, &pairs) {
            Ok(done) => done.into_iter().map(Ok).collect(),
            // The database is out of reach or the statement timed out: one by one
            // would fail the same way.
            Err(e @ Error::Unavailable(_)) => each(items.len(), &e),
            Err(e) => {
                tracing::warn!(error = %e.log_cause(), "batched revocation failed; revoking one by one");
                pairs
                    .iter()
                    .map(|(tenant, sid)| session::revoke(&mut c, tenant, sid, t))
                    .collect()
            }
        }
    }
    fn publish(
        to: &RevocationPublisher,
        items: Vec<SessionRevocation>,
        mut outcomes: Vec<Result<Self::Outcome>>,
    ) -> Published<Self::Outcome> {
        // One store write per tenant and generation: the batch's sessions of a tenant
        // share one (0: nothing committed, or already revoked; the entries alone
        // cover the tokens), unless the batch fell back to one transaction each.
        let at = now();
        let mut writes: HashMap<(TenantId, i64), (Vec<Entry>, Vec<usize>)> = HashMap::new();
        for (i, (item, outcome)) in items.into_iter().zip(&outcomes).enumerate() {
            let (generation, until) = match outcome {
                Ok(Some(r)) => (r.generation, r.what),
                Ok(None) => (0, item.fallback_until),
                Err(_) => continue,
            };
            let tenant_id = &item.ctx.id;
            if generation > 0 {
                // This node's checks expect the store to hold it from now on: a write
                // that fails below makes them refill rather than trust a miss.
                item.ctx.saw_revocation_gen(generation);
            }
            let entry = Entry::session(tenant_id, &item.sid, at, until);
            let write = writes.entry((tenant_id.clone(), generation)).or_default();
            write.0.push(entry);
            write.1.push(i);
        }
        let to = to.clone();
        Published::Later(Box::pin(async move {
            let writes = writes
                .into_iter()
                .map(|((tenant_id, generation), (entries, whose))| {
                    let to = to.clone();
                    async move {
                        let written = to.write(tenant_id, generation, entries).await;
                        (whose, written)
                    }
                });
            for (whose, written) in futures_util::future::join_all(writes).await {
                if let Err(e) = written {
                    let cause = e.log_cause();
                    for i in whose {
                        outcomes[i] = Err(Error::Unavailable(cause.clone()));
                    }
                }
            }
            outcomes
        }))
    }
}

impl RevocationPublisher {
    /// Writes one committed transaction's `entries` of `tenant_id` to the store and
    /// tells the feed's waiters, here and (over pub/sub) on the other nodes.
    pub(crate) async fn write(
        &self,
        tenant_id: TenantId,
        generation: i64,
        entries: Vec<Entry>,
    ) -> Result<()> {
        let revoke = Revoke {
            tenant_id: tenant_id.clone(),
            generation,
            entries,
        };
        let (m, t) = (&self.metrics, self.timeout);
        send_traced(m, &self.blacklist, revoke, t).await??;
        if generation > 0 {
            // The feed's waiters, here at once and on the other nodes over pub/sub
            // (which misses nothing for long: the generation poll notices too). The
            // answer does not wait for the notice: the revocation is in force already.
            self.feed.notify(&tenant_id, generation);
            let notice = Publish(RevocationFeed::message(&tenant_id, generation));
            let (metrics, blacklist) = (self.metrics.clone(), self.blacklist.clone());
            actix::spawn(async move {
                let published = send_traced(&metrics, &blacklist, notice, t).await;
                if let Err(e) = published.and_then(|r| r) {
                    tracing::warn!(error = %e.log_cause(), "revocation feed notice not published");
                }
            });
        }
        Ok(())
    }
}
