//! `/v1/tenants/{tenant}/token…`: obtain, refresh, verify, introspect, revoke, revoke-all,
//! and the revocation feed.
use actix_web::{
    HttpRequest, HttpResponse, get, post,
    web::{self, Data},
};
use tessera_actors::{
    Hub,
    requests::{
        IntrospectRequest, LoginRequest, RefreshRequest, RevocationsQuery, RevokeRequest,
        TokenRequest,
    },
    views::{Introspection, RevocationPage, TokenPair, Verified},
};

use crate::{
    cookies::{cleared_response, pair_response, token_of},
    error::{ApiResult, Problem},
    extract::{JsonOrForm, authorization, client_info},
};

/// In browser mode, refuses a request a page of another site made the browser send
/// (login CSRF: it would log the victim into the attacker's account): 403, no cookie.
async fn refuse_cross_site(
    hub: &Hub,
    slug: &str,
    req: &HttpRequest,
) -> Result<(), tessera_core::Error> {
    let h = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if h("sec-fetch-site").is_none() && h("origin").is_none() {
        return Ok(());
    }
    let ctx = hub.tenant(slug).await?;
    let s = &ctx.settings;
    let info = req.connection_info();
    let public = hub.public_url();
    let public_host = public
        .split_once("://")
        .map_or(public, |(_, rest)| rest.split('/').next().unwrap_or(rest));
    if s.refresh_cookie
        && tessera_core::cross_site::is_cross_site(
            h("sec-fetch-site"),
            h("origin"),
            &[info.host(), public_host],
            &s.allowed_origins,
        )
    {
        return Err(tessera_core::Error::PermissionDenied(
            "Cross-site request refused: the origin is not allowed to call this tenant's token routes",
        ));
    }
    Ok(())
}

/// Whether the tenant runs in browser mode (refresh token in a cookie); asked only
/// when a request brings no token in its body.
async fn browser(hub: &Hub, slug: &str) -> Result<bool, tessera_core::Error> {
    Ok(hub.tenant(slug).await?.settings.refresh_cookie)
}

/// Obtain a token pair.
///
/// Exchanges a username and password for an access and a refresh token. Unknown
/// user, wrong password and inactive user answer identically, in the same time.
/// In browser mode the refresh token is set as the `tessera_refresh` cookie
/// (HttpOnly, Secure, SameSite=Strict, path `…/token`) with a `tessera_csrf`
/// cookie, and left out of the body. Too many attempts for one username or from one
/// address within a minute (the tenant's `login_rate_limit`) answer 429.
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
        (status = 403, description = "`permission_denied`: (browser mode) a cross-site request — an `Origin` that is neither this service's host nor in `allowed_origins`, or without `Origin` a `Sec-Fetch-Site` of `cross-site` or `same-site`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`, with `Retry-After`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/token")]
pub async fn obtain(
    hub: Data<Hub>,
    tenant: web::Path<String>,
    req: HttpRequest,
    body: JsonOrForm<LoginRequest>,
) -> ApiResult<HttpResponse> {
    refuse_cross_site(&hub, &tenant, &req).await?;
    let b = body.0;
    let pair = hub
        .login(&tenant, &b.username, b.password, client_info(&req))
        .await?;
    Ok(pair_response(&tenant, pair))
}

