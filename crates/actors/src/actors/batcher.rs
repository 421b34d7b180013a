//! Group commit: session writes (logins' new sessions, refreshes, session revocations)
//! go to the database many requests at a time. A request's item waits in its kind's
//! [`Batcher`]; a [`BatchWriter`] thread takes everything that waits (up to a batch's
//! size), commits it in one statement or transaction, and goes on to the next kind
//! that has something waiting, with no hop between two commits. What a batch must make
//! known beyond the database (revocations in the store, notices to other nodes) is
//! then done once for the batch, on an arbiter, while the next batch commits. Each
//! request gets its own outcome, and only after all of that: durability is that of one
//! request alone.
use actix::ArbiterHandle;
use futures_util::future::BoxFuture;
use std::{
    collections::VecDeque,
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError},
    time::Duration,
};
use tessera_core::{Error, Result};
use tessera_store::DbPool;
use tokio::sync::oneshot;

use crate::metrics::Metrics;

/// Writes the database takes many requests at a time.
pub trait Batch: 'static {
    /// What is written, for the `tessera_write_batch_size` metric.
    const KIND: &'static str;
    /// One request's part.
    type Item: Send + 'static;
    /// One request's outcome.
    type Outcome: Send + 'static;
    /// What [`Batch::publish`] writes through.
    type Publisher: Send + Sync + 'static;
    /// Whether an item is committed even when its request has stopped waiting (timed
    /// out, or the client left): by default it is dropped, so a refresh answered 503
    /// does not rotate the token later behind the client's back.
    const COMMITS_ABANDONED: bool = false;
    /// Commits `items` (on a writer thread): one outcome per item, in order.
    fn run(pool: &DbPool, items: &[Self::Item]) -> Vec<Result<Self::Outcome>>;
    /// After the commit and before any answer leaves: makes the batch's effects known
    /// beyond the database, once for the whole batch; may turn outcomes into errors.
    /// By default there is nothing to publish, and the writer answers at once.
    fn publish(
        _to: &Self::Publisher,
        _items: Vec<Self::Item>,
        outcomes: Vec<Result<Self::Outcome>>,
    ) -> Published<Self::Outcome> {
        Published::Now(outcomes)
    }
}

/// The outcomes of a batch, once [`Batch::publish`] has made it known.
pub enum Published<O> {
    /// Nothing (more) to wait for.
    Now(Vec<Result<O>>),
    /// Known once this has run (on an arbiter: it may do I/O).
    Later(BoxFuture<'static, Vec<Result<O>>>),
}

/// Batches being committed at once, at most, unless `database.commit_slots` says
/// otherwise: one per core, each on a writer thread
/// and connection of its own, a second one only while [`SECOND_DRAINER_AFTER`] requests
/// wait (otherwise one batch commits while the next gathers). Measured on two cores,
/// 64 clients, the two settings taking turns in one run (`tests/bench/ab.sh`, medians
/// of 4 rounds): one slot against two, refresh 6 243 / 6 781 req/s with HS256 and
/// 3 911 / 4 415 with ES256, logout 7 910 / 9 788. (Before the writer drained its
/// queues itself, a second slot that took every lone request split the batches into
/// ones of two and ran 5 006 refreshes/s against 6 746 with one slot.)
pub fn commit_slots() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Most requests in one batch.
const LARGEST_BATCH: usize = 64;

/// How often an idle writer thread looks whether its writer is gone (dropping it also
/// wakes every thread at once).
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// Where a waiting request's outcome goes.
type Reply<B> = oneshot::Sender<Result<<B as Batch>::Outcome>>;

/// Commits batches: one thread per commit slot, each taking the next job from one
/// queue (a batcher with items waiting, or a readiness probe), on a pool of its own
/// whose connections plan by key ([`tessera_store::pool::connect_for_batches`]). It is
/// dropped with the last batcher, and its threads then end once the queue is empty.
pub struct BatchWriter {
    shared: Arc<Shared>,
    /// Its threads: the commit slots.
    threads: usize,
}

/// What the writer's threads share.
struct Shared {
    jobs: Mutex<Jobs>,
    wake: Condvar,
    pool: DbPool,
}

/// The writer's queue.
#[derive(Default)]
struct Jobs {
    queue: VecDeque<Job>,
    closed: bool,
}

/// One thing for a writer thread to do.
enum Job {
    /// Commit the next batch of a batcher.
    Drain(Arc<dyn Drains>),
    /// Run once on a connection of the writer's pool.
    Once(Box<dyn FnOnce(&DbPool) + Send>),
}

/// A [`Batcher`] of any kind, as the writer sees it.
trait Drains: Send + Sync {
    /// Commits, publishes and answers one batch of what waits (if anything does).
    fn drain(self: Arc<Self>, pool: &DbPool);
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Jobs> {
        self.jobs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, job: Job) {
        self.lock().queue.push_back(job);
        self.wake.notify_one();
    }

