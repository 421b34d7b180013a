//! `/v1/admin/tenants…`: create, list, read, change and delete tenants.
use crate::extract::Admin;
use actix_web::{
    HttpResponse, delete, get, patch, post,
    web::{self, Data},
};
use serde_json::Value;
use tessera_actors::{
    Hub,
    requests::CreateTenantRequest,
    views::{Page, TenantView},
};

use super::ListQuery;
use crate::{
    error::{ApiResult, Problem},
    extract::Json,
};

/// Create a tenant.
///
/// Platform keys only. The tenant gets its first signing key of its algorithm.
#[utoipa::path(
    tag = "admin",
    security(("admin_key" = [])),
    request_body = CreateTenantRequest,
    responses(
        (status = 201, description = "Created", body = TenantView),
        (status = 400, description = "`validation_error`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`not_authenticated`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`permission_denied`: a scoped key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict`: slug taken", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tenants")]
pub async fn create_tenant(
    hub: Data<Hub>,
    body: Json<Value>,
    Admin(key): Admin,
) -> ApiResult<HttpResponse> {
    let view = hub.create_tenant(&key, body.0).await?;
    Ok(HttpResponse::Created().json(view))
}

/// List tenants.
#[utoipa::path(
    tag = "admin",
    security(("admin_key" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "One page, by slug", body = Page<TenantView>),
        (status = 401, description = "`not_authenticated`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/tenants")]
pub async fn list_tenants(
    hub: Data<Hub>,
    q: web::Query<ListQuery>,
    Admin(key): Admin,
) -> ApiResult<web::Json<Page<TenantView>>> {
    let q = q.into_inner();
    Ok(web::Json(hub.list_tenants(&key, q.cursor, q.limit).await?))
}

/// Read a tenant.
#[utoipa::path(
    tag = "admin",
    security(("admin_key" = [])),
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme")),
    responses(
        (status = 200, description = "The tenant and its settings", body = TenantView),
        (status = 401, description = "`not_authenticated`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/tenants/{tenant}")]
pub async fn get_tenant(
    hub: Data<Hub>,
    tenant: web::Path<String>,
    Admin(key): Admin,
) -> ApiResult<web::Json<TenantView>> {
    Ok(web::Json(hub.get_tenant(&key, &tenant).await?))
}

/// Change a tenant's settings.
///
/// Only the fields sent change; `null` clears a nullable setting. The whole result
/// is validated and per-field errors are returned. Changing `algorithm` rotates to
/// a new key of that algorithm. Every node sees the change on its next request.
///
/// Running the example changes the tenant: it sets an audience, so the access
/// tokens already out (which carry none) stop verifying.
#[utoipa::path(
    tag = "admin",
    security(("admin_key" = [])),
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme")),
    request_body(content = tessera_core::settings::SettingsPatch, example = json!({"access_token_ttl": 300, "audience": "orders-api"})),
    responses(
        (status = 200, description = "The changed tenant", body = TenantView),
        (status = 403, description = "`permission_denied`: a tenant-scoped key setting `issuer`", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "`validation_error`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`not_authenticated`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/tenants/{tenant}")]
pub async fn patch_tenant(
    hub: Data<Hub>,
    tenant: web::Path<String>,
    body: Json<Value>,
    Admin(key): Admin,
) -> ApiResult<web::Json<TenantView>> {
    Ok(web::Json(hub.patch_tenant(&key, &tenant, body.0).await?))
}

/// Delete a tenant and everything it owns.
#[utoipa::path(
    tag = "admin",
    security(("admin_key" = [])),
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "`not_authenticated`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/tenants/{tenant}")]
pub async fn delete_tenant(
    hub: Data<Hub>,
    tenant: web::Path<String>,
    Admin(key): Admin,
) -> ApiResult<HttpResponse> {
    hub.delete_tenant(&key, &tenant).await?;
    Ok(HttpResponse::NoContent().finish())
}
