//! Tessera's Redis side. Revocation keys expire with the tokens they cover (EXAT),
//! so Redis never grows without bound. A check is one `MGET` over the session, the
//! token, the user's cut-off and a "filled" marker: when the marker is missing, Redis
//! restarted empty and the caller refills it from Postgres before trusting a miss.
#![forbid(unsafe_code)]

mod keys;
pub mod notify;
pub mod rate;

use redis::{
    AsyncCommands, SetExpiry, SetOptions,
    aio::{ConnectionManager, ConnectionManagerConfig},
};
use std::time::Duration;
use tessera_core::{Error, Result, settings::MAX_LEEWAY, time::now};

pub use keys::Kind;

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

/// The revocation list in Redis, under a key prefix (tests and tenants of one Redis
/// share nothing else).
#[derive(Clone)]
pub struct RevocationStore {
    conn: ConnectionManager,
    keys: keys::Keys,
}

/// Maps a Redis failure to 503 (a token whose revocation cannot be checked is never accepted).
pub(crate) fn unavailable(e: redis::RedisError) -> Error {
    Error::Unavailable(format!("redis: {e}"))
}

impl RevocationStore {
    /// Prepares a connection to `url` (keys prefixed with `prefix`) without waiting
    /// for Redis: while it is unreachable every call fails fast with 503, and the
    /// manager reconnects by itself when it is back. Only a malformed URL fails here.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200))
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(2)));
        let conn = ConnectionManager::new_lazy_with_config(client, config).map_err(unavailable)?;
        Ok(Self {
            conn,
            keys: keys::Keys::new(prefix),
        })
    }

    /// Checks a token in one round trip.
    pub async fn check(&self, t: TokenRef<'_>) -> Result<Status> {
        let mut conn = self.conn.clone();
        let keys = [
            self.keys.filled(),
            self.keys.entry(t.tenant_id, Kind::Session, t.sid),
            self.keys.entry(t.tenant_id, Kind::Token, t.jti),
            self.keys.entry(t.tenant_id, Kind::User, t.user_id),
        ];
        let [filled, sid, jti, cutoff]: [Option<i64>; 4] = conn
            .mget::<_, Vec<Option<i64>>>(&keys)
            .await
            .map_err(unavailable)?
            .try_into()
            .map_err(|_| Error::Internal("redis MGET answered the wrong arity".into()))?;
        let revoked = sid.is_some() || jti.is_some() || cutoff.is_some_and(|c| t.iat < c);
        Ok(match (revoked, filled) {
            (true, _) => Status::Revoked,
            (false, Some(_)) => Status::Clear,
            (false, None) => Status::Unfilled,
        })
    }

    /// Writes revocations, each expiring with the tokens it covers.
    pub async fn revoke(&self, entries: &[Entry]) -> Result<()> {
        let mut pipe = redis::pipe();
        self.add_entries(&mut pipe, entries);
        let mut conn = self.conn.clone();
        pipe.query_async::<()>(&mut conn).await.map_err(unavailable)
    }

    /// Writes every live revocation from Postgres, then marks Redis filled.
    pub async fn refill(&self, entries: &[Entry]) -> Result<()> {
        let mut pipe = redis::pipe();
        pipe.atomic();
        self.add_entries(&mut pipe, entries);
        pipe.set(self.keys.filled(), now()).ignore();
        let mut conn = self.conn.clone();
        pipe.query_async::<()>(&mut conn)
            .await
            .map_err(unavailable)?;
        tracing::info!(
            entries = entries.len(),
            "revocation list refilled from Postgres"
        );
        Ok(())
    }

    fn add_entries(&self, pipe: &mut redis::Pipeline, entries: &[Entry]) {
        let t = now();
        // Outlive the tokens by the largest leeway any tenant may allow.
        for e in entries.iter().filter(|e| e.expires_at + MAX_LEEWAY > t) {
            let until = (e.expires_at + MAX_LEEWAY) as u64;
            let opts = SetOptions::default().with_expiration(SetExpiry::EXAT(until));
            pipe.set_options(
                self.keys.entry(&e.tenant_id, e.kind, &e.subject),
                e.revoked_at,
                opts,
            )
            .ignore();
        }
    }

    /// Counts a login attempt against the tenant's limits; `Some(seconds)` is how long
    /// to wait when one is exceeded.
    pub async fn login_attempt(&self, a: rate::Attempt<'_>) -> Result<Option<i64>> {
        rate::hit(&self.conn, self.keys.prefix(), a).await
    }

    /// Answers whether Redis is reachable.
    pub async fn ping(&self) -> Result<()> {
        let mut conn = self.conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map(|_| ())
            .map_err(unavailable)
    }

    /// Publishes a change notification on this prefix's channel.
    pub async fn publish(&self, message: &str) -> Result<()> {
        let mut conn = self.conn.clone();
        conn.publish::<_, _, ()>(self.keys.channel(), message)
            .await
            .map_err(unavailable)
    }

    /// The pub/sub channel of this prefix.
    pub fn channel(&self) -> String {
        self.keys.channel()
    }
}
