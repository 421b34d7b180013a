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

    // A deactivated user's token is inactive, though this node knows the username.
    let r = introspect(&app, "rs-one", Some(&auth), json!({"token": fresh})).await;
    assert_eq!(r.body["active"], true, "{}", r.text);
    let r = app
        .admin(
            "PATCH",
            &format!("/tenants/rs-one/users/{uid}"),
            Some(json!({"is_active": false})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = introspect(&app, "rs-one", Some(&auth), json!({"token": fresh})).await;
    assert_eq!(r.body, json!({"active": false}), "deactivated: {}", r.text);

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

/// GETs the tenant's revocation feed with a client credential.
async fn feed(app: &TestApp, slug: &str, auth: &str, query: &str) -> Res {
    app.send(
        "GET",
        &format!("/v1/tenants/{slug}/revocations{query}"),
        vec![("Authorization", auth.to_owned())],
        None,
    )
    .await
}

/// Waits on the feed from `cursor` on `app` while `revoke` runs after a pause;
/// returns the answer and how long after the revocation was asked for it came
/// (the logout's own request included).
pub async fn long_poll_sees<F: std::future::Future<Output = ()>>(
    app: &TestApp,
    slug: &str,
    auth: &str,
    cursor: &str,
    revoke: F,
) -> (Res, std::time::Duration) {
    let query = format!("?since={cursor}&wait=10");
    let poll = async {
        let r = feed(app, slug, auth, &query).await;
        (r, std::time::Instant::now())
    };
    let act = async {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
        let asked = std::time::Instant::now();
        revoke.await;
        asked
    };
    let ((answer, answered), asked) = futures_util::future::join(poll, act).await;
    (answer, answered.saturating_duration_since(asked))
}

#[actix_rt::test]
async fn the_revocation_feed_lists_what_is_in_force_and_long_polls_for_what_comes() {
    let app = TestApp::start().await;
    app.tenant("feed", json!({})).await;
    let uid = app.user("feed", "alice", "correct horse", json!({})).await;
    let (id, secret) = client(&app, "feed", "cdn").await;
    let auth = basic(&id, &secret);

    // Nothing yet; then a logout is one session item.
    let r = feed(&app, "feed", &auth, "").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["items"], json!([]), "{}", r.text);
    assert_eq!(header(&r, "cache-control"), Some("no-store"));
    let pair = app.login("feed", "alice", "correct horse").await;
    let access = s(&pair, "access");
    let sid = tessera_tests::decode_parts(&access).1["sid"].clone();
    assert_eq!(app.revoke_status("feed", &access).await, 200);
    let r = feed(&app, "feed", &auth, "").await;
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", r.text);
    assert_eq!(
        (&items[0]["kind"], &items[0]["sid"]),
        (&json!("session"), &sid)
    );
    assert!(items[0]["until"].as_i64().unwrap() > items[0]["revoked_at"].as_i64().unwrap());
    let cursor = s(&r.body, "cursor");

    // From the cursor: nothing new, at once without a wait.
    let r = feed(&app, "feed", &auth, &format!("?since={cursor}&wait=0")).await;
    assert_eq!(
        (r.body["items"].clone(), s(&r.body, "cursor")),
        (json!([]), cursor.clone())
    );

    // A long poll answers as soon as a revocation commits: "log out everywhere" is
    // a user cut-off (and the sessions it ended).
    let fresh = s(&app.login("feed", "alice", "correct horse").await, "access");
    let (r, after) = long_poll_sees(&app, "feed", &auth, &cursor, async {
        let all = app
            .post("/v1/tenants/feed/token/revoke-all", Some(&fresh), json!({}))
            .await;
        assert_eq!(all.status, 200);
    })
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    eprintln!("feed: a logout reached a waiting long poll {after:?} after it was asked for");
    assert!(after < std::time::Duration::from_secs(1), "{after:?}");
    let user = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "user")
        .unwrap_or_else(|| panic!("{}", r.text))
        .clone();
    assert_eq!(user["sub"], uid.as_str());
    assert!(user["before"].as_i64().is_some());
    let next = s(&r.body, "cursor");
    assert_ne!(next, cursor);

    // A wait that ends with nothing new is an empty answer with the same cursor.
    let started = std::time::Instant::now();
    let r = feed(&app, "feed", &auth, &format!("?since={next}&wait=1")).await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
    assert_eq!(
        (r.body["items"].clone(), s(&r.body, "cursor")),
        (json!([]), next.clone())
    );

    // A blacklisted token (an import) is a token item.
    let jti = "3f1c9a0b2d4e4f6a8b0c1d2e3f4a5b6c";
    app.blacklist("feed", &json!(jti)).await;
    let r = feed(&app, "feed", &auth, &format!("?since={next}")).await;
    assert_eq!(r.body["items"][0]["kind"], "token", "{}", r.text);
    assert_eq!(r.body["items"][0]["jti"], jti);

    // Bad parameters are 400 naming them; no client is 401.
    for (q, field) in [
        ("?wait=31", "wait"),
        ("?since=abc", "since"),
        ("?since=-1", "since"),
    ] {
        let r = feed(&app, "feed", &auth, q).await;
        assert_eq!(r.status, 400, "{q}: {}", r.text);
        assert!(r.body["errors"][field].is_array(), "{q}: {}", r.text);
    }
    let r = app
        .get("/v1/tenants/feed/revocations", Some(&app.admin_key))
        .await;
    assert_eq!(r.status, 401, "{}", r.text);
}