    /// A writer thread: the next job, until the writer is dropped. A job that panics
    /// fails its own requests (their replies are dropped) and nothing else.
    fn work(&self) {
        loop {
            let job = {
                let mut jobs = self.lock();
                loop {
                    if let Some(job) = jobs.queue.pop_front() {
                        break job;
                    }
                    if jobs.closed {
                        return;
                    }
                    jobs = self
                        .wake
                        .wait_timeout(jobs, IDLE_CHECK)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            };
            let pool = &self.pool;
            let ran = catch_unwind(AssertUnwindSafe(|| match job {
                Job::Drain(batcher) => batcher.drain(pool),
                Job::Once(run) => run(pool),
            }));
            if ran.is_err() {
                tracing::error!("a batch writer job panicked; its requests were answered 503");
            }
        }
    }
}

impl BatchWriter {
    /// Starts one writer thread per connection of `pool` (see [`commit_slots`]).
    pub fn start(pool: DbPool) -> Result<Arc<Self>> {
        let threads = (pool.max_size() as usize).max(1);
        let shared = Arc::new(Shared {
            jobs: Mutex::default(),
            wake: Condvar::new(),
            pool,
        });
        // Dropped on an error too, which ends the threads already started.
        let writer = Arc::new(BatchWriter { shared, threads });
        for _ in 0..threads {
            let s = writer.shared.clone();
            std::thread::Builder::new()
                .name("batch-writer".into())
                .spawn(move || s.work())
                .map_err(|e| Error::Internal(format!("batch writer thread not started: {e}")))?;
        }
        Ok(writer)
    }

    /// Readiness: does the writer's own connection answer (within `timeout`)? After a
    /// Postgres restart, the probe finds (and drops) a connection the server closed
    /// before a batch does.
    pub async fn ping(&self, timeout: Duration) -> Result<()> {
        let (reply, answer) = oneshot::channel();
        self.shared.push(Job::Once(Box::new(move |pool| {
            if reply.is_closed() {
                return; // the probe gave up waiting
            }
            let pinged =
                tessera_store::pool::conn(pool).and_then(|mut c| tessera_store::pool::ping(&mut c));
            let _ = reply.send(pinged);
        })));
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(pinged)) => pinged,
            Ok(Err(_)) => Err(Error::Unavailable("batch writer stopped".into())),
            Err(_) => Err(Error::Unavailable("batch writer busy".into())),
        }
    }
}

impl Drop for BatchWriter {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_all();
    }
}

/// One [`Batch`] kind's waiting items, which the [`BatchWriter`] drains. Enqueuing is
/// a short lock; the writer is handed the batcher when no thread drains it (or, up to
/// the commit slots, when many requests wait), and under load a writer thread goes
/// from one commit to the next at once.
pub struct Batcher<B: Batch> {
    waiting: Mutex<Waiting<B>>,
    writer: Arc<BatchWriter>,
    publisher: B::Publisher,
    /// Where [`Published::Later`] runs.
    publishing: ArbiterHandle,
    metrics: Arc<Metrics>,
    slots: usize,
    timeout: Duration,
}

