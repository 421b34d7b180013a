//! Tenant contexts (settings + decrypted key ring + JWKS) and the in-memory cache of
//! them. A context is one `Arc`, swapped whole when the tenant changes; admin changes
//! are published over Redis so every node drops its copy within a second.
use diesel::PgConnection;
use parking_lot::RwLock;
use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};
use tessera_core::{
    Error, Result,
    master_key::MasterKey,
    settings::{SettingsPatch, TenantSettings},
    time::now,
    token::{KeyRing, TokenPolicy},
};
use tessera_store::models::{signing_key, signing_key::SigningKey, tenant, tenant::Tenant};

/// Everything a request needs to know about its tenant, ready to use.
#[derive(Debug)]
pub struct TenantCtx {
    /// Internal id; every query is scoped by it.
    pub id: String,
    /// Public slug.
    pub slug: String,
    /// Current settings.
    pub settings: TenantSettings,
    /// Keys: the signer and every kid that still verifies.
    pub ring: KeyRing,
    /// The JWKS document (public keys only), serialized once.
    pub jwks: String,
}

impl TenantCtx {
    /// The tenant's issuer (`iss`).
    pub fn issuer(&self) -> &str {
        &self.ring.policy().issuer
    }

    /// How long any token of this tenant can live: how long a cut-off must last.
    pub fn longest_token_life(&self) -> i64 {
        self.settings.longest_token_life()
    }
}

/// The default issuer of a tenant.
pub fn default_issuer(public_url: &str, slug: &str) -> String {
    format!("{}/v1/tenants/{slug}", public_url.trim_end_matches('/'))
}

/// Builds a context from a tenant row and its usable keys.
pub fn build(
    row: &Tenant,
    keys: &[SigningKey],
    master: &MasterKey,
    public_url: &str,
) -> Result<TenantCtx> {
    let settings = row.settings()?;
    let issuer = settings
        .issuer
        .clone()
        .unwrap_or_else(|| default_issuer(public_url, &row.slug));
    let mut ring = KeyRing::new(TokenPolicy {
        issuer,
        audience: settings.audience.clone(),
        leeway: settings.leeway.max(0) as u64,
    });
    let mut jwks = Vec::new();
    let mut signer_chosen = false;
    for key in keys {
        let material = key.material(master)?;
        let active = key.status == signing_key::ACTIVE && !signer_chosen;
        signer_chosen |= active;
        ring.add(&key.kid, &material, active)?;
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
    })
}

/// Loads a tenant's context from Postgres.
pub fn load(
    conn: &mut PgConnection,
    slug: &str,
    master: &MasterKey,
    public_url: &str,
) -> Result<Option<TenantCtx>> {
    let Some(row) = tenant::by_slug(conn, slug)? else {
        return Ok(None);
    };
    let keys = signing_key::usable(conn, &row.id)?;
    build(&row, &keys, master, public_url).map(Some)
}

/// Creates a tenant and its first signing key in one transaction.
pub fn create(
    conn: &mut PgConnection,
    slug: &str,
    settings: &TenantSettings,
    master: &MasterKey,
) -> Result<Tenant> {
    let row = Tenant::new(slug, settings);
    let key = SigningKey::generate(&row.id, settings.algorithm, master)?;
    tessera_store::transaction(conn, |c| {
        tenant::insert(c, &row)?;
        signing_key::insert(c, &key)?;
        Ok(())
    })?;
    Ok(row)
}

/// Applies a settings patch to a tenant visible to `scope`. A change of algorithm
/// rotates to a new key of that algorithm; the old key keeps verifying until every
/// token it signed has expired.
pub fn update(
    conn: &mut PgConnection,
    slug: &str,
    scope: Option<&str>,
    patch: SettingsPatch,
    master: &MasterKey,
) -> Result<Tenant> {
    let mut row = visible(conn, slug, scope)?;
    let mut settings = row.settings()?;
    let old_alg = settings.algorithm;
    let old_life = settings.longest_token_life();
    settings.apply(patch)?;
    row.set_settings(&settings);
    row.updated_at = now();
    let new_key = (settings.algorithm != old_alg)
        .then(|| SigningKey::generate(&row.id, settings.algorithm, master))
        .transpose()?;
    tessera_store::transaction(conn, |c| {
        tenant::update(c, &row)?;
        if let Some(key) = &new_key {
            signing_key::retire_active(c, &row.id, now() + old_life)?;
            signing_key::insert(c, key)?;
        }
        Ok(())
    })?;
    Ok(row)
}

/// The tenant `slug` if `scope` (a scoped admin key's tenant id) may see it; an
/// invisible tenant answers exactly like a missing one.
pub fn visible(conn: &mut PgConnection, slug: &str, scope: Option<&str>) -> Result<Tenant> {
    tenant::by_slug(conn, slug)?
        .filter(|t| scope.is_none_or(|s| s == t.id))
        .ok_or(Error::TenantNotFound)
}

/// The in-memory cache of tenant contexts, by slug.
#[derive(Default)]
pub struct TenantCache {
    map: RwLock<HashMap<String, Arc<TenantCtx>>>,
    generation: AtomicU64,
}

impl TenantCache {
    /// The cached context of `slug`.
    pub fn get(&self, slug: &str) -> Option<Arc<TenantCtx>> {
        self.map.read().get(slug).cloned()
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
            map.insert(ctx.slug.clone(), ctx);
        }
    }

    /// Drops `slug` (or everything for `*`).
    pub fn invalidate(&self, slug: &str) {
        let mut map = self.map.write();
        self.generation.fetch_add(1, Ordering::AcqRel);
        if slug == "*" {
            map.clear();
        } else {
            map.remove(slug);
        }
    }
}
