//! `tenants`: a tenant's slug and settings.
use diesel::prelude::*;
use serde_json::{Map, Value};
use tessera_core::{Error, Result, ids::TenantId, settings::TenantSettings, time::now};

use crate::{Db, DbResultExt, schema::tenants};

/// A tenant row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = tenants)]
// A setting cleared to null must be written as NULL, not skipped.
#[diesel(treat_none_as_null = true)]
pub struct Tenant {
    /// Internal id (`ten_…`); every tenant-owned row refers to it.
    pub id: TenantId,
    /// Public slug used in paths.
    pub slug: String,
    /// See [`TenantSettings`].
    pub display_name: String,
    /// See [`TenantSettings`].
    pub issuer: Option<String>,
    /// See [`TenantSettings`].
    pub audience: Option<String>,
    /// See [`TenantSettings`].
    pub algorithm: String,
    /// See [`TenantSettings`].
    pub access_token_ttl: i64,
    /// See [`TenantSettings`].
    pub refresh_token_ttl: i64,
    /// See [`TenantSettings`].
    pub session_max_lifetime: i64,
    /// See [`TenantSettings`].
    pub rotate_refresh_tokens: bool,
    /// See [`TenantSettings`].
    pub leeway: i64,
    /// JSON array text.
    pub auth_header_types: String,
    /// See [`TenantSettings`].
    pub allow_signup: bool,
    /// See [`TenantSettings`].
    pub password_min_length: i32,
    /// See [`TenantSettings`].
    pub refresh_cookie: bool,
    /// See [`TenantSettings`].
    pub login_rate_limit: i32,
    /// JSON object text.
    pub custom_claims: String,
    /// See [`TenantSettings`].
    pub key_rotation_interval: Option<i64>,
    /// See [`TenantSettings`].
    pub disabled: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// JSON array text.
    pub allowed_origins: String,
    /// See [`TenantSettings`].
    pub refresh_reuse_interval: i64,
}

impl Tenant {
    /// A new row for `slug` with `settings`.
    pub fn new(slug: &str, settings: &TenantSettings) -> Self {
        let t = now();
        let mut row = Self {
            id: TenantId::generate(),
            slug: slug.to_owned(),
            display_name: String::new(),
            issuer: None,
            audience: None,
            algorithm: String::new(),
            access_token_ttl: 0,
            refresh_token_ttl: 0,
            session_max_lifetime: 0,
            rotate_refresh_tokens: true,
            leeway: 0,
            auth_header_types: String::new(),
            allow_signup: false,
            password_min_length: 0,
            refresh_cookie: false,
            login_rate_limit: 0,
            custom_claims: String::new(),
            key_rotation_interval: None,
            disabled: false,
            created_at: t,
            updated_at: t,
            allowed_origins: String::new(),
            refresh_reuse_interval: 0,
        };
        row.set_settings(settings);
        row
    }

    /// Writes `s` into the row's columns.
    pub fn set_settings(&mut self, s: &TenantSettings) {
        self.display_name = s.display_name.clone();
        self.issuer = s.issuer.clone();
        self.audience = s.audience.clone();
        self.algorithm = s.algorithm.as_str().to_owned();
        self.access_token_ttl = s.access_token_ttl;
        self.refresh_token_ttl = s.refresh_token_ttl;
        self.session_max_lifetime = s.session_max_lifetime;
        self.rotate_refresh_tokens = s.rotate_refresh_tokens;
        self.leeway = s.leeway;
        self.auth_header_types = Value::from(s.auth_header_types.clone()).to_string();
        self.allow_signup = s.allow_signup;
        self.password_min_length = s.password_min_length;
        self.refresh_cookie = s.refresh_cookie;
        self.login_rate_limit = s.login_rate_limit;
        self.custom_claims = Value::Object(s.custom_claims.clone()).to_string();
        self.key_rotation_interval = s.key_rotation_interval;
        self.disabled = s.disabled;
        self.allowed_origins = Value::from(s.allowed_origins.clone()).to_string();
        self.refresh_reuse_interval = s.refresh_reuse_interval;
    }