/// One request's item, where its outcome goes, and the span it was committed from.
type Waiter<B> = (<B as Batch>::Item, Reply<B>, tracing::Span);

/// What waits, and how many writer threads are draining it.
struct Waiting<B: Batch> {
    items: Vec<Waiter<B>>,
    draining: usize,
}

/// Requests that must wait before a second writer thread drains the same kind, so
/// that batches stay large (see [`commit_slots`]).
const SECOND_DRAINER_AFTER: usize = 8;

impl<B: Batch> Waiting<B> {
    /// Whether one more drainer should start, now that an item has arrived.
    fn wants_drainer(&self) -> bool {
        self.draining == 0 || self.items.len() >= SECOND_DRAINER_AFTER
    }

    /// A drainer stops.
    fn one_drainer_fewer(&mut self) {
        debug_assert!(self.draining > 0, "a drainer stopped that never started");
        self.draining = self.draining.saturating_sub(1);
    }

    /// Whether a drainer that has just committed should take another batch.
    fn keeps_drainer(&self) -> bool {
        match self.draining {
            1 => !self.items.is_empty(),
            _ => self.items.len() >= SECOND_DRAINER_AFTER,
        }
    }
}

impl<B: Batch> Batcher<B> {
    /// A batcher committing through `writer`, publishing through `publisher` on the
    /// `publishing` arbiter, and answering 503 after `timeout`.
    pub fn new(
        writer: Arc<BatchWriter>,
        publisher: B::Publisher,
        publishing: ArbiterHandle,
        metrics: Arc<Metrics>,
        timeout: Duration,
    ) -> Arc<Self> {
        Arc::new(Batcher {
            waiting: Mutex::new(Waiting {
                items: Vec::new(),
                draining: 0,
            }),
            slots: writer.threads,
            writer,
            publisher,
            publishing,
            metrics,
            timeout,
        })
    }

    /// Commits `item` with the others of its batch: its outcome once the batch has
    /// committed and been published; 503 when that takes longer than the timeout
    /// (the item may still commit then, as a request whose answer was lost would).
    pub async fn commit(self: &Arc<Self>, item: B::Item) -> Result<B::Outcome> {
        let _in_flight = self.metrics.in_flight("BatchWriter");
        let (reply, answer) = oneshot::channel();
        let drain = {
            let mut w = self.lock();
            w.items.push((item, reply, tracing::Span::current()));
            let drain = w.draining < self.slots && w.wants_drainer();
            if drain {
                w.draining += 1;
            }
            drain
        };
        if drain {
            self.writer.shared.push(Job::Drain(self.clone()));
        }
        match tokio::time::timeout(self.timeout, answer).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => Err(Error::Unavailable("write batch dropped".into())),
            Err(_) => {
                self.metrics.timed_out("BatchWriter");
                Err(Error::Unavailable("write batch timed out".into()))
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Waiting<B>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next batch, or none (and one drainer fewer) when nothing waits. Requests
    /// that gave up waiting are dropped, unless [`Batch::COMMITS_ABANDONED`].
    fn take(&self) -> Option<Vec<Waiter<B>>> {
        let mut w = self.lock();
        if !B::COMMITS_ABANDONED {
            w.items.retain(|(_, reply, _)| !reply.is_closed());
        }
        if w.items.is_empty() {
            w.one_drainer_fewer();
            return None;
        }
        let take = w.items.len().min(LARGEST_BATCH);
        Some(w.items.drain(..take).collect())
    }

    /// After a batch: back in the writer's queue (behind the other kinds' batches) if
    /// more waits, else one drainer fewer.
    fn drained(self: &Arc<Self>) {
        let more = {
            let mut w = self.lock();
            let more = w.keeps_drainer();
            if !more {
                w.one_drainer_fewer();
            }
            more
        };
        if more {
            self.writer.shared.push(Job::Drain(self.clone()));
        }
    }
}

/// Counts the drainer out even when the batch panics, so what waits is drained still.
struct Draining<'a, B: Batch>(&'a Arc<Batcher<B>>);

impl<B: Batch> Drop for Draining<'_, B> {
    fn drop(&mut self) {
        self.0.drained();
    }
}

