//! AdminActor: tenants, their keys and admin API keys in Postgres (sync).
use actix::prelude::*;
use std::sync::Arc;
use tessera_core::{
    Result,
    master_key::MasterKey,
    settings::{SettingsPatch, TenantSettings},
};
use tessera_store::{
    DbPool,
    models::{
        api_key,
        tenant::{self, Tenant},
    },
    pool::conn,
};

use crate::tenant::{self as ctx, TenantCtx};

/// Runs admin operations and loads tenant contexts for the cache.
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

/// Create a tenant with its first key.
#[derive(Message)]
#[rtype(result = "Result<Tenant>")]
pub struct CreateTenant {
    /// Slug (validated).
    pub slug: String,
    /// Settings (validated).
    pub settings: TenantSettings,
}

/// List tenants visible to a scope.
#[derive(Message)]
#[rtype(result = "Result<Vec<Tenant>>")]
pub struct ListTenants {
    /// Cursor: the last slug of the previous page.
    pub after: Option<String>,
    /// Page size.
    pub limit: i64,
    /// A scoped key's tenant id.
    pub scope: Option<String>,
}

/// Read a tenant visible to a scope.
#[derive(Message)]
#[rtype(result = "Result<Tenant>")]
pub struct GetTenant {
    /// Slug.
    pub slug: String,
    /// A scoped key's tenant id.
    pub scope: Option<String>,
}

/// Change a tenant's settings.
#[derive(Message)]
#[rtype(result = "Result<Tenant>")]
pub struct UpdateTenant {
    /// Slug.
    pub slug: String,
    /// A scoped key's tenant id.
    pub scope: Option<String>,
    /// The change.
    pub patch: SettingsPatch,
}

/// Delete a tenant and everything it owns.
#[derive(Message)]
#[rtype(result = "Result<Tenant>")]
pub struct DeleteTenant {
    /// Slug.
    pub slug: String,
    /// A scoped key's tenant id.
    pub scope: Option<String>,
}

/// Find the admin key whose secret hashes to this.
#[derive(Message)]
#[rtype(result = "Result<Option<api_key::ApiKey>>")]
pub struct FindApiKey(pub String);

impl Handler<LoadTenant> for AdminActor {
    type Result = Result<Option<TenantCtx>>;
    fn handle(&mut self, m: LoadTenant, _: &mut SyncContext<Self>) -> Self::Result {
        ctx::load(
            &mut *conn(&self.pool)?,
            &m.0,
            &self.master,
            &self.public_url,
        )
    }
}

impl Handler<CreateTenant> for AdminActor {
    type Result = Result<Tenant>;
    fn handle(&mut self, m: CreateTenant, _: &mut SyncContext<Self>) -> Self::Result {
        ctx::create(&mut *conn(&self.pool)?, &m.slug, &m.settings, &self.master)
    }
}

impl Handler<ListTenants> for AdminActor {
    type Result = Result<Vec<Tenant>>;
    fn handle(&mut self, m: ListTenants, _: &mut SyncContext<Self>) -> Self::Result {
        tenant::list(
            &mut *conn(&self.pool)?,
            m.after.as_deref(),
            m.limit,
            m.scope.as_deref(),
        )
    }
}

impl Handler<GetTenant> for AdminActor {
    type Result = Result<Tenant>;
    fn handle(&mut self, m: GetTenant, _: &mut SyncContext<Self>) -> Self::Result {
        ctx::visible(&mut *conn(&self.pool)?, &m.slug, m.scope.as_deref())
    }
}

impl Handler<UpdateTenant> for AdminActor {
    type Result = Result<Tenant>;
    fn handle(&mut self, m: UpdateTenant, _: &mut SyncContext<Self>) -> Self::Result {
        ctx::update(
            &mut *conn(&self.pool)?,
            &m.slug,
            m.scope.as_deref(),
            m.patch,
            &self.master,
        )
    }
}

impl Handler<DeleteTenant> for AdminActor {
    type Result = Result<Tenant>;
    fn handle(&mut self, m: DeleteTenant, _: &mut SyncContext<Self>) -> Self::Result {
        let mut c = conn(&self.pool)?;
        let row = ctx::visible(&mut c, &m.slug, m.scope.as_deref())?;
        tenant::delete(&mut c, &row.id)?;
        Ok(row)
    }
}

impl Handler<FindApiKey> for AdminActor {
    type Result = Result<Option<api_key::ApiKey>>;
    fn handle(&mut self, m: FindApiKey, _: &mut SyncContext<Self>) -> Self::Result {
        api_key::by_hash(&mut *conn(&self.pool)?, &m.0)
    }
}

/// Is Postgres reachable?
#[derive(Message)]
#[rtype(result = "Result<()>")]
pub struct PingDb;

impl Handler<PingDb> for AdminActor {
    type Result = Result<()>;
    fn handle(&mut self, _: PingDb, _: &mut SyncContext<Self>) -> Self::Result {
        use diesel::RunQueryDsl;
        diesel::sql_query("SELECT 1")
            .execute(&mut *conn(&self.pool)?)
            .map(|_| ())
            .map_err(|e| tessera_core::Error::Unavailable(format!("database: {e}")))
    }
}
