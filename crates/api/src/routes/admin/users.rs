//! `/v1/admin/tenants/{tenant}/users…`: a tenant's users, for operators.
use crate::extract::Admin;
use actix_web::{
    HttpResponse, delete, get, patch, post,
    web::{self, Data},
};
use tessera_actors::{
    Hub,
    requests::{CreateUserRequest, UserPatch, UserQuery},
    views::{Page, RevokedSessions, UserView},
};

use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    error::{ApiResult, Problem},
    extract::Json,
};
use tessera_core::ids::UserId;

/// One user of a tenant, in the path.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// Tenant slug.
    #[param(example = "acme")]
    pub tenant: String,
    /// User id (`usr_…`): an `id` from GET /v1/admin/tenants/{tenant}/users or from the
    /// answer that created the user (the example is a placeholder).
    #[param(value_type = String, example = "usr_0193a1b2c3d47e8f9a0b1c2d3e4f5a6b")]
    pub user_id: UserId,
}

/// List a tenant's users.
///
/// In creation order; `search` matches part of a username or e-mail, any case.
#[utoipa::path(
    tag = "admin users",
    security(("admin_key" = [])),
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme"), UserQuery),
    responses(
        (status = 200, description = "One page of users", body = Page<UserView>),
        (status = 400, description = "`validation_error`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`not_authenticated`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/tenants/{tenant}/users")]
pub async fn list_users(
    hub: Data<Hub>,
    tenant: web::Path<String>,
    q: web::Query<UserQuery>,
    Admin(key): Admin,
) -> ApiResult<web::Json<Page<UserView>>> {
    Ok(web::Json(
        hub.list_users(&key, &tenant, q.into_inner()).await?,
    ))
}

/// Create a user in a tenant.
#[utoipa::path(
    tag = "admin users",
    security(("admin_key" = [])),
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme")),
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Created", body = UserView),
        (status = 400, description = "`validation_error`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`not_authenticated`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict`: username taken", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tenants/{tenant}/users")]
pub async fn create_user(
    hub: Data<Hub>,
    tenant: web::Path<String>,
    body: Json<CreateUserRequest>,
    Admin(key): Admin,
) -> ApiResult<HttpResponse> {
    let user = hub.admin_create_user(&key, &tenant, body.0).await?;
    Ok(HttpResponse::Created().json(user))
}

/// Read a user.
#[utoipa::path(
    tag = "admin users",
    security(("admin_key" = [])),
    params(UserPath),
    responses(
        (status = 200, description = "The user", body = UserView),
        (status = 401, description = "`not_authenticated`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found` or `not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/tenants/{tenant}/users/{user_id}")]
pub async fn get_user(
    hub: Data<Hub>,
    path: web::Path<UserPath>,
    Admin(key): Admin,
) -> ApiResult<web::Json<UserView>> {
    let UserPath { tenant, user_id } = path.into_inner();
    Ok(web::Json(
        hub.admin_get_user(&key, &tenant, &user_id).await?,
    ))
}

/// Change a user.
///
/// Only the fields sent change. `is_active: false` and a new `password` cut off
/// every token of the user at once; new `roles` reach tokens at their next refresh.
#[utoipa::path(
    tag = "admin users",
    security(("admin_key" = [])),
    params(UserPath),
    request_body = UserPatch,
    responses(
        (status = 200, description = "The changed user", body = UserView),
        (status = 400, description = "`validation_error`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`not_authenticated`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found` or `not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/tenants/{tenant}/users/{user_id}")]
pub async fn patch_user(
    hub: Data<Hub>,
    path: web::Path<UserPath>,
    body: Json<UserPatch>,
    Admin(key): Admin,
) -> ApiResult<web::Json<UserView>> {
    let UserPath { tenant, user_id } = path.into_inner();
    Ok(web::Json(
        hub.admin_patch_user(&key, &tenant, &user_id, body.0)
            .await?,
    ))
}

/// Delete a user.
///
/// Their sessions go with them and every token they hold stops working at once.
#[utoipa::path(
    tag = "admin users",
    security(("admin_key" = [])),
    params(UserPath),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "`not_authenticated`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found` or `not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/tenants/{tenant}/users/{user_id}")]
pub async fn delete_user(
    hub: Data<Hub>,
    path: web::Path<UserPath>,
    Admin(key): Admin,
) -> ApiResult<HttpResponse> {
    let UserPath { tenant, user_id } = path.into_inner();
    hub.admin_delete_user(&key, &tenant, &user_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Revoke every session of a user.
///
/// Every refresh and access token the user holds stops working at once; they can
/// log in again.
#[utoipa::path(
    tag = "admin users",
    security(("admin_key" = [])),
    params(UserPath),
    responses(
        (status = 200, description = "Revoked", body = RevokedSessions),
        (status = 401, description = "`not_authenticated`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found` or `not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tenants/{tenant}/users/{user_id}/sessions/revoke")]
pub async fn revoke_user_sessions(
    hub: Data<Hub>,
    path: web::Path<UserPath>,
    Admin(key): Admin,
) -> ApiResult<web::Json<RevokedSessions>> {
    let UserPath { tenant, user_id } = path.into_inner();
    Ok(web::Json(
        hub.admin_revoke_user(&key, &tenant, &user_id).await?,
    ))
}
