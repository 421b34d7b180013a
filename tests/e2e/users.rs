//! Sign-up and `/users/me` authentication.
use serde_json::json;
use tessera_tests::{TestApp, s};

#[actix_rt::test]
async fn signup_follows_the_tenant_setting_and_validates() {
    let app = TestApp::start().await;
    app.tenant("closed", json!({})).await;
    app.tenant(
        "open",
        json!({"allow_signup": true, "password_min_length": 10}),
    )
    .await;
    let body =
        json!({"username": "alice", "password": "long enough pass", "email": "alice@example.com"});
    let r = app
        .post("/v1/tenants/closed/users", None, body.clone())
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "signup_disabled"));
    let r = app.post("/v1/tenants/open/users", None, body.clone()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(s(&r.body, "id").starts_with("usr_"));
    assert_eq!(r.body["email"], "alice@example.com");
    assert!(r.body["last_login"].is_null());
    assert!(!r.text.contains("long enough pass") && !r.text.contains("argon2"));
    let dup = app.post("/v1/tenants/open/users", None, body).await;
    assert_eq!((dup.status.as_u16(), dup.code()), (409, "conflict"));

    for (bad, field) in [
        (json!({"username": "bob", "password": "short"}), "password"),
        (
            json!({"username": "", "password": "long enough pass"}),
            "username",
        ),
        (
            json!({"username": "b o b", "password": "long enough pass"}),
            "username",
        ),
        (
            json!({"username": "bob", "password": "long enough pass", "email": "nope"}),
            "email",
        ),
    ] {
        let r = app.post("/v1/tenants/open/users", None, bad.clone()).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (400, "validation_error"),
            "{bad}"
        );
        assert!(r.body["errors"][field].is_array(), "{bad}: {}", r.text);
    }
    app.login("open", "alice", "long enough pass").await;
}

/// `GET /users/me` with `Authorization: JWT <token>` (djangorestframework-jwt's prefix).
async fn me_with_jwt_prefix(app: &TestApp, access: &str) -> tessera_tests::Res {
    let header = ("Authorization", format!("JWT {access}"));
    app.raw(
        "GET",
        "/v1/tenants/acme/users/me",
        "application/json",
        vec![],
        Some(header),
    )
    .await
}

#[actix_rt::test]
async fn me_requires_a_valid_bearer_access_token() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    let pair = app.login("acme", "alice", "correct horse").await;
    let r = app.get("/v1/tenants/acme/users/me", None).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "not_authenticated"));
    assert!(r.headers.get("www-authenticate").is_some());
    let jwt = me_with_jwt_prefix(&app, &s(&pair, "access")).await;
    assert_eq!(
        (jwt.status.as_u16(), jwt.code()),
        (401, "not_authenticated"),
        "JWT prefix is off by default"
    );
    let r = app
        .get("/v1/tenants/acme/users/me", Some(&s(&pair, "refresh")))
        .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (401, "token_not_valid"),
        "a refresh token is not an access token"
    );
    assert_eq!(
        app.admin(
            "PATCH",
            "/tenants/acme",
            Some(json!({"auth_header_types": ["Bearer", "JWT"]}))
        )
        .await
        .status,
        200
    );
    let jwt = me_with_jwt_prefix(&app, &s(&pair, "access")).await;
    assert_eq!(jwt.status, 200, "{}", jwt.text);
}
