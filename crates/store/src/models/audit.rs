//! `audit_events`: every admin change, who made it, and the state before and after.
use diesel::prelude::*;
use tessera_core::{
    Result,
    ids::{AuditId, TenantId},
    time::now,
};

use crate::{Db, DbResultExt, schema::audit_events};

/// An audit event row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    /// `aud_…`, time-ordered.
    pub id: AuditId,
    /// The tenant changed, if any.
    pub tenant_id: Option<TenantId>,
    /// Its slug at the time (kept after the tenant is deleted).
    pub tenant_slug: Option<String>,
    /// Admin key id, `cli` or `system`.
    pub actor: String,
    /// What was done, e.g. `tenant.update`, `key.rotate`, `user.delete`.
    pub action: String,
    /// What it was done to: a slug, kid, user id or admin key id.
    pub target: String,
    /// JSON state before (never a secret).
    pub before_state: Option<String>,
    /// JSON state after (never a secret).
    pub after_state: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
}

/// Which tenant an event belongs to.
#[derive(Debug, Clone, Copy)]
pub struct TenantRef<'a> {
    /// Internal id.
    pub id: &'a TenantId,
    /// Slug.
    pub slug: &'a str,
}

impl AuditEvent {
    /// A new event happening now.
    pub fn new(
        tenant: Option<TenantRef<'_>>,
        actor: &str,
        action: &str,
        target: &str,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> Self {
        Self {
            id: AuditId::generate(),
            tenant_id: tenant.map(|t| t.id.clone()),
            tenant_slug: tenant.map(|t| t.slug.to_owned()),
            actor: actor.to_owned(),
            action: action.to_owned(),
            target: target.to_owned(),
            before_state: before.map(|v| v.to_string()),
            after_state: after.map(|v| v.to_string()),
            created_at: now(),
        }
    }
}

/// Records an event (call inside the transaction of the change it describes).
pub fn record(conn: &mut Db, event: &AuditEvent) -> Result<()> {
    diesel::insert_into(audit_events::table)
        .values(event)
        .execute(conn)
        .db()?;
    Ok(())
}

/// Events newest first, before the cursor `before` (an event id); `tenant_id`
/// restricts to one tenant.
pub fn list(
    conn: &mut Db,
    tenant_id: Option<&TenantId>,
    before: Option<&AuditId>,
    limit: i64,
) -> Result<Vec<AuditEvent>> {
    let mut q = audit_events::table
        .select(AuditEvent::as_select())
        .order(audit_events::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(t) = tenant_id {
        q = q.filter(audit_events::tenant_id.eq(t.clone()));
    }
    if let Some(b) = before {
        q = q.filter(audit_events::id.lt(b.clone()));
    }
    q.load(conn).db()
}
