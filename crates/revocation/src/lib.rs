//! Tessera's revocation list, login rate limits and change notifications, kept in
//! Redis (one server or a Redis Cluster) or, in the embedded single-node mode, in this
//! process. Revocation keys expire with the tokens they cover (EXAT), so the store
//! never grows without bound. A check is one `MGET` over the session, the token, the
//! user's cut-off and the tenant's generation marker (see [`generation`]): when the
//! marker is missing (a Redis restarted empty, a process just started) or behind the
//! generation the caller knows the database has (a restart from an older snapshot, a
//! lost write), the caller refills the tenant from the database before trusting a miss.
#![forbid(unsafe_code)]

mod generation;
mod key_names;
mod link;
mod memory;
pub mod notify;
pub mod rate;

use redis::AsyncCommands;
use std::sync::Arc;
use tessera_core::{
    Error, Result,
    ids::{SessionId, TenantId, TokenId, UserId},
    settings::MAX_LEEWAY,
    time::now,
};

pub use link::{Redis, Servers, Tls};
pub use tessera_core::revocation::RevocationKind;

use generation::Write;
use link::Link;
use memory::Memory;

/// One revocation to write to Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Owning tenant id.
    pub tenant_id: TenantId,
    /// What is revoked.
    pub kind: RevocationKind,
    /// sid, jti or user id.
    pub subject: String,
    /// For a user: the cut-off (tokens issued before it are revoked); else when.
    pub revoked_at: i64,
    /// When the last token it covers expires: the key's EXAT.
    pub expires_at: i64,
}

impl Entry {
    /// The entry of session `sid` revoked at `at`, lasting until the session's end.
    pub fn session(tenant_id: &TenantId, sid: &SessionId, at: i64, until: i64) -> Self {
        Entry {
            tenant_id: tenant_id.clone(),
            kind: RevocationKind::Session,
            subject: sid.to_string(),
            revoked_at: at,
            expires_at: until,
        }
    }
}

/// The facts of a verified token that revocation is checked against.
#[derive(Debug, Clone, Copy)]
pub struct TokenRef<'a> {
    /// Tenant id.
    pub tenant_id: &'a TenantId,
    /// User id (`sub`).
    pub user_id: &'a UserId,
    /// Session id.
    pub sid: &'a SessionId,
    /// Token id.
    pub jti: &'a TokenId,
    /// Issued at.
    pub iat: i64,
    /// The tenant's revocation generation this node knows the database has reached:
    /// a store behind it is missing something.
    pub known_gen: i64,
}

/// The answer of a revocation check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not revoked.
    Clear,
    /// Revoked (session, token, or issued before the user's cut-off).
    Revoked,
    /// Nothing found, but the store has lost its contents: refill, then ask again.
    Unfilled,
    /// Nothing found, but the store holds the tenant's revocations only up to this
    /// generation, behind the database: refill what came after, then ask again.
    Behind(i64),
}

/// The revocation list, under a key prefix (tests and deployments sharing one Redis
/// share nothing else).
#[derive(Clone)]
pub struct RevocationStore {
    backend: Backend,
    keys: key_names::Keys,
}

#[derive(Clone)]
enum Backend {
    Redis(Link),
    Memory(Arc<Memory>),
}

/// The marker script, loaded once per process (EVALSHA, EVAL on a server that
/// does not have it yet).
fn script() -> &'static redis::Script {
    static SCRIPT: std::sync::OnceLock<redis::Script> = std::sync::OnceLock::new();
    SCRIPT.get_or_init(|| redis::Script::new(generation::SCRIPT))
}

/// [`generation::CHUNK_SCRIPT`], loaded once.
fn chunk_script() -> &'static redis::Script {
    static SCRIPT: std::sync::OnceLock<redis::Script> = std::sync::OnceLock::new();
    SCRIPT.get_or_init(|| redis::Script::new(generation::CHUNK_SCRIPT))
}

/// Most entries one script writes in a refill: Redis runs nothing else while a script
/// runs, and a refill of 54 164 entries in one script held it for 347 ms
/// (`tests/bench/refill.sh`), against 8 ms for a chunk (19 ms at most).
const REFILL_CHUNK: usize = 2_000;