    /// The reference an audit event keeps of this tenant.
    pub fn audit_ref(&self) -> crate::models::audit::TenantRef<'_> {
        crate::models::audit::TenantRef {
            id: &self.id,
            slug: &self.slug,
        }
    }

    /// The row's settings.
    pub fn settings(&self) -> Result<TenantSettings> {
        let corrupt =
            |what: &str| Error::Internal(format!("tenant {} has corrupt {what}", self.slug));
        Ok(TenantSettings {
            display_name: self.display_name.clone(),
            issuer: self.issuer.clone(),
            audience: self.audience.clone(),
            algorithm: self.algorithm.parse().map_err(|_| corrupt("algorithm"))?,
            access_token_ttl: self.access_token_ttl,
            refresh_token_ttl: self.refresh_token_ttl,
            session_max_lifetime: self.session_max_lifetime,
            rotate_refresh_tokens: self.rotate_refresh_tokens,
            leeway: self.leeway,
            auth_header_types: serde_json::from_str(&self.auth_header_types)
                .map_err(|_| corrupt("auth_header_types"))?,
            allow_signup: self.allow_signup,
            password_min_length: self.password_min_length,
            refresh_cookie: self.refresh_cookie,
            login_rate_limit: self.login_rate_limit,
            custom_claims: serde_json::from_str::<Map<String, Value>>(&self.custom_claims)
                .map_err(|_| corrupt("custom_claims"))?,
            key_rotation_interval: self.key_rotation_interval,
            disabled: self.disabled,
            allowed_origins: serde_json::from_str(&self.allowed_origins)
                .map_err(|_| corrupt("allowed_origins"))?,
            refresh_reuse_interval: self.refresh_reuse_interval,
        })
    }
}

/// Inserts a tenant; a taken slug is a conflict.
pub fn insert(conn: &mut Db, row: &Tenant) -> Result<()> {
    diesel::insert_into(tenants::table)
        .values(row)
        .execute(conn)
        .db()
        .map_err(|e| match e {
            Error::Conflict(_) => Error::Conflict(format!("tenant {:?} already exists", row.slug)),
            other => other,
        })?;
    Ok(())
}

/// The tenant with this slug.
pub fn by_slug(conn: &mut Db, slug: &str) -> Result<Option<Tenant>> {
    tenants::table
        .filter(tenants::slug.eq(slug))
        .select(Tenant::as_select())
        .first(conn)
        .optional()
        .db()
}

/// The tenant with this id.
pub fn by_id(conn: &mut Db, id: &TenantId) -> Result<Option<Tenant>> {
    tenants::table
        .find(id)
        .select(Tenant::as_select())
        .first(conn)
        .optional()
        .db()
}

/// Tenants ordered by slug, after the cursor `after`; `only` restricts to one tenant id.
pub fn list(
    conn: &mut Db,
    after: Option<&str>,
    limit: i64,
    only: Option<&TenantId>,
) -> Result<Vec<Tenant>> {
    let mut q = tenants::table
        .select(Tenant::as_select())
        .order(tenants::slug.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(tenants::slug.gt(after.to_owned()));
    }
    if let Some(id) = only {
        q = q.filter(tenants::id.eq(id.clone()));
    }
    q.load(conn).db()
}

/// Saves a changed row (settings and `updated_at`).
pub fn update(conn: &mut Db, row: &Tenant) -> Result<()> {
    diesel::update(tenants::table.find(&row.id))
        .set(row)
        .execute(conn)
        .db()?;
    Ok(())
}

/// Deletes a tenant and everything it owns (by cascade, and its refresh tokens
/// explicitly). Returns whether it existed.
pub fn delete(conn: &mut Db, id: &TenantId) -> Result<bool> {
    use crate::schema::refresh_tokens;
    // Refresh tokens have no foreign key (see the migration that dropped them). They
    // go after the tenant: its sessions are gone by then, so no refresh can record a
    // successor any more, and a statement that waited for one sees what it committed.
    crate::retrying(conn, |c| {
        let existed = diesel::delete(tenants::table.find(id)).execute(c)? > 0;
        diesel::delete(refresh_tokens::table.filter(refresh_tokens::tenant_id.eq(id)))
            .execute(c)?;
        Ok(existed)
    })
}

/// Enabled tenants with scheduled key rotation.
pub fn with_rotation(conn: &mut Db) -> Result<Vec<Tenant>> {
    tenants::table
        .filter(tenants::key_rotation_interval.is_not_null())
        .filter(tenants::disabled.eq(false))
        .select(Tenant::as_select())
        .load(conn)
        .db()
}

/// Locks the tenant's row for the rest of the transaction if it still has
/// scheduled rotation; returns whether it does. A concurrent settings change waits
/// for the lock, or, when it came first, is seen here.
pub fn lock_if_rotating(conn: &mut Db, id: &TenantId) -> Result<bool> {
    let n = diesel::update(
        tenants::table
            .filter(tenants::id.eq(id))
            .filter(tenants::key_rotation_interval.is_not_null())
            .filter(tenants::disabled.eq(false)),
    )
    .set(tenants::updated_at.eq(tenants::updated_at))
    .execute(conn)
    .db()?;
    Ok(n > 0)
}

/// The tenant whose explicit issuer is `issuer`.
pub fn by_issuer(conn: &mut Db, issuer: &str) -> Result<Option<Tenant>> {
    tenants::table
        .filter(tenants::issuer.eq(issuer))
        .select(Tenant::as_select())
        .first(conn)
        .optional()
        .db()
}
