//! UserActor: users in Postgres, on a `SyncArbiter` sized like the pool.
use super::Handles;
use actix::prelude::*;
use tessera_core::{
    Result,
    ids::{SessionId, TenantId, UserId},
};
use tessera_store::{
    DbPool, DbResultExt,
    models::{
        session::{self, Revoked},
        user,
    },
    pool::conn,
};

/// Loads and changes users.
pub struct UserActor(pub DbPool);

impl Actor for UserActor {
    type Context = SyncContext<Self>;
}

/// Find a tenant's user by username.
#[derive(Message)]
#[rtype(result = "Result<Option<user::User>>")]
pub struct FindUserByName {
    /// Tenant id.
    pub tenant_id: TenantId,
    /// Username.
    pub username: String,
}

/// Find a tenant's user by id.
#[derive(Message)]
#[rtype(result = "Result<Option<user::User>>")]
pub struct GetUser {
    /// Tenant id.
    pub tenant_id: TenantId,
    /// User id.
    pub user_id: UserId,
}

/// Insert a user.
#[derive(Message)]
#[rtype(result = "Result<()>")]
pub struct CreateUser(pub user::User);

/// Store a user's new password and cut off every token issued before `at`, in one
/// transaction (a crash between the two never leaves old sessions alive).
#[derive(Message)]
#[rtype(result = "Result<Revoked<Vec<(SessionId, i64)>>>")]
pub struct SetPassword {
    /// Tenant id.
    pub tenant_id: TenantId,
    /// User id.
    pub user_id: UserId,
    /// New PHC string.
    pub hash: String,
    /// The cut-off time.
    pub at: i64,
    /// How long the cut-off must last.
    pub lasts_until: i64,
}

impl Handles<FindUserByName> for UserActor {
    type Result = Result<Option<user::User>>;
    fn handle(&mut self, m: FindUserByName, _: &mut SyncContext<Self>) -> Self::Result {
        user::by_username(&mut *conn(&self.0)?, &m.tenant_id, &m.username)
    }
}

impl Handles<GetUser> for UserActor {
    type Result = Result<Option<user::User>>;
    fn handle(&mut self, m: GetUser, _: &mut SyncContext<Self>) -> Self::Result {
        user::by_id(&mut *conn(&self.0)?, &m.tenant_id, &m.user_id)
    }
}

impl Handles<CreateUser> for UserActor {
    type Result = Result<()>;
    fn handle(&mut self, m: CreateUser, _: &mut SyncContext<Self>) -> Self::Result {
        user::insert(&mut *conn(&self.0)?, &m.0)
    }
}

impl Handles<SetPassword> for UserActor {
    type Result = Result<Revoked<Vec<(SessionId, i64)>>>;
    fn handle(&mut self, m: SetPassword, _: &mut SyncContext<Self>) -> Self::Result {
        tessera_store::transaction(&mut *conn(&self.0)?, |c| {
            if !user::set_password(c, &m.tenant_id, &m.user_id, &m.hash)? {
                return Err(tessera_core::Error::TokenNotValid(
                    "User not found or inactive",
                ));
            }
            session::revoke_user_in(c, &m.tenant_id, &m.user_id, m.at, m.lasts_until).db()
        })
    }
}
