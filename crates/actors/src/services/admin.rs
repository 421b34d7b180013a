//! Admin services: API-key authentication and scope, tenants, admin API keys and the
//! audit log. Each runs its database work as one job on the admin threads, the
//! change and its audit record in one transaction.
use serde_json::Value;
use tessera_core::{
    Error, Result,
    admin_key::hash_secret,
    ids::{ApiKeyId, AuditId, TenantId, is_slug},
    master_key::MasterKey,
    settings::SettingsPatch,
    time::now,
};
use tessera_store::Db;
use tessera_store::models::{api_key, audit, tenant::Tenant};

use crate::{
    Hub,
    actors::AdminJob,
    admin_jobs::{api_keys, tenants},
    views::{ApiKeyView, AuditView, NewApiKey, Page, TenantView},
};

/// An authenticated admin API key.
#[derive(Debug, Clone)]
pub struct AdminKey {
    /// `ak_…`
    pub id: ApiKeyId,
    /// The tenant id a scoped key is limited to; `None` for a platform key.
    pub scope: Option<TenantId>,
}

impl AdminKey {
    /// Refuses a tenant-scoped key (for platform-wide operations).
    pub fn platform(&self, what: &'static str) -> Result<()> {
        match self.scope {
            None => Ok(()),
            Some(_) => Err(Error::PermissionDenied(what)),
        }
    }
}

/// What a tenants-list cursor starts with (the rest is the last slug of the page), so
/// a cursor this list never gave is told apart from a position.
pub const TENANT_CURSOR: &str = "tenant:";

/// Largest page of any admin list.
pub const MAX_PAGE: i64 = 200;

/// A page size from `?limit=` (default 50, 1 to [`MAX_PAGE`]; anything else is a 400
/// naming `limit`); the query asks for one more row to learn whether there is a
/// next page.
pub(crate) fn page_size(limit: Option<i64>) -> Result<i64> {
    match limit {
        None => Ok(50),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        Some(_) => Err(Error::field("limit", format!("must be 1 to {MAX_PAGE}"))),
    }
}

/// The position a client sent back (`?cursor=`), checked to be one this list could
/// have given (`parse`); anything else is a 400 naming `cursor`, never a silent
/// first or empty page.
pub(crate) fn cursor<T>(
    given: Option<String>,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>> {
    given
        .filter(|c| !c.is_empty())
        .map(|c| parse(&c).ok_or_else(|| Error::field("cursor", "is not a cursor this list gave")))
        .transpose()
}

/// One page from `rows` (fetched with `limit + 1`): the views of the first `limit`
/// rows and, when there were more, the cursor of the last one.
pub(crate) fn page<R, V, C: Into<String>>(
    mut rows: Vec<R>,
    limit: i64,
    cursor: impl Fn(&R) -> C,
    view: impl Fn(&R) -> Result<V>,
) -> Result<Page<V>> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = more
        .then(|| rows.last().map(|r| cursor(r).into()))
        .flatten();
    let items = rows.iter().map(view).collect::<Result<_>>()?;
    Ok(Page { items, next_cursor })
}

