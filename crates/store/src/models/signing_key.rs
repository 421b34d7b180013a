//! `signing_keys`: a tenant's keys, private material encrypted under the master key.
use diesel::prelude::*;
use tessera_core::{
    Result,
    algorithm::SigningAlgorithm,
    ids::{Kid, TenantId},
    key_lifecycle::{self, KeyOrigin, KeyStatus, Phase, StoredKey},
    key_material::KeyMaterial,
    master_key::MasterKey,
    time::now,
};

use crate::{Db, DbResultExt, schema::signing_keys};

/// A signing key row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
pub struct SigningKey {
    /// Key id (`key_…`), the JWS `kid`.
    pub kid: Kid,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// JWS algorithm.
    pub algorithm: SigningAlgorithm,
    /// Public JWK as JSON text; none for HS secrets.
    pub public_jwk: Option<String>,
    /// base64(nonce ‖ AES-256-GCM ciphertext) of the private material.
    pub private_key_enc: String,
    /// The stored status; what the key does now is [`SigningKey::stored`]'s phase.
    pub status: KeyStatus,
    /// Unix seconds.
    pub created_at: i64,
    /// When it started signing.
    pub activated_at: Option<i64>,
    /// For a retiring key: verifies until then.
    pub not_after: Option<i64>,
    /// Made by Tessera or brought by an operator.
    pub origin: KeyOrigin,
    /// For a legacy key (brought from a system whose tokens carry no `kid`): until
    /// when it also verifies those kid-less tokens.
    pub legacy_until: Option<i64>,
}

impl SigningKey {
    /// Generates a new active key of `alg` for a tenant, sealed with the master key.
    pub fn generate(
        tenant_id: &TenantId,
        alg: SigningAlgorithm,
        master: &MasterKey,
    ) -> Result<Self> {
        Self::seal(
            tenant_id,
            &KeyMaterial::generate(alg)?,
            KeyOrigin::Generated,
            master,
        )
    }

    /// A new active key row holding `material`, sealed with the master key.
    pub fn seal(
        tenant_id: &TenantId,
        material: &KeyMaterial,
        origin: KeyOrigin,
        master: &MasterKey,
    ) -> Result<Self> {
        let alg = material.algorithm;
        let kid = Kid::generate();
        let public_jwk = material
            .public_jwk(kid.as_str())?
            .map(|j| serde_json::to_string(&j))
            .transpose()
            .map_err(|e| tessera_core::Error::Failed {
                what: "jwk",
                source: Box::new(e),
            })?;
        let t = now();
        Ok(Self {
            private_key_enc: master.seal(kid.as_str(), material.as_bytes())?,
            kid,
            tenant_id: tenant_id.clone(),
            algorithm: alg,
            public_jwk,
            status: KeyStatus::Active,
            created_at: t,
            activated_at: Some(t),
            not_after: None,
            origin,
            legacy_until: None,
        })
    }

    /// Decrypts the private material.
    pub fn material(&self, master: &MasterKey) -> Result<KeyMaterial> {
        KeyMaterial::from_bytes(
            self.algorithm,
            master.open(self.kid.as_str(), &self.private_key_enc)?,
        )
    }

    /// What the lifecycle rules need of the row.
    pub fn stored(&self) -> StoredKey {
        StoredKey {
            status: self.status,
            activated_at: self.activated_at,
            not_after: self.not_after,
        }
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
/// inside their window, and a legacy key inside its own; newest first (kids are
/// time-ordered, so they break ties). What each does at a given moment is
/// [`phases`]' answer.
pub fn usable(conn: &mut Db, tenant_id: &TenantId) -> Result<Vec<SigningKey>> {
    let t = now();
    signing_keys::table
        .filter(signing_keys::tenant_id.eq(tenant_id))
        .filter(
            signing_keys::status
                .eq_any([KeyStatus::Active, KeyStatus::Next])
                .or(signing_keys::status
                    .eq(KeyStatus::Retiring)
                    .and(signing_keys::not_after.gt(t)))
                .or(signing_keys::legacy_until.gt(t)),
        )
        .order((signing_keys::created_at.desc(), signing_keys::kid.desc()))
        .select(SigningKey::as_select())
        .load(conn)
        .db()
}

/// Turns the tenant's active keys into retiring keys that verify until `not_after`.
pub fn retire_active(conn: &mut Db, tenant_id: &TenantId, not_after: i64) -> Result<usize> {
    diesel::update(
        signing_keys::table
            .filter(signing_keys::tenant_id.eq(tenant_id))
            .filter(signing_keys::status.eq(KeyStatus::Active)),
    )
    .set((
        signing_keys::status.eq(KeyStatus::Retiring),
        signing_keys::not_after.eq(not_after),
    ))
    .execute(conn)
    .db()
}

/// The phase of each of these keys (one tenant's) at `now`, by the rules of
/// [`key_lifecycle::lifecycle`].
pub fn phases(keys: &[SigningKey], now: i64, overlap: i64) -> Vec<Phase> {
    let stored: Vec<StoredKey> = keys.iter().map(SigningKey::stored).collect();
    key_lifecycle::lifecycle(&stored, now, overlap)
}

/// Brings the stored statuses of a tenant's keys up to `now`: a next key whose time
/// has come becomes active (the key it replaces retires for `overlap`), and retiring
/// keys whose window closed become retired (the stored side of
/// [`key_lifecycle::lifecycle`]). Safe to run on every node at once: each
/// update is conditional, so a second runner changes nothing. Returns whether
/// anything changed.
pub fn catch_up(conn: &mut Db, tenant_id: &TenantId, now: i64, overlap: i64) -> Result<bool> {
    let due: Option<(Kid, Option<i64>)> = signing_keys::table
        .filter(signing_keys::tenant_id.eq(tenant_id))
        .filter(signing_keys::status.eq(KeyStatus::Next))
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
                .filter(signing_keys::status.eq(KeyStatus::Active))
                .filter(signing_keys::kid.ne(&kid)),
        )
        .set((
            signing_keys::status.eq(KeyStatus::Retiring),
            signing_keys::not_after.eq(at + overlap),
        ))
        .execute(conn)
        .db()?;
        changed += diesel::update(
            signing_keys::table
                .filter(signing_keys::kid.eq(&kid))
                .filter(signing_keys::status.eq(KeyStatus::Next)),
        )
        .set(signing_keys::status.eq(KeyStatus::Active))
        .execute(conn)
        .db()?;
    }
    changed += diesel::update(
        signing_keys::table
            .filter(signing_keys::tenant_id.eq(tenant_id))
            .filter(signing_keys::status.eq(KeyStatus::Retiring))
            .filter(signing_keys::not_after.le(now)),
    )
    .set(signing_keys::status.eq(KeyStatus::Retired))
    .execute(conn)
    .db()?;
    Ok(changed > 0)
}

