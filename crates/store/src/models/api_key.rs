//! `admin_api_keys`: operator keys, stored only as SHA-256 of their secret.
use diesel::prelude::*;
use tessera_core::{Result, time::now};

use crate::{DbResultExt, schema::admin_api_keys};

/// An admin API key row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = admin_api_keys)]
pub struct ApiKey {
    /// Public id (`ak_…`).
    pub id: String,
    /// Operator's label.
    pub name: String,
    /// The one tenant a scoped key may touch; none for a platform key.
    pub tenant_id: Option<String>,
    /// Hex SHA-256 of the secret.
    pub key_hash: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of last use.
    pub last_used_at: Option<i64>,
}

impl ApiKey {
    /// A new row for a secret's hash.
    pub fn new(id: String, name: &str, tenant_id: Option<String>, key_hash: String) -> Self {
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
pub fn insert(conn: &mut PgConnection, row: &ApiKey) -> Result<()> {
    diesel::insert_into(admin_api_keys::table)
        .values(row)
        .execute(conn)
        .db()?;
    Ok(())
}

/// The key whose secret hashes to `key_hash`. The lookup is by hash, so timing
/// reveals nothing about any secret.
pub fn by_hash(conn: &mut PgConnection, key_hash: &str) -> Result<Option<ApiKey>> {
    admin_api_keys::table
        .filter(admin_api_keys::key_hash.eq(key_hash))
        .select(ApiKey::as_select())
        .first(conn)
        .optional()
        .db()
}