impl Hub {
    /// Runs `job` on the admin threads with a pooled connection and the master key.
    pub(crate) async fn admin_job<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Db, &MasterKey) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.send(&self.admin, AdminJob(Box::new(job))).await?
    }

    /// [`Hub::admin_job`] for bulk work (imports), which may take minutes.
    pub(crate) async fn bulk_admin_job<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Db, &MasterKey) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        const BULK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);
        crate::hub::send_traced(
            &self.metrics,
            &self.admin,
            AdminJob(Box::new(job)),
            BULK_TIMEOUT,
        )
        .await?
    }

    /// Authenticates an `Authorization: Bearer <admin key>` header.
    pub async fn admin_key(&self, authorization: Option<&str>) -> Result<AdminKey> {
        let secret = authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.len() <= 256)
            .ok_or(Error::NotAuthenticated(
                "An admin API key is required (Authorization: Bearer <key>).",
            ))?;
        let hash = hash_secret(secret);
        let key = self
            .admin_job(move |c, _| {
                let key = api_key::by_hash(c, &hash)?;
                if let Some(k) = &key {
                    api_key::touch(c, &k.id, now())?;
                }
                Ok(key)
            })
            .await?
            .ok_or(Error::NotAuthenticated("Invalid admin API key."))?;
        Ok(AdminKey {
            id: key.id,
            scope: key.tenant_id,
        })
    }

    /// The tenant `slug` if `key` may see it (else `tenant_not_found`).
    pub(crate) async fn visible_tenant(&self, key: &AdminKey, slug: &str) -> Result<Tenant> {
        let (slug, scope) = (slug.to_owned(), key.scope.clone());
        self.admin_job(move |c, _| tenants::visible(c, &slug, scope.as_ref()))
            .await
    }

    /// Creates a tenant (platform keys only) with a first signing key.
    pub async fn create_tenant(&self, key: &AdminKey, body: Value) -> Result<TenantView> {
        key.platform("A tenant-scoped key cannot create tenants.")?;
        let (slug, settings) = tenants::parse_new(body)?;
        let (s, actor, url) = (slug.clone(), key.id.clone(), self.public_url.clone());
        let row = self
            .admin_job(move |c, master| {
                tenants::create(c, &s, &settings, master, &url, actor.as_str())
            })
            .await?;
        self.tenant_changed(&slug).await?;
        TenantView::of(&row)
    }

    /// Lists the tenants a key can see, by slug, one page at a time.
    pub async fn list_tenants(
        &self,
        key: &AdminKey,
        given: Option<String>,
        limit: Option<i64>,
    ) -> Result<Page<TenantView>> {
        let limit = page_size(limit)?;
        let after = cursor(given, |c| {
            c.strip_prefix(TENANT_CURSOR)
                .filter(|slug| is_slug(slug))
                .map(str::to_owned)
        })?;
        let scope = key.scope.clone();
        let rows = self
            .admin_job(move |c, _| {
                tessera_store::models::tenant::list(c, after.as_deref(), limit + 1, scope.as_ref())
            })
            .await?;
        page(
            rows,
            limit,
            |t| format!("{TENANT_CURSOR}{}", t.slug),
            TenantView::of,
        )
    }

    /// Reads a tenant the key can see.
    pub async fn get_tenant(&self, key: &AdminKey, slug: &str) -> Result<TenantView> {
        TenantView::of(&self.visible_tenant(key, slug).await?)
    }

    /// Changes a tenant's settings; every node sees the change on its next request.
    pub async fn patch_tenant(
        &self,
        key: &AdminKey,
        slug: &str,
        body: Value,
    ) -> Result<TenantView> {
        if !body.is_object() {
            return Err(Error::field("body", "must be a JSON object"));
        }
        if body.get("issuer").is_some() {
            key.platform("Only a platform key can set a tenant's issuer.")?;
        }
        let patch = SettingsPatch::from_json(body)?;
        let (s, scope, actor) = (slug.to_owned(), key.scope.clone(), key.id.clone());
        let url = self.public_url.clone();
        let row = self
            .admin_job(move |c, master| {
                tenants::update(c, &s, scope.as_ref(), patch, master, &url, actor.as_str())
            })
            .await?;
        self.tenant_changed(slug).await?;
        TenantView::of(&row)
    }

    /// Deletes a tenant and everything it owns.
    pub async fn delete_tenant(&self, key: &AdminKey, slug: &str) -> Result<()> {
        let (s, scope, actor) = (slug.to_owned(), key.scope.clone(), key.id.clone());
        self.admin_job(move |c, _| tenants::delete(c, &s, scope.as_ref(), actor.as_str()))
            .await?;
        self.tenant_changed(slug).await?;
        Ok(())
    }

    /// Creates an admin API key (platform keys only); its secret is in the answer
    /// and nowhere else.
    pub async fn create_api_key(
        &self,
        key: &AdminKey,
        name: String,
        tenant: Option<String>,
    ) -> Result<NewApiKey> {
        key.platform("Only a platform key can manage admin API keys.")?;
        let actor = key.id.clone();
        let (row, slug, secret) = self
            .admin_job(move |c, _| api_keys::create(c, &name, tenant.as_deref(), actor.as_str()))
            .await?;
        Ok(NewApiKey {
            key: ApiKeyView::of(&row, slug),
            secret,
        })
    }

    /// Lists admin API keys (platform keys only), oldest first.
    pub async fn list_api_keys(
        &self,
        key: &AdminKey,
        given: Option<String>,
        limit: Option<i64>,
    ) -> Result<Page<ApiKeyView>> {
        key.platform("Only a platform key can manage admin API keys.")?;
        let (limit, after) = (page_size(limit)?, cursor(given, ApiKeyId::parse)?);
        let rows = self
            .admin_job(move |c, _| api_key::list(c, after.as_ref(), limit + 1))
            .await?;
        page(
            rows,
            limit,
            |(k, _)| k.id.clone(),
            |(k, slug)| Ok(ApiKeyView::of(k, slug.clone())),
        )
    }

    /// Deletes an admin API key (platform keys only); it stops working at once.
    pub async fn delete_api_key(&self, key: &AdminKey, id: &ApiKeyId) -> Result<()> {
        key.platform("Only a platform key can manage admin API keys.")?;
        let (id, actor) = (id.clone(), key.id.clone());
        self.admin_job(move |c, _| api_keys::delete(c, &id, actor.as_str()))
            .await
    }

    /// A tenant's audit log, newest first; `None` for the whole platform's
    /// (platform keys only).
    pub async fn audit_log(
        &self,
        key: &AdminKey,
        slug: Option<&str>,
        given: Option<String>,
        limit: Option<i64>,
    ) -> Result<Page<AuditView>> {
        let before = cursor(given, AuditId::parse)?;
        let tenant_id = match slug {
            Some(s) => Some(self.visible_tenant(key, s).await?.id),
            None => {
                key.platform("Only a platform key can read the platform audit log.")?;
                None
            }
        };
        let limit = page_size(limit)?;
        let rows = self
            .admin_job(move |c, _| audit::list(c, tenant_id.as_ref(), before.as_ref(), limit + 1))
            .await?;
        page(rows, limit, |e| e.id.clone(), |e| Ok(AuditView::from(e)))
    }
}