/// The tenant's keys, newest first, older than the cursor `before` (a kid).
pub fn list(
    conn: &mut Db,
    tenant_id: &TenantId,
    before: Option<&Kid>,
    limit: i64,
) -> Result<Vec<SigningKey>> {
    let mut q = signing_keys::table
        .filter(signing_keys::tenant_id.eq(tenant_id.clone()))
        .select(SigningKey::as_select())
        .order(signing_keys::kid.desc())
        .limit(limit)
        .into_boxed();
    if let Some(b) = before {
        q = q.filter(signing_keys::kid.lt(b.clone()));
    }
    q.load(conn).db()
}

/// The tenant's key `kid`.
pub fn by_kid(conn: &mut Db, tenant_id: &TenantId, kid: &Kid) -> Result<Option<SigningKey>> {
    signing_keys::table
        .filter(signing_keys::tenant_id.eq(tenant_id))
        .filter(signing_keys::kid.eq(kid))
        .select(SigningKey::as_select())
        .first(conn)
        .optional()
        .db()
}

/// The tenant's key with `status`, if any (there is at most one next and one active).
pub fn with_status(
    conn: &mut Db,
    tenant_id: &TenantId,
    status: KeyStatus,
) -> Result<Option<SigningKey>> {
    signing_keys::table
        .filter(signing_keys::tenant_id.eq(tenant_id))
        .filter(signing_keys::status.eq(status))
        .select(SigningKey::as_select())
        .first(conn)
        .optional()
        .db()
}

/// Retires the tenant's key `kid` now: it neither signs nor verifies any more, not
/// even the kid-less tokens of a legacy key.
pub fn retire(conn: &mut Db, tenant_id: &TenantId, kid: &Kid, now: i64) -> Result<bool> {
    let n = diesel::update(
        signing_keys::table
            .filter(signing_keys::tenant_id.eq(tenant_id))
            .filter(signing_keys::kid.eq(kid))
            .filter(
                signing_keys::status
                    .ne(KeyStatus::Retired)
                    .or(signing_keys::legacy_until.is_not_null()),
            ),
    )
    .set((
        signing_keys::status.eq(KeyStatus::Retired),
        signing_keys::not_after.eq(now),
        signing_keys::legacy_until.eq(None::<i64>),
    ))
    .execute(conn)
    .db()?;
    Ok(n > 0)
}

/// Makes `kid` the tenant's legacy key until `until` (the only one: any other
/// loses the role).
pub fn make_legacy(conn: &mut Db, tenant_id: &TenantId, kid: &Kid, until: i64) -> Result<()> {
    diesel::update(signing_keys::table.filter(signing_keys::tenant_id.eq(tenant_id)))
        .set(signing_keys::legacy_until.eq(None::<i64>))
        .execute(conn)
        .db()?;
    diesel::update(signing_keys::table.find(kid))
        .set(signing_keys::legacy_until.eq(until))
        .execute(conn)
        .db()?;
    Ok(())
}

/// Makes the tenant's next key the active one now; the active key retires for
/// `overlap`. Returns the promoted kid, or `None` when there is no next key.
pub fn promote_next(
    conn: &mut Db,
    tenant_id: &TenantId,
    now: i64,
    overlap: i64,
) -> Result<Option<Kid>> {
    let Some(next) = with_status(conn, tenant_id, KeyStatus::Next)? else {
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
pub fn active_everywhere(conn: &mut Db) -> Result<Vec<(String, Kid, i64)>> {
    use crate::schema::tenants;
    let rows: Vec<(String, Kid, Option<i64>, i64)> = signing_keys::table
        .inner_join(tenants::table)
        .filter(signing_keys::status.eq(KeyStatus::Active))
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
