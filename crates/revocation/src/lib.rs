//! Tessera's revocation list, login rate limits and change notifications, kept in
//! Redis (one server or a Redis Cluster) or, in the embedded single-node mode, in this
//! process. Revocation keys expire with the tokens they cover (EXAT), so the store
//! never grows without bound. A check is one `MGET` over the session, the token, the
//! user's cut-off and the tenant's "filled" marker: when the marker is missing, the
//! store lost its contents (a Redis restarted empty, a process just started) and the
//! caller refills the tenant from the database before trusting a miss.
#![forbid(unsafe_code)]

mod keys;
mod link;
mod memory;
pub mod notify;
pub mod rate;

use redis::{AsyncCommands, SetExpiry, SetOptions};
use std::sync::Arc;
use tessera_core::{Error, Result, settings::MAX_LEEWAY, time::now};

pub use keys::Kind;
pub use link::Redis;

use link::Link;
use memory::Memory;

/// One revocation to write to Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Owning tenant id.
    pub tenant_id: String,
    /// What is revoked.
    pub kind: Kind,
    /// sid, jti or user id.
    pub subject: String,
    /// For a user: the cut-off (tokens issued before it are revoked); else when.
    pub revoked_at: i64,
    /// When the last token it covers expires: the key's EXAT.
    pub expires_at: i64,
}

/// The facts of a verified token that revocation is checked against.
#[derive(Debug, Clone, Copy)]
pub struct TokenRef<'a> {
    /// Tenant id.
    pub tenant_id: &'a str,
    /// User id (`sub`).
    pub user_id: &'a str,
    /// Session id.
    pub sid: &'a str,
    /// Token id.
    pub jti: &'a str,
    /// Issued at.
    pub iat: i64,
}

/// The answer of a revocation check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not revoked.
    Clear,
    /// Revoked (session, token, or issued before the user's cut-off).
    Revoked,
    /// Nothing found, but Redis has lost its contents: refill, then ask again.
    Unfilled,
}

/// The revocation list, under a key prefix (tests and deployments sharing one Redis
/// share nothing else).
#[derive(Clone)]
pub struct RevocationStore {
    backend: Backend,
    keys: keys::Keys,
}

#[derive(Clone)]
enum Backend {
    Redis(Link),
    Memory(Arc<Memory>),
}

/// Maps a Redis failure to 503 (a token whose revocation cannot be checked is never accepted).
pub(crate) fn unavailable(e: redis::RedisError) -> Error {
    Error::Unavailable(format!("redis: {e}"))
}

impl RevocationStore {
    /// Prepares the store on `redis` (keys prefixed with `prefix`) without waiting for
    /// it: while it is unreachable every call fails fast with 503, and the connection
    /// comes back by itself. Only a malformed URL fails here.
    pub fn connect(redis: &Redis, prefix: &str) -> Result<Self> {
        Ok(Self {
            backend: Backend::Redis(Link::new(redis).map_err(unavailable)?),
            keys: keys::Keys::new(prefix),
        })
    }

    /// A store held in this process: for the embedded mode, where one node is all
    /// there is. It starts unfilled, so each tenant is refilled from the database at
    /// its first check.
    pub fn in_process() -> Self {
        Self {
            backend: Backend::Memory(Arc::default()),
            keys: keys::Keys::new(""),
        }
    }

    /// Checks a token in one round trip.
    pub async fn check(&self, t: TokenRef<'_>) -> Result<Status> {
        let keys = [
            self.keys.filled(t.tenant_id),
            self.keys.entry(t.tenant_id, Kind::Session, t.sid),
            self.keys.entry(t.tenant_id, Kind::Token, t.jti),
            self.keys.entry(t.tenant_id, Kind::User, t.user_id),
        ];
        let [filled, sid, jti, cutoff]: [Option<i64>; 4] = match &self.backend {
            Backend::Redis(link) => link
                .get()
                .await?
                .mget::<_, Vec<Option<i64>>>(&keys)
                .await
                .map_err(unavailable)?
                .try_into()
                .map_err(|_| Error::Internal("redis MGET answered the wrong arity".into()))?,
            Backend::Memory(m) => m.get(keys.each_ref().map(String::as_str), now()),
        };
        let revoked = sid.is_some() || jti.is_some() || cutoff.is_some_and(|c| t.iat < c);
        Ok(match (revoked, filled) {
            (true, _) => Status::Revoked,
            (false, Some(_)) => Status::Clear,
            (false, None) => Status::Unfilled,
        })
    }

