//! Three nodes sharing one Postgres and one Redis: a change made through one is
//! honoured by the others within a second (tenant cache invalidated over pub/sub;
//! revocations read from the shared Redis).
use serde_json::json;
use std::time::Duration;
use tessera_tests::{TestApp, eventually, s};

const WITHIN: Duration = Duration::from_secs(1);

#[actix_rt::test]
#[ignore = "shared backend only (Postgres + Redis): several nodes"]
async fn changes_through_one_node_reach_the_other_two_within_a_second() {
    if tessera_tests::shared_only("several nodes") {
        return;
    }
    let a = TestApp::start().await;
    let b = TestApp::builder().node_of(&a).start().await;
    let c = TestApp::builder().node_of(&a).start().await;
    let others = [&b, &c];
    a.tenant("acme", json!({})).await;
    a.user("acme", "alice", "correct horse", json!({})).await;
    // Nodes B and C load and cache the tenant.
    let old = b.login("acme", "alice", "correct horse").await;
    let first = b.jwks_kids("acme").await;
    assert_eq!(c.jwks_kids("acme").await, first);
    assert_eq!(old["expires_in"], 900);

    let r = a
        .admin(
            "PATCH",
            "/tenants/acme",
            Some(json!({"access_token_ttl": 120})),
        )
        .await;
    assert_eq!(r.status, 200);
    eventually("B and C use the new lifetime", WITHIN, || async {
        for n in others {
            if n.login("acme", "alice", "correct horse").await["expires_in"] != 120 {
                return false;
            }
        }
        true
    })
    .await;

    let new_kid = s(
        &a.admin("POST", "/tenants/acme/keys", None).await.body,
        "kid",
    );
    eventually("B and C publish the rotated key", WITHIN, || async {
        for n in others {
            if n.jwks_kids("acme").await != vec![new_kid.clone(), first[0].clone()] {
                return false;
            }
        }
        true
    })
    .await;
    for n in others {
        let signed = n.login("acme", "alice", "correct horse").await;
        assert_eq!(
            tessera_tests::decode_parts(&s(&signed, "access")).0["kid"],
            json!(new_kid)
        );
    }

    let r = c
        .get("/v1/tenants/acme/users/me", Some(&s(&old, "access")))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = a
        .admin("DELETE", &format!("/tenants/acme/keys/{}", first[0]), None)
        .await;
    assert_eq!(r.status, 204);
    eventually(
        "B and C refuse the retired key's tokens",
        WITHIN,
        || async {
            b.verify_status("acme", &s(&old, "access")).await == 401
                && c.verify_status("acme", &s(&old, "access")).await == 401
        },
    )
    .await;

    // A revocation through B is honoured by A and C at once (shared Redis).
    let signed = c.login("acme", "alice", "correct horse").await;
    assert_eq!(a.me_status("acme", &s(&signed, "access")).await, 200);
    let r = b
        .post(
            "/v1/tenants/acme/token/revoke",
            None,
            json!({"token": s(&signed, "refresh")}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(a.me_status("acme", &s(&signed, "access")).await, 401);
    assert_eq!(c.me_status("acme", &s(&signed, "access")).await, 401);
    assert_eq!(c.refresh_status("acme", &s(&signed, "refresh")).await, 401);

    a.admin("PATCH", "/tenants/acme", Some(json!({"disabled": true})))
        .await;
    eventually("B and C hide the disabled tenant", WITHIN, || async {
        b.get("/v1/tenants/acme/.well-known/jwks.json", None)
            .await
            .code()
            == "tenant_not_found"
            && c.get("/v1/tenants/acme/.well-known/jwks.json", None)
                .await
                .code()
                == "tenant_not_found"
    })
    .await;
}

#[actix_rt::test]
#[ignore = "shared backend only (Postgres + Redis): several nodes"]
async fn a_revocation_on_one_node_wakes_a_feed_long_poll_on_another_within_100_ms() {
    if tessera_tests::shared_only("several nodes") {
        return;
    }
    use base64::Engine;
    let a = TestApp::start().await;
    let b = TestApp::builder().node_of(&a).start().await;
    a.tenant("acme", json!({})).await;
    a.user("acme", "alice", "correct horse", json!({})).await;
    let c = a
        .admin(
            "POST",
            "/tenants/acme/clients",
            Some(json!({"name": "cdn"})),
        )
        .await;
    let pair = format!(
        "{}:{}",
        s(&c.body, "client_id"),
        s(&c.body, "client_secret")
    );
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    );
    let first = a
        .send(
            "GET",
            "/v1/tenants/acme/revocations",
            vec![("Authorization", auth.clone())],
            None,
        )
        .await;
    let mut cursor = s(&first.body, "cursor");
    let mut times = Vec::new();
    for _ in 0..5 {
        let access = s(&b.login("acme", "alice", "correct horse").await, "access");
        let (r, after) =
            crate::resource_servers::long_poll_sees(&a, "acme", &auth, &cursor, async {
                assert_eq!(b.revoke_status("acme", &access).await, 200);
            })
            .await;
        assert_eq!(r.body["items"][0]["kind"], "session", "{}", r.text);
        assert!(
            after > Duration::ZERO,
            "answered before the logout: {}",
            r.text
        );
        cursor = s(&r.body, "cursor");
        times.push(after);
    }
    times.sort();
    eprintln!("feed across nodes: logout asked on B to the answer on A, sorted: {times:?}");
    assert!(
        times[2] < Duration::from_millis(100),
        "median {:?}",
        times[2]
    );

    // A client deleted through A is refused by B at once (well within a second).
    let feed_on_b = || async {
        b.send(
            "GET",
            "/v1/tenants/acme/revocations",
            vec![("Authorization", auth.clone())],
            None,
        )
        .await
        .status
    };
    assert_eq!(feed_on_b().await, 200);
    let id = s(&c.body, "client_id");
    let r = a
        .admin("DELETE", &format!("/tenants/acme/clients/{id}"), None)
        .await;
    assert_eq!(r.status, 204);
    eventually("B refuses the deleted client", WITHIN, || async {
        feed_on_b().await == 401
    })
    .await;
}
