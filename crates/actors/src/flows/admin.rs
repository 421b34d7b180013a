//! Admin flows: API-key authentication and scope, tenants, users.
use serde::Deserialize;
use serde_json::Value;
use tessera_core::{
    Error, Result,
    admin_key::hash_secret,
    ids::validate_slug,
    secret::SecretString,
    settings::{SettingsPatch, TenantSettings},
};
use utoipa::ToSchema;

use crate::{
    Hub,
    actors::{CreateTenant, DeleteTenant, FindApiKey, GetTenant, ListTenants, UpdateTenant},
    flows::account::NewUser,
    views::{Page, TenantView, UserView},
};

/// An authenticated admin API key.
#[derive(Debug, Clone)]
pub struct AdminKey {
    /// `ak_…`
    pub id: String,
    /// The tenant id a scoped key is limited to; `None` for a platform key.
    pub scope: Option<String>,
}

/// `POST /v1/admin/tenants/{tenant}/users` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "alice", "password": "correct horse battery", "email": "alice@example.com", "roles": ["editor"]}))]
pub struct CreateUserRequest {
    /// Unique within the tenant.
    pub username: String,
    /// At least the tenant's `password_min_length`.
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
    /// Optional e-mail.
    pub email: Option<String>,
    /// Roles, copied into tokens at every mint.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Defaults to true.
    pub is_active: Option<bool>,
}

const MAX_PAGE: i64 = 200;

impl Hub {
    /// Authenticates an `Authorization: Bearer <admin key>` header.
    pub async fn admin_key(&self, authorization: Option<&str>) -> Result<AdminKey> {
        let secret = authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.len() <= 256)
            .ok_or(Error::NotAuthenticated(
                "An admin API key is required (Authorization: Bearer <key>).",
            ))?;
        let key = self
            .send(&self.admin, FindApiKey(hash_secret(secret)))
            .await??
            .ok_or(Error::NotAuthenticated("Invalid admin API key."))?;
        Ok(AdminKey {
            id: key.id,
            scope: key.tenant_id,
        })
    }

    /// Creates a tenant (platform keys only) with a first signing key.
    pub async fn create_tenant(&self, key: &AdminKey, body: Value) -> Result<TenantView> {
        if key.scope.is_some() {
            return Err(Error::PermissionDenied(
                "A tenant-scoped key cannot create tenants.",
            ));
        }
        let Value::Object(mut map) = body else {
            return Err(Error::field("body", "must be a JSON object"));
        };
        let slug = match map.remove("slug") {
            Some(Value::String(s)) => s,
            _ => return Err(Error::field("slug", "is required")),
        };
        validate_slug(&slug)?;
        let display_name = match map.get("display_name") {
            Some(Value::String(s)) => s.clone(),
            _ => slug.clone(),
        };
        let mut settings = TenantSettings::new(display_name);
        settings.apply(SettingsPatch::from_json(Value::Object(map))?)?;
        let row = self
            .send(
                &self.admin,
                CreateTenant {
                    slug: slug.clone(),
                    settings,
                },
            )
            .await??;
        self.tenant_changed(&slug).await;
        TenantView::of(&row)
    }

    /// Lists the tenants a key can see, by slug, one page at a time.
    pub async fn list_tenants(
        &self,
        key: &AdminKey,
        cursor: Option<String>,
        limit: Option<i64>,
    ) -> Result<Page<TenantView>> {
        let limit = limit.unwrap_or(50).clamp(1, MAX_PAGE);
        let list = ListTenants {
            after: cursor,
            limit: limit + 1,
            scope: key.scope.clone(),
        };
        let mut rows = self.send(&self.admin, list).await??;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = more.then(|| rows.last().map(|t| t.slug.clone())).flatten();
        let items = rows.iter().map(TenantView::of).collect::<Result<_>>()?;
        Ok(Page { items, next_cursor })
    }

    /// Reads a tenant the key can see.
    pub async fn get_tenant(&self, key: &AdminKey, slug: &str) -> Result<TenantView> {
        let row = self
            .send(
                &self.admin,
                GetTenant {
                    slug: slug.to_owned(),
                    scope: key.scope.clone(),
                },
            )
            .await??;
        TenantView::of(&row)
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
        let patch = SettingsPatch::from_json(body)?;
        let row = self
            .send(
                &self.admin,
                UpdateTenant {
                    slug: slug.to_owned(),
                    scope: key.scope.clone(),
                    patch,
                },
            )
            .await??;
        self.tenant_changed(slug).await;
        TenantView::of(&row)
    }

    /// Deletes a tenant and everything it owns.
    pub async fn delete_tenant(&self, key: &AdminKey, slug: &str) -> Result<()> {
        self.send(
            &self.admin,
            DeleteTenant {
                slug: slug.to_owned(),
                scope: key.scope.clone(),
            },
        )
        .await??;
        self.tenant_changed(slug).await;
        Ok(())
    }

    /// Creates a user in a tenant the key can see.
    pub async fn admin_create_user(
        &self,
        key: &AdminKey,
        slug: &str,
        req: CreateUserRequest,
    ) -> Result<UserView> {
        let row = self
            .send(
                &self.admin,
                GetTenant {
                    slug: slug.to_owned(),
                    scope: key.scope.clone(),
                },
            )
            .await??;
        if req.roles.len() > 64 || req.roles.iter().any(|r| r.is_empty() || r.len() > 64) {
            return Err(Error::field(
                "roles",
                "at most 64 roles of 1 to 64 characters",
            ));
        }
        let new = NewUser {
            username: req.username,
            password: req.password,
            email: req.email,
            roles: req.roles,
            is_active: req.is_active.unwrap_or(true),
        };
        self.create_user(&row.id, row.password_min_length, new)
            .await
    }
}
