//! PasswordHasher: argon2id on its own `SyncArbiter` (n = the concurrency cap).
use actix::prelude::*;
use std::sync::Arc;
use tessera_core::{Result, password::PasswordHashing, secret::SecretString};

/// Hashes and verifies passwords on dedicated threads.
pub struct PasswordHasher(pub Arc<PasswordHashing>);

impl Actor for PasswordHasher {
    type Context = SyncContext<Self>;
}

/// Hash a new password.
#[derive(Message)]
#[rtype(result = "Result<String>")]
pub struct HashPassword(pub SecretString);

/// Check a password against a stored hash; `None` verifies against a dummy hash.
#[derive(Message)]
#[rtype(result = "bool")]
pub struct VerifyPassword {
    /// The stored PHC string, if the user exists.
    pub hash: Option<String>,
    /// The presented password.
    pub password: SecretString,
}

impl Handler<HashPassword> for PasswordHasher {
    type Result = Result<String>;
    fn handle(&mut self, msg: HashPassword, _: &mut SyncContext<Self>) -> Self::Result {
        self.0.hash(msg.0.expose())
    }
}

impl Handler<VerifyPassword> for PasswordHasher {
    type Result = bool;
    fn handle(&mut self, msg: VerifyPassword, _: &mut SyncContext<Self>) -> bool {
        self.0.verify(msg.hash.as_deref(), msg.password.expose())
    }
}
