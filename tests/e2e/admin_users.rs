//! Admin over a tenant's users: list/search, read, change, delete, revoke sessions.
use serde_json::json;
use tessera_tests::{TestApp, decode_parts, s};

#[actix_rt::test]
async fn users_are_listed_searched_and_paginated() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    app.tenant("globex", json!({})).await;
    let alice = app
        .user(
            "acme",
            "alice",
            "correct horse",
            json!({"email": "alice@example.com"}),
        )
        .await;
    app.user(
        "acme",
        "bob",
        "correct horse",
        json!({"email": "bob@example.org"}),
    )
    .await;
    app.user("acme", "carol_50%", "correct horse", json!({}))
        .await;
    app.user("globex", "alina", "correct horse", json!({}))
        .await;

    let names = |r: &tessera_tests::Res| -> Vec<String> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| s(u, "username"))
            .collect()
    };
    let all = app.admin("GET", "/tenants/acme/users", None).await;
    assert_eq!(
        names(&all),
        vec!["alice", "bob", "carol_50%"],
        "creation order, this tenant only"
    );
    assert!(!all.text.contains("argon2"), "never a hash");
    for (q, want) in [
        ("AL", vec!["alice"]),
        ("example.ORG", vec!["bob"]),
        ("50%25", vec!["carol_50%"]),
        ("_", vec!["carol_50%"]),
        ("nobody", vec![]),
    ] {
        let r = app
            .admin("GET", &format!("/tenants/acme/users?search={q}"), None)
            .await;
        assert_eq!(names(&r), want, "search {q}");
    }
    let p1 = app.admin("GET", "/tenants/acme/users?limit=2", None).await;
    assert_eq!(names(&p1), vec!["alice", "bob"]);
    let cursor = s(&p1.body, "next_cursor");
    let p2 = app
        .admin(
            "GET",
            &format!("/tenants/acme/users?limit=2&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(
        (names(&p2), p2.body["next_cursor"].is_null()),
        (vec!["carol_50%".to_owned()], true)
    );
    let long = "x".repeat(201);
    let r = app
        .admin("GET", &format!("/tenants/acme/users?search={long}"), None)
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "validation_error"));

    let r = app
        .admin("GET", &format!("/tenants/acme/users/{alice}"), None)
        .await;
    assert_eq!(
        (r.status.as_u16(), s(&r.body, "email")),
        (200, "alice@example.com".into())
    );
    let r = app
        .admin("GET", &format!("/tenants/globex/users/{alice}"), None)
        .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (404, "not_found"),
        "another tenant's user"
    );
    let r = app
        .admin("GET", "/tenants/acme/users/usr_nosuch", None)
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (404, "not_found"));
}

