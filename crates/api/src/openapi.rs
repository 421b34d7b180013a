//! The OpenAPI document: built from the same registration as the routes, with the
//! two bearer schemes (end-user access tokens and admin API keys).
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_actix_web::AppExt;

mod contract;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tessera",
        description = "Multi-tenant JWT authentication: log users in, hand out access and refresh tokens, verify, refresh and revoke them, for many SaaS tenants at once. Errors are RFC 9457 problem+json with `code` and `detail`.",
        license(name = "Apache-2.0"),
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "tokens", description = "Obtain, refresh, verify and revoke tokens"),
        (name = "users", description = "End users: sign-up, the caller, password change, sessions"),
        (name = "discovery", description = "JWKS and discovery metadata for resource servers"),
        (name = "admin", description = "Operators: tenants and their settings (admin API key)"),
        (name = "keys", description = "Operators: a tenant's signing keys: list, rotate, retire, import"),
        (name = "admin users", description = "Operators: a tenant's users and their sessions"),
        (name = "admin clients", description = "Operators: a tenant's resource-server clients (introspection)"),
        (name = "audit", description = "Operators: the record of every admin change"),
        (name = "api keys", description = "Operators: admin API keys (platform keys only)"),
        (name = "operations", description = "Liveness and readiness"),
    ),
    components(schemas(
        crate::error::Problem,
        tessera_actors::requests::DjangoUser,
        tessera_actors::requests::TesseraUser
    ))
)]
struct BaseDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "access_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An end user's access token from POST /v1/tenants/{tenant}/token",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "client_basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "A resource-server client of the tenant: client_id and client_secret from POST /v1/admin/tenants/{tenant}/clients",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "admin_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("tsk_…")
                    .description(Some("An admin API key (tessera admin create-key)"))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document of every route, as served and committed: generated from the
/// route registration, then completed by [`contract`]. Needs no pool, Redis or
/// running actor.
pub fn openapi() -> serde_json::Value {
    let (_, spec) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(BaseDoc::openapi())
        .configure(crate::routes::configure)
        .split_for_parts();
    let mut doc = serde_json::to_value(spec).unwrap_or_default();
    contract::apply(&mut doc);
    doc
}

/// The document as pretty JSON with a trailing newline (what is committed).
pub fn openapi_json() -> String {
    let mut s = serde_json::to_string_pretty(&openapi()).unwrap_or_default();
    s.push('\n');
    s
}
