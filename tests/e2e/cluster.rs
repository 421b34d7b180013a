//! Redis Cluster: two nodes on one three-master cluster that the test starts. A
//! tenant's keys share a slot (hash tag), so each check is one MGET and each login's
//! rate limit one pipeline; tenants spread over the masters; revocations, settings
//! changes and refills work as on one Redis.
use serde_json::json;
use std::time::Duration;
use tessera_tests::{TestApp, eventually, s, services::RedisCluster};

#[actix_rt::test]
#[ignore = "shared backend only (Postgres + Redis): Redis Cluster"]
async fn two_nodes_on_a_three_master_cluster_share_revocations_limits_and_changes() {
    if tessera_tests::shared_only("Redis Cluster") {
        return;
    }
    let cluster = RedisCluster::start();
    let a = TestApp::builder()
        .redis_cluster(cluster.urls())
        .start()
        .await;
    let b = TestApp::builder()
        .redis_cluster(cluster.urls())
        .node_of(&a)
        .start()
        .await;
    let ready = b.get("/readyz", None).await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    let mut env = a.env();
    env.push(("TESSERA__REDIS__CLUSTER_NODES", cluster.urls().join(",")));
    let (ok, out, err) = crate::tessera(&["check-config", "--connect"], &env);
    assert!(ok, "{err}");
    for line in [
        "mode = shared (Postgres + Redis Cluster)",
        "redis.cluster_nodes = <3 set>",
        "redis: reachable",
    ] {
        assert!(out.contains(line), "{line} missing: {out}");
    }

    // Ten tenants, each with a revoked and a live session.
    let mut pairs = Vec::new();
    for i in 0..10 {
        let slug = format!("tenant-{i}");
        a.tenant(&slug, json!({"login_rate_limit": 5})).await;
        a.user(&slug, "alice", "correct horse", json!({})).await;
        let revoked = a.login(&slug, "alice", "correct horse").await;
        let live = b.login(&slug, "alice", "correct horse").await;
        let r = a
            .post(
                &format!("/v1/tenants/{slug}/token/revoke"),
                None,
                json!({"token": s(&revoked, "refresh")}),
            )
            .await;
        assert_eq!(r.status, 200);
        pairs.push((slug, revoked, live));
    }
    for (slug, revoked, live) in &pairs {
        assert_eq!(
            b.me_status(slug, &s(revoked, "access")).await,
            401,
            "{slug}"
        );
        assert_eq!(b.me_status(slug, &s(live, "access")).await, 200, "{slug}");
    }
    let spread = cluster.keys_per_node();
    assert!(
        spread.iter().filter(|n| **n > 0).count() >= 2,
        "tenants' keys spread over the masters: {spread:?}"
    );

    // The login rate limit counts across both nodes (one pipeline in one slot): two
    // logins above, three wrong passwords here, and the sixth attempt is refused.
    let slug = &pairs[0].0;
    for app in [&a, &b, &a] {
        let r = app
            .post(
                &format!("/v1/tenants/{slug}/token"),
                None,
                json!({"username": "alice", "password": "wrong"}),
            )
            .await;
        assert_eq!(r.code(), "invalid_credentials");
    }
    let r = b
        .post(
            &format!("/v1/tenants/{slug}/token"),
            None,
            json!({"username": "alice", "password": "wrong"}),
        )
        .await;
    assert_eq!(r.status, 429, "{}", r.body);

    // A settings change through A reaches B through the cluster's pub/sub.
    let r = a
        .admin(
            "PATCH",
            "/tenants/tenant-1",
            Some(json!({"access_token_ttl": 77})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    eventually(
        "B uses the new lifetime",
        Duration::from_secs(1),
        || async {
            let pair = b.login("tenant-1", "alice", "correct horse").await;
            pair["expires_in"] == 77
        },
    )
    .await;

    // Every master emptied: each tenant is refilled from Postgres at its next check,
    // and nothing revoked revives.
    for url in cluster.urls() {
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        let _: () = redis::cmd("FLUSHALL").query(&mut c).unwrap();
    }
    assert_eq!(cluster.keys_per_node(), vec![0, 0, 0]);
    for (slug, revoked, live) in &pairs {
        assert_eq!(
            a.me_status(slug, &s(revoked, "access")).await,
            401,
            "{slug}"
        );
        assert_eq!(b.me_status(slug, &s(live, "access")).await, 200, "{slug}");
    }
    assert!(cluster.keys_per_node().iter().sum::<i64>() >= 20);
}
