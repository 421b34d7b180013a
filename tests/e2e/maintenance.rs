//! `tessera flush-expired`: expired sessions, refresh tokens and revocations go; what
//! may still protect or serve a token stays.
use serde_json::json;
use tessera_tests::{TestApp, decode_parts, s};

#[actix_rt::test]
async fn flush_expired_deletes_only_what_no_token_can_need() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    let sid = |p: &serde_json::Value| s(&decode_parts(&s(p, "access")).1, "sid");
    let (p1, p2, p3) = (
        app.login("acme", "alice", "correct horse").await,
        app.login("acme", "alice", "correct horse").await,
        app.login("acme", "alice", "correct horse").await,
    );
    app.post(
        "/v1/tenants/acme/token/revoke",
        None,
        json!({"token": s(&p2, "refresh")}),
    )
    .await;
    // Age some rows past expiry plus the widest leeway (300 s), one only just past
    // expiry (still inside the leeway: it stays).
    let now = tessera_core::time::now();
    let mut c = app.db();
    for sql in [
        format!(
            "UPDATE sessions SET expires_at = {} WHERE sid = '{}'",
            now - 1000,
            sid(&p1)
        ),
        format!(
            "UPDATE refresh_tokens SET expires_at = {} WHERE sid = '{}'",
            now - 1000,
            sid(&p1)
        ),
        format!(
            "UPDATE refresh_tokens SET expires_at = {} WHERE sid = '{}'",
            now - 1000,
            sid(&p3)
        ),
        format!(
            "UPDATE revocations SET expires_at = {} WHERE subject = '{}'",
            now - 1000,
            sid(&p2)
        ),
        format!(
            "UPDATE sessions SET expires_at = {} WHERE sid = '{}'",
            now - 10,
            sid(&p2)
        ),
    ] {
        diesel::RunQueryDsl::execute(diesel::sql_query(sql), &mut c).unwrap();
    }
    let f = tessera_server::commands::flush_expired(&app.settings).unwrap();
    assert_eq!(
        (f.sessions, f.refresh_tokens, f.revocations),
        (1, 2, 1),
        "{f:?}"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM sessions"), 2);
    assert_eq!(app.count("SELECT count(*) AS n FROM refresh_tokens"), 1);
    let again = tessera_server::commands::flush_expired(&app.settings).unwrap();
    assert_eq!(again, Default::default(), "nothing left to flush");
}
