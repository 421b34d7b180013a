//! The hub: the actors' addresses, the tenant cache, and the timeouts every send uses.
use actix::{dev::ToEnvelope, prelude::*};
use std::{sync::Arc, time::Duration};
use tessera_core::{
    Error, Result,
    client_ip::TrustedProxies,
    ids::{TenantId, UserId},
    master_key::MasterKey,
    password::{HashParams, PasswordHashing},
};
use tessera_revocation::RevocationStore;
use tessera_store::DbPool;

use crate::{
    actors::{
        AdminActor, BatchWriter, Batcher, BlacklistActor, HashPriority, PasswordHasher, Refreshes,
        RevocationPublisher, SessionRevocations, SessionStarts, TenantLoader, TokenActor, Traced,
        UserActor,
    },
    feed::RevocationFeed,
    metrics::Metrics,
    tenant::TenantCache,
    user_cache::UserCache,
};

/// What the hub needs to start its actors.
pub struct HubConfig {
    /// Database pool shared by the sync actors.
    pub pool: DbPool,
    /// The batched session writes' pool, one connection per commit slot (by default
    /// [`crate::actors::commit_slots`]; the same pool as `pool` for SQLite, which has
    /// one connection).
    pub batch_pool: DbPool,
    /// Threads of each DB-bound sync actor (users, tokens, admin).
    pub db_threads: usize,
    /// Threads hashing passwords: the argon2 concurrency cap.
    pub hash_threads: usize,
    /// argon2id costs.
    pub hashing: HashParams,
    /// Scheduling priority of the hasher threads.
    pub hash_priority: HashPriority,
    /// Decrypts signing keys.
    pub master: Arc<MasterKey>,
    /// Base URL of default issuers and discovery documents.
    pub public_url: String,
    /// The revocation store (Redis, or in process for the embedded mode).
    pub revocations: RevocationStore,
    /// Redis for the change-notification subscription (`None`: no listener, as for a
    /// single embedded node).
    pub notify: Option<tessera_revocation::Redis>,
    /// Longest wait for any actor reply; past it the request answers 503.
    pub send_timeout: Duration,
    /// Longest wait for a password hash/verify (includes queueing in a login flood).
    pub hash_timeout: Duration,
    /// How often this node runs a scheduled key rotation pass (`None`: never).
    pub rotation_check: Option<Duration>,
    /// How often this node deletes expired sessions, tokens and revocations.
    pub prune_every: Option<Duration>,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
    /// Longest a cached tenant context is used before it is read again (a node that
    /// missed a change notification catches up within it).
    pub tenant_max_age: Duration,
    /// Tenants whose own metric series are exported: the busiest (0: none).
    pub tenant_series: usize,
    /// Most user profiles this node caches for `/users/me` (0: none).
    pub users_cached: usize,
}

/// Addresses of every actor plus the tenant cache: what handlers hold.
#[derive(Clone)]
pub struct Hub {
    pub(crate) users: Addr<UserActor>,
    pub(crate) hasher: Addr<PasswordHasher>,
    pub(crate) tokens: Addr<TokenActor>,
    /// Refreshes, committed in batches.
    pub(crate) refreshes: Arc<Batcher<Refreshes>>,
    /// Session revocations, committed in batches.
    pub(crate) session_revocations: Arc<Batcher<SessionRevocations>>,
    /// Commits the batches (asked directly only by readiness).
    pub(crate) writer: Arc<BatchWriter>,
    /// Logins' new sessions, committed in batches.
    pub(crate) session_starts: Arc<Batcher<SessionStarts>>,
    pub(crate) blacklist: Addr<BlacklistActor>,
    /// Writes committed revocations to the store and tells every node.
    pub(crate) publisher: RevocationPublisher,
    pub(crate) admin: Addr<AdminActor>,
    pub(crate) loader: Addr<TenantLoader>,
    pub(crate) cold_loader: Addr<TenantLoader>,
    pub(crate) cache: Arc<TenantCache>,
    /// Wake-ups of the revocation feed's long polls.
    pub(crate) feed: Arc<RevocationFeed>,
    /// Usernames by user, for introspection: a username never changes and an id is
    /// never reused, so an entry is never stale (a deactivated or deleted user's
    /// tokens are refused by the revocation check). Bounded.
    pub(crate) usernames: Arc<quick_cache::sync::Cache<(TenantId, UserId), Arc<str>>>,
    pub(crate) cache_max_age: Duration,
    pub(crate) public_url: Arc<str>,
    pub(crate) timeout: Duration,
    pub(crate) hash_timeout: Duration,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) trusted_proxies: Arc<TrustedProxies>,
    pub(crate) revocation_store: RevocationStore,
    /// The database pool, for its gauges.
    pub(crate) pool: DbPool,
    /// Profiles `/users/me` answers without a database read.
    pub(crate) user_cache: Arc<UserCache>,
}

