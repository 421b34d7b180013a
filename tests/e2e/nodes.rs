//! Two nodes sharing one Postgres and one Redis: a change made through one is
//! honoured by the other within a second (tenant cache invalidated over pub/sub).
use serde_json::json;
use std::time::Duration;
use tessera_tests::{TestApp, eventually, s};

const WITHIN: Duration = Duration::from_secs(1);

#[actix_rt::test]
async fn settings_and_key_changes_on_one_node_reach_the_other_within_a_second() {
    let a = TestApp::start().await;
    let b = TestApp::builder().node_of(&a).start().await;
    a.tenant("acme", json!({})).await;
    a.user("acme", "alice", "correct horse", json!({})).await;
    // Node B loads and caches the tenant.
    let old = b.login("acme", "alice", "correct horse").await;
    let first = b.jwks_kids("acme").await;
    assert_eq!(old["expires_in"], 900);

    let r = a
        .admin(
            "PATCH",
            "/tenants/acme",
            Some(json!({"access_token_ttl": 120})),
        )
        .await;
    assert_eq!(r.status, 200);
    eventually("B uses the new lifetime", WITHIN, || async {
        b.login("acme", "alice", "correct horse").await["expires_in"] == 120
    })
    .await;

    let new_kid = s(
        &a.admin("POST", "/tenants/acme/keys", None).await.body,
        "kid",
    );
    eventually("B publishes the rotated key", WITHIN, || async {
        b.jwks_kids("acme").await == vec![new_kid.clone(), first[0].clone()]
    })
    .await;
    let signed = b.login("acme", "alice", "correct horse").await;
    assert_eq!(
        tessera_tests::decode_parts(&s(&signed, "access")).0["kid"],
        json!(new_kid)
    );

    assert_eq!(b.me_status("acme", &s(&old, "access")).await, 200);
    let r = a
        .admin("DELETE", &format!("/tenants/acme/keys/{}", first[0]), None)
        .await;
    assert_eq!(r.status, 204);
    eventually("B refuses the retired key's tokens", WITHIN, || async {
        b.verify_status("acme", &s(&old, "access")).await == 401
    })
    .await;

    // Revocation through B is honoured by A at once (shared Redis).
    let r = b
        .post(
            "/v1/tenants/acme/token/revoke",
            None,
            json!({"token": s(&signed, "refresh")}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(a.me_status("acme", &s(&signed, "access")).await, 401);

    a.admin("PATCH", "/tenants/acme", Some(json!({"disabled": true})))
        .await;
    eventually("B hides the disabled tenant", WITHIN, || async {
        b.get("/v1/tenants/acme/.well-known/jwks.json", None)
            .await
            .code()
            == "tenant_not_found"
    })
    .await;
}
