//! `/v1/admin/tenants/{tenant}/…/import`: bringing a project's users and blacklist
//! over (Django + simplejwt's `dumpdata`, or Tessera's own user format).
use actix_web::{
    post,
    web::{self, Data},
};
use tessera_actors::{
    Hub,
    requests::{ImportRevocationsRequest, ImportUsersRequest},
    views::{ImportReport, RevocationImport},
};

use crate::{
    error::{ApiResult, Problem},
    extract::AdminBulk,
};

/// Import users.
///
/// `{"format": "django", "users": …}` takes exactly what `python manage.py dumpdata
/// auth.user` prints: each user keeps their Django password hash (verified at login,
/// then upgraded to argon2id), `is_staff`/`is_superuser` become the roles
/// `staff`/`superuser`, `date_joined` and `last_login` are kept, and the primary key
/// becomes `external_id`, carried as the `user_id` claim. `{"format": "tessera",
/// "users": [{"username", "password_hash", "email", "is_active", "roles",
/// "external_id"}]}` takes Tessera's own records. Up to 10 000 users a request, one
/// transaction per 1 000; each record is checked on its own (`failed` says which and
/// why), and usernames the tenant has already are `skipped`, so importing the same
/// dump again creates nobody twice. Running the example creates the user `dora`
/// (password `dora-password-1`).
#[utoipa::path(
    tag = "admin users",
    security(("admin_key" = [])),
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme")),
    request_body = ImportUsersRequest,
    responses(
        (status = 200, description = "What the import did", body = ImportReport),
        (status = 400, description = "`validation_error`: not an import body, or more than 10 000 users", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`not_authenticated`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tenants/{tenant}/users/import")]
pub async fn import_users(
    hub: Data<Hub>,
    tenant: web::Path<String>,
    AdminBulk(key, body): AdminBulk<ImportUsersRequest>,
) -> ApiResult<web::Json<ImportReport>> {
    Ok(web::Json(hub.import_users(&key, &tenant, body).await?))
}

/// Import a blacklist.
///
/// Takes what `python manage.py dumpdata token_blacklist` prints (simplejwt's
/// OutstandingToken and BlacklistedToken records): every blacklisted token that has
/// not expired is refused from this answer on, on every node, until it expires.
/// Importing it again changes nothing. Running the example refuses a token with the
/// jti `3f1c9a0b2d4e4f6a8b0c1d2e3f4a5b6c`.
#[utoipa::path(
    tag = "admin users",
    security(("admin_key" = [])),
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme")),
    request_body = ImportRevocationsRequest,
    responses(
        (status = 200, description = "What the import did", body = RevocationImport),
        (status = 400, description = "`validation_error`: a record that is not token_blacklist's, named by its index", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`not_authenticated`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tenants/{tenant}/revocations/import")]
pub async fn import_revocations(
    hub: Data<Hub>,
    tenant: web::Path<String>,
    AdminBulk(key, body): AdminBulk<ImportRevocationsRequest>,
) -> ApiResult<web::Json<RevocationImport>> {
    Ok(web::Json(
        hub.import_revocations(&key, &tenant, body).await?,
    ))
}
