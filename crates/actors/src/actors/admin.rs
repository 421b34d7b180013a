//! AdminActor: tenants, their keys, users' admin, admin API keys and the audit log
//! in Postgres (sync, a few threads of its own so operators never starve logins).
use super::Handles;
use actix::prelude::*;
use std::sync::Arc;
use tessera_core::{Result, ids::TenantId, master_key::MasterKey};
use tessera_store::Db;
use tessera_store::{DbPool, pool::conn};

use crate::tenant::{self as ctx, TenantCtx};

/// Runs admin operations.
pub struct AdminActor {
    /// The pool.
    pub pool: DbPool,
    /// Decrypts private keys when a tenant is loaded.
    pub master: Arc<MasterKey>,
    /// Base of default issuers.
    pub public_url: String,
}

impl Actor for AdminActor {
    type Context = SyncContext<Self>;
}

/// Load a tenant's context (cache miss).
#[derive(Message)]
#[rtype(result = "Result<Option<TenantCtx>>")]
pub struct LoadTenant(pub String);

/// Run admin work (a closure over plain store/core functions) on a pooled
/// connection: tenants, keys, users, admin keys, audit. One message type keeps the
/// actor thin; each service says what it does in its closure.
pub struct AdminJob<T>(pub Box<AdminWork<T>>);

/// The work of an [`AdminJob`].
pub type AdminWork<T> = dyn FnOnce(&mut Db, &MasterKey) -> Result<T> + Send;

impl<T: Send + 'static> Message for AdminJob<T> {
    type Result = Result<T>;
}

impl<T: Send + 'static> Handles<AdminJob<T>> for AdminActor {
    type Result = Result<T>;
    fn handle(&mut self, m: AdminJob<T>, _: &mut SyncContext<Self>) -> Self::Result {
        (m.0)(&mut *conn(&self.pool)?, &self.master)
    }
}

/// Loads tenant contexts for the cache on threads of its own, so that no flood of
/// admin work (or of bogus admin keys) delays a tenant's reload for everyone.
pub struct TenantLoader(pub AdminActor);

impl Actor for TenantLoader {
    type Context = SyncContext<Self>;
}

impl Handles<LoadTenant> for TenantLoader {
    type Result = Result<Option<TenantCtx>>;
    fn handle(&mut self, m: LoadTenant, _: &mut SyncContext<Self>) -> Self::Result {
        let a = &self.0;
        ctx::load(&mut *conn(&a.pool)?, &m.0, &a.master, &a.public_url)
    }
}

/// Does the database answer?
#[derive(Message)]
#[rtype(result = "Result<()>")]
pub struct PingDb;

impl Handles<PingDb> for AdminActor {
    type Result = Result<()>;
    fn handle(&mut self, _: PingDb, _: &mut SyncContext<Self>) -> Self::Result {
        tessera_store::pool::ping(&mut *conn(&self.pool)?)
    }
}

/// The revocation generations of these tenants (by id), read by every node each
/// second on the tenant loader's threads (not behind request traffic).
#[derive(Message)]
#[rtype(result = "Result<Vec<(TenantId, i64)>>")]
pub struct RevocationGenerations(pub Vec<TenantId>);

impl Handles<RevocationGenerations> for TenantLoader {
    type Result = Result<Vec<(TenantId, i64)>>;
    fn handle(&mut self, m: RevocationGenerations, _: &mut SyncContext<Self>) -> Self::Result {
        tessera_store::models::revocation::generations(&mut *conn(&self.0.pool)?, &m.0)
    }
}
