//! Tenant contexts (settings + decrypted key ring + JWKS) and the in-memory cache of
//! them. A context is one `Arc`, swapped whole when the tenant changes; admin changes
//! are published over Redis so every node drops its copy within a second.
use parking_lot::RwLock;
use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};
use tessera_core::{
    Error, Result,
    ids::{ClientId, TenantId},
    key_lifecycle::Phase,
    master_key::MasterKey,
    settings::TenantSettings,
    time::now,
    token::{KeyRing, TokenPolicy},
};
use tessera_store::Db;
use tessera_store::models::{
    client::{self, Client},
    revocation,
    signing_key::{self, SigningKey},
    tenant::{self, Tenant},
};

/// Everything a request needs to know about its tenant, ready to use.
#[derive(Debug)]
pub struct TenantCtx {
    /// Internal id; every query is scoped by it.
    pub id: TenantId,
    /// Public slug.
    pub slug: String,
    /// Current settings.
    pub settings: TenantSettings,
    /// Keys: the signer and every kid that still verifies.
    pub ring: KeyRing,
    /// The JWKS document (public keys only), serialized once.
    pub jwks: String,
    /// When time alone changes this context (a next key starts signing, a retiring
    /// key's window closes): past it, the cache reloads the tenant.
    pub refresh_at: Option<i64>,
    /// The tenant's revocation generation this node has seen the database reach
    /// (its own revocations, and a poll every second): a revocation store behind it
    /// is refilled before a check trusts it.
    pub revocation_gen: AtomicI64,
    /// Held while this node refills the revocation store for the tenant through this
    /// context (a reload makes a new one): the checks that find the store behind at
    /// the same moment wait for one refill instead of each reading and writing every
    /// live revocation.
    pub refilling: tokio::sync::Mutex<()>,
    /// Refills this context has ended (whether or not they succeeded): a check that
    /// waited for [`TenantCtx::refilling`] while it changed does not refill again.
    pub refills: AtomicU64,
    /// Its resource-server clients: id → hex SHA-256 of the secret. A change
    /// reloads the context on every node, so a deleted client stops at once.
    pub clients: HashMap<ClientId, String>,
}

impl TenantCtx {
    /// The client of this tenant whose id and secret these are (HTTP Basic), if any;
    /// the secret's hash is compared in constant time, and an unknown id costs the
    /// same hash.
    pub fn client(&self, id: &str, secret: &str) -> Option<ClientId> {
        use subtle::ConstantTimeEq;
        let presented = tessera_core::admin_key::hash_secret(secret);
        let (found, stored) = match self.clients.get_key_value(id) {
            Some((found, stored)) => (Some(found), stored.as_str()),
            None => (None, "-"),
        };
        let same: bool = presented.as_bytes().ct_eq(stored.as_bytes()).into();
        found.filter(|_| same).cloned()
    }

    /// The tenant's issuer (`iss`).
    pub fn issuer(&self) -> &str {
        &self.ring.policy().issuer
    }

    /// How long any token of this tenant can live: how long a cut-off must last.
    pub fn longest_token_life(&self) -> i64 {
        self.settings.longest_token_life()
    }

    /// The revocation generation this node knows the database has reached.
    pub fn revocation_gen(&self) -> i64 {
        self.revocation_gen.load(Ordering::Acquire)
    }

    /// Notes that the database reached revocation generation `gen`.
    pub fn saw_revocation_gen(&self, generation: i64) {
        self.revocation_gen.fetch_max(generation, Ordering::AcqRel);
    }
}

/// The default issuer of a tenant.
pub fn default_issuer(public_url: &str, slug: &str) -> String {
    format!("{}/v1/tenants/{slug}", public_url.trim_end_matches('/'))
}