impl<B: Batch> Drains for Batcher<B> {
    fn drain(self: Arc<Self>, pool: &DbPool) {
        let Some(batch) = self.take() else {
            return;
        };
        let draining = Draining(&self);
        let size = batch.len();
        self.metrics.write_batch(B::KIND, size);
        // Traced under the first request of the batch, and following the others.
        let mut span = tracing::Span::none();
        let (mut items, mut replies) = (Vec::with_capacity(size), Vec::new());
        for (item, reply, from) in batch {
            if items.is_empty() {
                span = tracing::debug_span!(parent: &from, "write_batch", kind = B::KIND, size);
            } else {
                span.follows_from(&from);
            }
            items.push(item);
            replies.push(reply);
        }
        let outcomes = span.in_scope(|| B::run(pool, &items));
        // The next batch is queued before this one is published and answered.
        drop(draining);
        match B::publish(&self.publisher, items, outcomes) {
            Published::Now(outcomes) => send_each(replies, outcomes),
            Published::Later(publishing) => {
                // False only once the node is shutting down: the replies are dropped
                // (503) with the future.
                let _ = self.publishing.spawn(async move {
                    send_each(replies, publishing.await);
                });
            }
        }
    }
}

/// Each request's outcome to it (one that gave up waiting is skipped).
fn send_each<O>(replies: Vec<oneshot::Sender<Result<O>>>, outcomes: Vec<Result<O>>) {
    for (reply, outcome) in replies.into_iter().zip(outcomes) {
        let _ = reply.send(outcome);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use actix::Arbiter;
    use futures_util::FutureExt;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tessera_store::pool::{Target, connect};

    /// The items of each batch published.
    type Log = Arc<Mutex<Vec<Vec<u32>>>>;

    /// Batches running now, and the most that ran at once.
    #[derive(Default)]
    struct Running(AtomicUsize, AtomicUsize);

    /// Doubles numbers, slowly enough for requests to gather; 7 fails alone and 13
    /// panics its batch. `KEEP`: it commits abandoned items too.
    struct Doubling<const KEEP: bool>;

    impl<const KEEP: bool> Batch for Doubling<KEEP> {
        const KIND: &'static str = "doubling";
        const COMMITS_ABANDONED: bool = KEEP;
        type Item = (u32, Arc<Running>);
        type Outcome = u32;
        type Publisher = Log;
        fn run(_: &DbPool, items: &[(u32, Arc<Running>)]) -> Vec<Result<u32>> {
            assert!(!items.iter().any(|i| i.0 == 13), "a batch that panics");
            let running = &items[0].1;
            let now = running.0.fetch_add(1, Ordering::SeqCst) + 1;
            running.1.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(5));
            running.0.fetch_sub(1, Ordering::SeqCst);
            items
                .iter()
                .map(|&(i, _)| match i {
                    7 => Err(Error::Internal("seven".into())),
                    i => Ok(i * 2),
                })
                .collect()
        }
        fn publish(
            log: &Log,
            items: Vec<Self::Item>,
            outcomes: Vec<Result<u32>>,
        ) -> Published<u32> {
            log.lock()
                .unwrap()
                .push(items.iter().map(|i| i.0).collect());
            Published::Later(Box::pin(async move { outcomes }))
        }
    }

    /// Commits 199 numbers at once, then one that panics its batch and one after it,
    /// through a writer on `pool` (opened lazily: this kind never asks it for a
    /// connection); the most batches that ran at once.
    async fn gather_and_survive(pool: DbPool) -> usize {
        let (batcher, log) = doubling::<false>(pool);
        let running = Arc::new(Running::default());
        let numbers: Vec<u32> = (0..200).filter(|&i| i != 13).collect();
        let outcomes = futures_util::future::join_all(
            numbers
                .iter()
                .map(|&i| batcher.commit((i, running.clone()))),
        )
        .await;
        for (i, outcome) in numbers.iter().zip(outcomes) {
            match (i, outcome) {
                (7, Err(Error::Internal(_))) => {}
                (i, Ok(doubled)) => assert_eq!(doubled, i * 2),
                (i, other) => panic!("{i}: {:?}", other.err()),
            }
        }
        let sizes: Vec<usize> = log.lock().unwrap().iter().map(Vec::len).collect();
        assert_eq!(sizes.iter().sum::<usize>(), numbers.len(), "{sizes:?}");
        assert!(sizes.iter().all(|&n| n <= LARGEST_BATCH), "{sizes:?}");
        assert!(
            sizes.len() < numbers.len() / 4,
            "requests gathered: {sizes:?}"
        );
        // A batch that panics answers 503; the writer and the batcher go on.
        let (panicked, after) = tokio::join!(batcher.commit((13, running.clone())), async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            batcher.commit((21, running.clone())).await
        });
        assert!(
            matches!(panicked, Err(Error::Unavailable(_))),
            "{panicked:?}"
        );
        assert_eq!(after.unwrap(), 42);
        assert_eq!(batcher.lock().draining, 0, "no drainer left counted");
        running.1.load(Ordering::SeqCst)
    }

    /// A batcher of [`Doubling`] on a writer on `pool`, and its log.
    fn doubling<const KEEP: bool>(pool: DbPool) -> (Arc<Batcher<Doubling<KEEP>>>, Log) {
        let log = Log::default();
        let batcher = Batcher::new(
            BatchWriter::start(pool).unwrap(),
            log.clone(),
            Arbiter::new().handle(),
            Arc::new(Metrics::default()),
            Duration::from_secs(10),
        );
        (batcher, log)
    }

    /// Commits 1 and, while its batch runs, 2 (abandoned at once) and 3; the batches.
    async fn abandon<const KEEP: bool>() -> Vec<Vec<u32>> {
        let sqlite = connect(
            &Target::Sqlite("/nonexistent/db".into()),
            1,
            Duration::from_secs(1),
        );
        let (batcher, log) = doubling::<KEEP>(sqlite);
        let running = Arc::new(Running::default());
        let (first, third) = tokio::join!(batcher.commit((1, running.clone())), async {
            while running.0.load(Ordering::SeqCst) == 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let abandoned = batcher.commit((2, running.clone())).now_or_never();
            assert!(abandoned.is_none(), "queued behind the running batch");
            batcher.commit((3, running.clone())).await
        });
        assert_eq!((first.unwrap(), third.unwrap()), (2, 6));
        log.lock().unwrap().clone()
    }

    #[actix::test]
    async fn a_request_that_stopped_waiting_is_not_committed_unless_its_kind_says_so() {
        assert_eq!(abandon::<false>().await, vec![vec![1], vec![3]]);
        assert_eq!(abandon::<true>().await, vec![vec![1], vec![2, 3]]);
    }

    #[actix::test]
    async fn requests_gather_into_batches_each_keeps_its_outcome_and_a_panic_fails_only_its_batch()
    {
        let sqlite = connect(
            &Target::Sqlite("/nonexistent/db".into()),
            4,
            Duration::from_secs(1),
        );
        assert_eq!(
            gather_and_survive(sqlite).await,
            1,
            "SQLite: one writer thread"
        );
    }

    #[actix::test]
    async fn with_two_commit_slots_a_second_batch_commits_while_many_requests_wait() {
        let url = "postgres://nobody@127.0.0.1:1/none".to_string();
        let postgres = connect(&Target::Postgres(url), 2, Duration::from_secs(1));
        assert_eq!(gather_and_survive(postgres).await, 2);
    }
}
