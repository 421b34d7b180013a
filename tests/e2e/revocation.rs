//! Revocation: a session at once, log out everywhere, password change, and a Redis
//! that comes back empty.
use serde_json::json;
use tessera_tests::{TestApp, s};

#[actix_rt::test]
async fn revoking_a_refresh_token_kills_its_session_at_once() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    let pair = app.login("acme", "alice", "correct horse").await;
    let other = app.login("acme", "alice", "correct horse").await;
    let access = s(&pair, "access");
    assert_eq!(app.me_status("acme", &access).await, 200);

    let r = app
        .post(
            "/v1/tenants/acme/token/revoke",
            None,
            json!({"token": s(&pair, "refresh")}),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body.clone()),
        (200, json!({})),
        "{}",
        r.text
    );
    let me = app.get("/v1/tenants/acme/users/me", Some(&access)).await;
    assert_eq!((me.status.as_u16(), me.code()), (401, "token_not_valid"));
    assert_eq!(app.verify_status("acme", &access).await, 401);
    assert_eq!(app.refresh_status("acme", &s(&pair, "refresh")).await, 401);
    // the other session lives on
    assert_eq!(app.me_status("acme", &s(&other, "access")).await, 200);
    // revoking with an access token works the same way
    let r = app
        .post(
            "/v1/tenants/acme/token/revoke",
            None,
            json!({"token": s(&other, "access")}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(app.refresh_status("acme", &s(&other, "refresh")).await, 401);
    let bad = app
        .post(
            "/v1/tenants/acme/token/revoke",
            None,
            json!({"token": "nope"}),
        )
        .await;
    assert_eq!((bad.status.as_u16(), bad.code()), (401, "token_not_valid"));
}

#[actix_rt::test]
async fn revoke_all_logs_out_everywhere() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    app.user("acme", "bob", "correct horse", json!({})).await;
    let a1 = app.login("acme", "alice", "correct horse").await;
    let a2 = app.login("acme", "alice", "correct horse").await;
    let b = app.login("acme", "bob", "correct horse").await;
    let unauth = app
        .post("/v1/tenants/acme/token/revoke-all", None, json!({}))
        .await;
    assert_eq!(
        (unauth.status.as_u16(), unauth.code()),
        (401, "not_authenticated")
    );
    let r = app
        .post(
            "/v1/tenants/acme/token/revoke-all",
            Some(&s(&a1, "access")),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    for p in [&a1, &a2] {
        assert_eq!(app.me_status("acme", &s(p, "access")).await, 401);
        assert_eq!(app.refresh_status("acme", &s(p, "refresh")).await, 401);
    }
    assert_eq!(
        app.me_status("acme", &s(&b, "access")).await,
        200,
        "bob is untouched"
    );
    let fresh = app.login("acme", "alice", "correct horse").await;
    assert_eq!(
        app.me_status("acme", &s(&fresh, "access")).await,
        200,
        "a new login works"
    );
}

#[actix_rt::test]
async fn password_change_cuts_off_older_tokens_and_returns_a_fresh_pair() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    let old = app.login("acme", "alice", "correct horse").await;
    let access = s(&old, "access");
    let wrong = app
        .post(
            "/v1/tenants/acme/users/me/password",
            Some(&access),
            json!({"old_password": "nope", "new_password": "brand new pass"}),
        )
        .await;
    assert_eq!(
        (wrong.status.as_u16(), wrong.code()),
        (400, "validation_error")
    );
    assert!(wrong.body["errors"]["old_password"].is_array());
    let weak = app
        .post(
            "/v1/tenants/acme/users/me/password",
            Some(&access),
            json!({"old_password": "correct horse", "new_password": "short"}),
        )
        .await;
    assert!(
        weak.body["errors"]["new_password"].is_array(),
        "{}",
        weak.text
    );

    let r = app
        .post(
            "/v1/tenants/acme/users/me/password",
            Some(&access),
            json!({"old_password": "correct horse", "new_password": "brand new pass"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let fresh = s(&r.body, "access");
    assert_eq!(app.me_status("acme", &fresh).await, 200);
    assert_eq!(app.me_status("acme", &access).await, 401);
    assert_eq!(app.refresh_status("acme", &s(&old, "refresh")).await, 401);
    assert_eq!(
        app.refresh_status("acme", &s(&r.body, "refresh")).await,
        200
    );
    let r = app
        .post(
            "/v1/tenants/acme/token",
            None,
            json!({"username": "alice", "password": "correct horse"}),
        )
        .await;
    assert_eq!(r.code(), "invalid_credentials");
    app.login("acme", "alice", "brand new pass").await;
}

#[actix_rt::test]
async fn an_emptied_redis_is_refilled_from_postgres_and_nothing_revoked_revives() {
    if tessera_tests::shared_only("Redis (tests/e2e/embedded.rs restarts an embedded node instead)")
    {
        return;
    }
    // Its own Redis database, so FLUSHDB touches no other test.
    let app = TestApp::builder().redis_db(7).start().await;
    app.tenant("acme", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    app.user("acme", "bob", "correct horse", json!({})).await;
    let revoked = app.login("acme", "alice", "correct horse").await;
    let cut = app.login("acme", "bob", "correct horse").await;
    let live = app.login("acme", "alice", "correct horse").await;
    assert_eq!(
        app.post(
            "/v1/tenants/acme/token/revoke",
            None,
            json!({"token": s(&revoked, "refresh")})
        )
        .await
        .status,
        200
    );
    assert_eq!(
        app.post(
            "/v1/tenants/acme/token/revoke-all",
            Some(&s(&cut, "access")),
            json!({})
        )
        .await
        .status,
        200
    );

    let mut redis = app.redis().await;
    let _: () = redis::cmd("FLUSHDB").query_async(&mut redis).await.unwrap();
    let n: i64 = redis::cmd("DBSIZE").query_async(&mut redis).await.unwrap();
    assert_eq!(n, 0);

    assert_eq!(app.me_status("acme", &s(&revoked, "access")).await, 401);
    assert_eq!(app.me_status("acme", &s(&cut, "access")).await, 401);
    assert_eq!(
        app.verify_status("acme", &s(&revoked, "refresh")).await,
        401
    );
    assert_eq!(app.me_status("acme", &s(&live, "access")).await, 200);
    let n: i64 = redis::cmd("DBSIZE").query_async(&mut redis).await.unwrap();
    assert!(n >= 3, "refilled: {n} keys");
}