/// How many of a refill's `n` entries go ahead in chunks of [`REFILL_CHUNK`]: whole
/// chunks, leaving 1 to [`REFILL_CHUNK`] entries for the last part (none go ahead of
/// a refill that fits one script).
fn ahead_of_the_last_part(n: usize) -> usize {
    n.saturating_sub(1) / REFILL_CHUNK * REFILL_CHUNK
}

/// The oldest Redis this code works with: `EXPIRE … NX` (revocation entries that
/// keep the later of two expiries) came with 7.0.
pub const MIN_REDIS: (u32, u32) = (7, 0);

/// Refuses a server older than [`MIN_REDIS`], read from `INFO server`'s
/// `redis_version` (a server that does not say is believed).
fn check_version(info: &str) -> Result<()> {
    let Some(version) = info
        .lines()
        .find_map(|l| l.trim().strip_prefix("redis_version:"))
    else {
        return Ok(());
    };
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let found = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if found < MIN_REDIS {
        return Err(Error::Unavailable(format!(
            "redis: the server is version {version}; Tessera needs Redis {}.{} or newer (EXPIRE … NX)",
            MIN_REDIS.0, MIN_REDIS.1
        )));
    }
    Ok(())
}

/// The texts in an `INFO` reply: one server's, or each node's of a cluster.
fn texts(v: &redis::Value) -> Vec<String> {
    use redis::Value as V;
    match v {
        V::BulkString(b) => vec![String::from_utf8_lossy(b).into_owned()],
        V::SimpleString(s) | V::VerbatimString { text: s, .. } => vec![s.clone()],
        V::Map(pairs) => pairs.iter().flat_map(|(_, v)| texts(v)).collect(),
        V::Array(items) => items.iter().flat_map(texts).collect(),
        _ => Vec::new(),
    }
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
            keys: key_names::Keys::new(prefix),
        })
    }

    /// A store held in this process: for the embedded mode, where one node is all
    /// there is. It starts unfilled, so each tenant is refilled from the database at
    /// its first check.
    pub fn in_process() -> Self {
        Self {
            backend: Backend::Memory(Arc::default()),
            keys: key_names::Keys::new(""),
        }
    }

    /// Checks a token in one round trip.
    pub async fn check(&self, t: TokenRef<'_>) -> Result<Status> {
        let keys = [
            self.keys.filled(t.tenant_id.as_str()),
            self.keys.entry(
                t.tenant_id.as_str(),
                RevocationKind::Session,
                t.sid.as_str(),
            ),
            self.keys
                .entry(t.tenant_id.as_str(), RevocationKind::Token, t.jti.as_str()),
            self.keys.entry(
                t.tenant_id.as_str(),
                RevocationKind::User,
                t.user_id.as_str(),
            ),
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
            (false, None) => Status::Unfilled,
            (false, Some(g)) if g < t.known_gen => Status::Behind(g),
            (false, Some(_)) => Status::Clear,
        })
    }

    /// Writes the revocations of one committed transaction of `tenant_id`, whose
    /// revocation generation is `gen`, each expiring with the tokens it covers; the
    /// tenant's marker moves on when every generation before it is in too.
    pub async fn revoke(
        &self,
        tenant_id: &TenantId,
        generation: i64,
        entries: &[Entry],
    ) -> Result<()> {
        self.write(tenant_id, entries, Write::Revocation { generation })
            .await
            .map(|_| ())
    }

    /// Writes the live revocations of `tenant_id` read from the database at its
    /// generation `gen`: all of them (`from: None`), or those after the generation
    /// `from` the store held. The marker moves to `gen` unless the store lost data
    /// meanwhile.
    pub async fn refill(
        &self,
        tenant_id: &TenantId,
        from: Option<i64>,
        generation: i64,
        entries: &[Entry],
    ) -> Result<()> {
        let moved = self
            .write(tenant_id, entries, Write::Refill { from, generation })
            .await?;
        let (tenant_id, entries) = (tenant_id.as_str(), entries.len());
        if moved {
            tracing::info!(
                tenant_id,
                from,
                generation,
                entries,
                "revocation list refilled from the database"
            );
        } else {
            tracing::warn!(
                tenant_id,
                from,
                generation,
                entries,
                "revocation refill left the marker where it was: the store lost data while it ran"
            );
        }
        Ok(())
    }

    /// Writes one tenant's `entries` and moves its marker: atomically, or (a refill of
    /// more than [`REFILL_CHUNK`] entries) with the last of its chunks, if none was
    /// lost. Whether the marker was set.
    async fn write(&self, tenant_id: &TenantId, entries: &[Entry], write: Write) -> Result<bool> {
        let t = now();
        // Outlive the tokens by the largest leeway any tenant may allow.
        let live = entries
            .iter()
            .filter(|e| &e.tenant_id == tenant_id && e.expires_at + MAX_LEEWAY > t)
            .map(|e| {
                let key = self.keys.entry(e.tenant_id.as_str(), e.kind, &e.subject);
                (key, e.revoked_at, e.expires_at + MAX_LEEWAY)
            });
        let marker = (
            self.keys.filled(tenant_id.as_str()),
            self.keys.landed(tenant_id.as_str()),
        );
        match &self.backend {
            Backend::Memory(m) => Ok(m.write(live, marker, write, t)),
            Backend::Redis(link) => {
                let live: Vec<(String, i64, i64)> = live.collect();
                let mut conn = link.get().await?;
                // A large refill goes in chunks first, each counted in a key of its
                // own; its last part moves the marker only if the count shows that
                // none was lost on the way (the store lost nothing since the first).
                let ahead = match write {
                    Write::Refill { .. } => ahead_of_the_last_part(live.len()),
                    Write::Revocation { .. } => 0,
                };
                // Not read when nothing went ahead: the landed set's name stands in, so
                // a revocation's write makes no key name of its own.
                let own;
                let counted = match ahead {
                    0 => &marker.1,
                    _ => {
                        own = self
                            .keys
                            .refill_chunks(tenant_id.as_str(), &tessera_core::ids::random_id());
                        &own
                    }
                };
                let mut chunks: i64 = 0;
                for chunk in live[..ahead].chunks(REFILL_CHUNK) {
                    let mut call = chunk_script().key(counted);
                    call.arg(chunks);
                    for (key, value, until) in chunk {
                        call.key(key).arg(value).arg(until);
                    }
                    let wrote: i64 = call.invoke_async(&mut conn).await.map_err(unavailable)?;
                    if wrote == 0 {
                        // The marker stays where it is: the next check refills again.
                        return Ok(false);
                    }
                    chunks += 1;
                }
                let (generation, from) = write.args();
                let mut call = script().key(marker.0);
                call.key(&marker.1).key(counted).arg(generation).arg(from);
                call.arg(if ahead == 0 { -1 } else { chunks });
                for (key, value, until) in &live[ahead..] {
                    call.key(key).arg(value).arg(until);
                }
                call.invoke_async::<i64>(&mut conn)
                    .await
                    .map(|moved| moved == 1)
                    .map_err(unavailable)
            }
        }
    }

    /// The Redis server's `maxmemory-policy`, where the server lets it be read
    /// (managed services may not): anything but `noeviction` may evict revocations.
    pub async fn eviction_policy(&self) -> Option<String> {
        let Backend::Redis(link) = &self.backend else {
            return None;
        };
        let mut conn = link.get().await.ok()?;
        let reply: Vec<String> = redis::cmd("CONFIG")
            .arg("GET")
            .arg("maxmemory-policy")
            .query_async(&mut conn)
            .await
            .ok()?;
        reply.into_iter().nth(1)
    }

    /// Counts an attempt against the tenant's limits; `Some(seconds)` is how long to
    /// wait when one is exceeded.
    pub async fn attempt(&self, a: rate::Attempt<'_>) -> Result<Option<i64>> {
        let (keys, limits): (Vec<String>, Vec<i64>) = rate::keys(&self.keys, a).into_iter().unzip();
        let counts = match &self.backend {
            Backend::Redis(link) => rate::hit_redis(&mut link.get().await?, &keys).await?,
            Backend::Memory(m) => m.hit(&keys, rate::WINDOW, now()),
        };
        Ok(rate::verdict(&counts, &limits))
    }

    /// Answers whether the store is reachable.
    pub async fn ping(&self) -> Result<()> {
        match &self.backend {
            Backend::Redis(link) => {
                // One text from a server; a map of node → text from a cluster.
                let mut conn = link.get().await?;
                match redis::cmd("INFO")
                    .arg("server")
                    .query_async::<redis::Value>(&mut conn)
                    .await
                {
                    Ok(info) => texts(&info).into_iter().try_for_each(|t| check_version(&t)),
                    // INFO may be denied by an ACL (@dangerous) or renamed away: then
                    // the version cannot be read, and a PING says the server answers.
                    Err(e)
                        if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoPerm)
                            || e.to_string().contains("unknown command") =>
                    {
                        redis::cmd("PING")
                            .query_async::<String>(&mut conn)
                            .await
                            .map(|_| ())
                            .map_err(unavailable)
                    }
                    Err(e) => Err(unavailable(e)),
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::LazyLock;

    #[test]
    fn redis_older_than_7_is_refused_by_name() {
        let info = |v: &str| format!("# Server\r\nredis_version:{v}\r\nredis_mode:standalone\r\n");
        assert!(check_version(&info("7.0.15")).is_ok());
        assert!(check_version(&info("7.2.4")).is_ok());
        assert!(check_version(&info("8.0.0")).is_ok());
        let e = check_version(&info("6.2.14")).map_or_else(|e| e.log_cause(), |()| String::new());
        assert!(e.contains("6.2.14") && e.contains("7.0"), "{e}");
        assert!(
            check_version("# Server\r\n").is_ok(),
            "a server that does not say"
        );
    }

    static TEN_A: LazyLock<TenantId> = LazyLock::new(|| "ten_a".into());
    static TEN_B: LazyLock<TenantId> = LazyLock::new(|| "ten_b".into());
    static USR: LazyLock<UserId> = LazyLock::new(|| "usr_1".into());
    static SID: LazyLock<SessionId> = LazyLock::new(|| "sid_1".into());
    static JTI: LazyLock<TokenId> = LazyLock::new(|| "jti_1".into());

    fn token(known_gen: i64, iat: i64) -> TokenRef<'static> {
        TokenRef {
            tenant_id: &TEN_A,
            user_id: &USR,
            sid: &SID,
            jti: &JTI,
            iat,
            known_gen,
        }
    }

    fn entry(kind: RevocationKind, subject: &str, revoked_at: i64) -> Entry {
        Entry {
            tenant_id: TEN_A.clone(),
            kind,
            subject: subject.into(),
            revoked_at,
            expires_at: now() + 3600,
        }
    }

    #[tokio::test]
    async fn a_check_trusts_a_miss_only_when_the_store_holds_the_known_generation() {
        let store = RevocationStore::in_process();
        let t = now();
        // A store that never held the tenant: refill first.
        assert_eq!(store.check(token(0, t)).await.ok(), Some(Status::Unfilled));
        store
            .refill(&TEN_A, None, 3, &[])
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(store.check(token(3, t)).await.ok(), Some(Status::Clear));
        // The database is ahead of the store: refill what came after 3.
        assert_eq!(store.check(token(5, t)).await.ok(), Some(Status::Behind(3)));
        store
            .refill(
                &TEN_A,
                Some(3),
                5,
                &[entry(RevocationKind::Session, "sid_1", t)],
            )
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(store.check(token(5, t)).await.ok(), Some(Status::Revoked));
    }

    #[tokio::test]
    async fn a_user_cut_off_refuses_tokens_issued_before_it_only() {
        let store = RevocationStore::in_process();
        let t = now();
        store
            .refill(&TEN_A, None, 0, &[])
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        store
            .revoke(&TEN_A, 1, &[entry(RevocationKind::User, "usr_1", t)])
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            store.check(token(1, t - 1)).await.ok(),
            Some(Status::Revoked)
        );
        assert_eq!(store.check(token(1, t)).await.ok(), Some(Status::Clear));
        // Another tenant's cut-off of the same user id is not this tenant's.
        let mut other = token(1, t - 1);
        other.tenant_id = &TEN_B;
        assert_eq!(store.check(other).await.ok(), Some(Status::Unfilled));
    }

    #[test]
    fn a_refill_leaves_one_to_a_chunk_of_entries_for_its_last_part() {
        for (n, ahead) in [
            (0, 0),
            (1, 0),
            (REFILL_CHUNK, 0),
            (REFILL_CHUNK + 1, REFILL_CHUNK),
            (2 * REFILL_CHUNK, REFILL_CHUNK),
            (2 * REFILL_CHUNK + 1, 2 * REFILL_CHUNK),
        ] {
            assert_eq!(ahead_of_the_last_part(n), ahead, "{n}");
        }
    }

    /// Deletes every key of a test's prefix (Redis URL, prefix) when the test ends,
    /// passed or not.
    struct Cleanup(String, String);

    impl Drop for Cleanup {
        fn drop(&mut self) {
            let Ok(mut c) = redis::Client::open(self.0.as_str()).and_then(|c| c.get_connection())
            else {
                return;
            };
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{}*", self.1))
                .query(&mut c)
                .unwrap_or_default();
            if !keys.is_empty() {
                let _: redis::RedisResult<()> = redis::cmd("DEL").arg(keys).query(&mut c);
            }
        }
    }

    /// A store on the test Redis (`TEST_REDIS_URL`) under a prefix of its own, that
    /// prefix, and what deletes its keys at the end.
    fn on_redis() -> (RevocationStore, String, Cleanup) {
        let url =
            std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let prefix = format!("t_{}:", tessera_core::ids::random_id());
        let store = RevocationStore::connect(&Redis::single(url.as_str()), &prefix)
            .unwrap_or_else(|e| panic!("{e:?}"));
        let cleanup = Cleanup(url, prefix.clone());
        (store, prefix, cleanup)
    }

    async fn keys(store: &RevocationStore, prefix: &str) -> Vec<String> {
        let Backend::Redis(link) = &store.backend else {
            unreachable!("on_redis")
        };
        let mut c = link.get().await.unwrap_or_else(|e| panic!("{e:?}"));
        redis::cmd("KEYS")
            .arg(format!("{prefix}*"))
            .query_async(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn sessions(n: usize, t: i64) -> Vec<Entry> {
        (0..n)
            .map(|i| entry(RevocationKind::Session, &format!("sid_{i}"), t))
            .collect()
    }

    #[tokio::test]
    #[ignore = "shared backend only (Redis)"]
    async fn a_refill_larger_than_a_chunk_writes_every_entry_and_moves_the_marker() {
        let (store, prefix, _cleanup) = on_redis();
        let t = now();
        let n = 2 * REFILL_CHUNK + 5;
        store
            .refill(&TEN_A, None, 7, &sessions(n, t))
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        // sid_1 went in the first chunk, sid_{n-1} in the last part.
        for sid in ["sid_1", &format!("sid_{}", n - 1)] {
            let sid = SessionId::from(sid);
            let mut tok = token(7, t);
            tok.sid = &sid;
            assert_eq!(store.check(tok).await.ok(), Some(Status::Revoked), "{sid}");
        }
        let other = SessionId::from("sid_other");
        let mut tok = token(7, t);
        tok.sid = &other;
        assert_eq!(store.check(tok).await.ok(), Some(Status::Clear));
        let left = keys(&store, &prefix).await;
        assert_eq!(
            left.len(),
            n + 1,
            "the entries and the marker, no chunk count"
        );
    }

    #[tokio::test]
    #[ignore = "shared backend only (Redis)"]
    async fn a_refill_whose_chunk_count_was_lost_or_set_back_moves_no_marker() {
        let (store, _prefix, _cleanup) = on_redis();
        let Backend::Redis(link) = &store.backend else {
            unreachable!("on_redis")
        };
        let mut c = link.get().await.unwrap_or_else(|e| panic!("{e:?}"));
        let t = now();
        let entries = sessions(3, t);
        let args = |e: &Entry| {
            let key = store.keys.entry(e.tenant_id.as_str(), e.kind, &e.subject);
            (key, e.revoked_at, e.expires_at)
        };
        // Two chunks of one entry, then the last part expects the count at 2.
        let chunk = |before: i64, e: &Entry| {
            let (key, value, until) = args(e);
            let counted = store.keys.refill_chunks(TEN_A.as_str(), "r1");
            let mut call = chunk_script().key(counted);
            call.arg(before).key(key).arg(value).arg(until);
            call
        };
        let last = |expect: i64| {
            let mut call = script().key(store.keys.filled(TEN_A.as_str()));
            call.key(store.keys.landed(TEN_A.as_str()))
                .key(store.keys.refill_chunks(TEN_A.as_str(), "r1"))
                .arg(9)
                .arg(-1)
                .arg(expect);
            let (key, value, until) = args(&entries[2]);
            call.key(key).arg(value).arg(until);
            call
        };
        let counted = store.keys.refill_chunks(TEN_A.as_str(), "r1");
        // A token none of the entries revokes: what the marker says decides.
        let other = SessionId::from("sid_other");
        let mut unlisted = token(9, t);
        unlisted.sid = &other;
        for (case, set_back) in [("lost", None), ("set back", Some(1))] {
            let one: i64 = chunk(0, &entries[0])
                .invoke_async(&mut c)
                .await
                .unwrap_or_else(|e| panic!("{e:?}"));
            assert_eq!(one, 1, "{case}");
            assert_eq!(
                chunk(0, &entries[1]).invoke_async::<i64>(&mut c).await.ok(),
                Some(0),
                "{case}: a chunk that does not follow the one before is refused"
            );
            let two: i64 = chunk(1, &entries[1])
                .invoke_async(&mut c)
                .await
                .unwrap_or_else(|e| panic!("{e:?}"));
            assert_eq!(two, 1, "{case}");
            // The store loses the count (a restart), or goes back to an older copy of it
            // (a failover to a replica that had only the first chunk).
            match set_back {
                None => {
                    let _: () = c.del(&counted).await.unwrap_or_else(|e| panic!("{e:?}"));
                }
                Some(n) => {
                    let _: () = c.set(&counted, n).await.unwrap_or_else(|e| panic!("{e:?}"));
                }
            }
            let moved: i64 = last(2)
                .invoke_async(&mut c)
                .await
                .unwrap_or_else(|e| panic!("{e:?}"));
            assert_eq!(moved, 0, "{case}");
            assert_eq!(
                store.check(unlisted).await.ok(),
                Some(Status::Unfilled),
                "{case}: no marker"
            );
        }
        // Unbroken, the same last part moves the marker.
        let _: () = c.del(&counted).await.unwrap_or_else(|e| panic!("{e:?}"));
        for before in 0..2 {
            let wrote: i64 = chunk(before, &entries[before as usize])
                .invoke_async(&mut c)
                .await
                .unwrap_or_else(|e| panic!("{e:?}"));
            assert_eq!(wrote, 1);
        }
        let moved: i64 = last(2)
            .invoke_async(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(moved, 1);
        assert_eq!(store.check(unlisted).await.ok(), Some(Status::Clear));
    }

    #[tokio::test]
    async fn a_revocation_moves_the_marker_only_after_the_ones_before_it() {
        let store = RevocationStore::in_process();
        let t = now();
        store
            .refill(&TEN_A, None, 1, &[])
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        // Generation 3 lands before 2: the store cannot claim 3 yet.
        store
            .revoke(&TEN_A, 3, &[entry(RevocationKind::Token, "jti_9", t)])
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(store.check(token(3, t)).await.ok(), Some(Status::Behind(1)));
        store
            .revoke(&TEN_A, 2, &[entry(RevocationKind::Token, "jti_8", t)])
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(store.check(token(3, t)).await.ok(), Some(Status::Clear));
    }
}
