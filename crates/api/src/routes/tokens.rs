//! `/v1/tenants/{tenant}/token…`: obtain, refresh, verify, revoke, revoke-all.
use actix_web::{
    HttpRequest, HttpResponse, post,
    web::{self, Data},
};
use serde::Deserialize;
use tessera_actors::{
    Hub,
    views::{TokenPair, Verified},
};
use tessera_core::secret::SecretString;
use utoipa::ToSchema;

use crate::{
    error::{ApiResult, Problem},
    extract::{JsonOrForm, authorization, client_info},
};

/// `POST /token` body.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"username": "alice", "password": "correct horse battery"}))]
pub struct LoginRequest {
    /// The user's username.
    pub username: String,
    /// The user's password.
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
}

/// `POST /token/refresh` body.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"refresh": "eyJhbGciOiJFUzI1NiIsImtpZCI6ImtleV8wMTkzIiwidHlwIjoiSldUIn0.eyJ…"}))]
pub struct RefreshRequest {
    /// A refresh token.
    pub refresh: String,
}

/// `POST /token/verify` and `/token/revoke` body.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"token": "eyJhbGciOiJFUzI1NiIsImtpZCI6ImtleV8wMTkzIiwidHlwIjoiYXQrand0In0.eyJ…"}))]
pub struct TokenRequest {
    /// An access or refresh token.
    pub token: String,
}

/// Obtain a token pair.
///
/// Exchanges a username and password for an access and a refresh token. Unknown
/// user, wrong password and inactive user answer identically, in the same time.
#[utoipa::path(
    tag = "tokens",
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme")),
    request_body(content(
        (LoginRequest = "application/json"),
        (LoginRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "A new session's tokens", body = TokenPair),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`invalid_credentials`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/token")]
pub async fn obtain(
    hub: Data<Hub>,
    tenant: web::Path<String>,
    req: HttpRequest,
    body: JsonOrForm<LoginRequest>,
) -> ApiResult<web::Json<TokenPair>> {
    let b = body.0;
    Ok(web::Json(
        hub.login(&tenant, &b.username, b.password, client_info(&req))
            .await?,
    ))
}

/// Refresh the access token.
///
/// Returns a new access token, and a new refresh token when the tenant rotates
/// them. A rotated-out refresh token presented again is reuse: 401, and its whole
/// session is revoked.
#[utoipa::path(
    tag = "tokens",
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme")),
    request_body(content(
        (RefreshRequest = "application/json"),
        (RefreshRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "New tokens", body = TokenPair),
        (status = 401, description = "`token_not_valid`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/token/refresh")]
pub async fn refresh(
    hub: Data<Hub>,
    tenant: web::Path<String>,
    body: JsonOrForm<RefreshRequest>,
) -> ApiResult<web::Json<TokenPair>> {
    Ok(web::Json(hub.refresh(&tenant, body.0.refresh).await?))
}

/// Verify a token.
///
/// Checks signature, claims and revocation of an access or refresh token.
#[utoipa::path(
    tag = "tokens",
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme")),
    request_body(content(
        (TokenRequest = "application/json"),
        (TokenRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "The token is valid", body = Verified),
        (status = 401, description = "`token_not_valid`: expired, revoked, malformed, foreign, bad signature", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/token/verify")]
pub async fn verify(
    hub: Data<Hub>,
    tenant: web::Path<String>,
    body: JsonOrForm<TokenRequest>,
) -> ApiResult<web::Json<Verified>> {
    Ok(web::Json(hub.verify(&tenant, body.0.token).await?))
}

/// Revoke a token's session.
///
/// Revokes the whole session of a refresh or access token: its refresh token and
/// every access token carrying its `sid`, at once.
#[utoipa::path(
    tag = "tokens",
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme")),
    request_body(content(
        (TokenRequest = "application/json"),
        (TokenRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Revoked", body = Object, example = json!({})),
        (status = 401, description = "`token_not_valid`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/token/revoke")]
pub async fn revoke(
    hub: Data<Hub>,
    tenant: web::Path<String>,
    body: JsonOrForm<TokenRequest>,
) -> ApiResult<HttpResponse> {
    hub.revoke(&tenant, body.0.token).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({})))
}

/// Log out everywhere.
///
/// Every token of the calling user issued before now stops working.
#[utoipa::path(
    tag = "tokens",
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme")),
    security(("access_token" = [])),
    responses(
        (status = 200, description = "Revoked", body = Object, example = json!({})),
        (status = 401, description = "`not_authenticated` or `token_not_valid`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/token/revoke-all")]
pub async fn revoke_all(
    hub: Data<Hub>,
    tenant: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    hub.revoke_all(&tenant, authorization(&req)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({})))
}