/// Refresh the access token.
///
/// Returns a new access token, and a new refresh token when the tenant rotates
/// them. A rotated-out refresh token presented again is reuse: 401, and its whole
/// session is revoked. In browser mode the token may come from the
/// `tessera_refresh` cookie, which needs `X-CSRF-Token` equal to the `tessera_csrf`
/// cookie (else 403), and a rotated token goes back into the cookie.
#[utoipa::path(
    tag = "tokens",
    params(
        ("tenant" = String, Path, description = "Tenant slug", example = "acme"),
        ("X-CSRF-Token" = Option<String>, Header, description = "Browser mode, when the refresh token comes from the `tessera_refresh` cookie: the `tessera_csrf` cookie's value (also the `csrf_token` of the last token answer). Swagger UI sends the cookies of this site itself."),
    ),
    request_body(content(
        (RefreshRequest = "application/json"),
        (RefreshRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "New tokens", body = TokenPair),
        (status = 400, description = "`validation_error`: no refresh token", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`token_not_valid`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`permission_denied`: cookie without a matching CSRF header, or (browser mode) a cross-site request", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/token/refresh")]
pub async fn refresh(
    hub: Data<Hub>,
    tenant: web::Path<String>,
    req: HttpRequest,
    body: JsonOrForm<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    refuse_cross_site(&hub, &tenant, &req).await?;
    let token = token_of(&req, body.0.refresh, "refresh", || browser(&hub, &tenant)).await?;
    let pair = hub.refresh(&tenant, token, || client_info(&req)).await?;
    Ok(pair_response(&tenant, pair))
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

/// Introspect a token (RFC 7662).
///
/// For a resource server of the tenant, authenticated with HTTP Basic
/// `client_id:client_secret` (a client from POST /v1/admin/tenants/{tenant}/clients;
/// an admin key or an end user's token is not one). Answers whether the token is
/// active now, and if so its facts; an expired, revoked, rotated-out, malformed or
/// another tenant's token is exactly `{"active": false}`. `token_type_hint` is
/// accepted and changes nothing.
#[utoipa::path(
    tag = "tokens",
    security(("client_basic" = [])),
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme")),
    request_body(content(
        (IntrospectRequest = "application/json"),
        (IntrospectRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "`{\"active\": true, …}` or exactly `{\"active\": false}`", body = Introspection),
        (status = 401, description = "`not_authenticated`: no valid client credential of this tenant", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/token/introspect")]
pub async fn introspect(
    hub: Data<Hub>,
    tenant: web::Path<String>,
    req: HttpRequest,
    body: JsonOrForm<IntrospectRequest>,
) -> ApiResult<HttpResponse> {
    for_client(
        hub.introspect(&tenant, authorization(&req), body.0.token)
            .await,
    )
}

/// Revoke a token's session.
///
/// Revokes the whole session of a refresh or access token: its refresh token and
/// every access token carrying its `sid`, at once. In browser mode the token may
/// come from the `tessera_refresh` cookie (with the CSRF header), and both cookies
/// are cleared.
#[utoipa::path(
    tag = "tokens",
    params(
        ("tenant" = String, Path, description = "Tenant slug", example = "acme"),
        ("X-CSRF-Token" = Option<String>, Header, description = "Browser mode, when the refresh token comes from the `tessera_refresh` cookie: the `tessera_csrf` cookie's value (also the `csrf_token` of the last token answer). Swagger UI sends the cookies of this site itself."),
    ),
    request_body(content(
        (RevokeRequest = "application/json"),
        (RevokeRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Revoked", body = Object, example = json!({})),
        (status = 400, description = "`validation_error`: no token", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`token_not_valid`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`permission_denied`: cookie without a matching CSRF header, or (browser mode) a cross-site request", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/token/revoke")]
pub async fn revoke(
    hub: Data<Hub>,
    tenant: web::Path<String>,
    req: HttpRequest,
    body: JsonOrForm<RevokeRequest>,
) -> ApiResult<HttpResponse> {
    refuse_cross_site(&hub, &tenant, &req).await?;
    let token = token_of(&req, body.0.token, "token", || browser(&hub, &tenant)).await?;
    let browser = hub.revoke(&tenant, token).await?;
    Ok(cleared_response(&tenant, browser))
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

/// The answer of a route for resource-server clients: JSON, never cached, or a 401
/// that asks for a client credential (HTTP Basic) rather than a Bearer token.
fn for_client<T: serde::Serialize>(
    answer: Result<T, tessera_core::Error>,
) -> ApiResult<HttpResponse> {
    use actix_web::{ResponseError, http::header};
    match answer {
        Ok(body) => Ok(HttpResponse::Ok()
            .insert_header(crate::cookies::NO_STORE)
            .json(body)),
        Err(e @ tessera_core::Error::NotAuthenticated(_)) => {
            let mut res = crate::error::ApiError::from(e).error_response();
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Basic realm=\"tessera\""),
            );
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

/// Follow the tenant's revocations.
///
/// For a resource server that verifies tokens offline (from the JWKS) and must still
/// refuse a logout within a second, authenticated with HTTP Basic like
/// introspection. Without `since`: every revocation still in force and a `cursor`;
/// with `since` (a `cursor` of an earlier answer): only what was revoked after it.
/// With `wait` (up to 30 s), an answer that would be empty waits instead, and comes
/// as soon as a revocation commits on any node (or empty when the wait ends): ask
/// again with the new `cursor` in a loop. An item covers a `session` (refuse tokens
/// with this `sid`), a `token` (this `jti`) or a `user` (tokens of this `sub` with
/// `iat` before `before`), until `until` (Unix seconds).
#[utoipa::path(
    tag = "tokens",
    security(("client_basic" = [])),
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme"), RevocationsQuery),
    responses(
        (status = 200, description = "Revocations, and the cursor to ask from next", body = RevocationPage),
        (status = 401, description = "`not_authenticated`: no valid client credential of this tenant", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/revocations")]
pub async fn revocations(
    hub: Data<Hub>,
    tenant: web::Path<String>,
    req: HttpRequest,
    q: web::Query<RevocationsQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    for_client(
        hub.revocations(&tenant, authorization(&req), q.since, q.wait)
            .await,
    )
}