#[actix_rt::test]
async fn deactivating_or_repasswording_cuts_off_tokens_at_once() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    let id = app
        .user(
            "acme",
            "alice",
            "correct horse",
            json!({"roles": ["viewer"]}),
        )
        .await;
    let path = format!("/tenants/acme/users/{id}");
    let pair = app.login("acme", "alice", "correct horse").await;

    // Roles and e-mail change; roles reach tokens at the next refresh.
    let r = app
        .admin(
            "PATCH",
            &path,
            Some(json!({"roles": ["editor"], "email": "a@example.com"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (r.body["roles"].clone(), s(&r.body, "email")),
        (json!(["editor"]), "a@example.com".into())
    );
    let refreshed = app
        .post(
            "/v1/tenants/acme/token/refresh",
            None,
            json!({"refresh": s(&pair, "refresh")}),
        )
        .await;
    assert_eq!(
        decode_parts(&s(&refreshed.body, "access")).1["roles"],
        json!(["editor"])
    );
    let r = app
        .admin("PATCH", &path, Some(json!({"email": null})))
        .await;
    assert!(r.body["email"].is_null());

    let access = s(&refreshed.body, "access");
    assert_eq!(app.me_status("acme", &access).await, 200);
    let r = app
        .admin("PATCH", &path, Some(json!({"is_active": false})))
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body["is_active"].as_bool()),
        (200, Some(false))
    );
    assert_eq!(app.me_status("acme", &access).await, 401, "cut off at once");
    assert_eq!(
        app.refresh_status("acme", &s(&refreshed.body, "refresh"))
            .await,
        401
    );
    let r = app
        .post(
            "/v1/tenants/acme/token",
            None,
            json!({"username": "alice", "password": "correct horse"}),
        )
        .await;
    assert_eq!(r.code(), "invalid_credentials");
    app.admin("PATCH", &path, Some(json!({"is_active": true})))
        .await;
    let pair = app.login("acme", "alice", "correct horse").await;

    let r = app
        .admin(
            "PATCH",
            &path,
            Some(json!({"password": "a brand new secret"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(app.me_status("acme", &s(&pair, "access")).await, 401);
    let r = app
        .post(
            "/v1/tenants/acme/token",
            None,
            json!({"username": "alice", "password": "correct horse"}),
        )
        .await;
    assert_eq!(r.code(), "invalid_credentials", "the old password is gone");
    app.login("acme", "alice", "a brand new secret").await;

    for (bad, field) in [
        (json!({"password": "short"}), "password"),
        (json!({"roles": [""]}), "roles"),
        (json!({"email": "not an email"}), "email"),
        (json!({"is_admin": true}), "is_admin"),
        (json!({"is_active": "yes"}), "is_active"),
    ] {
        let r = app.admin("PATCH", &path, Some(bad.clone())).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (400, "validation_error"),
            "{bad}"
        );
        assert!(r.body["errors"][field].is_array(), "{bad}: {}", r.text);
    }
    let r = app
        .admin(
            "PATCH",
            "/tenants/acme/users/usr_nosuch",
            Some(json!({"is_active": false})),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (404, "not_found"));
}

#[actix_rt::test]
async fn deleting_a_user_or_revoking_their_sessions_ends_every_token() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    let id = app.user("acme", "alice", "correct horse", json!({})).await;
    let bob = app.user("acme", "bob", "correct horse", json!({})).await;
    let p1 = app.login("acme", "alice", "correct horse").await;
    let p2 = app.login("acme", "alice", "correct horse").await;
    let bobs = app.login("acme", "bob", "correct horse").await;

    let r = app
        .admin(
            "POST",
            &format!("/tenants/acme/users/{id}/sessions/revoke"),
            None,
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body.clone()),
        (200, json!({"revoked_sessions": 2}))
    );
    for p in [&p1, &p2] {
        assert_eq!(app.me_status("acme", &s(p, "access")).await, 401);
        assert_eq!(app.refresh_status("acme", &s(p, "refresh")).await, 401);
    }
    assert_eq!(
        app.me_status("acme", &s(&bobs, "access")).await,
        200,
        "others untouched"
    );
    let again = app.login("acme", "alice", "correct horse").await;
    assert_eq!(
        app.me_status("acme", &s(&again, "access")).await,
        200,
        "can log in again"
    );

    let r = app
        .admin("DELETE", &format!("/tenants/acme/users/{id}"), None)
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(app.me_status("acme", &s(&again, "access")).await, 401);
    assert_eq!(app.verify_status("acme", &s(&again, "refresh")).await, 401);
    assert_eq!(
        app.admin("GET", &format!("/tenants/acme/users/{id}"), None)
            .await
            .code(),
        "not_found"
    );
    assert_eq!(
        app.admin("DELETE", &format!("/tenants/acme/users/{id}"), None)
            .await
            .status,
        404
    );
    let r = app
        .admin(
            "POST",
            "/tenants/acme/users/usr_nosuch/sessions/revoke",
            None,
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (404, "not_found"));
    assert_eq!(
        app.admin("GET", &format!("/tenants/acme/users/{bob}"), None)
            .await
            .status,
        200
    );
}
