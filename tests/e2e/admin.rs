//! Admin API: keys, scope, tenants CRUD with validation, users.
use serde_json::json;
use tessera_tests::{TestApp, s};

#[actix_rt::test]
async fn admin_routes_require_a_valid_key() {
    let app = TestApp::start().await;
    for key in [None, Some("tsk_wrong"), Some("")] {
        let r = app.call("GET", "/v1/admin/tenants", key, None).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (401, "not_authenticated"),
            "{key:?}"
        );
    }
    let r = app.admin("GET", "/tenants", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"items": [], "next_cursor": null}));
}

#[actix_rt::test]
async fn tenants_crud_with_validation_and_pagination() {
    let app = TestApp::start().await;
    let t = app
        .tenant(
            "acme",
            json!({"display_name": "Acme Inc.", "access_token_ttl": 60}),
        )
        .await;
    assert_eq!(t["slug"], "acme");
    assert_eq!(t["display_name"], "Acme Inc.");
    assert_eq!(t["access_token_ttl"], 60);
    assert_eq!(t["algorithm"], "ES256");
    assert_eq!(t["session_max_lifetime"], 2_592_000);
    let dup = app
        .admin("POST", "/tenants", Some(json!({"slug": "acme"})))
        .await;
    assert_eq!((dup.status.as_u16(), dup.code()), (409, "conflict"));
    for (bad, field) in [
        (json!({"slug": "A!"}), "slug"),
        (json!({}), "slug"),
        (json!({"slug": "okay", "algorithm": "none"}), "algorithm"),
        (
            json!({"slug": "okay", "access_token_ttl": 0}),
            "access_token_ttl",
        ),
        (json!({"slug": "okay", "leeway": 100000}), "leeway"),
        (
            json!({"slug": "okay", "no_such_setting": 1}),
            "no_such_setting",
        ),
    ] {
        let r = app.admin("POST", "/tenants", Some(bad.clone())).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (400, "validation_error"),
            "{bad}: {}",
            r.text
        );
        assert!(r.body["errors"][field].is_array(), "{bad}: {}", r.text);
    }

    app.tenant("beta", json!({})).await;
    app.tenant("gamma", json!({})).await;
    let p1 = app.admin("GET", "/tenants?limit=2", None).await;
    assert_eq!(p1.body["items"].as_array().unwrap().len(), 2);
    let cursor = s(&p1.body, "next_cursor");
    let p2 = app
        .admin("GET", &format!("/tenants?limit=2&cursor={cursor}"), None)
        .await;
    assert_eq!(p2.body["items"][0]["slug"], "gamma");
    assert!(p2.body["next_cursor"].is_null());
    let bad = app.admin("GET", "/tenants?limit=lots", None).await;
    assert_eq!(bad.code(), "validation_error");

    let r = app
        .admin(
            "PATCH",
            "/tenants/acme",
            Some(json!({"refresh_token_ttl": 30})),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (400, "validation_error"),
        "refresh < access is refused"
    );
    assert_eq!(
        app.admin("GET", "/tenants/acme", None).await.body["refresh_token_ttl"],
        86400,
        "nothing stored changed"
    );
    let r = app
        .admin(
            "PATCH",
            "/tenants/acme",
            Some(json!({"access_token_ttl": 120, "audience": "api"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (
            r.body["access_token_ttl"].as_i64(),
            r.body["audience"].as_str()
        ),
        (Some(120), Some("api"))
    );
    // null clears a nullable setting, for good.
    let r = app
        .admin("PATCH", "/tenants/acme", Some(json!({"audience": null})))
        .await;
    assert!(r.body["audience"].is_null(), "{}", r.text);
    assert!(
        app.admin("GET", "/tenants/acme", None).await.body["audience"].is_null(),
        "stored as null"
    );
    // The change reaches tokens on the next request.
    app.user("acme", "alice", "correct horse", json!({})).await;
    assert_eq!(
        app.login("acme", "alice", "correct horse").await["expires_in"],
        120
    );

    // acme owns a user, a session, refresh tokens, a revocation and keys; then it goes.
    let pair = app.login("acme", "alice", "correct horse").await;
    app.post(
        "/v1/tenants/acme/token/revoke",
        None,
        json!({"token": s(&pair, "refresh")}),
    )
    .await;
    for t in [
        "users",
        "sessions",
        "refresh_tokens",
        "revocations",
        "signing_keys",
    ] {
        let q = format!(
            "SELECT count(*) AS n FROM {t} WHERE tenant_id = (SELECT id FROM tenants WHERE slug = 'acme')"
        );
        assert!(app.count(&q) > 0, "{t}");
    }
    let r = app.admin("DELETE", "/tenants/acme", None).await;
    assert_eq!(r.status, 204);
    let left = "SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM sessions) + (SELECT count(*) FROM refresh_tokens) + (SELECT count(*) FROM revocations) AS n";
    assert_eq!(app.count(left), 0, "everything acme owned is gone");
    assert_eq!(
        app.admin("GET", "/tenants/acme", None).await.code(),
        "tenant_not_found"
    );
    assert_eq!(
        app.get("/v1/tenants/acme/.well-known/jwks.json", None)
            .await
            .code(),
        "tenant_not_found"
    );
    assert_eq!(app.admin("DELETE", "/tenants/acme", None).await.status, 404);
}

#[actix_rt::test]
async fn changing_the_algorithm_rotates_and_old_tokens_keep_verifying() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    let old = s(&app.login("acme", "alice", "correct horse").await, "access");
    let r = app
        .admin(
            "PATCH",
            "/tenants/acme",
            Some(json!({"algorithm": "EdDSA"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let jwks = app
        .get("/v1/tenants/acme/.well-known/jwks.json", None)
        .await;
    let algs: Vec<&str> = jwks.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["alg"].as_str().unwrap())
        .collect();
    assert_eq!(
        algs,
        vec!["EdDSA", "ES256"],
        "new key first, old key kept for its tokens"
    );
    let new = s(&app.login("acme", "alice", "correct horse").await, "access");
    assert_eq!(tessera_tests::decode_parts(&new).0["alg"], "EdDSA");
    assert_eq!(app.me_status("acme", &old).await, 200);
    assert_eq!(app.me_status("acme", &new).await, 200);
}

#[actix_rt::test]
async fn a_scoped_key_sees_only_its_tenant() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    app.tenant("globex", json!({})).await;
    let scoped =
        tessera_server::commands::create_key(&app.settings, "acme ops", Some("acme")).unwrap();
    let k = Some(scoped.as_str());
    let list = app.call("GET", "/v1/admin/tenants", k, None).await;
    let slugs: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, vec!["acme"]);
    assert_eq!(
        app.call("GET", "/v1/admin/tenants/acme", k, None)
            .await
            .status,
        200
    );
    let foreign = [
        app.call("GET", "/v1/admin/tenants/globex", k, None).await,
        app.call(
            "PATCH",
            "/v1/admin/tenants/globex",
            k,
            Some(json!({"display_name": "x"})),
        )
        .await,
        app.call("DELETE", "/v1/admin/tenants/globex", k, None)
            .await,
        app.call(
            "POST",
            "/v1/admin/tenants/globex/users",
            k,
            Some(json!({"username": "u", "password": "long enough"})),
        )
        .await,
    ];
    let missing = app.call("GET", "/v1/admin/tenants/nosuch", k, None).await;
    for r in &foreign {
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (404, "tenant_not_found"),
            "{}",
            r.text
        );
        assert_eq!(r.text, missing.text, "another tenant looks like no tenant");
    }
    let create = app
        .call(
            "POST",
            "/v1/admin/tenants",
            k,
            Some(json!({"slug": "mine"})),
        )
        .await;
    assert_eq!(
        (create.status.as_u16(), create.code()),
        (403, "permission_denied")
    );
    assert_eq!(
        app.admin("GET", "/tenants/globex", None).await.body["display_name"],
        "globex",
        "untouched"
    );
    let r = app
        .call(
            "POST",
            "/v1/admin/tenants/acme/users",
            k,
            Some(json!({"username": "u", "password": "long enough"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

#[actix_rt::test]
async fn admin_user_creation_validates_and_conflicts() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    app.user(
        "acme",
        "alice",
        "correct horse",
        json!({"roles": ["admin"]}),
    )
    .await;
    let dup = app
        .admin(
            "POST",
            "/tenants/acme/users",
            Some(json!({"username": "alice", "password": "correct horse"})),
        )
        .await;
    assert_eq!((dup.status.as_u16(), dup.code()), (409, "conflict"));
    let short = app
        .admin(
            "POST",
            "/tenants/acme/users",
            Some(json!({"username": "bob", "password": "1234567"})),
        )
        .await;
    assert!(
        short.body["errors"]["password"].is_array(),
        "{}",
        short.text
    );
    let unknown = app
        .admin(
            "POST",
            "/tenants/acme/users",
            Some(json!({"username": "bob", "password": "correct horse", "admin": true})),
        )
        .await;
    assert_eq!(unknown.code(), "validation_error");
    let missing = app
        .admin(
            "POST",
            "/tenants/nosuch/users",
            Some(json!({"username": "bob", "password": "correct horse"})),
        )
        .await;
    assert_eq!(missing.code(), "tenant_not_found");
}
