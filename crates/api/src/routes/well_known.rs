//! `/v1/tenants/{tenant}/.well-known/…`: the JWKS and discovery metadata.
use actix_web::{
    HttpResponse, get,
    http::header,
    web::{self, Data},
};
use tessera_actors::Hub;

use crate::error::{ApiResult, Problem};

/// A JSON document resource servers may cache for `max_age` seconds (the tenant's
/// JWKS cache lifetime, which scheduled key rotation publishes next keys ahead of).
fn cached_json(body: String, max_age: i64) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={max_age}")))
        .body(body)
}

/// The tenant's JSON Web Key Set.
///
/// Public keys only (HS secrets are never published): the active key, a scheduled
/// next key (published at least one cache lifetime before it signs), and keys still
/// inside their overlap window. `Cache-Control: max-age` is 300 s, or half the
/// tenant's `key_rotation_interval` when that is shorter.
#[utoipa::path(
    tag = "discovery",
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme")),
    responses(
        (status = 200, description = "RFC 7517 JWK set", content_type = "application/json", body = Object,
         example = json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0", "kid": "key_0193a1b2c3d47e8f9a0b1c2d3e4f5a6b", "alg": "ES256", "use": "sig"}]})),
        (status = 404, description = "`tenant_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(hub: Data<Hub>, tenant: web::Path<String>) -> ApiResult<HttpResponse> {
    let ctx = hub.tenant(&tenant).await?;
    Ok(cached_json(ctx.jwks.clone(), ctx.settings.jwks_max_age()))
}

/// Discovery metadata.
///
/// Where the tenant's issuer, JWKS, token and revocation endpoints are, and its algorithm.
#[utoipa::path(
    tag = "discovery",
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme")),
    responses(
        (status = 200, description = "OpenID/OAuth discovery document", content_type = "application/json", body = Object,
         example = json!({"issuer": "https://auth.example.com/v1/tenants/acme", "jwks_uri": "https://auth.example.com/v1/tenants/acme/.well-known/jwks.json", "token_endpoint": "https://auth.example.com/v1/tenants/acme/token", "revocation_endpoint": "https://auth.example.com/v1/tenants/acme/token/revoke", "introspection_endpoint": "https://auth.example.com/v1/tenants/acme/token/introspect", "id_token_signing_alg_values_supported": ["ES256"]})),
        (status = 404, description = "`tenant_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/.well-known/openid-configuration")]
pub async fn openid_configuration(
    hub: Data<Hub>,
    tenant: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let ctx = hub.tenant(&tenant).await?;
    let base = format!(
        "{}/v1/tenants/{}",
        hub.public_url().trim_end_matches('/'),
        ctx.slug
    );
    let alg = ctx.settings.algorithm.as_str();
    let doc = serde_json::json!({
        "issuer": ctx.issuer(),
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "token_endpoint": format!("{base}/token"),
        "revocation_endpoint": format!("{base}/token/revoke"),
        "introspection_endpoint": format!("{base}/token/introspect"),
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic"],
        "userinfo_endpoint": format!("{base}/users/me"),
        "grant_types_supported": ["password", "refresh_token"],
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "token_endpoint_auth_methods_supported": ["none"],
        "id_token_signing_alg_values_supported": [alg],
        "token_endpoint_auth_signing_alg_values_supported": [alg],
    });
    Ok(cached_json(doc.to_string(), ctx.settings.jwks_max_age()))
}
