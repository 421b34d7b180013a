//! The OpenAPI document: committed, fresh, served, and complete.
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