/// Builds a context from a tenant row, its usable keys, its revocation generation
/// and its clients.
pub fn build(
    row: &Tenant,
    keys: &[SigningKey],
    clients: &[Client],
    revocation_gen: i64,
    master: &MasterKey,
    public_url: &str,
) -> Result<TenantCtx> {
    let settings = row.settings()?;
    let issuer = settings
        .issuer
        .clone()
        .unwrap_or_else(|| default_issuer(public_url, &row.slug));
    let mut ring = KeyRing::new(TokenPolicy {
        refresh_audience: format!("{}/token", default_issuer(public_url, &row.slug)),
        issuer,
        audience: settings.audience.clone(),
        leeway: settings.leeway.max(0) as u64,
    });
    let mut jwks = Vec::new();
    let mut signer_chosen = false;
    let mut refresh_at: Option<i64> = None;
    let t = now();
    let phases = signing_key::phases(keys, t, settings.key_overlap());
    let mut soonest = |at: i64| refresh_at = Some(refresh_at.map_or(at, |r: i64| r.min(at)));
    for (key, phase) in keys.iter().zip(phases) {
        // A legacy key verifies kid-less tokens until its time, whatever its phase.
        let legacy_until = key.legacy_until.filter(|until| *until > t);
        if !phase.verifies() && legacy_until.is_none() {
            continue;
        }
        let material = key.material(master)?;
        if let Some(until) = legacy_until {
            ring.set_legacy(&material, until)?;
            soonest(until);
        }
        if !phase.verifies() {
            continue;
        }
        if let Some(at) = phase.changes_at() {
            soonest(at);
        }
        let active = phase == Phase::Active && !signer_chosen;
        signer_chosen |= active;
        ring.add(key.kid.as_str(), &material, active)?;
        if let Some(jwk) = &key.public_jwk {
            let value: serde_json::Value = serde_json::from_str(jwk)
                .map_err(|e| Error::Internal(format!("stored jwk of {}: {e}", key.kid)))?;
            jwks.push(value);
        }
    }
    Ok(TenantCtx {
        id: row.id.clone(),
        slug: row.slug.clone(),
        settings,
        ring,
        jwks: serde_json::json!({ "keys": jwks }).to_string(),
        refresh_at,
        revocation_gen: AtomicI64::new(revocation_gen),
        refilling: tokio::sync::Mutex::new(()),
        refills: AtomicU64::new(0),
        clients: clients
            .iter()
            .map(|c| (c.id.clone(), c.secret_hash.clone()))
            .collect(),
    })
}

/// Loads a tenant's context from Postgres.
pub fn load(
    conn: &mut Db,
    slug: &str,
    master: &MasterKey,
    public_url: &str,
) -> Result<Option<TenantCtx>> {
    let Some(row) = tenant::by_slug(conn, slug)? else {
        return Ok(None);
    };
    let keys = signing_key::usable(conn, &row.id)?;
    let clients = client::all(conn, &row.id)?;
    let generation = revocation::generations(conn, std::slice::from_ref(&row.id))?
        .first()
        .map_or(0, |(_, g)| *g);
    build(&row, &keys, &clients, generation, master, public_url).map(Some)
}

/// How long an unknown slug is remembered as unknown: a flood of random slugs costs
/// one database read per slug and node within this time, not one per request.
pub const MISS_TTL: Duration = Duration::from_secs(2);
/// Most unknown slugs remembered at once (the memory a flood can take).
const MAX_MISSES: usize = 10_000;
/// Loads of different slugs go on in parallel; loads of one slug wait for each other.
const LOAD_STRIPES: usize = 32;

/// The in-memory cache of tenant contexts, by slug. A context lives at most
/// `max_age` (so a node that missed a change notification still catches up within
/// it), unknown slugs are remembered for [`MISS_TTL`], and concurrent reloads of a
/// tenant this node serves load it once.
pub struct TenantCache {
    map: RwLock<HashMap<String, Cached>>,
    misses: RwLock<HashMap<String, Instant>>,
    generation: AtomicU64,
    max_age: Duration,
    loading: Vec<tokio::sync::Mutex<()>>,
}

/// A cached context, when it was loaded, and whether a change made it stale (it is
/// kept, so that its reload counts as one of a tenant this node serves).
struct Cached {
    ctx: Arc<TenantCtx>,
    loaded: Instant,
    stale: bool,
}

/// What the cache knows of a slug.
pub enum Lookup {
    /// A context, fresh enough to use.
    Found(Arc<TenantCtx>),
    /// Recently looked up and not found.
    Unknown,
    /// Not cached, or too old: load it.
    Load,
}

