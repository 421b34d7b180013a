//! `signing_keys`: a tenant's keys, private material encrypted under the master key.
use diesel::prelude::*;
use tessera_core::{
    Result, algorithm::SigningAlgorithm, key_material::KeyMaterial, master_key::MasterKey,
    time::now,
};

use crate::{Db, DbResultExt, schema::signing_keys};

/// Status of a key published ahead of its turn: it signs from `activated_at`.
pub const NEXT: &str = "next";
/// Status of a key that signs new tokens.
pub const ACTIVE: &str = "active";
/// Status of a key that only verifies until `not_after`.
pub const RETIRING: &str = "retiring";
/// Status of a key that does nothing any more.
pub const RETIRED: &str = "retired";

/// A signing key row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
pub struct SigningKey {
    /// Key id (`key_…`), the JWS `kid`.
    pub kid: String,
    /// Owning tenant.
    pub tenant_id: String,
    /// JWS algorithm name.
    pub algorithm: String,
    /// Public JWK as JSON text; none for HS secrets.
    pub public_jwk: Option<String>,
    /// base64(nonce ‖ AES-256-GCM ciphertext) of the private material.
    pub private_key_enc: String,
    /// active / retiring / retired.
    pub status: String,
    /// Unix seconds.
    pub created_at: i64,
    /// When it started signing.
    pub activated_at: Option<i64>,
    /// For a retiring key: verifies until then.
    pub not_after: Option<i64>,
    /// [`GENERATED`] or [`IMPORTED`].
    pub origin: String,
}

/// Origin of a key Tessera made.
pub const GENERATED: &str = "generated";
/// Origin of a key an operator brought.
pub const IMPORTED: &str = "imported";

impl SigningKey {
    /// Generates a new active key of `alg` for a tenant, sealed with the master key.
    pub fn generate(tenant_id: &str, alg: SigningAlgorithm, master: &MasterKey) -> Result<Self> {
        Self::seal(tenant_id, &KeyMaterial::generate(alg)?, GENERATED, master)
    }

    /// A new active key row holding `material`, sealed with the master key.
    pub fn seal(
        tenant_id: &str,
        material: &KeyMaterial,
        origin: &str,
        master: &MasterKey,
    ) -> Result<Self> {
        let alg = material.algorithm;
        let kid = tessera_core::ids::key_id();
        let public_jwk = material
            .public_jwk(&kid)?
            .map(|j| serde_json::to_string(&j))
            .transpose()
            .map_err(|e| tessera_core::Error::Failed {
                what: "jwk",
                source: Box::new(e),
            })?;
        let t = now();
        Ok(Self {
            private_key_enc: master.seal(&kid, material.as_bytes())?,
            kid,
            tenant_id: tenant_id.to_owned(),
            algorithm: alg.as_str().to_owned(),
            public_jwk,
            status: ACTIVE.to_owned(),
            created_at: t,
            activated_at: Some(t),
            not_after: None,
            origin: origin.to_owned(),
        })
    }

    /// Decrypts the private material.
    pub fn material(&self, master: &MasterKey) -> Result<KeyMaterial> {
        let alg: SigningAlgorithm = self
            .algorithm
            .parse()
            .map_err(|e: String| tessera_core::Error::Internal(e))?;
        KeyMaterial::from_bytes(alg, master.open(&self.kid, &self.private_key_enc)?)
    }
}

/// Inserts a key.
pub fn insert(conn: &mut Db, row: &SigningKey) -> Result<()> {
    diesel::insert_into(signing_keys::table)
        .values(row)
        .execute(conn)
        .db()?;
    Ok(())
}

/// The tenant's keys that may still verify now: next, active, and retiring ones
/// inside their window, newest first (kids are time-ordered, so they break ties).
/// What each does at a given moment is [`lifecycle`]'s answer.
pub fn usable(conn: &mut Db, tenant_id: &str) -> Result<Vec<SigningKey>> {
    let t = now();
    signing_keys::table
        .filter(signing_keys::tenant_id.eq(tenant_id))
        .filter(
            signing_keys::status
                .eq_any([ACTIVE, NEXT])
                .or(signing_keys::status
                    .eq(RETIRING)
                    .and(signing_keys::not_after.gt(t))),
        )
        .order((signing_keys::created_at.desc(), signing_keys::kid.desc()))
        .select(SigningKey::as_select())
        .load(conn)
        .db()
}

