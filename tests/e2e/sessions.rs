//! End users' sessions: "where am I logged in", and logging one device out.
use serde_json::json;
use tessera_tests::{TestApp, decode_parts, s};

#[actix_rt::test]
async fn a_user_lists_their_sessions_and_logs_one_device_out() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    app.user("acme", "bob", "correct horse", json!({})).await;
    let laptop = app
        .login_as("acme", "alice", "correct horse", "Laptop/1.0")
        .await;
    let phone = app
        .login_as("acme", "alice", "correct horse", "Phone/2.0")
        .await;
    let bobs = app.login("acme", "bob", "correct horse").await;
    let sid = |p: &serde_json::Value| s(&decode_parts(&s(p, "access")).1, "sid");
    let token = s(&laptop, "access");

    let r = app
        .get("/v1/tenants/acme/users/me/sessions", Some(&token))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "only alice's live sessions: {}", r.text);
    // Newest first, to the second; both logins may share one.
    let find = |p: &serde_json::Value| {
        items
            .iter()
            .find(|i| s(i, "sid") == sid(p))
            .cloned()
            .unwrap()
    };
    let (l, p) = (find(&laptop), find(&phone));
    assert_eq!(
        (s(&l, "user_agent"), s(&p, "user_agent")),
        ("Laptop/1.0".into(), "Phone/2.0".into())
    );
    assert_eq!(
        (l["current"].as_bool(), p["current"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(s(&l, "ip"), "127.0.0.1");
    for k in ["created_at", "last_used_at", "expires_at"] {
        assert!(l[k].is_string(), "{k}");
    }
    let p1 = app
        .get("/v1/tenants/acme/users/me/sessions?limit=1", Some(&token))
        .await;
    let cursor = s(&p1.body, "next_cursor");
    let p2 = app
        .get(
            &format!("/v1/tenants/acme/users/me/sessions?limit=1&cursor={cursor}"),
            Some(&token),
        )
        .await;
    let mut paged = vec![
        s(&p1.body["items"][0], "sid"),
        s(&p2.body["items"][0], "sid"),
    ];
    let mut want = vec![sid(&laptop), sid(&phone)];
    paged.sort();
    want.sort();
    assert_eq!(paged, want, "two pages of one cover both");
    assert!(p2.body["next_cursor"].is_null());
    let bad = app
        .get(
            "/v1/tenants/acme/users/me/sessions?cursor=junk",
            Some(&token),
        )
        .await;
    assert_eq!((bad.status.as_u16(), bad.code()), (400, "validation_error"));

    // Someone else's session is not found, and stays alive.
    let r = app
        .call(
            "DELETE",
            &format!("/v1/tenants/acme/users/me/sessions/{}", sid(&bobs)),
            Some(&token),
            None,
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (404, "not_found"));
    assert_eq!(app.me_status("acme", &s(&bobs, "access")).await, 200);

    let r = app
        .call(
            "DELETE",
            &format!("/v1/tenants/acme/users/me/sessions/{}", sid(&phone)),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        app.me_status("acme", &s(&phone, "access")).await,
        401,
        "the phone is out at once"
    );
    assert_eq!(app.refresh_status("acme", &s(&phone, "refresh")).await, 401);
    assert_eq!(app.me_status("acme", &token).await, 200);
    let r = app
        .get("/v1/tenants/acme/users/me/sessions", Some(&token))
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    let r = app
        .call(
            "DELETE",
            &format!("/v1/tenants/acme/users/me/sessions/{}", sid(&phone)),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status, 404, "already ended");

    for auth in [None, Some("garbage")] {
        let r = app.get("/v1/tenants/acme/users/me/sessions", auth).await;
        assert_eq!(r.status, 401);
    }
    let r = app
        .get(
            "/v1/tenants/acme/users/me/sessions",
            Some(&s(&laptop, "refresh")),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (401, "token_not_valid"),
        "a refresh token is no access token"
    );
}
