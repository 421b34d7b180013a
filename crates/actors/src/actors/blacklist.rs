//! BlacklistActor: one supervised async instance holding a cloned Redis
//! `ConnectionManager`. Every reply is a `ResponseFuture`, spawned, so the actor is
//! never a serialization point (no `AtomicResponse`).
use actix::prelude::*;
use tessera_core::Result;
use tessera_revocation::{Entry, RevocationStore, Status, TokenRef};

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

/// Refill an emptied Redis with every live revocation.
#[derive(Message)]
#[rtype(result = "Result<()>")]
pub struct Refill(pub Vec<Entry>);

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
        Box::pin(async move { store.refill(&m.0).await })
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
