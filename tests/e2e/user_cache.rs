//! The per-node user cache behind `GET /users/me`: a second read is served from it,
//! and every change to the user — on this node or another — shows at once (or within
//! the notification delay), while revocation is still checked on every request.
use serde_json::json;
use std::time::Duration;
use tessera_tests::{TestApp, eventually, s};

/// The value of the sample whose line starts with `series`.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|r| r.trim().parse().ok()))
        .unwrap_or(0.0)
}

async fn hits(app: &TestApp) -> (f64, f64) {
    let m = app.management("/metrics").await.text;
    (
        sample(&m, "tessera_user_cache_requests_total{result=\"hit\"}"),
        sample(&m, "tessera_user_cache_requests_total{result=\"miss\"}"),
    )
}

#[actix_rt::test]
async fn a_profile_is_cached_and_every_change_to_the_user_shows_at_once() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    let id = app.user("acme", "alice", "correct horse", json!({})).await;
    let access = s(&app.login("acme", "alice", "correct horse").await, "access");
    let me = || app.get("/v1/tenants/acme/users/me", Some(&access));
    let first = me().await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert!(
        !first.body["last_login"].is_null(),
        "the login's change shows"
    );
    assert_eq!(me().await.body, first.body);
    let (hit, miss) = hits(&app).await;
    assert_eq!((hit, miss), (1.0, 1.0), "the second read is a hit");
    // Each change shows on the next read.
    let path = format!("/tenants/acme/users/{id}");
    for (patch, field, value) in [
        (json!({"roles": ["editor"]}), "roles", json!(["editor"])),
        (
            json!({"email": "alice@example.com"}),
            "email",
            json!("alice@example.com"),
        ),
        (json!({"external_id": "42"}), "external_id", json!("42")),
    ] {
        let r = app.admin("PATCH", &path, Some(patch)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let now = me().await;
        assert_eq!(now.body[field], value, "{}", now.text);
    }
    // Deactivated or deleted: refused, cached or not.
    let r = app
        .admin("PATCH", &path, Some(json!({"is_active": false})))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(me().await.status, 401);
    let r = app
        .admin("PATCH", &path, Some(json!({"is_active": true})))
        .await;
    assert_eq!(r.status, 200);
    let access2 = s(&app.login("acme", "alice", "correct horse").await, "access");
    let me2 = app.get("/v1/tenants/acme/users/me", Some(&access2)).await;
    assert_eq!(
        (me2.status.as_u16(), me2.body["is_active"].clone()),
        (200, json!(true))
    );
    assert_eq!(app.admin("DELETE", &path, None).await.status, 204);
    let gone = app.get("/v1/tenants/acme/users/me", Some(&access2)).await;
    assert_eq!(gone.status, 401, "{}", gone.text);
}

#[actix_rt::test]
#[ignore = "shared backend only (Postgres + Redis): two nodes"]
async fn a_change_on_one_node_reaches_the_other_nodes_cache() {
    if tessera_tests::shared_only("two nodes") {
        return;
    }
    let a = TestApp::start().await;
    let b = TestApp::builder().node_of(&a).start().await;
    a.tenant("acme", json!({})).await;
    let id = a.user("acme", "alice", "correct horse", json!({})).await;
    let access = s(&a.login("acme", "alice", "correct horse").await, "access");
    let on_b = || b.get("/v1/tenants/acme/users/me", Some(&access));
    assert_eq!(on_b().await.body["roles"], json!([]));
    assert_eq!(on_b().await.status, 200);
    assert!(hits(&b).await.0 >= 1.0, "b serves from its cache");
    let path = format!("/tenants/acme/users/{id}");
    let r = a
        .admin("PATCH", &path, Some(json!({"roles": ["admin"]})))
        .await;
    assert_eq!(r.status, 200);
    let took = eventually("b shows the new roles", Duration::from_secs(5), || async {
        on_b().await.body["roles"] == json!(["admin"])
    })
    .await;
    assert!(took < Duration::from_secs(2), "{took:?}");
    // Deactivation on a: b refuses at once (the revocation check runs every time).
    let r = a
        .admin("PATCH", &path, Some(json!({"is_active": false})))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(on_b().await.status, 401);
}
