//! Group commit: session writes (logins' new sessions, refreshes, session revocations)
//! go to the database many requests at a time. A request goes at once when a commit
//! slot is free; while every slot is committing, requests gather and the next free
//! slot takes them all (up to a batch's size) in one statement or transaction. What
//! the batch must make known beyond the database (revocations in the store, notices to
//! other nodes) is then done once for the batch, while the next batch commits. Each
//! request gets its own outcome, and only after all of that: durability is that of
//! one request alone.
use actix::prelude::*;
use futures_util::future::LocalBoxFuture;
use std::sync::Arc;
use tessera_core::{Error, Result};
use tessera_store::DbPool;
use tokio::sync::oneshot;

use super::{Handles, PingDb, Traced, traced::traced};
use crate::metrics::Metrics;

/// Writes the database takes many requests at a time.
pub trait Batch: 'static {
    /// What is written, for the `tessera_write_batch_size` metric.
    const KIND: &'static str;
    /// One request's part.
    type Item: Send + Unpin + 'static;
    /// One request's outcome.
    type Outcome: Send + Unpin + 'static;
    /// What [`Batch::publish`] writes through.
    type Publisher: Unpin + 'static;
    /// Commits `items` (on a database thread): one outcome per item, in order.
    fn run(pool: &DbPool, items: &[Self::Item]) -> Vec<Result<Self::Outcome>>;
    /// After the commit and before any answer leaves: makes the batch's effects known
    /// beyond the database, once for the whole batch; may turn outcomes into errors.
    /// By default there is nothing to publish.
    fn publish(
        _to: &Self::Publisher,
        _items: Vec<Self::Item>,
        outcomes: Vec<Result<Self::Outcome>>,
    ) -> LocalBoxFuture<'static, Vec<Result<Self::Outcome>>> {
        Box::pin(std::future::ready(outcomes))
    }
}

/// Batches being committed at once, at most: one per two cores (at least one).
/// Measured on two cores with 32 clients refreshing (HS256, one build): one slot
/// gathered batches of 13 (median) and ran 6 746 refreshes/s; two slots split them
/// into batches of 2 and ran 5 006, as each statement has a fixed cost a batch shares.
/// A second slot that opened only once 8 requests waited did no better (one run each,
/// 32 clients: refresh 5 676 against 5 853 with HS256 and 3 165 against 4 620 with
/// ES256, logout 8 039 against 8 891): Postgres then spent more CPU per request.
pub fn commit_slots() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

/// Most requests in one batch.
const LARGEST_BATCH: usize = 64;

/// Where a waiting request's outcome goes.
type Reply<B> = oneshot::Sender<Result<<B as Batch>::Outcome>>;

/// Commits batches: one thread per commit slot, on a pool of its own whose
/// connections plan by key ([`tessera_store::pool::connect_for_batches`]).
pub struct BatchWriter(pub DbPool);

impl Actor for BatchWriter {
    type Context = SyncContext<Self>;
}

traced!(BatchWriter);

/// Readiness also asks the writer's own connection: after a Postgres restart, the
/// probe finds (and drops) a connection the server closed before a batch does.
impl Handles<PingDb> for BatchWriter {
    type Result = Result<()>;
    fn handle(&mut self, _: PingDb, _: &mut SyncContext<Self>) -> Self::Result {
        tessera_store::pool::ping(&mut *tessera_store::pool::conn(&self.0)?)
    }
}

/// Gathers one [`Batch`] kind's items and hands each batch to a [`BatchWriter`]
/// thread. It only keeps the queue: no I/O and no crypto runs on it.
pub struct Batcher<B: Batch> {
    writer: Addr<BatchWriter>,
    publisher: B::Publisher,
    metrics: Arc<Metrics>,
    waiting: Vec<(B::Item, Reply<B>)>,
    committing: usize,
    slots: usize,
}

impl<B: Batch> Batcher<B> {
    /// A batcher committing through `writer` and publishing through `publisher`.
    pub fn new(writer: Addr<BatchWriter>, publisher: B::Publisher, metrics: Arc<Metrics>) -> Self {
        Batcher {
            writer,
            publisher,
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
            let run = self.writer.send(Traced {
                msg: RunBatch::<B>(items),
                span,
            });
            ctx.spawn(run.into_actor(self).map(move |done, act, ctx| {
                // The slot is free once the commit is: the next batch commits while
                // this one is published.
                act.committing -= 1;
                act.flush(ctx);
                match done {
                    Ok(committed) => {
                        let (items, outcomes) = committed.into_iter().unzip();
                        let published = B::publish(&act.publisher, items, outcomes);
                        ctx.spawn(published.into_actor(act).map(|outcomes, _, _| {
                            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                                let _ = reply.send(outcome);
                            }
                        }));
                    }
                    Err(e) => {
                        let why = format!("write batch not run: {e}");
                        for reply in replies {
                            let _ = reply.send(Err(Error::Unavailable(why.clone())));
                        }
                    }
                }
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

/// The batch's items back, each with its outcome.
type Committed<B> = Vec<(<B as Batch>::Item, Result<<B as Batch>::Outcome>)>;

impl<B: Batch> Message for RunBatch<B> {
    type Result = Committed<B>;
}

impl<B: Batch> Handles<RunBatch<B>> for BatchWriter {
    type Result = Committed<B>;
    fn handle(&mut self, m: RunBatch<B>, _: &mut SyncContext<Self>) -> Self::Result {
        let outcomes = B::run(&self.0, &m.0);
        m.0.into_iter().zip(outcomes).collect()
    }
}
