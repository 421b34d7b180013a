//! Obtain, refresh, verify: the token routes and their error cases.
use serde_json::json;
use tessera_tests::{TestApp, decode_parts, s};

#[actix_rt::test]
async fn login_json_and_form_then_me_with_the_documented_claims() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({"audience": "orders-api"})).await;
    let uid = app
        .user(
            "acme",
            "alice",
            "correct horse",
            json!({"email": "alice@example.com", "roles": ["editor"]}),
        )
        .await;

    let pair = app.login("acme", "alice", "correct horse").await;
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 900);
    assert_eq!(pair["refresh_expires_in"], 86400);

    let form = app
        .raw(
            "POST",
            "/v1/tenants/acme/token",
            "application/x-www-form-urlencoded",
            b"username=alice&password=correct+horse".to_vec(),
            None,
        )
        .await;
    assert_eq!(form.status, 200, "{}", form.text);
    assert!(form.body["access"].is_string() && form.body["refresh"].is_string());

    let access = s(&pair, "access");
    let (h, c) = decode_parts(&access);
    assert_eq!(h["typ"], "at+jwt");
    assert_eq!(h["alg"], "ES256");
    let jwks = app
        .get("/v1/tenants/acme/.well-known/jwks.json", None)
        .await;
    assert_eq!(jwks.body["keys"][0]["kid"], h["kid"]);
    assert_eq!(c["iss"], format!("{}/v1/tenants/acme", app.url));
    assert_eq!(c["aud"], "orders-api");
    assert_eq!(c["sub"], uid);
    assert_eq!(c["user_id"], uid);
    assert_eq!(c["token_type"], "access");
    assert_eq!(c["roles"], json!(["editor"]));
    for k in ["exp", "iat", "nbf"] {
        assert!(c[k].is_i64(), "{k} must be an integer: {c}");
    }
    assert!(c["jti"].is_string() && c["sid"].is_string());
    let (rh, rc) = decode_parts(&s(&pair, "refresh"));
    assert_eq!(
        (rh["typ"].as_str(), rc["token_type"].as_str()),
        (Some("JWT"), Some("refresh"))
    );
    assert_eq!(rc["sid"], c["sid"]);

    let me = app.get("/v1/tenants/acme/users/me", Some(&access)).await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["id"], uid);
    assert_eq!(me.body["username"], "alice");
    assert_eq!(me.body["email"], "alice@example.com");
    assert_eq!(me.body["is_active"], true);
    assert!(
        me.body["last_login"].is_string(),
        "login sets last_login: {}",
        me.text
    );
    assert!(me.body.get("password_hash").is_none() && !me.text.contains("argon2"));
}

#[actix_rt::test]
async fn unknown_user_wrong_password_and_inactive_user_answer_identically() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    app.user("acme", "bob", "correct horse", json!({"is_active": false}))
        .await;
    let mut answers = Vec::new();
    for (u, p) in [
        ("nobody", "correct horse"),
        ("alice", "wrong horse"),
        ("bob", "correct horse"),
        ("", ""),
        ("alice", ""),
    ] {
        let r = app
            .post(
                "/v1/tenants/acme/token",
                None,
                json!({"username": u, "password": p}),
            )
            .await;
        assert_eq!(r.status, 401, "{u}: {}", r.text);
        assert_eq!(r.code(), "invalid_credentials");
        assert_eq!(
            r.headers.get("content-type").unwrap(),
            "application/problem+json"
        );
        answers.push(r.text);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    let missing = app
        .post("/v1/tenants/acme/token", None, json!({"username": "alice"}))
        .await;
    assert_eq!(
        (missing.status.as_u16(), missing.code()),
        (400, "validation_error")
    );
}

#[actix_rt::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_session() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    let pair = app.login("acme", "alice", "correct horse").await;
    let r1 = s(&pair, "refresh");

    let next = app
        .post(
            "/v1/tenants/acme/token/refresh",
            None,
            json!({"refresh": r1}),
        )
        .await;
    assert_eq!(next.status, 200, "{}", next.text);
    let (r2, a2) = (s(&next.body, "refresh"), s(&next.body, "access"));
    assert_ne!(r2, r1);
    assert_eq!(
        decode_parts(&a2).1["sid"],
        decode_parts(&r1).1["sid"],
        "the session carries on"
    );
    assert_eq!(app.me_status("acme", &a2).await, 200);

    // r1 again is reuse: 401, and everything of the session dies at once.
    let reuse = app
        .post(
            "/v1/tenants/acme/token/refresh",
            None,
            json!({"refresh": r1}),
        )
        .await;
    assert_eq!(
        (reuse.status.as_u16(), reuse.code()),
        (401, "token_not_valid")
    );
    assert_eq!(app.me_status("acme", &a2).await, 401);
    assert_eq!(app.refresh_status("acme", &r2).await, 401);
    assert_eq!(app.verify_status("acme", &s(&pair, "access")).await, 401);

    // Another session of the same user is untouched.
    let other = app.login("acme", "alice", "correct horse").await;
    assert_eq!(app.me_status("acme", &s(&other, "access")).await, 200);
}

#[actix_rt::test]
async fn refresh_without_rotation_keeps_the_refresh_token_and_form_bodies_work() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({"rotate_refresh_tokens": false}))
        .await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    let refresh = s(
        &app.login("acme", "alice", "correct horse").await,
        "refresh",
    );
    for _ in 0..2 {
        let r = app
            .raw(
                "POST",
                "/v1/tenants/acme/token/refresh",
                "application/x-www-form-urlencoded",
                format!("refresh={refresh}").into_bytes(),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(
            r.body.get("refresh").is_none(),
            "no new refresh without rotation: {}",
            r.text
        );
        assert!(r.body["access"].is_string());
    }
    // An access token is not a refresh token.
    let access = s(&app.login("acme", "alice", "correct horse").await, "access");
    let wrong = app
        .post(
            "/v1/tenants/acme/token/refresh",
            None,
            json!({"refresh": access}),
        )
        .await;
    assert_eq!(
        (wrong.status.as_u16(), wrong.code()),
        (401, "token_not_valid")
    );
}

