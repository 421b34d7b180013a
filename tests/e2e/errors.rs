//! The problem+json error model at the edges: media types, sizes, malformed bodies,
//! unknown routes, health.
use serde_json::json;
use tessera_tests::TestApp;

#[actix_rt::test]
async fn bad_bodies_get_problem_json_never_a_500() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    let r = app
        .raw(
            "POST",
            "/v1/tenants/acme/token",
            "text/plain",
            b"username=a".to_vec(),
            None,
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (415, "unsupported_media_type")
    );
    let r = app
        .raw(
            "POST",
            "/v1/admin/tenants",
            "application/x-www-form-urlencoded",
            b"slug=abc".to_vec(),
            Some(("Authorization", format!("Bearer {}", app.admin_key))),
        )
        .await;
    assert_eq!(
        r.code(),
        "unsupported_media_type",
        "admin routes take JSON only"
    );
    let big = vec![b'a'; 70 * 1024];
    let r = app
        .raw(
            "POST",
            "/v1/tenants/acme/token",
            "application/json",
            big,
            None,
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (413, "payload_too_large"));
    for body in [
        &b"{"[..],
        b"[]",
        b"{\"username\": 5, \"password\": \"x\"}",
        b"\xff\xfe",
    ] {
        let r = app
            .raw(
                "POST",
                "/v1/tenants/acme/token",
                "application/json",
                body.to_vec(),
                None,
            )
            .await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (400, "validation_error"),
            "{}",
            String::from_utf8_lossy(body)
        );
        assert_eq!(
            r.headers.get("content-type").unwrap(),
            "application/problem+json"
        );
        assert!(r.body["detail"].is_string() && r.body["errors"].is_object());
    }
    let r = app.get("/no/such/route", None).await;
    assert_eq!((r.status.as_u16(), r.code()), (404, "not_found"));
    assert_eq!(r.body["type"], "about:blank");
    assert_eq!(r.body["title"], "Not Found");
    assert_eq!(r.body["status"], 404);
}

#[actix_rt::test]
async fn health_and_readiness() {
    let app = TestApp::start().await;
    assert_eq!(
        app.get("/healthz", None).await.body,
        json!({"status": "ok"})
    );
    let r = app.get("/readyz", None).await;
    assert_eq!(
        (r.status.as_u16(), r.body.clone()),
        (200, json!({"status": "ready"}))
    );
}
