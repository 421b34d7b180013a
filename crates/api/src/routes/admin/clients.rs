//! `/v1/admin/tenants/{tenant}/clients…`: a tenant's resource-server clients, which
//! introspect its tokens and follow its revocations with HTTP Basic.
use crate::extract::Admin;
use actix_web::{
    HttpResponse, delete, get, post,
    web::{self, Data},
};
use serde::Deserialize;
use tessera_actors::{
    Hub,
    requests::CreateClientRequest,
    views::{ClientView, NewClient, Page},
};
use tessera_core::ids::ClientId;
use utoipa::IntoParams;

use super::ListQuery;
use crate::{
    error::{ApiResult, Problem},
    extract::Json,
};

/// One client of a tenant, in the path.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ClientPath {
    /// Tenant slug.
    #[param(example = "acme")]
    pub tenant: String,
    /// Client id (`cli_…`): a `client_id` from GET /v1/admin/tenants/{tenant}/clients
    /// or from the answer that created it (the example is a placeholder).
    #[param(value_type = String, example = "cli_0193a1b2c3d47e8f9a0b1c2d3e4f5a6b")]
    pub client_id: ClientId,
}

/// Create a resource-server client.
///
/// A service of the tenant that introspects tokens (POST /v1/tenants/{tenant}/token/introspect)
/// with HTTP Basic `client_id:client_secret`. The secret is in this answer and nowhere
/// else: Tessera keeps only its SHA-256. The client is valid for this tenant only.
#[utoipa::path(
    tag = "admin clients",
    security(("admin_key" = [])),
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme")),
    request_body = CreateClientRequest,
    responses(
        (status = 201, description = "Created; `client_secret` is shown this once", body = NewClient),
        (status = 401, description = "`not_authenticated`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/tenants/{tenant}/clients")]
pub async fn create_client(
    hub: Data<Hub>,
    tenant: web::Path<String>,
    body: Json<CreateClientRequest>,
    Admin(key): Admin,
) -> ApiResult<HttpResponse> {
    let created = hub.create_client(&key, &tenant, body.0).await?;
    Ok(HttpResponse::Created()
        .insert_header(crate::cookies::NO_STORE)
        .json(created))
}

/// List a tenant's resource-server clients.
///
/// Oldest first; never a secret.
#[utoipa::path(
    tag = "admin clients",
    security(("admin_key" = [])),
    params(("tenant" = String, Path, description = "Tenant slug", example = "acme"), ListQuery),
    responses(
        (status = 200, description = "One page of clients", body = Page<ClientView>),
        (status = 401, description = "`not_authenticated`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/tenants/{tenant}/clients")]
pub async fn list_clients(
    hub: Data<Hub>,
    tenant: web::Path<String>,
    q: web::Query<ListQuery>,
    Admin(key): Admin,
) -> ApiResult<web::Json<Page<ClientView>>> {
    let q = q.into_inner();
    Ok(web::Json(
        hub.list_clients(&key, &tenant, q.cursor, q.limit).await?,
    ))
}

/// Delete a resource-server client.
///
/// Every node refuses its credential before this answers.
#[utoipa::path(
    tag = "admin clients",
    security(("admin_key" = [])),
    params(ClientPath),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "`not_authenticated`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`tenant_not_found` or `not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/tenants/{tenant}/clients/{client_id}")]
pub async fn delete_client(
    hub: Data<Hub>,
    path: web::Path<ClientPath>,
    Admin(key): Admin,
) -> ApiResult<HttpResponse> {
    let ClientPath { tenant, client_id } = path.into_inner();
    hub.delete_client(&key, &tenant, &client_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
