//! Admin API keys and scope: platform keys manage keys; a scoped key sees and
//! changes only its tenant on every admin route, and gets 404 for any other.
use serde_json::{Value, json};
use tessera_tests::{TestApp, s};

#[actix_rt::test]
async fn api_keys_are_created_once_listed_without_secrets_and_deleted() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    let r = app
        .admin(
            "POST",
            "/api-keys",
            Some(json!({"name": "acme ops", "tenant": "acme"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let (id, secret) = (s(&r.body, "id"), s(&r.body, "secret"));
    assert!(id.starts_with("ak_") && secret.starts_with("tsk_"));
    assert_eq!(
        (r.body["name"].as_str(), r.body["tenant"].as_str()),
        (Some("acme ops"), Some("acme"))
    );
    let scoped = Some(secret.as_str());
    assert_eq!(
        app.call("GET", "/v1/admin/tenants/acme", scoped, None)
            .await
            .status,
        200
    );

    let platform = app
        .admin("POST", "/api-keys", Some(json!({"name": "ci"})))
        .await;
    assert_eq!(
        (platform.status.as_u16(), platform.body["tenant"].clone()),
        (201, Value::Null)
    );

    let list = app.admin("GET", "/api-keys", None).await;
    assert_eq!(list.status, 200);
    let names: Vec<String> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| s(k, "name"))
        .collect();
    assert_eq!(names, vec!["tests", "acme ops", "ci"]);
    assert!(
        list.body["items"][0]["last_used_at"].is_string(),
        "use is recorded"
    );
    assert!(
        !list.text.contains(&secret) && !list.text.contains("hash"),
        "{}",
        list.text
    );
    let p = app.admin("GET", "/api-keys?limit=2", None).await;
    assert_eq!(p.body["items"].as_array().unwrap().len(), 2);
    assert!(p.body["next_cursor"].is_string());

    for (bad, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "x", "tenant": "nosuch"}), "tenant"),
        (json!({"name": "x", "scope": "all"}), "scope"),
        (json!({}), "name"),
    ] {
        let r = app.admin("POST", "/api-keys", Some(bad.clone())).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (400, "validation_error"),
            "{bad}"
        );
        assert!(r.body["errors"][field].is_array(), "{bad}: {}", r.text);
    }

    let r = app.admin("DELETE", &format!("/api-keys/{id}"), None).await;
    assert_eq!(r.status, 204);
    let r = app
        .call("GET", "/v1/admin/tenants/acme", scoped, None)
        .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (401, "not_authenticated"),
        "refused at once"
    );
    let r = app.admin("DELETE", &format!("/api-keys/{id}"), None).await;
    assert_eq!((r.status.as_u16(), r.code()), (404, "not_found"));
}

/// Every admin route with a tenant in its path, as (method, path, body).
fn tenant_routes(slug: &str, kid: &str, user: &str) -> Vec<(&'static str, String, Option<Value>)> {
    let t = format!("/v1/admin/tenants/{slug}");
    vec![
        ("GET", t.clone(), None),
        (
            "PATCH",
            t.clone(),
            Some(json!({"display_name": "hijacked"})),
        ),
        ("GET", format!("{t}/keys"), None),
        ("POST", format!("{t}/keys"), None),
        (
            "POST",
            format!("{t}/keys/import"),
            Some(json!({"algorithm": "HS256", "secret": "x".repeat(40)})),
        ),
        ("DELETE", format!("{t}/keys/{kid}"), None),
        ("GET", format!("{t}/users"), None),
        (
            "POST",
            format!("{t}/users"),
            Some(json!({"username": "mallory", "password": "long enough"})),
        ),
        ("GET", format!("{t}/users/{user}"), None),
        (
            "PATCH",
            format!("{t}/users/{user}"),
            Some(json!({"is_active": false})),
        ),
        ("POST", format!("{t}/users/{user}/sessions/revoke"), None),
        ("GET", format!("{t}/audit"), None),
        ("DELETE", format!("{t}/users/{user}"), None),
        ("DELETE", t, None),
    ]
}

