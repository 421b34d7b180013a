//! The OpenAPI document: committed, fresh, served, and complete.
use serde_json::Value;
use tessera_tests::TestApp;

#[test]
fn committed_openapi_json_is_fresh() {
    let generated = tessera_api::openapi::openapi_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test -p tessera-tests openapi` and commit it"
    );
}

#[test]
fn every_contract_route_is_documented_with_examples_and_security() {
    let spec: serde_json::Value =
        serde_json::from_str(&tessera_api::openapi::openapi_json()).unwrap();
    let paths = spec["paths"].as_object().unwrap();
    let t = "/v1/tenants/{tenant}";
    for (path, method) in [
        (format!("{t}/token"), "post"),
        (format!("{t}/token/refresh"), "post"),
        (format!("{t}/token/verify"), "post"),
        (format!("{t}/token/revoke"), "post"),
        (format!("{t}/token/revoke-all"), "post"),
        (format!("{t}/users"), "post"),
        (format!("{t}/users/me"), "get"),
        (format!("{t}/users/me/password"), "post"),
        (format!("{t}/.well-known/jwks.json"), "get"),
        (format!("{t}/.well-known/openid-configuration"), "get"),
        ("/v1/admin/tenants".into(), "post"),
        ("/v1/admin/tenants".into(), "get"),
        ("/v1/admin/tenants/{tenant}".into(), "get"),
        ("/v1/admin/tenants/{tenant}".into(), "patch"),
        ("/v1/admin/tenants/{tenant}".into(), "delete"),
        ("/v1/admin/tenants/{tenant}/users".into(), "post"),
        ("/v1/admin/tenants/{tenant}/users".into(), "get"),
        ("/v1/admin/tenants/{tenant}/users/{user_id}".into(), "get"),
        ("/v1/admin/tenants/{tenant}/users/{user_id}".into(), "patch"),
        (
            "/v1/admin/tenants/{tenant}/users/{user_id}".into(),
            "delete",
        ),
        (
            "/v1/admin/tenants/{tenant}/users/{user_id}/sessions/revoke".into(),
            "post",
        ),
        ("/v1/admin/tenants/{tenant}/keys".into(), "get"),
        ("/v1/admin/tenants/{tenant}/keys".into(), "post"),
        ("/v1/admin/tenants/{tenant}/keys/{kid}".into(), "delete"),
        ("/v1/admin/tenants/{tenant}/keys/import".into(), "post"),
        ("/v1/admin/tenants/{tenant}/audit".into(), "get"),
        ("/v1/admin/audit".into(), "get"),
        ("/v1/admin/api-keys".into(), "post"),
        ("/v1/admin/api-keys".into(), "get"),
        ("/v1/admin/api-keys/{id}".into(), "delete"),
        (format!("{t}/users/me/sessions"), "get"),
        (format!("{t}/users/me/sessions/{{sid}}"), "delete"),
        ("/healthz".into(), "get"),
        ("/readyz".into(), "get"),
    ] {
        let op = &paths
            .get(&path)
            .unwrap_or_else(|| panic!("{path} undocumented"))[method];
        assert!(op.is_object(), "{method} {path} undocumented");
        assert!(
            op["summary"].is_string() || op["description"].is_string(),
            "{method} {path} has no description"
        );
    }
    let token = &paths[&format!("{t}/token")]["post"]["requestBody"]["content"];
    assert!(
        token["application/x-www-form-urlencoded"].is_object(),
        "token routes take forms too"
    );
    let schemes = &spec["components"]["securitySchemes"];
    assert_eq!(schemes["access_token"]["scheme"], "bearer");
    assert_eq!(schemes["admin_key"]["scheme"], "bearer");
    assert!(spec["components"]["schemas"]["TokenPair"]["example"].is_object());
    assert!(spec["components"]["schemas"]["Problem"]["example"].is_object());
}

/// The schema a `$ref` names, or the schema itself.
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => &spec["components"]["schemas"][r.rsplit('/').next().unwrap()],
        None => schema,
    }
}

/// Whether a JSON body (request or response) shows an example: on the content, on
/// its schema, or (for a list page) on the schema of its items.
fn has_example(spec: &Value, content: &Value) -> bool {
    let schema = resolve(spec, &content["schema"]);
    !content["example"].is_null()
        || content["examples"].is_object()
        || !schema["example"].is_null()
        || resolve(spec, &schema["properties"]["items"]["items"])["example"].is_object()
}

#[test]
fn every_operation_has_examples_and_the_right_authorize_scheme() {
    let spec: Value = serde_json::from_str(&tessera_api::openapi::openapi_json()).unwrap();
    let mut checked = 0;
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let what = format!("{method} {path}");
            let schemes: Vec<&str> = op["security"]
                .as_array()
                .map(|s| {
                    s.iter()
                        .flat_map(|r| r.as_object().unwrap().keys())
                        .map(String::as_str)
                        .collect()
                })
                .unwrap_or_default();
            if path.starts_with("/v1/admin") {
                assert_eq!(
                    schemes,
                    vec!["admin_key"],
                    "{what}: Authorize with an admin key"
                );
            } else if path.contains("/users/me") || path.ends_with("/revoke-all") {
                assert_eq!(
                    schemes,
                    vec!["access_token"],
                    "{what}: Authorize with an access token"
                );
            } else if path.ends_with("/token/introspect") || path.ends_with("/revocations") {
                assert_eq!(
                    schemes,
                    vec!["client_basic"],
                    "{what}: Authorize with a client credential"
                );
            } else {
                assert!(schemes.is_empty(), "{what}: public");
            }
            if let Some(json) = op["requestBody"]["content"].get("application/json") {
                assert!(
                    has_example(&spec, json),
                    "{what}: request body without example"
                );
            }
            for (status, res) in op["responses"].as_object().unwrap() {
                for (ct, content) in res["content"].as_object().into_iter().flatten() {
                    assert!(
                        has_example(&spec, content),
                        "{what}: {status} {ct} without example"
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 34, "only {checked} operations");
}

#[actix_rt::test]
async fn the_spec_and_swagger_ui_are_served() {
    let app = TestApp::start().await;
    let r = app.get("/openapi.json", None).await;
    assert_eq!(r.status, 200);
    let served: serde_json::Value = r.body;
    let generated: serde_json::Value =
        serde_json::from_str(&tessera_api::openapi::openapi_json()).unwrap();
    assert_eq!(served, generated);
    let ui = app.get("/docs/", None).await;
    assert_eq!(ui.status, 200);
    assert!(ui.text.contains("swagger-ui"), "Swagger UI page expected");
    let init = app.get("/docs/swagger-initializer.js", None).await;
    assert!(init.text.contains("/openapi.json"), "{}", init.text);
}
