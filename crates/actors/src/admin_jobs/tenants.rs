//! Tenants over one connection: create (with a first signing key), change settings,
//! delete, and which tenants an admin key may see. Each change and its audit record
//! commit in one transaction.
use tessera_core::{
    Error, Result,
    ids::TenantId,
    key_lifecycle::KeyStatus,
    master_key::MasterKey,
    settings::{SettingsPatch, TenantSettings},
    time::now,
};
use tessera_store::Db;
use tessera_store::models::{
    audit::{self, AuditEvent},
    signing_key::{self, SigningKey},
    tenant::{self, Tenant},
};

use crate::tenant::default_issuer;

/// Reads a new tenant's body `{"slug", "display_name"?, …settings}`: the checked slug
/// and the settings (defaults, then the body's; `display_name` defaults to the slug).
pub fn parse_new(body: serde_json::Value) -> Result<(String, TenantSettings)> {
    use serde_json::Value;
    let Value::Object(mut map) = body else {
        return Err(Error::field("body", "must be a JSON object"));
    };
    let slug = match map.remove("slug") {
        Some(Value::String(s)) => s,
        _ => return Err(Error::field("slug", "is required")),
    };
    tessera_core::ids::validate_slug(&slug)?;
    let display_name = match map.get("display_name") {
        Some(Value::String(s)) => s.clone(),
        _ => slug.clone(),
    };
    let mut settings = TenantSettings::new(display_name);
    settings.apply(SettingsPatch::from_json(Value::Object(map))?)?;
    Ok((slug, settings))
}

/// Refuses an issuer another tenant already has, explicitly or as its default
/// (`{public_url}/v1/tenants/{slug}`): a resource server trusting several tenants
/// tells them apart by nothing else.
pub fn check_issuer_free(
    conn: &mut Db,
    id: &TenantId,
    slug: &str,
    settings: &TenantSettings,
    public_url: &str,
) -> Result<()> {
    let mine = settings
        .issuer
        .clone()
        .unwrap_or_else(|| default_issuer(public_url, slug));
    let taken = || Error::field("issuer", "is already the issuer of another tenant");
    if tenant::by_issuer(conn, &mine)?.is_some_and(|t| &t.id != id) {
        return Err(taken());
    }
    let prefix = default_issuer(public_url, "");
    if let Some(other) = mine.strip_prefix(&prefix)
        && other != slug
        && tenant::by_slug(conn, other)?.is_some_and(|t| t.issuer.is_none())
    {
        return Err(taken());
    }
    Ok(())
}

/// Creates a tenant and its first signing key in one transaction, audited.
pub fn create(
    conn: &mut Db,
    slug: &str,
    settings: &TenantSettings,
    master: &MasterKey,
    public_url: &str,
    actor: &str,
) -> Result<Tenant> {
    let row = Tenant::new(slug, settings);
    let key = SigningKey::generate(&row.id, settings.algorithm, master)?;
    tessera_store::transaction(conn, |c| {
        check_issuer_free(c, &row.id, slug, settings, public_url)?;
        tenant::insert(c, &row)?;
        signing_key::insert(c, &key)?;
        let after = serde_json::to_value(settings).ok();
        audit::record(
            c,
            &AuditEvent::new(
                Some(row.audit_ref()),
                actor,
                "tenant.create",
                slug,
                None,
                after,
            ),
        )
    })?;
    Ok(row)
}

/// Applies a settings patch to a tenant visible to `scope`, audited with the
/// settings before and after. A change of algorithm rotates to a new key of that
/// algorithm (a pending next key of the old one is dropped); the old key keeps
/// verifying until every token it signed has expired. Turning scheduled rotation
/// off drops its pending next key.
pub fn update(
    conn: &mut Db,
    slug: &str,
    scope: Option<&TenantId>,
    patch: SettingsPatch,
    master: &MasterKey,
    public_url: &str,
    actor: &str,
) -> Result<Tenant> {
    let mut row = visible(conn, slug, scope)?;
    let before = row.settings()?;
    let mut settings = before.clone();
    settings.apply(patch)?;
    row.set_settings(&settings);
    row.updated_at = now();
    let new_key = (settings.algorithm != before.algorithm)
        .then(|| SigningKey::generate(&row.id, settings.algorithm, master))
        .transpose()?;
    tessera_store::transaction(conn, |c| {
        if settings.issuer != before.issuer {
            check_issuer_free(c, &row.id, slug, &settings, public_url)?;
        }
        tenant::update(c, &row)?;
        let t = now();
        signing_key::catch_up(c, &row.id, t, before.key_overlap())?;
        // A pending next key never signs when the algorithm changes or scheduled
        // rotation is turned off.
        let drop_next = new_key.is_some()
            || (settings.key_rotation_interval.is_none() && before.key_rotation_interval.is_some());
        if drop_next && let Some(next) = signing_key::with_status(c, &row.id, KeyStatus::Next)? {
            signing_key::retire(c, &row.id, &next.kid, t)?;
        }
        if let Some(key) = &new_key {
            signing_key::retire_active(c, &row.id, t + before.key_overlap())?;
            signing_key::insert(c, key)?;
        }
        let (b, a) = changed(&before, &settings);
        let ev = AuditEvent::new(
            Some(row.audit_ref()),
            actor,
            "tenant.update",
            slug,
            Some(b),
            Some(a),
        );
        audit::record(c, &ev)
    })?;
    Ok(row)
}

/// The settings that differ between `before` and `after`, as two JSON objects.
fn changed(
    before: &TenantSettings,
    after: &TenantSettings,
) -> (serde_json::Value, serde_json::Value) {
    use serde_json::{Map, Value};
    let (Ok(Value::Object(b)), Ok(Value::Object(a))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return (Value::Null, Value::Null);
    };
    let (mut bd, mut ad) = (Map::new(), Map::new());
    for (k, av) in a {
        let bv = b.get(&k).cloned().unwrap_or(Value::Null);
        if bv != av {
            bd.insert(k.clone(), bv);
            ad.insert(k, av);
        }
    }
    (Value::Object(bd), Value::Object(ad))
}

/// Deletes a tenant visible to `scope` and everything it owns; the audit record of
/// the deletion stays.
pub fn delete(conn: &mut Db, slug: &str, scope: Option<&TenantId>, actor: &str) -> Result<Tenant> {
    let row = visible(conn, slug, scope)?;
    let before = serde_json::to_value(row.settings()?).ok();
    tessera_store::transaction(conn, |c| {
        tenant::delete(c, &row.id)?;
        audit::record(
            c,
            &AuditEvent::new(
                Some(row.audit_ref()),
                actor,
                "tenant.delete",
                slug,
                before.clone(),
                None,
            ),
        )
    })?;
    Ok(row)
}

/// The tenant `slug` if `scope` (a scoped admin key's tenant id) may see it; an
/// invisible tenant answers exactly like a missing one.
pub fn visible(conn: &mut Db, slug: &str, scope: Option<&TenantId>) -> Result<Tenant> {
    if !tessera_core::ids::is_slug(slug) {
        return Err(Error::TenantNotFound);
    }
    tenant::by_slug(conn, slug)?
        .filter(|t| scope.is_none_or(|s| s == &t.id))
        .ok_or(Error::TenantNotFound)
}
