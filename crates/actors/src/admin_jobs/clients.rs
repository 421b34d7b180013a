//! A tenant's resource-server clients over one connection: create (the secret is
//! returned this once, only its SHA-256 is stored), list and delete, each change
//! audited in its transaction.
use serde_json::json;
use tessera_core::{Error, Result, admin_key, ids::ClientId};
use tessera_store::Db;
use tessera_store::models::{
    audit::{self, AuditEvent},
    client::{self, Client},
    tenant::Tenant,
};

use crate::admin_jobs::api_keys::MAX_NAME;

/// Creates a client of the tenant; returns the row and its secret.
pub fn create(conn: &mut Db, row: &Tenant, name: &str, actor: &str) -> Result<(Client, String)> {
    let name = name.trim();
    if !tessera_core::password::has_visible(name)
        || tessera_core::password::has_control(name)
        || name.chars().count() > MAX_NAME
    {
        return Err(Error::field(
            "name",
            format!("must be 1 to {MAX_NAME} characters, without control characters"),
        ));
    }
    let secret = admin_key::generate_client_secret();
    let new = Client::new(&row.id, name, admin_key::hash_secret(&secret));
    tessera_store::transaction(conn, |c| {
        client::insert(c, &new)?;
        let ev = AuditEvent::new(
            Some(row.audit_ref()),
            actor,
            "client.create",
            new.id.as_str(),
            None,
            Some(json!({"name": new.name})),
        );
        audit::record(c, &ev)
    })?;
    Ok((new, secret))
}

/// Deletes a client of the tenant.
pub fn delete(conn: &mut Db, row: &Tenant, id: &ClientId, actor: &str) -> Result<()> {
    tessera_store::transaction(conn, |c| {
        let gone = client::delete(c, &row.id, id)?.ok_or(Error::NotFound("Client"))?;
        let ev = AuditEvent::new(
            Some(row.audit_ref()),
            actor,
            "client.delete",
            id.as_str(),
            Some(json!({"name": gone.name})),
            None,
        );
        audit::record(c, &ev)
    })
}
