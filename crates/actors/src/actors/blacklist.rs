//! BlacklistActor: one supervised async instance holding a cloned Redis
//! `ConnectionManager`. Every reply is a `ResponseFuture`, spawned, so the actor is
//! never a serialization point (no `AtomicResponse`).
use actix::prelude::*;
use tessera_core::Result;
use tessera_revocation::{Entry, RevocationStore, Status, TokenRef, rate::Attempt};

/// Answers and records revocations in Redis.
pub struct BlacklistActor(pub RevocationStore);

impl Actor for BlacklistActor {
    type Context = Context<Self>;
}

impl Supervised for BlacklistActor {}

/// Is this token revoked? One round trip.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<Status>")]
pub struct CheckRevoked {
    /// Tenant id.
    pub tenant_id: String,
    /// User id.
    pub user_id: String,
    /// Session id.
    pub sid: String,
    /// Token id.
    pub jti: String,
    /// Issued at.
    pub iat: i64,
}

/// Write revocations.
#[derive(Message)]
#[rtype(result = "Result<()>")]
pub struct Revoke(pub Vec<Entry>);

/// Refill an emptied store with every live revocation of one tenant.
#[derive(Message)]
#[rtype(result = "Result<()>")]
pub struct Refill {
    /// The tenant refilled (its "filled" marker is set with its entries).
    pub tenant_id: String,
    /// Its live revocations.
    pub entries: Vec<Entry>,
}

/// Count a login attempt against the tenant's rate limits; replies with the
/// seconds to wait when one is exceeded.
#[derive(Message)]
#[rtype(result = "Result<Option<i64>>")]
pub struct LoginAttempt {
    /// Tenant id.
    pub tenant_id: String,
    /// The username tried, as its unique key.
    pub username_key: String,
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

impl Handler<CheckRevoked> for BlacklistActor {
    type Result = ResponseFuture<Result<Status>>;
    fn handle(&mut self, m: CheckRevoked, _: &mut Context<Self>) -> Self::Result {
        let store = self.0.clone();
        Box::pin(async move {
            store
                .check(TokenRef {
                    tenant_id: &m.tenant_id,
                    user_id: &m.user_id,
                    sid: &m.sid,
                    jti: &m.jti,
                    iat: m.iat,
                })
                .await
        })
    }
}

impl Handler<Revoke> for BlacklistActor {
    type Result = ResponseFuture<Result<()>>;
    fn handle(&mut self, m: Revoke, _: &mut Context<Self>) -> Self::Result {
        let store = self.0.clone();
        Box::pin(async move { store.revoke(&m.0).await })
    }
}

impl Handler<Refill> for BlacklistActor {
    type Result = ResponseFuture<Result<()>>;
    fn handle(&mut self, m: Refill, _: &mut Context<Self>) -> Self::Result {
        let store = self.0.clone();
        Box::pin(async move { store.refill(&m.tenant_id, &m.entries).await })
    }
}

impl Handler<LoginAttempt> for BlacklistActor {
    type Result = ResponseFuture<Result<Option<i64>>>;
    fn handle(&mut self, m: LoginAttempt, _: &mut Context<Self>) -> Self::Result {
        let store = self.0.clone();
        Box::pin(async move {
            store
                .login_attempt(Attempt {
                    tenant_id: &m.tenant_id,
                    username: &m.username_key,
                    ip: m.ip.as_deref(),
                    limit: m.limit,
                })
                .await
        })
    }
}

impl Handler<Ping> for BlacklistActor {
    type Result = ResponseFuture<Result<()>>;
    fn handle(&mut self, _: Ping, _: &mut Context<Self>) -> Self::Result {
        let store = self.0.clone();
        Box::pin(async move { store.ping().await })
    }
}

impl Handler<Publish> for BlacklistActor {
    type Result = ResponseFuture<Result<()>>;
    fn handle(&mut self, m: Publish, _: &mut Context<Self>) -> Self::Result {
        let store = self.0.clone();
        Box::pin(async move { store.publish(&m.0).await })
    }
}
