//! BlacklistActor: one supervised async instance holding a cloned Redis
//! `ConnectionManager`. Every reply is a `ResponseFuture`, spawned, so the actor is
//! never a serialization point (no `AtomicResponse`). It writes revocations, refills,
//! rate limits and publishes; the per-request revocation check does not come here
//! ([`CheckRevoked::ask`] calls the store from the request's own task).
use super::Handles;
use actix::prelude::*;
use std::{sync::Arc, time::Instant};
use tessera_core::{
    Result,
    ids::{SessionId, TenantId, TokenId, UserId},
};
use tessera_revocation::{
    Entry, RevocationStore, Status, TokenRef,
    rate::{Action, Attempt},
};
use tracing::Instrument;

use crate::metrics::Metrics;

/// Answers and records revocations in Redis.
pub struct BlacklistActor {
    /// Redis (or the in-process store of the embedded mode).
    pub store: RevocationStore,
    /// Where each round trip's time is recorded.
    pub metrics: Arc<Metrics>,
}

impl BlacklistActor {
    /// Runs one store operation `op`, timed into the metrics and traced as a span.
    fn timed<T: 'static>(
        &self,
        op: &'static str,
        work: impl FnOnce(RevocationStore) -> ResponseFuture<Result<T>>,
    ) -> ResponseFuture<Result<T>> {
        Box::pin(timed(self.metrics.clone(), op, work(self.store.clone())))
    }
}

/// One revocation-store operation `op`, timed into `metrics` and traced as a
/// `revocation_store` span (for the actor's calls and the direct ones alike). The span
/// is made now, as a child of the current one, not when the future is first polled.
pub(crate) fn timed<T>(
    metrics: Arc<Metrics>,
    op: &'static str,
    fut: impl std::future::Future<Output = Result<T>>,
) -> impl std::future::Future<Output = Result<T>> {
    let span = tracing::debug_span!("revocation_store", op);
    async move {
        let started = Instant::now();
        let out = fut.await;
        metrics.store_round_trip(op, started.elapsed().as_secs_f64());
        out
    }
    .instrument(span)
}

impl Actor for BlacklistActor {
    type Context = Context<Self>;
}

impl Supervised for BlacklistActor {}

/// Is this token revoked? One round trip ([`CheckRevoked::ask`]).
#[derive(Debug, Clone)]
pub struct CheckRevoked {
    /// Tenant id.
    pub tenant_id: TenantId,
    /// User id.
    pub user_id: UserId,
    /// Session id.
    pub sid: SessionId,
    /// Token id.
    pub jti: TokenId,
    /// Issued at.
    pub iat: i64,
    /// The tenant's revocation generation this node knows the database has.
    pub known_gen: i64,
}

/// Write the revocations of one committed transaction.
#[derive(Message)]
#[rtype(result = "Result<()>")]
pub struct Revoke {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The transaction's revocation generation.
    pub generation: i64,
    /// What it revoked.
    pub entries: Vec<Entry>,
}

/// Refill the store with one tenant's live revocations read from the database.
#[derive(Message)]
#[rtype(result = "Result<()>")]
pub struct Refill {
    /// The tenant refilled.
    pub tenant_id: TenantId,
    /// The generation the store held (`None`: it had lost everything).
    pub from: Option<i64>,
    /// The database's generation when the entries were read.
    pub generation: i64,
    /// Its live revocations after `from`.
    pub entries: Vec<Entry>,
}

/// What a rate-limited attempt is (owned form of [`Action`]).
#[derive(Debug, Clone)]
pub enum Attempted {
    /// A login with this username, as its unique key.
    Login(String),
    /// A sign-up.
    Signup,
    /// A password change by this user.
    PasswordChange(UserId),
}

/// Count an attempt to log in, sign up or change a password against the tenant's
/// rate limits; replies with the seconds to wait when one is exceeded.
#[derive(Message)]
#[rtype(result = "Result<Option<i64>>")]
pub struct RateAttempt {
    /// Tenant id.
    pub tenant_id: TenantId,
    /// What is attempted.
    pub what: Attempted,
    /// The client's address.
    pub ip: Option<String>,
    /// The tenant's `login_rate_limit`.
    pub limit: i64,
}

/// Is Redis reachable?
#[derive(Message)]
#[rtype(result = "Result<()>")]
pub struct Ping;

/// Publish a change notification to every node.
#[derive(Message)]
#[rtype(result = "Result<()>")]
pub struct Publish(pub String);

impl CheckRevoked {
    /// Asks `store`, timed into `metrics`: one round trip. Services call this from
    /// their own task (the store's connection is multiplexed and shared, so an actor
    /// in between would only add two thread hops to every request).
    pub async fn ask(&self, store: &RevocationStore, metrics: Arc<Metrics>) -> Result<Status> {
        let token = TokenRef {
            tenant_id: &self.tenant_id,
            user_id: &self.user_id,
            sid: &self.sid,
            jti: &self.jti,
            iat: self.iat,
            known_gen: self.known_gen,
        };
        timed(metrics, "check", store.check(token)).await
    }
}

impl Handles<Revoke> for BlacklistActor {
    type Result = ResponseFuture<Result<()>>;
    fn handle(&mut self, m: Revoke, _: &mut Context<Self>) -> Self::Result {
        self.timed("revoke", |store| {
            Box::pin(async move { store.revoke(&m.tenant_id, m.generation, &m.entries).await })
        })
    }
}

impl Handles<Refill> for BlacklistActor {
    type Result = ResponseFuture<Result<()>>;
    fn handle(&mut self, m: Refill, _: &mut Context<Self>) -> Self::Result {
        self.timed("refill", |store| {
            Box::pin(async move {
                store
                    .refill(&m.tenant_id, m.from, m.generation, &m.entries)
                    .await
            })
        })
    }
}

impl Handles<RateAttempt> for BlacklistActor {
    type Result = ResponseFuture<Result<Option<i64>>>;
    fn handle(&mut self, m: RateAttempt, _: &mut Context<Self>) -> Self::Result {
        self.timed("rate_attempt", |store| {
            Box::pin(async move {
                let action = match &m.what {
                    Attempted::Login(username) => Action::Login { username },
                    Attempted::Signup => Action::Signup,
                    Attempted::PasswordChange(user_id) => Action::PasswordChange { user_id },
                };
                let bucket =
                    m.ip.as_deref()
                        .and_then(|ip| ip.parse().ok())
                        .map(tessera_core::client_ip::rate_bucket);
                store
                    .attempt(Attempt {
                        tenant_id: &m.tenant_id,
                        action,
                        ip: bucket.as_deref().or(m.ip.as_deref()),
                        limit: m.limit,
                    })
                    .await
            })
        })
    }
}

impl Handles<Ping> for BlacklistActor {
    type Result = ResponseFuture<Result<()>>;
    fn handle(&mut self, _: Ping, _: &mut Context<Self>) -> Self::Result {
        self.timed("ping", |store| Box::pin(async move { store.ping().await }))
    }
}

impl Handles<Publish> for BlacklistActor {
    type Result = ResponseFuture<Result<()>>;
    fn handle(&mut self, m: Publish, _: &mut Context<Self>) -> Self::Result {
        self.timed("publish", |store| {
            Box::pin(async move { store.publish(&m.0).await })
        })
    }
}
