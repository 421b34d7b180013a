//! `/v1/admin/tenants/{tenant}/keys…`: the life of a tenant's signing keys.
use crate::extract::Admin;
use actix_web::{
    HttpResponse, delete, get, post,
    web::{self, Data},
};
use tessera_actors::{
    Hub,
    requests::ImportKeyRequest,
    views::{KeyView, Page},
};

use tessera_core::ids::Kid;

use super::ListQuery;
use crate::{
    error::{ApiResult, Problem},
    extract::Json,
};

/// List a tenant's signing keys.
///
/// Newest first, each with its status now: `next` (published in the JWKS, signs
/// from `activated_at`), `active`, `retiring` (verifies until `verifies_until`, then
/// leaves the JWKS by itself) or `retired`. Public parts only.
#[utoipa::path(
    tag = "keys",
    security(("admin_key" = [])),
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme"), ListQuery),
    responses(
        (status = 200, description = "One page of keys", body = Page<KeyView>),
        (status = 401, description = "`not_authenticated`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/tenants/{tenant}/keys")]
pub async fn list_keys(
    hub: Data<Hub>,
    tenant: web::Path<String>,
    q: web::Query<ListQuery>,
    Admin(key): Admin,
) -> ApiResult<web::Json<Page<KeyView>>> {
    let q = q.into_inner();
    Ok(web::Json(
        hub.list_keys(&key, &tenant, q.cursor, q.limit).await?,
    ))
}

/// Rotate the signing key now.
///
/// The published next key (if scheduled rotation has one) starts signing, else a
/// new key of the tenant's algorithm. The previous key stays in the JWKS until
/// every token it signed has expired.
#[utoipa::path(
    tag = "keys",
    security(("admin_key" = [])),
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme")),
    responses(
        (status = 201, description = "The new active key", body = KeyView),
        (status = 401, description = "`not_authenticated`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tenants/{tenant}/keys")]
pub async fn rotate_key(
    hub: Data<Hub>,
    tenant: web::Path<String>,
    Admin(key): Admin,
) -> ApiResult<HttpResponse> {
    let view = hub.rotate_key(&key, &tenant).await?;
    Ok(HttpResponse::Created().json(view))
}

/// Retire a key now (compromise).
///
/// It leaves the JWKS at once and its tokens stop verifying on every node.
/// Retiring the signing key hands signing to a new key. Retiring a retired key
/// changes nothing.
#[utoipa::path(
    tag = "keys",
    security(("admin_key" = [])),
    params(
        ("tenant" = String, Path, description = "Tenant slug", example = "acme"),
        ("kid" = String, Path, description = "Key id (`key_…`): a `kid` from GET /v1/admin/tenants/{tenant}/keys (the example is a placeholder)", example = "key_0193a1b2c3d47e8f9a0b1c2d3e4f5a6b"),
    ),
    responses(
        (status = 204, description = "Retired"),
        (status = 401, description = "`not_authenticated`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found` or `not_found` (no such key)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/tenants/{tenant}/keys/{kid}")]
pub async fn retire_key(
    hub: Data<Hub>,
    path: web::Path<(String, Kid)>,
    Admin(key): Admin,
) -> ApiResult<HttpResponse> {
    let (tenant, kid) = path.into_inner();
    hub.retire_key(&key, &tenant, &kid).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Import a key.
///
/// An HS secret (`secret`) or a PKCS#8 PEM private key (`private_key`) becomes the
/// tenant's signing key and its algorithm the tenant's: a Django app moving to
/// Tessera imports its simplejwt `SIGNING_KEY`, so services that verify with that
/// key keep accepting old and new tokens alike. The previous key keeps verifying
/// its tokens. The material is never shown again.
#[utoipa::path(
    tag = "keys",
    security(("admin_key" = [])),
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme")),
    request_body = ImportKeyRequest,
    responses(
        (status = 201, description = "The imported key, now active", body = KeyView),
        (status = 400, description = "`validation_error`: not a key of that algorithm, or a short secret", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`not_authenticated`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tenants/{tenant}/keys/import")]
pub async fn import_key(
    hub: Data<Hub>,
    tenant: web::Path<String>,
    body: Json<ImportKeyRequest>,
    Admin(key): Admin,
) -> ApiResult<HttpResponse> {
    let view = hub.import_key(&key, &tenant, body.0).await?;
    Ok(HttpResponse::Created().json(view))
}