#[actix_rt::test]
async fn a_scoped_key_gets_404_for_another_tenant_on_every_route_and_403_on_platform_ones() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    app.tenant("globex", json!({})).await;
    let victim = app.user("globex", "gina", "correct horse", json!({})).await;
    let kid = app.jwks_kids("globex").await.remove(0);
    let session = app.login("globex", "gina", "correct horse").await;
    let audit_before = app.admin("GET", "/tenants/globex/audit", None).await.body["items"].clone();
    let r = app
        .admin(
            "POST",
            "/api-keys",
            Some(json!({"name": "acme ops", "tenant": "acme"})),
        )
        .await;
    let secret = s(&r.body, "secret");
    let k = Some(secret.as_str());

    // Without a valid key, every admin route is 401 before anything else.
    let platform_routes = vec![
        (
            "POST",
            "/v1/admin/tenants".to_owned(),
            Some(json!({"slug": "mine"})),
        ),
        ("GET", "/v1/admin/tenants".to_owned(), None),
        ("GET", "/v1/admin/api-keys".to_owned(), None),
        (
            "POST",
            "/v1/admin/api-keys".to_owned(),
            Some(json!({"name": "escalate"})),
        ),
        ("DELETE", "/v1/admin/api-keys/ak_x".to_owned(), None),
        ("GET", "/v1/admin/audit".to_owned(), None),
    ];
    let everything = tenant_routes("globex", &kid, &victim)
        .into_iter()
        .chain(platform_routes.clone());
    for (method, path, body) in everything {
        for bad in [None, Some("tsk_forged")] {
            let r = app.call(method, &path, bad, body.clone()).await;
            assert_eq!(
                (r.status.as_u16(), r.code()),
                (401, "not_authenticated"),
                "{method} {path}"
            );
        }
    }

    let missing = app.call("GET", "/v1/admin/tenants/nosuch", k, None).await;
    for (method, path, body) in tenant_routes("globex", &kid, &victim) {
        let r = app.call(method, &path, k, body).await;
        assert_eq!(
            (r.status.as_u16(), r.code(), r.text.as_str()),
            (404, "tenant_not_found", missing.text.as_str()),
            "{method} {path}: another tenant looks like no tenant"
        );
    }
    for (method, path, body) in platform_routes {
        if (method, path.as_str()) == ("GET", "/v1/admin/tenants") {
            continue; // a scoped key lists its own tenant
        }
        let r = app.call(method, &path, k, body).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (403, "permission_denied"),
            "{method} {path}"
        );
    }
    // Nothing of globex changed.
    let g = app.admin("GET", "/tenants/globex", None).await;
    assert_eq!(g.body["display_name"], "globex");
    assert_eq!(app.jwks_kids("globex").await, vec![kid.clone()]);
    assert_eq!(app.me_status("globex", &s(&session, "access")).await, 200);
    assert_eq!(
        app.admin("GET", "/tenants/globex/audit", None).await.body["items"],
        audit_before
    );

    // Its own tenant: every route works (the last two delete the user and tenant).
    let own = app.user("acme", "alice", "correct horse", json!({})).await;
    let own_kid = app.jwks_kids("acme").await.remove(0);
    for (method, path, body) in tenant_routes("acme", &own_kid, &own) {
        let r = app.call(method, &path, k, body).await;
        assert!(r.status.is_success(), "{method} {path}: {}", r.text);
    }
}

#[actix_rt::test]
async fn every_admin_change_is_audited_without_secrets() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    app.admin(
        "PATCH",
        "/tenants/acme",
        Some(json!({"access_token_ttl": 300})),
    )
    .await;
    let id = app.user("acme", "alice", "correct horse", json!({})).await;
    app.admin(
        "PATCH",
        &format!("/tenants/acme/users/{id}"),
        Some(json!({"password": "another passphrase", "roles": ["x"]})),
    )
    .await;
    app.admin(
        "POST",
        &format!("/tenants/acme/users/{id}/sessions/revoke"),
        None,
    )
    .await;
    let kid = s(
        &app.admin("POST", "/tenants/acme/keys", None).await.body,
        "kid",
    );
    let secret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef-django";
    app.admin(
        "POST",
        "/tenants/acme/keys/import",
        Some(json!({"algorithm": "HS512", "secret": secret})),
    )
    .await;
    app.admin("DELETE", &format!("/tenants/acme/keys/{kid}"), None)
        .await;
    app.admin("DELETE", &format!("/tenants/acme/users/{id}"), None)
        .await;
    let me = app.admin("GET", "/api-keys", None).await.body["items"][0]["id"].clone();

    let r = app.admin("GET", "/tenants/acme/audit", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let items = r.body["items"].as_array().unwrap();
    let actions: Vec<String> = items.iter().map(|e| s(e, "action")).collect();
    assert_eq!(
        actions,
        vec![
            "user.delete",
            "key.retire",
            "key.import",
            "key.rotate",
            "user.revoke_sessions",
            "user.update",
            "user.create",
            "tenant.update",
            "tenant.create"
        ],
        "newest first"
    );
    assert!(
        items
            .iter()
            .all(|e| e["actor"] == me && e["tenant"] == "acme" && e["at"].is_string())
    );
    let update = &items[7];
    assert_eq!(
        update["after"],
        json!({"access_token_ttl": 300}),
        "only what changed"
    );
    assert_eq!(
        (
            update["before"]["access_token_ttl"].as_i64(),
            update["after"]["access_token_ttl"].as_i64()
        ),
        (Some(900), Some(300))
    );
    assert_eq!(items[5]["after"]["password"], "changed");
    assert_eq!(items[5]["target"], json!(id));
    for forbidden in [
        secret,
        "correct horse",
        "another passphrase",
        "argon2",
        "private_key_enc",
        "PRIVATE",
    ] {
        assert!(!r.text.contains(forbidden), "{forbidden} in the audit log");
    }
    let p1 = app.admin("GET", "/tenants/acme/audit?limit=4", None).await;
    let cursor = s(&p1.body, "next_cursor");
    let p2 = app
        .admin(
            "GET",
            &format!("/tenants/acme/audit?limit=4&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(p2.body["items"][0]["action"], "user.revoke_sessions");

    // The record of a deleted tenant outlives it, on the platform log.
    app.admin("DELETE", "/tenants/acme", None).await;
    let all = app.admin("GET", "/audit?limit=3", None).await;
    assert_eq!(all.body["items"][0]["action"], "tenant.delete");
    assert_eq!(all.body["items"][0]["tenant"], "acme");
    assert_eq!(
        app.admin("GET", "/tenants/acme/audit", None).await.code(),
        "tenant_not_found"
    );
}