/// Turns the tenant's active keys into retiring keys that verify until `not_after`.
pub fn retire_active(conn: &mut Db, tenant_id: &str, not_after: i64) -> Result<usize> {
    diesel::update(
        signing_keys::table
            .filter(signing_keys::tenant_id.eq(tenant_id))
            .filter(signing_keys::status.eq(ACTIVE)),
    )
    .set((
        signing_keys::status.eq(RETIRING),
        signing_keys::not_after.eq(not_after),
    ))
    .execute(conn)
    .db()
}

/// What a key does at a given moment. Time moves keys along (a next key starts
/// signing, a retiring key's window closes) before the stored status catches up in
/// [`catch_up`], so every reader asks [`lifecycle`] rather than the column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Published in the JWKS; signs from `activates_at`.
    Next {
        /// Unix seconds.
        activates_at: i64,
    },
    /// Signs new tokens.
    Active,
    /// Only verifies, until `until`.
    Retiring {
        /// Unix seconds.
        until: i64,
    },
    /// Neither signs nor verifies.
    Retired,
}

impl Phase {
    /// The status name the API shows.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Next { .. } => NEXT,
            Phase::Active => ACTIVE,
            Phase::Retiring { .. } => RETIRING,
            Phase::Retired => RETIRED,
        }
    }

    /// Whether tokens signed by the key still verify (and it is in the JWKS).
    pub fn verifies(self) -> bool {
        self != Phase::Retired
    }
}

fn retiring_until(until: i64, now: i64) -> Phase {
    if until > now {
        Phase::Retiring { until }
    } else {
        Phase::Retired
    }
}

/// The phase of each of a tenant's keys at `now`; `overlap` is how long a key keeps
/// verifying after it stops signing (the longest life of a token it signed).
pub fn lifecycle(keys: &[SigningKey], now: i64, overlap: i64) -> Vec<Phase> {
    let took_over = keys
        .iter()
        .filter(|k| k.status == NEXT)
        .filter_map(|k| k.activated_at)
        .filter(|&at| at <= now)
        .max();
    keys.iter()
        .map(|k| match k.status.as_str() {
            NEXT => match k.activated_at {
                Some(at) if at > now => Phase::Next { activates_at: at },
                _ => Phase::Active,
            },
            ACTIVE => took_over.map_or(Phase::Active, |at| retiring_until(at + overlap, now)),
            RETIRING => retiring_until(k.not_after.unwrap_or(0), now),
            _ => Phase::Retired,
        })
        .collect()
}

/// Brings the stored statuses of a tenant's keys up to `now`: a next key whose time
/// has come becomes active (the key it replaces retires for `overlap`), and retiring
/// keys whose window closed become retired. Safe to run on every node at once: each
/// update is conditional, so a second runner changes nothing. Returns whether
/// anything changed.
pub fn catch_up(conn: &mut Db, tenant_id: &str, now: i64, overlap: i64) -> Result<bool> {
    let due: Option<(String, Option<i64>)> = signing_keys::table
        .filter(signing_keys::tenant_id.eq(tenant_id))
        .filter(signing_keys::status.eq(NEXT))
        .filter(signing_keys::activated_at.le(now))
        .select((signing_keys::kid, signing_keys::activated_at))
        .first(conn)
        .optional()
        .db()?;
    let mut changed = 0;
    if let Some((kid, at)) = due {
        let at = at.unwrap_or(now);
        changed += diesel::update(
            signing_keys::table
                .filter(signing_keys::tenant_id.eq(tenant_id))
                .filter(signing_keys::status.eq(ACTIVE))
                .filter(signing_keys::kid.ne(&kid)),
        )
        .set((
            signing_keys::status.eq(RETIRING),
            signing_keys::not_after.eq(at + overlap),
        ))
        .execute(conn)
        .db()?;
        changed += diesel::update(
            signing_keys::table
                .filter(signing_keys::kid.eq(&kid))
                .filter(signing_keys::status.eq(NEXT)),
        )
        .set(signing_keys::status.eq(ACTIVE))
        .execute(conn)
        .db()?;
    }
    changed += diesel::update(
        signing_keys::table
            .filter(signing_keys::tenant_id.eq(tenant_id))
            .filter(signing_keys::status.eq(RETIRING))
            .filter(signing_keys::not_after.le(now)),
    )
    .set(signing_keys::status.eq(RETIRED))
    .execute(conn)
    .db()?;
    Ok(changed > 0)
}

