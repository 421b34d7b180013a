//! Route registration: one module per resource, one function per endpoint.
pub mod admin;
pub mod ops;
pub mod tokens;
pub mod users;
pub mod well_known;

use utoipa_actix_web::{scope, service_config::ServiceConfig};

/// Registers every documented route (routes and OpenAPI from one registration).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        scope::scope("/v1/tenants/{tenant}")
            .service(tokens::obtain)
            .service(tokens::refresh)
            .service(tokens::verify)
            .service(tokens::revoke)
            .service(tokens::revoke_all)
            .service(users::signup)
            .service(users::me)
            .service(users::change_password)
            .service(well_known::jwks)
            .service(well_known::openid_configuration),
    )
    .service(
        scope::scope("/v1/admin")
            .service(admin::create_tenant)
            .service(admin::list_tenants)
            .service(admin::get_tenant)
            .service(admin::patch_tenant)
            .service(admin::delete_tenant)
            .service(admin::create_user),
    )
    .service(ops::healthz)
    .service(ops::readyz);
}
