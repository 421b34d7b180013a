//! `signing_keys`: a tenant's keys, private material encrypted under the master key.
use diesel::prelude::*;
use tessera_core::{
    Result, algorithm::SigningAlgorithm, keys::KeyMaterial, master_key::MasterKey, time::now,
};

use crate::{DbResultExt, schema::signing_keys};

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
}

impl SigningKey {
    /// Generates a new active key of `alg` for a tenant, sealed with the master key.
    pub fn generate(tenant_id: &str, alg: SigningAlgorithm, master: &MasterKey) -> Result<Self> {
        let material = KeyMaterial::generate(alg)?;
        let kid = tessera_core::ids::key_id();
        let public_jwk = material
            .public_jwk(&kid)?
            .map(|j| serde_json::to_string(&j))
            .transpose()
            .map_err(|e| tessera_core::Error::Internal(format!("jwk: {e}")))?;
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
pub fn insert(conn: &mut PgConnection, row: &SigningKey) -> Result<()> {
    diesel::insert_into(signing_keys::table)
        .values(row)
        .execute(conn)
        .db()?;
    Ok(())
}

/// The tenant's keys that still verify now: active ones and retiring ones inside
/// their window, newest first (kids are time-ordered, so they break ties).
pub fn usable(conn: &mut PgConnection, tenant_id: &str) -> Result<Vec<SigningKey>> {
    let t = now();
    signing_keys::table
        .filter(signing_keys::tenant_id.eq(tenant_id))
        .filter(
            signing_keys::status.eq(ACTIVE).or(signing_keys::status
                .eq(RETIRING)
                .and(signing_keys::not_after.gt(t))),
        )
        .order((signing_keys::created_at.desc(), signing_keys::kid.desc()))
        .select(SigningKey::as_select())
        .load(conn)
        .db()
}

/// Turns the tenant's active keys into retiring keys that verify until `not_after`.
pub fn retire_active(conn: &mut PgConnection, tenant_id: &str, not_after: i64) -> Result<usize> {
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