/// How often a node compares what the revocation store holds with the database.
pub const REVOCATION_GEN_CHECK: Duration = Duration::from_secs(1);

/// Most usernames a node keeps for introspection (about 100 bytes each).
const USERNAMES_CACHED: usize = 100_000;

impl Hub {
    /// Starts every actor; must run inside an actix `System`.
    pub fn start(cfg: HubConfig) -> Result<Self> {
        let hashing = Arc::new(PasswordHashing::new(cfg.hashing)?);
        let n = cfg.db_threads.max(1);
        let pool = cfg.pool;
        let users = {
            let p = pool.clone();
            SyncArbiter::start(n, move || UserActor(p.clone()))
        };
        let tokens = {
            let p = pool.clone();
            SyncArbiter::start(n, move || TokenActor(p.clone()))
        };
        let admin = {
            let (p, m, u) = (pool.clone(), cfg.master.clone(), cfg.public_url.clone());
            SyncArbiter::start(n.min(4), move || AdminActor {
                pool: p.clone(),
                master: m.clone(),
                public_url: u.clone(),
            })
        };
        // Reloads of tenants this node serves, and first loads of slugs it has not
        // seen (a flood of random slugs queues there), on threads of their own.
        let loader_of = |threads: usize| {
            let (p, m, u) = (pool.clone(), cfg.master.clone(), cfg.public_url.clone());
            SyncArbiter::start(threads, move || {
                TenantLoader(AdminActor {
                    pool: p.clone(),
                    master: m.clone(),
                    public_url: u.clone(),
                })
            })
        };
        let loader = loader_of(n.clamp(1, 2));
        let cold_loader = loader_of(1);
        let priority = cfg.hash_priority;
        let hasher = SyncArbiter::start(cfg.hash_threads.max(1), move || {
            PasswordHasher::new(hashing.clone(), priority)
        });
        let revocation_store = cfg.revocations.clone();
        let store = cfg.revocations.clone();
        let metrics = Arc::new(Metrics::with_tenant_series(cfg.tenant_series));
        let m = metrics.clone();
        // The blacklist's arbiter also publishes committed revocation batches.
        let blacklisting = Arbiter::new().handle();
        let blacklist = Supervisor::start_in_arbiter(&blacklisting, move |_| BlacklistActor {
            store: store.clone(),
            metrics: m.clone(),
        });
        let feed = Arc::new(RevocationFeed::default());
        let publisher = RevocationPublisher {
            blacklist: blacklist.clone(),
            feed: feed.clone(),
            metrics: metrics.clone(),
            timeout: cfg.send_timeout,
        };
        // The writer's threads drain the batchers' queues and commit.
        let writer = BatchWriter::start(cfg.batch_pool)?;
        let (m, t) = (&metrics, cfg.send_timeout);
        let refreshes = Batcher::new(writer.clone(), (), blacklisting.clone(), m.clone(), t);
        let session_starts = Batcher::new(writer.clone(), (), blacklisting.clone(), m.clone(), t);
        let session_revocations = Batcher::new(
            writer.clone(),
            publisher.clone(),
            blacklisting,
            m.clone(),
            t,
        );
        let cache = Arc::new(TenantCache::new(cfg.tenant_max_age));
        let user_cache = Arc::new(UserCache::new(cfg.users_cached, cfg.tenant_max_age));
        if let Some(redis) = cfg.notify {
            let (c, f, channel) = (cache.clone(), feed.clone(), cfg.revocations.channel());
            let u = user_cache.clone();
            actix::spawn(tessera_revocation::notify::listen(
                redis,
                channel,
                move |message| {
                    if f.on_message(message) || u.on_message(message) {
                        return;
                    }
                    if message == "*" {
                        f.wake_all();
                        u.clear();
                    }
                    c.invalidate(message)
                },
            ));
        }
        let hub = Self {
            users,
            hasher,
            tokens,
            refreshes,
            session_revocations,
            session_starts,
            writer,
            blacklist,
            publisher,
            admin,
            loader,
            cold_loader,
            cache,
            feed,
            usernames: Arc::new(quick_cache::sync::Cache::new(USERNAMES_CACHED)),
            cache_max_age: cfg.tenant_max_age,
            public_url: cfg.public_url.into(),
            timeout: cfg.send_timeout,
            hash_timeout: cfg.hash_timeout,
            metrics,
            trusted_proxies: Arc::new(cfg.trusted_proxies),
            revocation_store,
            pool: pool.clone(),
            user_cache,
        };
        if let Some(every) = cfg.prune_every {
            let h = hub.clone();
            actix::spawn(async move {
                let mut tick = actix::clock::interval(every);
                tick.tick().await; // the first tick is immediate: start after one period
                loop {
                    tick.tick().await;
                    let pruned = h
                        .admin_job(|c, _| {
                            tessera_store::prune::flush_expired(c, tessera_core::time::now())
                        })
                        .await;
                    match pruned {
                        Ok(f) => tracing::info!(
                            sessions = f.sessions,
                            refresh_tokens = f.refresh_tokens,
                            revocations = f.revocations,
                            "expired rows pruned"
                        ),
                        Err(e) => tracing::warn!(error = %e.log_cause(), "pruning failed"),
                    }
                }
            });
        }
        {
            let h = hub.clone();
            actix::spawn(async move { h.watch_revocation_generations().await });
        }
        if let Some(every) = cfg.rotation_check {
            let h = hub.clone();
            actix::spawn(async move {
                let mut tick = actix::clock::interval(every);
                loop {
                    tick.tick().await;
                    if let Err(e) = h.rotation_pass().await {
                        tracing::warn!(error = %e.log_cause(), "scheduled key rotation pass failed");
                    }
                }
            });
        }
        Ok(hub)
    }

