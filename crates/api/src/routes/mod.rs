//! Route registration: one module per resource, one function per endpoint.
pub mod admin;
pub mod ops;
pub mod sessions;
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
            .service(tokens::introspect)
            .service(tokens::revocations)
            .service(tokens::revoke)
            .service(tokens::revoke_all)
            .service(users::signup)
            .service(users::me)
            .service(users::change_password)
            .service(sessions::list_sessions)
            .service(sessions::end_session)
            .service(well_known::jwks)
            .service(well_known::openid_configuration),
    )
    .service(
        scope::scope("/v1/admin")
            .service(admin::tenants::create_tenant)
            .service(admin::tenants::list_tenants)
            .service(admin::tenants::get_tenant)
            .service(admin::tenants::patch_tenant)
            .service(admin::tenants::delete_tenant)
            .service(admin::keys::list_keys)
            .service(admin::keys::rotate_key)
            .service(admin::keys::import_key)
            .service(admin::keys::retire_key)
            .service(admin::imports::import_users)
            .service(admin::imports::import_revocations)
            .service(admin::users::list_users)
            .service(admin::users::create_user)
            .service(admin::users::get_user)
            .service(admin::users::patch_user)
            .service(admin::users::delete_user)
            .service(admin::users::revoke_user_sessions)
            .service(admin::clients::create_client)
            .service(admin::clients::list_clients)
            .service(admin::clients::delete_client)
            .service(admin::audit::tenant_audit)
            .service(admin::audit::platform_audit)
            .service(admin::api_keys::create_api_key)
            .service(admin::api_keys::list_api_keys)
            .service(admin::api_keys::delete_api_key),
    )
    .service(ops::healthz)
    .service(ops::readyz);
}

/// The methods each documented path takes (from the OpenAPI document, so it cannot
/// drift from the routes): what a wrong method on a known path is told in `Allow`.
pub struct Methods(Vec<(Vec<String>, Vec<String>)>);

impl Methods {
    /// The path templates and their methods of the document `spec`.
    pub fn of(spec: &serde_json::Value) -> Self {
        let paths = spec["paths"].as_object().cloned().unwrap_or_default();
        let table = paths
            .iter()
            .map(|(template, item)| {
                let methods: Vec<String> = ["get", "put", "post", "delete", "patch"]
                    .into_iter()
                    .filter(|m| item.get(*m).is_some())
                    .map(str::to_ascii_uppercase)
                    .collect();
                let segments = template.split('/').map(str::to_owned).collect();
                (segments, methods)
            })
            .collect();
        Self(table)
    }

    /// The `Allow` value for `path`: the methods of the documented path it matches
    /// most closely (`/keys/import` rather than `/keys/{kid}`), if it matches any.
    pub fn allowed(&self, path: &str) -> Option<String> {
        let parts: Vec<&str> = path.split('/').collect();
        let literal = |s: &&String| !s.starts_with('{');
        self.0
            .iter()
            .filter(|(segments, _)| {
                segments.len() == parts.len()
                    && segments
                        .iter()
                        .zip(&parts)
                        .all(|(s, p)| if literal(&s) { s == p } else { !p.is_empty() })
            })
            .max_by_key(|(segments, _)| segments.iter().filter(literal).count())
            .map(|(_, methods)| methods.join(", "))
    }
}
