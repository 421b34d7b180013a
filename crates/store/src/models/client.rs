//! `clients`: a tenant's resource-server clients, stored only as the SHA-256 of their
//! secret. Every query is scoped by tenant id.
use diesel::prelude::*;
use tessera_core::{
    Result,
    ids::{ClientId, TenantId},
    time::now,
};

use crate::{Db, DbResultExt, schema::clients};

/// A client row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clients)]
pub struct Client {
    /// Public id (`cli_…`), the HTTP Basic user name.
    pub id: ClientId,
    /// Owning tenant: the only one it may ask about.
    pub tenant_id: TenantId,
    /// Operator's label.
    pub name: String,
    /// Hex SHA-256 of the secret.
    pub secret_hash: String,
    /// Unix seconds.
    pub created_at: i64,
}

impl Client {
    /// A new client of a tenant for a secret's hash.
    pub fn new(tenant_id: &TenantId, name: &str, secret_hash: String) -> Self {
        Self {
            id: ClientId::generate(),
            tenant_id: tenant_id.clone(),
            name: name.to_owned(),
            secret_hash,
            created_at: now(),
        }
    }
}

/// Inserts a client.
pub fn insert(conn: &mut Db, row: &Client) -> Result<()> {
    diesel::insert_into(clients::table)
        .values(row)
        .execute(conn)
        .db()?;
    Ok(())
}

/// Every client of a tenant (what a node keeps in the tenant's context).
pub fn all(conn: &mut Db, tenant_id: &TenantId) -> Result<Vec<Client>> {
    clients::table
        .filter(clients::tenant_id.eq(tenant_id))
        .order(clients::id)
        .select(Client::as_select())
        .load(conn)
        .db()
}

/// One page of a tenant's clients after the cursor `after`, oldest first.
pub fn list(
    conn: &mut Db,
    tenant_id: &TenantId,
    after: Option<&ClientId>,
    limit: i64,
) -> Result<Vec<Client>> {
    let mut q = clients::table
        .filter(clients::tenant_id.eq(tenant_id))
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(clients::id.gt(a));
    }
    q.order(clients::id)
        .limit(limit)
        .select(Client::as_select())
        .load(conn)
        .db()
}

/// Deletes a tenant's client; returns it if it existed.
pub fn delete(conn: &mut Db, tenant_id: &TenantId, id: &ClientId) -> Result<Option<Client>> {
    let found = clients::table
        .filter(clients::tenant_id.eq(tenant_id))
        .filter(clients::id.eq(id))
        .select(Client::as_select())
        .first(conn)
        .optional()
        .db()?;
    if found.is_some() {
        diesel::delete(
            clients::table
                .filter(clients::tenant_id.eq(tenant_id))
                .filter(clients::id.eq(id)),
        )
        .execute(conn)
        .db()?;
    }
    Ok(found)
}
