//! Admin API keys over one connection: create (the secret is returned this once and
//! only its SHA-256 is stored) and delete, both audited. Shared by the admin API
//! and the `tessera admin create-key` command.
use serde_json::json;
use tessera_core::{Error, Result, admin_key, ids::ApiKeyId};
use tessera_store::Db;
use tessera_store::models::{
    api_key::{self, ApiKey},
    audit::{self, AuditEvent},
    tenant::{self, Tenant},
};

/// Longest key name, characters.
pub const MAX_NAME: usize = 200;

/// Creates a key, scoped to the tenant `tenant_slug` when given. Returns the row,
/// the scope's slug and the secret.
pub fn create(
    conn: &mut Db,
    name: &str,
    tenant_slug: Option<&str>,
    actor: &str,
) -> Result<(ApiKey, Option<String>, String)> {
    let name = name.trim();
    let (visible, control) = (
        tessera_core::password::has_visible(name),
        tessera_core::password::has_control(name),
    );
    if !visible || control || name.chars().count() > MAX_NAME {
        return Err(Error::field(
            "name",
            format!("must be 1 to {MAX_NAME} characters, without control characters"),
        ));
    }
    let scope = match tenant_slug {
        None => None,
        Some(slug) => Some(
            tenant::by_slug(conn, slug)?
                .ok_or_else(|| Error::field("tenant", "no tenant has this slug"))?,
        ),
    };
    let secret = admin_key::generate_secret();
    let row = ApiKey::new(
        ApiKeyId::generate(),
        name,
        scope.as_ref().map(|t| t.id.clone()),
        admin_key::hash_secret(&secret),
    );
    let slug = scope.as_ref().map(|t| t.slug.clone());
    tessera_store::transaction(conn, |c| {
        api_key::insert(c, &row)?;
        let after = json!({"name": row.name, "tenant": slug});
        audit::record(
            c,
            &AuditEvent::new(
                scope.as_ref().map(Tenant::audit_ref),
                actor,
                "api_key.create",
                row.id.as_str(),
                None,
                Some(after),
            ),
        )
    })?;
    Ok((row, slug, secret))
}

/// Deletes a key; the next request made with it is refused.
pub fn delete(conn: &mut Db, id: &ApiKeyId, actor: &str) -> Result<()> {
    let row = api_key::by_id(conn, id)?.ok_or(Error::NotFound("API key"))?;
    let scope = match &row.tenant_id {
        Some(t) => tenant::by_id(conn, t)?,
        None => None,
    };
    tessera_store::transaction(conn, |c| {
        api_key::delete(c, id)?;
        let before = json!({"name": row.name, "tenant": scope.as_ref().map(|t| &t.slug)});
        audit::record(
            c,
            &AuditEvent::new(
                scope.as_ref().map(Tenant::audit_ref),
                actor,
                "api_key.delete",
                id.as_str(),
                Some(before),
                None,
            ),
        )
    })
}
