//! UserActor: users in Postgres, on a `SyncArbiter` sized like the pool.
use actix::prelude::*;
use tessera_core::Result;
use tessera_store::{DbPool, models::user, pool::conn};

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
    pub tenant_id: String,
    /// Username.
    pub username: String,
}

/// Find a tenant's user by id.
#[derive(Message)]
#[rtype(result = "Result<Option<user::User>>")]
pub struct GetUser {
    /// Tenant id.
    pub tenant_id: String,
    /// User id.
    pub user_id: String,
}

/// Insert a user.
#[derive(Message)]
#[rtype(result = "Result<()>")]
pub struct CreateUser(pub user::User);

/// Replace a user's password hash.
#[derive(Message)]
#[rtype(result = "Result<bool>")]
pub struct SetPassword {
    /// Tenant id.
    pub tenant_id: String,
    /// User id.
    pub user_id: String,
    /// New PHC string.
    pub hash: String,
}

impl Handler<FindUserByName> for UserActor {
    type Result = Result<Option<user::User>>;
    fn handle(&mut self, m: FindUserByName, _: &mut SyncContext<Self>) -> Self::Result {
        user::by_username(&mut *conn(&self.0)?, &m.tenant_id, &m.username)
    }
}

impl Handler<GetUser> for UserActor {
    type Result = Result<Option<user::User>>;
    fn handle(&mut self, m: GetUser, _: &mut SyncContext<Self>) -> Self::Result {
        user::by_id(&mut *conn(&self.0)?, &m.tenant_id, &m.user_id)
    }
}

impl Handler<CreateUser> for UserActor {
    type Result = Result<()>;
    fn handle(&mut self, m: CreateUser, _: &mut SyncContext<Self>) -> Self::Result {
        user::insert(&mut *conn(&self.0)?, &m.0)
    }
}

impl Handler<SetPassword> for UserActor {
    type Result = Result<bool>;
    fn handle(&mut self, m: SetPassword, _: &mut SyncContext<Self>) -> Self::Result {
        user::set_password(&mut *conn(&self.0)?, &m.tenant_id, &m.user_id, &m.hash)
    }
}
