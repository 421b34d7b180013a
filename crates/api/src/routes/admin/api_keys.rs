//! `/v1/admin/api-keys…`: admin API keys (platform keys only).
use crate::extract::Admin;
use actix_web::{
    HttpResponse, delete, get, post,
    web::{self, Data},
};
use tessera_actors::{
    Hub,
    requests::CreateApiKeyRequest,
    views::{ApiKeyView, NewApiKey, Page},
};

use tessera_core::ids::ApiKeyId;

use super::ListQuery;
use crate::{
    error::{ApiResult, Problem},
    extract::Json,
};

/// Create an admin API key.
///
/// Platform keys only. The secret is in this answer and nowhere else: Tessera
/// keeps only its SHA-256.
#[utoipa::path(
    tag = "api keys",
    security(("admin_key" = [])),
    request_body = CreateApiKeyRequest,
    responses(
        (status = 201, description = "Created; `secret` is shown this once", body = NewApiKey),
        (status = 400, description = "`validation_error`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`not_authenticated`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`permission_denied`: a scoped key", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api-keys")]
pub async fn create_api_key(
    hub: Data<Hub>,
    body: Json<CreateApiKeyRequest>,
    Admin(key): Admin,
) -> ApiResult<HttpResponse> {
    let b = body.0;
    let created = hub.create_api_key(&key, b.name, b.tenant).await?;
    Ok(HttpResponse::Created()
        .insert_header(crate::cookies::NO_STORE)
        .json(created))
}

/// List admin API keys.
///
/// Platform keys only; oldest first; never a secret.
#[utoipa::path(
    tag = "api keys",
    security(("admin_key" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "One page of keys", body = Page<ApiKeyView>),
        (status = 401, description = "`not_authenticated`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`permission_denied`: a scoped key", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api-keys")]
pub async fn list_api_keys(
    hub: Data<Hub>,
    q: web::Query<ListQuery>,
    Admin(key): Admin,
) -> ApiResult<web::Json<Page<ApiKeyView>>> {
    let q = q.into_inner();
    Ok(web::Json(hub.list_api_keys(&key, q.cursor, q.limit).await?))
}

/// Delete an admin API key.
///
/// Platform keys only; the key is refused from its next request on.
#[utoipa::path(
    tag = "api keys",
    security(("admin_key" = [])),
    params(("id" = String, Path, description = "Admin API key id (`ak_…`): an `id` from GET /v1/admin/api-keys (the example is a placeholder)", example = "ak_0193a1b2c3d47e8f9a0b1c2d3e4f5a6b")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "`not_authenticated`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`permission_denied`: a scoped key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/api-keys/{id}")]
pub async fn delete_api_key(
    hub: Data<Hub>,
    id: web::Path<ApiKeyId>,
    Admin(key): Admin,
) -> ApiResult<HttpResponse> {
    hub.delete_api_key(&key, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
