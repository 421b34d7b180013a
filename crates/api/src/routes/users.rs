//! `/v1/tenants/{tenant}/users…`: sign-up, the caller, password change.
use actix_web::{
    HttpRequest, get, post,
    web::{self, Data},
};
use tessera_actors::{
    Hub,
    requests::{PasswordChange, SignupRequest},
    views::{TokenPair, UserView},
};

use crate::{
    error::{ApiResult, Problem},
    extract::{Json, authorization, client_info},
};

/// Sign up.
///
/// Creates a user, when the tenant allows sign-up (`allow_signup`).
#[utoipa::path(
    tag = "users",
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme")),
    request_body = SignupRequest,
    responses(
        (status = 201, description = "Created", body = UserView),
        (status = 400, description = "`validation_error`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`signup_disabled`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict`: username taken", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many attempts from this address (`Retry-After`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users")]
pub async fn signup(
    hub: Data<Hub>,
    tenant: web::Path<String>,
    req: HttpRequest,
    body: Json<SignupRequest>,
) -> ApiResult<actix_web::HttpResponse> {
    let user = hub.signup(&tenant, body.0, client_info(&req)).await?;
    Ok(actix_web::HttpResponse::Created().json(user))
}

/// The calling user.
#[utoipa::path(
    tag = "users",
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme")),
    security(("access_token" = [])),
    responses(
        (status = 200, description = "The user of the access token", body = UserView),
        (status = 401, description = "`not_authenticated` or `token_not_valid`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users/me")]
pub async fn me(
    hub: Data<Hub>,
    tenant: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<web::Json<UserView>> {
    Ok(web::Json(hub.me(&tenant, authorization(&req)).await?))
}

/// Change the caller's password.
///
/// Every token issued before the change stops working; a fresh pair is returned
/// (in browser mode its refresh token in the `tessera_refresh` cookie).
#[utoipa::path(
    tag = "users",
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme")),
    security(("access_token" = [])),
    request_body = PasswordChange,
    responses(
        (status = 200, description = "A fresh pair in a new session", body = TokenPair),
        (status = 400, description = "`validation_error`: wrong old password or weak new one", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`not_authenticated` or `token_not_valid`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many attempts for this user or address (`Retry-After`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users/me/password")]
pub async fn change_password(
    hub: Data<Hub>,
    tenant: web::Path<String>,
    req: HttpRequest,
    body: Json<PasswordChange>,
) -> ApiResult<actix_web::HttpResponse> {
    let b = body.0;
    let pair = hub
        .change_password(
            &tenant,
            authorization(&req),
            b.old_password,
            b.new_password,
            client_info(&req),
        )
        .await?;
    Ok(crate::cookies::pair_response(&tenant, pair))
}