#[actix_rt::test]
async fn roles_and_custom_claims_are_read_afresh_at_refresh() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({"custom_claims": {"plan": "gold"}}))
        .await;
    app.user("acme", "alice", "correct horse", json!({"roles": ["a"]}))
        .await;
    let pair = app.login("acme", "alice", "correct horse").await;
    let c = decode_parts(&s(&pair, "access")).1;
    assert_eq!(
        (c["plan"].as_str(), c["roles"].clone()),
        (Some("gold"), json!(["a"]))
    );
    let p = app
        .admin(
            "PATCH",
            "/tenants/acme",
            Some(json!({"custom_claims": {"plan": "platinum"}})),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.text);
    let next = app
        .post(
            "/v1/tenants/acme/token/refresh",
            None,
            json!({"refresh": s(&pair, "refresh")}),
        )
        .await;
    assert_eq!(next.status, 200, "{}", next.text);
    assert_eq!(decode_parts(&s(&next.body, "access")).1["plan"], "platinum");
}

#[actix_rt::test]
async fn verify_accepts_valid_tokens_and_rejects_the_rest() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({"access_token_ttl": 1})).await;
    let uid = app.user("acme", "alice", "correct horse", json!({})).await;
    let pair = app.login("acme", "alice", "correct horse").await;
    for (tok, ty) in [
        (s(&pair, "access"), "access"),
        (s(&pair, "refresh"), "refresh"),
    ] {
        let r = app
            .post("/v1/tenants/acme/token/verify", None, json!({"token": tok}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["token_type"], ty);
        assert_eq!(r.body["sub"], uid);
        assert_eq!(r.body["jti"], decode_parts(&tok).1["jti"]);
        assert_eq!(r.body["exp"], decode_parts(&tok).1["exp"]);
    }
    let access = s(&pair, "access");
    let tampered = format!("{}x", &access[..access.len() - 1]);
    for bad in ["", "garbage", "a.b.c", tampered.as_str()] {
        let r = app
            .post("/v1/tenants/acme/token/verify", None, json!({"token": bad}))
            .await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (401, "token_not_valid"),
            "{bad}"
        );
    }
    // Lifetimes are whole seconds and short ones work.
    actix_rt::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = app
        .post(
            "/v1/tenants/acme/token/verify",
            None,
            json!({"token": access}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "token_not_valid"));
    assert_eq!(r.body["detail"], "Token is expired");
    assert_eq!(app.me_status("acme", &access).await, 401);
}

#[actix_rt::test]
async fn tokens_never_cross_tenants_and_unknown_or_disabled_tenants_look_alike() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    app.tenant("globex", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    app.user("globex", "alice", "other pass", json!({})).await;
    let pair = app.login("acme", "alice", "correct horse").await;
    let access = s(&pair, "access");
    let r = app
        .post(
            "/v1/tenants/globex/token/verify",
            None,
            json!({"token": access}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "token_not_valid"));
    assert_eq!(app.me_status("globex", &access).await, 401);
    let r = app
        .post(
            "/v1/tenants/globex/token/refresh",
            None,
            json!({"refresh": s(&pair, "refresh")}),
        )
        .await;
    assert_eq!(r.status, 401);
    // same username, other tenant's password
    let r = app
        .post(
            "/v1/tenants/globex/token",
            None,
            json!({"username": "alice", "password": "correct horse"}),
        )
        .await;
    assert_eq!(r.code(), "invalid_credentials");

    let unknown = app
        .get("/v1/tenants/nosuch/.well-known/jwks.json", None)
        .await;
    assert_eq!(
        (unknown.status.as_u16(), unknown.code()),
        (404, "tenant_not_found")
    );
    assert_eq!(
        app.admin("PATCH", "/tenants/globex", Some(json!({"disabled": true})))
            .await
            .status,
        200
    );
    let disabled = app
        .get("/v1/tenants/globex/.well-known/jwks.json", None)
        .await;
    assert_eq!(disabled.status, 404);
    assert_eq!(
        disabled.text, unknown.text,
        "disabled and unknown tenants answer identically"
    );
    let login = app
        .post(
            "/v1/tenants/globex/token",
            None,
            json!({"username": "alice", "password": "other pass"}),
        )
        .await;
    assert_eq!(login.code(), "tenant_not_found");
    let bad_slug = app
        .get("/v1/tenants/NOT_A_SLUG/.well-known/jwks.json", None)
        .await;
    assert_eq!(bad_slug.text, unknown.text);
}

#[actix_rt::test]
async fn discovery_documents_point_at_the_tenant() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({"algorithm": "RS256"})).await;
    let r = app
        .get("/v1/tenants/acme/.well-known/openid-configuration", None)
        .await;
    assert_eq!(r.status, 200);
    let base = format!("{}/v1/tenants/acme", app.url);
    assert_eq!(r.body["issuer"], base);
    assert_eq!(r.body["jwks_uri"], format!("{base}/.well-known/jwks.json"));
    assert_eq!(r.body["token_endpoint"], format!("{base}/token"));
    assert_eq!(
        r.body["revocation_endpoint"],
        format!("{base}/token/revoke")
    );
    assert_eq!(
        r.body["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    let jwks = app
        .get("/v1/tenants/acme/.well-known/jwks.json", None)
        .await;
    assert!(
        jwks.headers
            .get("cache-control")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    assert_eq!(jwks.body["keys"][0]["kty"], "RSA");
}
