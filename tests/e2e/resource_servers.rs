//! What a tenant's own services get: resource-server clients (admin create, list,
//! delete) and RFC 7662 introspection with HTTP Basic.
use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Value, json};
use tessera_tests::{Res, TestApp, s};

fn header<'a>(r: &'a Res, name: &str) -> Option<&'a str> {
    r.headers.get(name).and_then(|v| v.to_str().ok())
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

/// POSTs `body` to the tenant's introspection endpoint with `authorization`.
async fn introspect(app: &TestApp, slug: &str, authorization: Option<&str>, body: Value) -> Res {
    let headers: Vec<(&str, String)> = authorization
        .map(|a| vec![("Authorization", a.to_owned())])
        .unwrap_or_default();
    app.send(
        "POST",
        &format!("/v1/tenants/{slug}/token/introspect"),
        headers,
        Some(body),
    )
    .await
}

async fn client(app: &TestApp, slug: &str, name: &str) -> (String, String) {
    let r = app
        .admin(
            "POST",
            &format!("/tenants/{slug}/clients"),
            Some(json!({"name": name})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(header(&r, "cache-control"), Some("no-store"));
    (s(&r.body, "client_id"), s(&r.body, "client_secret"))
}

#[actix_rt::test]
async fn clients_introspect_their_tenants_tokens_and_nothing_else() {
    let app = TestApp::start().await;
    app.tenant("rs-one", json!({"audience": "orders-api"}))
        .await;
    app.tenant("rs-two", json!({})).await;
    let uid = app
        .user("rs-one", "alice", "correct horse", json!({}))
        .await;
    app.user("rs-two", "bob", "correct horse", json!({})).await;
    let (id, secret) = client(&app, "rs-one", "orders-api").await;
    let (other_id, other_secret) = client(&app, "rs-two", "billing").await;
    let auth = basic(&id, &secret);

    // Listed without secrets.
    let list = app.admin("GET", "/tenants/rs-one/clients", None).await;
    assert_eq!(
        list.body["items"][0]["client_id"],
        id.as_str(),
        "{}",
        list.text
    );
    assert!(!list.text.contains(&secret) && list.body["items"][0].get("client_secret").is_none());

    // An active access token: its facts, no-store.
    let pair = app.login("rs-one", "alice", "correct horse").await;
    let access = s(&pair, "access");
    let r = introspect(&app, "rs-one", Some(&auth), json!({"token": access})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(header(&r, "cache-control"), Some("no-store"));
    let b = &r.body;
    assert_eq!(b["active"], true, "{}", r.text);
    assert_eq!(
        (b["sub"].as_str(), b["username"].as_str()),
        (Some(uid.as_str()), Some("alice"))
    );
    assert_eq!(b["aud"], "orders-api");
    assert_eq!(b["token_type"], "access");
    assert_eq!(b["client_id"], id.as_str());
    for k in ["exp", "iat", "nbf", "iss", "jti", "sid"] {
        assert!(!b[k].is_null(), "{k} missing: {}", r.text);
    }
    // Form-encoded with a hint, as RFC 7662 clients send it; a refresh token too.
    let r = app
        .raw(
            "POST",
            "/v1/tenants/rs-one/token/introspect",
            "application/x-www-form-urlencoded",
            format!(
                "token={}&token_type_hint=refresh_token",
                s(&pair, "refresh")
            )
            .into_bytes(),
            Some(("Authorization", auth.clone())),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body["token_type"].as_str()),
        (200, Some("refresh")),
        "{}",
        r.text
    );

    // Anything else is exactly {"active": false}: malformed, another tenant's,
    // revoked, rotated out.
    let bob = app.login("rs-two", "bob", "correct horse").await;
    let inactive = [
        "not-a-token".to_owned(),
        s(&bob, "access"),
        format!("{}x", access),
    ];
    for token in inactive {
        let r = introspect(&app, "rs-one", Some(&auth), json!({"token": token})).await;
        assert_eq!(
            (r.status.as_u16(), &r.body),
            (200, &json!({"active": false})),
            "{}",
            r.text
        );
    }
    let old_refresh = s(&pair, "refresh");
    assert_eq!(app.refresh_status("rs-one", &old_refresh).await, 200);
    let r = introspect(&app, "rs-one", Some(&auth), json!({"token": old_refresh})).await;
    assert_eq!(r.body, json!({"active": false}), "rotated out: {}", r.text);
    assert_eq!(app.revoke_status("rs-one", &access).await, 200);
    let r = introspect(&app, "rs-one", Some(&auth), json!({"token": access})).await;
    assert_eq!(r.body, json!({"active": false}), "revoked: {}", r.text);

    // Who may ask: a client of this tenant only; not another tenant's client, an
    // admin key, an end user's token, a wrong secret or nothing. 401 asks for Basic.
    let fresh = s(
        &app.login("rs-one", "alice", "correct horse").await,
        "access",
    );
    let refused = [
        None,
        Some(basic(&other_id, &other_secret)),
        Some(basic(&id, "tcs_wrong")),
        Some(format!("Bearer {}", app.admin_key)),
        Some(format!("Bearer {fresh}")),
        Some(basic(&app.admin_key, "")),
        Some("Basic !!!".to_owned()),
    ];
    for a in refused {
        let r = introspect(&app, "rs-one", a.as_deref(), json!({"token": fresh})).await;
        assert_eq!(r.status, 401, "{a:?}: {}", r.text);
        assert_eq!(r.body["code"], "not_authenticated");
        assert!(
            header(&r, "www-authenticate").is_some_and(|h| h.starts_with("Basic")),
            "{a:?}"
        );
    }

    // A deleted client stops at once; the discovery document names the endpoint.
    let r = app
        .admin("DELETE", &format!("/tenants/rs-one/clients/{id}"), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = introspect(&app, "rs-one", Some(&auth), json!({"token": fresh})).await;
    assert_eq!(r.status, 401, "deleted: {}", r.text);
    let r = app
        .admin("DELETE", &format!("/tenants/rs-one/clients/{id}"), None)
        .await;
    assert_eq!(r.status, 404);
    let d = app
        .get("/v1/tenants/rs-one/.well-known/openid-configuration", None)
        .await;
    assert!(s(&d.body, "introspection_endpoint").ends_with("/v1/tenants/rs-one/token/introspect"));

    // Admin changes are audited; names are checked.
    let audit = app.admin("GET", "/tenants/rs-one/audit", None).await;
    assert!(audit.text.contains("client.create") && audit.text.contains("client.delete"));
    let r = app
        .admin(
            "POST",
            "/tenants/rs-one/clients",
            Some(json!({"name": " "})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
}
