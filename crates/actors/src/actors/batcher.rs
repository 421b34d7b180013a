//! Group commit: session writes (refreshes, session revocations) go to the database
//! many requests at a time. A request goes at once when a commit slot is free; while
//! every slot is committing, requests gather and the next free slot takes them all
//! (up to a batch's size) in one statement or transaction. Each request gets its own
//! outcome, and only after the commit: durability is that of one request alone.
use actix::prelude::*;
use std::sync::Arc;
use tessera_core::{
    Error, Result,
    ids::{SessionId, TenantId},
    time::now,
};
use tessera_store::{
    DbPool,
    models::{
        session::{self, Revoked},
        session_batch::{self, RefreshItem, Refreshed},
    },
    pool::conn,
};
use tokio::sync::oneshot;

use super::{Handles, TokenActor, Traced, traced::traced};
use crate::metrics::Metrics;

/// Writes the database takes many requests at a time.
pub trait Batch: 'static {
    /// What is written, for the `tessera_write_batch_size` metric.
    const KIND: &'static str;
    /// One request's part.
    type Item: Send + Unpin + 'static;
    /// One request's outcome.
    type Outcome: Send + Unpin + 'static;
    /// Commits `items` (on a database thread): one outcome per item, in order.
    fn run(pool: &DbPool, items: Vec<Self::Item>) -> Vec<Result<Self::Outcome>>;
}

/// Batches being committed at once, at most: one per two cores (at least one).
/// Measured on two cores with 32 clients refreshing (HS256, one build): one slot
/// gathered batches of 13 (median) and ran 6 746 refreshes/s; two slots split them
/// into batches of 2 and ran 5 006, as each statement has a fixed cost a batch shares.
fn commit_slots() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

/// Most requests in one batch.
const LARGEST_BATCH: usize = 64;

/// Where a waiting request's outcome goes.
type Reply<B> = oneshot::Sender<Result<<B as Batch>::Outcome>>;

/// Gathers one [`Batch`] kind's items and hands each batch to a database thread of
/// the [`TokenActor`]. It only keeps the queue: no I/O and no crypto runs on it.
pub struct Batcher<B: Batch> {
    tokens: Addr<TokenActor>,
    metrics: Arc<Metrics>,
    waiting: Vec<(B::Item, Reply<B>)>,
    committing: usize,
    slots: usize,
}

impl<B: Batch> Batcher<B> {
    /// A batcher committing through `tokens`' database threads.
    pub fn new(tokens: Addr<TokenActor>, metrics: Arc<Metrics>) -> Self {
        Batcher {
            tokens,
            metrics,
            waiting: Vec::new(),
            committing: 0,
            slots: commit_slots(),
        }
    }

    /// Sends what waits while a commit slot is free.
    fn flush(&mut self, ctx: &mut Context<Self>) {
        while self.committing < self.slots && !self.waiting.is_empty() {
            let take = self.waiting.len().min(LARGEST_BATCH);
            let (items, replies): (Vec<_>, Vec<_>) = self.waiting.drain(..take).unzip();
            self.committing += 1;
            self.metrics.write_batch(B::KIND, items.len());
            let span = tracing::debug_span!("write_batch", kind = B::KIND, size = items.len());
            let run = self.tokens.send(Traced {
                msg: RunBatch::<B>(items),
                span,
            });
            ctx.spawn(run.into_actor(self).map(move |done, act, ctx| {
                act.committing -= 1;
                match done {
                    Ok(outcomes) => {
                        for (reply, outcome) in replies.into_iter().zip(outcomes) {
                            let _ = reply.send(outcome);
                        }
                    }
                    Err(e) => {
                        let why = format!("write batch not run: {e}");
                        for reply in replies {
                            let _ = reply.send(Err(Error::Unavailable(why.clone())));
                        }
                    }
                }
                act.flush(ctx);
            }));
        }
    }
}

impl<B: Batch> Actor for Batcher<B> {
    type Context = Context<Self>;
}

/// One request's item, answered when its batch has committed.
pub struct Enqueue<B: Batch>(pub B::Item);

impl<B: Batch> Message for Enqueue<B> {
    type Result = Result<B::Outcome>;
}

impl<B: Batch> Handles<Enqueue<B>> for Batcher<B> {
    type Result = ResponseFuture<Result<B::Outcome>>;
    fn handle(&mut self, m: Enqueue<B>, ctx: &mut Context<Self>) -> Self::Result {
        let (reply, answer) = oneshot::channel();
        self.waiting.push((m.0, reply));
        self.flush(ctx);
        Box::pin(async move {
            answer
                .await
                .unwrap_or_else(|_| Err(Error::Unavailable("write batch dropped".into())))
        })
    }
}

traced!(<B: Batch> Batcher<B>);

/// A batch to commit on a database thread.
pub struct RunBatch<B: Batch>(Vec<B::Item>);

impl<B: Batch> Message for RunBatch<B> {
    type Result = Vec<Result<B::Outcome>>;
}

impl<B: Batch> Handles<RunBatch<B>> for TokenActor {
    type Result = Vec<Result<B::Outcome>>;
    fn handle(&mut self, m: RunBatch<B>, _: &mut SyncContext<Self>) -> Self::Result {
        B::run(&self.0, m.0)
    }
}

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

/// Refresh-token exchanges: [`session_batch::refresh_many`].
pub struct Refreshes;

impl Batch for Refreshes {
    const KIND: &'static str = "refresh";
    type Item = RefreshItem;
    type Outcome = Refreshed;
    fn run(pool: &DbPool, items: Vec<RefreshItem>) -> Vec<Result<Refreshed>> {
        match conn(pool) {
            Ok(mut c) => session_batch::refresh_many(&mut c, now(), &items),
            Err(e) => each(items.len(), &e),
        }
    }
}

/// Session revocations (logout, reuse detection): [`session_batch::revoke_many`];
/// when a batch fails, each session on its own, so one cannot fail the others.
pub struct SessionRevocations;

impl Batch for SessionRevocations {
    const KIND: &'static str = "session_revocation";
    type Item = (TenantId, SessionId);
    type Outcome = Option<Revoked<i64>>;
    fn run(pool: &DbPool, items: Vec<Self::Item>) -> Vec<Result<Self::Outcome>> {
        let mut c = match conn(pool) {
            Ok(c) => c,
            Err(e) => return each(items.len(), &e),
        };
        let t = now();
        match session_batch::revoke_many(&mut c, t, &items) {
            Ok(done) => done.into_iter().map(Ok).collect(),
            Err(e) => {
                tracing::warn!(error = %e.log_cause(), "batched revocation failed; revoking one by one");
                items
                    .iter()
                    .map(|(tenant, sid)| session::revoke(&mut c, tenant, sid, t))
                    .collect()
            }
        }
    }
}