    /// [`send_traced`] with the default timeout.
    pub(crate) async fn send<A, M>(&self, addr: &Addr<A>, msg: M) -> Result<M::Result>
    where
        A: Actor + Handler<Traced<M>>,
        A::Context: ToEnvelope<A, Traced<M>>,
        M: Message + Send + 'static,
        M::Result: Send,
    {
        send_traced(&self.metrics, addr, msg, self.timeout).await
    }

    /// Every [`REVOCATION_GEN_CHECK`], reads the revocation generations of the
    /// tenants this node serves from the database, so a check finds out at once when
    /// the revocation store fell behind it (data lost by a restart from an older
    /// snapshot, a failover, eviction, or a write that failed after the commit) and
    /// refills the difference. Every minute, also checks that Redis may not evict keys.
    async fn watch_revocation_generations(&self) {
        let mut tick = actix::clock::interval(REVOCATION_GEN_CHECK);
        let mut ticks: u64 = 0;
        let mut failing = false;
        loop {
            tick.tick().await;
            if ticks.is_multiple_of(60) {
                self.check_eviction_policy().await;
            }
            ticks += 1;
            let cached = self.cache.all();
            if cached.is_empty() {
                continue;
            }
            let ids: Vec<TenantId> = cached.iter().map(|c| c.id.clone()).collect();
            let read = self
                .send(&self.loader, crate::actors::RevocationGenerations(ids))
                .await
                .and_then(|r| r);
            match read {
                Ok(gens) => {
                    let gens: std::collections::HashMap<TenantId, i64> = gens.into_iter().collect();
                    for ctx in &cached {
                        if let Some(g) = gens.get(&ctx.id) {
                            ctx.saw_revocation_gen(*g);
                            // Revocations a notification did not announce (the CLI's).
                            self.feed.notify(&ctx.id, *g);
                        }
                    }
                    failing = false;
                }
                Err(e) if !failing => {
                    failing = true;
                    tracing::warn!(error = %e.log_cause(), "revocation generations unread: a Redis that lost data is noticed only when this succeeds again");
                }
                Err(_) => {}
            }
        }
    }

