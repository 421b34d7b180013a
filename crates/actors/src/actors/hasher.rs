//! PasswordHasher: argon2id on its own `SyncArbiter` (n = the concurrency cap).
use actix::prelude::*;
use std::sync::Arc;
use tessera_core::{
    Result,
    password::{HashScratch, PasswordHashing},
    secret::SecretString,
};

/// Hashes and verifies passwords on dedicated threads; each instance (thread) owns
/// its argon2 work area.
pub struct PasswordHasher {
    hashing: Arc<PasswordHashing>,
    scratch: HashScratch,
}

impl PasswordHasher {
    /// An instance with its own work area.
    pub fn new(hashing: Arc<PasswordHashing>) -> Self {
        Self {
            scratch: hashing.scratch(),
            hashing,
        }
    }
}

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
        self.hashing.hash(&mut self.scratch, msg.0.expose())
    }
}

impl Handler<VerifyPassword> for PasswordHasher {
    type Result = bool;
    fn handle(&mut self, msg: VerifyPassword, _: &mut SyncContext<Self>) -> bool {
        self.hashing.verify(
            &mut self.scratch,
            msg.hash.as_deref(),
            msg.password.expose(),
        )
    }
}