impl TenantCache {
    /// An empty cache whose contexts live at most `max_age`.
    pub fn new(max_age: Duration) -> Self {
        Self {
            map: RwLock::default(),
            misses: RwLock::default(),
            generation: AtomicU64::new(0),
            max_age,
            loading: (0..LOAD_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
        }
    }

    /// The cached context of `slug`, however old.
    pub fn get(&self, slug: &str) -> Option<Arc<TenantCtx>> {
        self.map.read().get(slug).map(|c| c.ctx.clone())
    }

    /// What the cache says of `slug` at `now` (Unix seconds) and `at` (monotonic).
    pub fn lookup(&self, slug: &str, now: i64, at: Instant) -> Lookup {
        if let Some(c) = self.map.read().get(slug)
            && !c.stale
            && c.ctx.refresh_at.is_none_or(|r| now < r)
            && at.duration_since(c.loaded) < self.max_age
        {
            return Lookup::Found(c.ctx.clone());
        }
        match self.misses.read().get(slug) {
            Some(since) if at.duration_since(*since) < MISS_TTL => Lookup::Unknown,
            _ => Lookup::Load,
        }
    }

    /// The lock that one slug's loads take (striped: a few slugs share one).
    pub fn load_lock(&self, slug: &str) -> &tokio::sync::Mutex<()> {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let h = BuildHasherDefault::<DefaultHasher>::default().hash_one(slug);
        &self.loading[h as usize % self.loading.len()]
    }

    /// A stamp to take before loading; [`TenantCache::insert`] ignores loads that an
    /// invalidation overtook.
    pub fn stamp(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Caches a freshly loaded context unless an invalidation came after `stamp`.
    pub fn insert(&self, ctx: Arc<TenantCtx>, stamp: u64) {
        let mut map = self.map.write();
        if self.generation.load(Ordering::Acquire) == stamp {
            let cached = Cached {
                ctx: ctx.clone(),
                loaded: Instant::now(),
                stale: false,
            };
            map.insert(ctx.slug.clone(), cached);
        }
    }

    /// Remembers that `slug` names no tenant (unless an invalidation came after
    /// `stamp`, e.g. the tenant was just created), and drops its stale context.
    pub fn insert_miss(&self, slug: &str, stamp: u64) {
        self.map.write().remove(slug);
        let mut misses = self.misses.write();
        if self.generation.load(Ordering::Acquire) != stamp {
            return;
        }
        if misses.len() >= MAX_MISSES {
            let now = Instant::now();
            misses.retain(|_, at| now.duration_since(*at) < MISS_TTL);
            if misses.len() >= MAX_MISSES {
                misses.clear();
            }
        }
        misses.insert(slug.to_owned(), Instant::now());
    }

    /// Every cached context.
    pub fn all(&self) -> Vec<Arc<TenantCtx>> {
        self.map.read().values().map(|c| c.ctx.clone()).collect()
    }

    /// Makes `slug` (or everything for `*`) stale, to be read again at its next
    /// use, and forgets it was unknown.
    pub fn invalidate(&self, slug: &str) {
        let mut map = self.map.write();
        let mut misses = self.misses.write();
        self.generation.fetch_add(1, Ordering::AcqRel);
        if slug == "*" {
            map.values_mut().for_each(|c| c.stale = true);
            misses.clear();
        } else {
            if let Some(c) = map.get_mut(slug) {
                c.stale = true;
            }
            misses.remove(slug);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_core::token::KeyRing;

    fn ctx(slug: &str, refresh_at: Option<i64>) -> Arc<TenantCtx> {
        Arc::new(TenantCtx {
            id: format!("ten_{slug}").into(),
            slug: slug.to_owned(),
            settings: TenantSettings::new(slug),
            ring: KeyRing::new(TokenPolicy {
                issuer: "https://i.test".into(),
                refresh_audience: "https://i.test/token".into(),
                audience: None,
                leeway: 0,
            }),
            jwks: String::new(),
            refresh_at,
            revocation_gen: AtomicI64::new(0),
            refilling: tokio::sync::Mutex::new(()),
            refills: AtomicU64::new(0),
            clients: HashMap::new(),
        })
    }

    fn found(l: Lookup) -> bool {
        matches!(l, Lookup::Found(_))
    }

    #[test]
    fn contexts_age_out_and_go_stale_on_a_change_but_stay_known() {
        let cache = TenantCache::new(Duration::from_secs(30));
        let t0 = Instant::now();
        cache.insert(ctx("acme", None), cache.stamp());
        assert!(found(cache.lookup("acme", 100, t0)));
        assert!(matches!(
            cache.lookup("acme", 100, t0 + Duration::from_secs(31)),
            Lookup::Load
        ));
        cache.invalidate("acme");
        assert!(matches!(cache.lookup("acme", 100, t0), Lookup::Load));
        assert!(
            cache.get("acme").is_some(),
            "a stale context still counts as known"
        );
        // A load that an invalidation overtook is not cached.
        let stamp = cache.stamp();
        cache.invalidate("acme");
        cache.insert(ctx("acme", None), stamp);
        assert!(matches!(cache.lookup("acme", 100, t0), Lookup::Load));
    }

    #[test]
    fn a_context_is_reloaded_when_time_alone_changes_it() {
        let cache = TenantCache::new(Duration::from_secs(30));
        let t0 = Instant::now();
        cache.insert(ctx("acme", Some(200)), cache.stamp());
        assert!(found(cache.lookup("acme", 199, t0)));
        assert!(matches!(cache.lookup("acme", 200, t0), Lookup::Load));
    }

    #[test]
    fn unknown_slugs_are_remembered_briefly_and_forgotten_on_a_change() {
        let cache = TenantCache::new(Duration::from_secs(30));
        cache.insert_miss("ghost", cache.stamp());
        assert!(matches!(
            cache.lookup("ghost", 0, Instant::now()),
            Lookup::Unknown
        ));
        assert!(matches!(
            cache.lookup("ghost", 0, Instant::now() + MISS_TTL),
            Lookup::Load
        ));
        cache.invalidate("ghost");
        assert!(matches!(
            cache.lookup("ghost", 0, Instant::now()),
            Lookup::Load
        ));
        // A miss stamped before a change (the tenant was just created) is not kept.
        let stamp = cache.stamp();
        cache.invalidate("new");
        cache.insert_miss("new", stamp);
        assert!(matches!(
            cache.lookup("new", 0, Instant::now()),
            Lookup::Load
        ));
    }
}
