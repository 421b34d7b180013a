//! `admin_api_keys`: operator keys, stored only as SHA-256 of their secret.
use diesel::prelude::*;
use tessera_core::{
    Result,
    ids::{ApiKeyId, TenantId},
    time::now,
};

use crate::{Db, DbResultExt, schema::admin_api_keys};

/// An admin API key row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = admin_api_keys)]
pub struct ApiKey {
    /// Public id (`ak_…`).
    pub id: ApiKeyId,
    /// Operator's label.
    pub name: String,
    /// The one tenant a scoped key may touch; none for a platform key.
    pub tenant_id: Option<TenantId>,
    /// Hex SHA-256 of the secret.
    pub key_hash: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of last use.
    pub last_used_at: Option<i64>,
}

impl ApiKey {
    /// A new row for a secret's hash.
    pub fn new(id: ApiKeyId, name: &str, tenant_id: Option<TenantId>, key_hash: String) -> Self {
        Self {
            id,
            name: name.to_owned(),
            tenant_id,
            key_hash,
            created_at: now(),
            last_used_at: None,
        }
    }
}

/// Inserts a key.
pub fn insert(conn: &mut Db, row: &ApiKey) -> Result<()> {
    diesel::insert_into(admin_api_keys::table)
        .values(row)
        .execute(conn)
        .db()?;
    Ok(())
}

/// The key whose secret hashes to `key_hash`. The lookup is by hash, so timing
/// reveals nothing about any secret.
pub fn by_hash(conn: &mut Db, key_hash: &str) -> Result<Option<ApiKey>> {
    admin_api_keys::table
        .filter(admin_api_keys::key_hash.eq(key_hash))
        .select(ApiKey::as_select())
        .first(conn)
        .optional()
        .db()
}

/// Records that a key was used now, at most once a minute (admin calls stay cheap).
pub fn touch(conn: &mut Db, id: &ApiKeyId, at: i64) -> Result<()> {
    diesel::update(
        admin_api_keys::table
            .filter(admin_api_keys::id.eq(id))
            .filter(
                admin_api_keys::last_used_at
                    .is_null()
                    .or(admin_api_keys::last_used_at.lt(at - 60)),
            ),
    )
    .set(admin_api_keys::last_used_at.eq(at))
    .execute(conn)
    .db()?;
    Ok(())
}

/// Keys in creation order after the cursor `after` (a key id), with the slug of a
/// scoped key's tenant.
pub fn list(
    conn: &mut Db,
    after: Option<&ApiKeyId>,
    limit: i64,
) -> Result<Vec<(ApiKey, Option<String>)>> {
    use crate::schema::tenants;
    let mut q = admin_api_keys::table
        .left_join(tenants::table)
        .select((ApiKey::as_select(), tenants::slug.nullable()))
        .order(admin_api_keys::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(admin_api_keys::id.gt(a.clone()));
    }
    q.load(conn).db()
}

/// The key with this id.
pub fn by_id(conn: &mut Db, id: &ApiKeyId) -> Result<Option<ApiKey>> {
    admin_api_keys::table
        .find(id)
        .select(ApiKey::as_select())
        .first(conn)
        .optional()
        .db()
}

/// Deletes a key; returns whether it existed.
pub fn delete(conn: &mut Db, id: &ApiKeyId) -> Result<bool> {
    Ok(diesel::delete(admin_api_keys::table.find(id))
        .execute(conn)
        .db()?
        > 0)
}
