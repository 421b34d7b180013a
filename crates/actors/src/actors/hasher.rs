//! PasswordHasher: argon2id on its own `SyncArbiter` (n = the concurrency cap).
use super::Handles;
use actix::prelude::*;
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use tessera_core::{
    Result,
    password::{HashScratch, PasswordHashing, Verdict},
};

/// Hashes and verifies passwords on dedicated threads; each instance (thread) owns
/// its argon2 work area.
pub struct PasswordHasher {
    hashing: Arc<PasswordHashing>,
    scratch: HashScratch,
    priority: HashPriority,
}

impl PasswordHasher {
    /// An instance with its own work area, scheduled at `priority`.
    pub fn new(hashing: Arc<PasswordHashing>, priority: HashPriority) -> Self {
        Self {
            scratch: hashing.scratch(),
            hashing,
            priority,
        }
    }
}

/// How the hasher threads are scheduled beside the threads that serve requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashPriority {
    /// Like every other thread.
    Normal,
    /// Niceness about +10: a ninth of a request thread's CPU share under contention.
    Low,
    /// `SCHED_IDLE`: only cycles nothing else wants.
    Idle,
}

impl std::str::FromStr for HashPriority {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "normal" => Ok(Self::Normal),
            "low" => Ok(Self::Low),
            "idle" => Ok(Self::Idle),
            other => Err(format!("must be normal, low or idle, not {other:?}")),
        }
    }
}

impl std::fmt::Display for HashPriority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Normal => "normal",
            Self::Low => "low",
            Self::Idle => "idle",
        })
    }
}

impl HashPriority {
    /// Applies this priority to the calling thread.
    fn apply(self) -> std::result::Result<(), String> {
        use thread_priority::{
            NormalThreadSchedulePolicy, ThreadPriority, ThreadPriorityValue, ThreadSchedulePolicy,
            set_current_thread_priority, set_thread_priority_and_policy, thread_native_id,
        };
        match self {
            HashPriority::Normal => Ok(()),
            HashPriority::Low => ThreadPriorityValue::try_from(25u8)
                .map_err(|e| e.to_string())
                .and_then(|v| {
                    set_current_thread_priority(ThreadPriority::Crossplatform(v))
                        .map_err(|e| format!("{e:?}"))
                }),
            HashPriority::Idle => set_thread_priority_and_policy(
                thread_native_id(),
                ThreadPriority::Min,
                ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle),
            )
            .map_err(|e| format!("{e:?}")),
        }
    }
}

impl Actor for PasswordHasher {
    type Context = SyncContext<Self>;

    /// Sets this thread's scheduling priority (see [`HashPriority`]).
    fn started(&mut self, _: &mut SyncContext<Self>) {
        if let Err(e) = self.priority.apply() {
            tracing::warn!(error = %e, priority = ?self.priority, "hasher thread keeps the normal priority");
        }
    }
}

/// Hash a new password.
#[derive(Message)]
#[rtype(result = "Result<String>")]
pub struct HashPassword(pub SecretString);

/// Check a password against a stored hash; `None` verifies against a dummy hash.
/// A match against a hash of other costs also brings a new hash to store.
#[derive(Message)]
#[rtype(result = "Result<Verdict>")]
pub struct VerifyPassword {
    /// The stored PHC string, if the user exists.
    pub hash: Option<String>,
    /// The presented password.
    pub password: SecretString,
}

impl Handles<HashPassword> for PasswordHasher {
    type Result = Result<String>;
    fn handle(&mut self, msg: HashPassword, _: &mut SyncContext<Self>) -> Self::Result {
        self.hashing.hash(&mut self.scratch, msg.0.expose_secret())
    }
}

impl Handles<VerifyPassword> for PasswordHasher {
    type Result = Result<Verdict>;
    fn handle(&mut self, msg: VerifyPassword, _: &mut SyncContext<Self>) -> Self::Result {
        self.hashing.verify_and_upgrade(
            &mut self.scratch,
            msg.hash.as_deref(),
            msg.password.expose_secret(),
        )
    }
}
