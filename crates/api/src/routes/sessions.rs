//! `/v1/tenants/{tenant}/users/me/sessions…`: "where am I logged in", and logging
//! one device out.
use actix_web::{
    HttpRequest, HttpResponse, delete, get,
    web::{self, Data},
};
use tessera_actors::{
    Hub,
    views::{Page, SessionView},
};

use tessera_core::ids::SessionId;

use crate::{
    error::{ApiResult, Problem},
    extract::authorization,
    routes::admin::ListQuery,
};

/// The caller's live sessions.
///
/// Newest first; `current` marks the session of the token making this request.
#[utoipa::path(
    tag = "users",
    security(("access_token" = [])),
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme"), ListQuery),
    responses(
        (status = 200, description = "One page of live sessions", body = Page<SessionView>),
        (status = 400, description = "`validation_error`: a bad cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`not_authenticated` or `token_not_valid`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users/me/sessions")]
pub async fn list_sessions(
    hub: Data<Hub>,
    req: HttpRequest,
    tenant: web::Path<String>,
    q: web::Query<ListQuery>,
) -> ApiResult<web::Json<Page<SessionView>>> {
    let q = q.into_inner();
    Ok(web::Json(
        hub.my_sessions(&tenant, authorization(&req), q.cursor, q.limit)
            .await?,
    ))
}

/// Log one of the caller's sessions out.
///
/// Its refresh token and every access token of it stop working at once.
#[utoipa::path(
    tag = "users",
    security(("access_token" = [])),
    params(
        ("tenant" = String, Path, description = "Tenant slug", example = "acme"),
        ("sid" = String, Path, description = "Session id: a `sid` from GET /v1/tenants/{tenant}/users/me/sessions (the example is a placeholder)", example = "5f0c6a8e2b7d4c1a9e3f8b6d2a4c7e1f"),
    ),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "`not_authenticated` or `token_not_valid`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such live session of the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/users/me/sessions/{sid}")]
pub async fn end_session(
    hub: Data<Hub>,
    req: HttpRequest,
    path: web::Path<(String, SessionId)>,
) -> ApiResult<HttpResponse> {
    let (tenant, sid) = path.into_inner();
    hub.end_my_session(&tenant, authorization(&req), &sid)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