    /// Warns (every minute) while Redis may evict keys: an evicted revocation whose
    /// tenant's marker survives is refused again only after a refill.
    async fn check_eviction_policy(&self) {
        if let Some(policy) = self.revocation_store.eviction_policy().await
            && policy != "noeviction"
        {
            tracing::error!(
                %policy,
                "Redis maxmemory-policy is not noeviction: under memory pressure Redis may evict revocation entries, and an evicted entry is not noticed while its tenant's marker survives; set maxmemory-policy noeviction"
            );
        }
    }

    /// [`Hub::send`] for a message whose reply is itself a `Result`, flattened: the
    /// one way services reach an actor.
    pub(crate) async fn ask<A, M, T>(&self, addr: &Addr<A>, msg: M) -> Result<T>
    where
        A: Actor + Handler<Traced<M>>,
        A::Context: ToEnvelope<A, Traced<M>>,
        M: Message<Result = Result<T>> + Send + 'static,
        T: Send,
    {
        self.send(addr, msg).await?
    }

    /// [`Hub::ask`] with a timeout of its own (the password hasher's).
    pub(crate) async fn ask_within<A, M, T>(
        &self,
        addr: &Addr<A>,
        msg: M,
        timeout: Duration,
    ) -> Result<T>
    where
        A: Actor + Handler<Traced<M>>,
        A::Context: ToEnvelope<A, Traced<M>>,
        M: Message<Result = Result<T>> + Send + 'static,
        T: Send,
    {
        send_traced(&self.metrics, addr, msg, timeout).await?
    }

    /// Proxies whose `X-Forwarded-For` names the client.
    pub fn trusted_proxies(&self) -> &TrustedProxies {
        &self.trusted_proxies
    }

    /// This node's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The public base URL.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }
}

/// A type's name without its path or generic arguments (`AdminJob`, `TokenActor`).
fn short_type_name<T>() -> &'static str {
    let name = std::any::type_name::<T>();
    let name = name.split('<').next().unwrap_or(name);
    name.rsplit("::").next().unwrap_or(name)
}

/// Sends `msg` to `addr` and waits at most `timeout`: a full mailbox, a dead actor or
/// a timeout are all 503 (a timeout is also counted in `metrics`). The message
/// carries an `actor` span (a child of the caller's), which covers its queueing and
/// handling when traces are exported.
pub(crate) async fn send_traced<A, M>(
    metrics: &Metrics,
    addr: &Addr<A>,
    msg: M,
    timeout: Duration,
) -> Result<M::Result>
where
    A: Actor + Handler<Traced<M>>,
    A::Context: ToEnvelope<A, Traced<M>>,
    M: Message + Send + 'static,
    M::Result: Send,
{
    let actor = short_type_name::<A>();
    let span = tracing::debug_span!(
        "actor",
        otel.name = %format_args!("{actor} {}", short_type_name::<M>()),
        actor,
    );
    let _in_flight = metrics.in_flight(actor);
    let sent = Traced {
        msg,
        span: span.clone(),
    };
    let reply = addr.send(sent).timeout(timeout).await;
    drop(span);
    reply.map_err(|e| match e {
        MailboxError::Timeout => {
            metrics.timed_out(actor);
            Error::Unavailable("actor reply timed out".into())
        }
        MailboxError::Closed => Error::Unavailable("actor mailbox closed".into()),
    })
}