/// The tenant's keys, newest first, older than the cursor `before` (a kid).
pub fn list(
    conn: &mut Db,
    tenant_id: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<SigningKey>> {
    let mut q = signing_keys::table
        .filter(signing_keys::tenant_id.eq(tenant_id.to_owned()))
        .select(SigningKey::as_select())
        .order(signing_keys::kid.desc())
        .limit(limit)
        .into_boxed();
    if let Some(b) = before {
        q = q.filter(signing_keys::kid.lt(b.to_owned()));
    }
    q.load(conn).db()
}

/// The tenant's key `kid`.
pub fn by_kid(conn: &mut Db, tenant_id: &str, kid: &str) -> Result<Option<SigningKey>> {
    signing_keys::table
        .filter(signing_keys::tenant_id.eq(tenant_id))
        .filter(signing_keys::kid.eq(kid))
        .select(SigningKey::as_select())
        .first(conn)
        .optional()
        .db()
}

/// The tenant's key with `status`, if any (there is at most one next and one active).
pub fn with_status(conn: &mut Db, tenant_id: &str, status: &str) -> Result<Option<SigningKey>> {
    signing_keys::table
        .filter(signing_keys::tenant_id.eq(tenant_id))
        .filter(signing_keys::status.eq(status))
        .select(SigningKey::as_select())
        .first(conn)
        .optional()
        .db()
}

/// Retires the tenant's key `kid` now: it neither signs nor verifies any more.
pub fn retire(conn: &mut Db, tenant_id: &str, kid: &str, now: i64) -> Result<bool> {
    let n = diesel::update(
        signing_keys::table
            .filter(signing_keys::tenant_id.eq(tenant_id))
            .filter(signing_keys::kid.eq(kid))
            .filter(signing_keys::status.ne(RETIRED)),
    )
    .set((
        signing_keys::status.eq(RETIRED),
        signing_keys::not_after.eq(now),
    ))
    .execute(conn)
    .db()?;
    Ok(n > 0)
}

/// Makes the tenant's next key the active one now; the active key retires for
/// `overlap`. Returns the promoted kid, or `None` when there is no next key.
pub fn promote_next(
    conn: &mut Db,
    tenant_id: &str,
    now: i64,
    overlap: i64,
) -> Result<Option<String>> {
    let Some(next) = with_status(conn, tenant_id, NEXT)? else {
        return Ok(None);
    };
    diesel::update(signing_keys::table.find(&next.kid))
        .set(signing_keys::activated_at.eq(now))
        .execute(conn)
        .db()?;
    catch_up(conn, tenant_id, now, overlap)?;
    Ok(Some(next.kid))
}

/// Every tenant's active key as (tenant slug, kid, since when it signs): for the
/// signing-key age metric, across tenants by design.
pub fn active_everywhere(conn: &mut Db) -> Result<Vec<(String, String, i64)>> {
    use crate::schema::tenants;
    let rows: Vec<(String, String, Option<i64>, i64)> = signing_keys::table
        .inner_join(tenants::table)
        .filter(signing_keys::status.eq(ACTIVE))
        .select((
            tenants::slug,
            signing_keys::kid,
            signing_keys::activated_at,
            signing_keys::created_at,
        ))
        .order((tenants::slug.asc(), signing_keys::kid.asc()))
        .load(conn)
        .db()?;
    Ok(rows
        .into_iter()
        .map(|(slug, kid, activated, created)| (slug, kid, activated.unwrap_or(created)))
        .collect())
}
