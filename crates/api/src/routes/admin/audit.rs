//! `/v1/admin/…/audit`: the record of every admin change.
use crate::extract::Admin;
use actix_web::{
    get,
    web::{self, Data},
};
use tessera_actors::{
    Hub,
    views::{AuditView, Page},
};

use super::ListQuery;
use crate::error::{ApiResult, Problem};

/// A tenant's audit log.
///
/// Every admin change to the tenant, its keys and its users, newest first: which
/// admin key (or `cli`, `system`), what, when, and the state before and after
/// (never a secret).
#[utoipa::path(
    tag = "audit",
    security(("admin_key" = [])),
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme"), ListQuery),
    responses(
        (status = 200, description = "One page of events", body = Page<AuditView>),
        (status = 401, description = "`not_authenticated`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/tenants/{tenant}/audit")]
pub async fn tenant_audit(
    hub: Data<Hub>,
    tenant: web::Path<String>,
    q: web::Query<ListQuery>,
    Admin(key): Admin,
) -> ApiResult<web::Json<Page<AuditView>>> {
    let q = q.into_inner();
    Ok(web::Json(
        hub.audit_log(&key, Some(&tenant), q.cursor, q.limit)
            .await?,
    ))
}

/// The platform's audit log.
///
/// Platform keys only: every admin change, including deleted tenants' and admin
/// API keys', newest first.
#[utoipa::path(
    tag = "audit",
    security(("admin_key" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "One page of events", body = Page<AuditView>),
        (status = 401, description = "`not_authenticated`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`permission_denied`: a scoped key", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/audit")]
pub async fn platform_audit(
    hub: Data<Hub>,
    q: web::Query<ListQuery>,
    Admin(key): Admin,
) -> ApiResult<web::Json<Page<AuditView>>> {
    let q = q.into_inner();
    Ok(web::Json(
        hub.audit_log(&key, None, q.cursor, q.limit).await?,
    ))
}