    /// Writes revocations, each expiring with the tokens it covers (one pipeline per
    /// tenant: a tenant's keys share one cluster slot).
    pub async fn revoke(&self, entries: &[Entry]) -> Result<()> {
        let mut tenants: Vec<&str> = entries.iter().map(|e| e.tenant_id.as_str()).collect();
        tenants.sort_unstable();
        tenants.dedup();
        for tenant in tenants {
            let mine = entries.iter().filter(|e| e.tenant_id == tenant);
            self.write(mine, None).await?;
        }
        Ok(())
    }

    /// Writes every live revocation of `tenant_id` (read from the database), then
    /// marks the tenant filled, atomically.
    pub async fn refill(&self, tenant_id: &str, entries: &[Entry]) -> Result<()> {
        let mine = entries.iter().filter(|e| e.tenant_id == tenant_id);
        self.write(mine, Some(tenant_id)).await?;
        tracing::info!(
            tenant_id,
            entries = entries.len(),
            "revocation list refilled from the database"
        );
        Ok(())
    }

    /// Writes one tenant's `entries` and, when `filled` names it, its marker.
    async fn write<'e>(
        &self,
        entries: impl Iterator<Item = &'e Entry>,
        filled: Option<&str>,
    ) -> Result<()> {
        let t = now();
        // Outlive the tokens by the largest leeway any tenant may allow.
        let live = entries.filter(|e| e.expires_at + MAX_LEEWAY > t).map(|e| {
            let key = self.keys.entry(&e.tenant_id, e.kind, &e.subject);
            (key, e.revoked_at, e.expires_at + MAX_LEEWAY)
        });
        let marker = filled.map(|tenant| (self.keys.filled(tenant), t, i64::MAX));
        match &self.backend {
            Backend::Memory(m) => {
                m.set(live.chain(marker), t);
                Ok(())
            }
            Backend::Redis(link) => {
                let mut pipe = redis::pipe();
                if marker.is_some() {
                    pipe.atomic();
                }
                for (key, value, until) in live {
                    let opts = SetOptions::default().with_expiration(SetExpiry::EXAT(until as u64));
                    pipe.set_options(key, value, opts).ignore();
                }
                if let Some((key, value, _)) = marker {
                    pipe.set(key, value).ignore();
                }
                if pipe.is_empty() {
                    return Ok(());
                }
                pipe.query_async::<()>(&mut link.get().await?)
                    .await
                    .map_err(unavailable)
            }
        }
    }

    /// Counts a login attempt against the tenant's limits; `Some(seconds)` is how long
    /// to wait when one is exceeded.
    pub async fn login_attempt(&self, a: rate::Attempt<'_>) -> Result<Option<i64>> {
        let keys = rate::keys(&self.keys, a);
        let counts = match &self.backend {
            Backend::Redis(link) => rate::hit_redis(&mut link.get().await?, &keys).await?,
            Backend::Memory(m) => m.hit(&keys, rate::WINDOW, now()),
        };
        Ok(rate::verdict(&counts, a.limit))
    }

    /// Answers whether the store is reachable.
    pub async fn ping(&self) -> Result<()> {
        match &self.backend {
            Backend::Redis(link) => redis::cmd("PING")
                .query_async::<String>(&mut link.get().await?)
                .await
                .map(|_| ())
                .map_err(unavailable),
            Backend::Memory(_) => Ok(()),
        }
    }

    /// Publishes a change notification on this prefix's channel (a no-op in process:
    /// the one node already dropped its cached copy).
    pub async fn publish(&self, message: &str) -> Result<()> {
        match &self.backend {
            Backend::Redis(link) => link
                .get()
                .await?
                .publish::<_, _, ()>(self.keys.channel(), message)
                .await
                .map_err(unavailable),
            Backend::Memory(_) => Ok(()),
        }
    }

    /// The pub/sub channel of this prefix.
    pub fn channel(&self) -> String {
        self.keys.channel()
    }
}
