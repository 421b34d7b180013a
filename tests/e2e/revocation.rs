//! Revocation: a session at once, log out everywhere, password change, and a Redis
//! that comes back empty.
use serde_json::json;
use tessera_tests::{TestApp, decode_parts, s};

#[actix_rt::test]
async fn revoking_a_refresh_token_kills_its_session_at_once() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    let pair = app.login("acme", "alice", "correct horse").await;
    let other = app.login("acme", "alice", "correct horse").await;
    let access = s(&pair, "access");
    assert_eq!(app.me_status("acme", &access).await, 200);

    let r = app
        .post(
            "/v1/tenants/acme/token/revoke",
            None,
            json!({"token": s(&pair, "refresh")}),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body.clone()),
        (200, json!({})),
        "{}",
        r.text
    );
    let me = app.get("/v1/tenants/acme/users/me", Some(&access)).await;
    assert_eq!((me.status.as_u16(), me.code()), (401, "token_not_valid"));
    assert_eq!(app.verify_status("acme", &access).await, 401);
    assert_eq!(app.refresh_status("acme", &s(&pair, "refresh")).await, 401);
    // the other session lives on
    assert_eq!(app.me_status("acme", &s(&other, "access")).await, 200);
    // revoking with an access token works the same way
    let r = app
        .post(
            "/v1/tenants/acme/token/revoke",
            None,
            json!({"token": s(&other, "access")}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(app.refresh_status("acme", &s(&other, "refresh")).await, 401);
    let bad = app
        .post(
            "/v1/tenants/acme/token/revoke",
            None,
            json!({"token": "nope"}),
        )
        .await;
    assert_eq!((bad.status.as_u16(), bad.code()), (401, "token_not_valid"));
}

#[actix_rt::test]
async fn revoke_all_logs_out_everywhere() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    app.user("acme", "bob", "correct horse", json!({})).await;
    let a1 = app.login("acme", "alice", "correct horse").await;
    let a2 = app.login("acme", "alice", "correct horse").await;
    let b = app.login("acme", "bob", "correct horse").await;
    let unauth = app
        .post("/v1/tenants/acme/token/revoke-all", None, json!({}))
        .await;
    assert_eq!(
        (unauth.status.as_u16(), unauth.code()),
        (401, "not_authenticated")
    );
    let r = app
        .post(
            "/v1/tenants/acme/token/revoke-all",
            Some(&s(&a1, "access")),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    for p in [&a1, &a2] {
        assert_eq!(app.me_status("acme", &s(p, "access")).await, 401);
        assert_eq!(app.refresh_status("acme", &s(p, "refresh")).await, 401);
    }
    assert_eq!(
        app.me_status("acme", &s(&b, "access")).await,
        200,
        "bob is untouched"
    );
    let fresh = app.login("acme", "alice", "correct horse").await;
    assert_eq!(
        app.me_status("acme", &s(&fresh, "access")).await,
        200,
        "a new login works"
    );
}

#[actix_rt::test]
async fn password_change_cuts_off_older_tokens_and_returns_a_fresh_pair() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    let old = app.login("acme", "alice", "correct horse").await;
    let access = s(&old, "access");
    let wrong = app
        .post(
            "/v1/tenants/acme/users/me/password",
            Some(&access),
            json!({"old_password": "nope", "new_password": "brand new pass"}),
        )
        .await;
    assert_eq!(
        (wrong.status.as_u16(), wrong.code()),
        (400, "validation_error")
    );
    assert!(wrong.body["errors"]["old_password"].is_array());
    let weak = app
        .post(
            "/v1/tenants/acme/users/me/password",
            Some(&access),
            json!({"old_password": "correct horse", "new_password": "short"}),
        )
        .await;
    assert!(
        weak.body["errors"]["new_password"].is_array(),
        "{}",
        weak.text
    );

    let r = app
        .post(
            "/v1/tenants/acme/users/me/password",
            Some(&access),
            json!({"old_password": "correct horse", "new_password": "brand new pass"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let fresh = s(&r.body, "access");
    assert_eq!(app.me_status("acme", &fresh).await, 200);
    assert_eq!(app.me_status("acme", &access).await, 401);
    assert_eq!(app.refresh_status("acme", &s(&old, "refresh")).await, 401);
    assert_eq!(
        app.refresh_status("acme", &s(&r.body, "refresh")).await,
        200
    );
    let r = app
        .post(
            "/v1/tenants/acme/token",
            None,
            json!({"username": "alice", "password": "correct horse"}),
        )
        .await;
    assert_eq!(r.code(), "invalid_credentials");
    app.login("acme", "alice", "brand new pass").await;
}

#[actix_rt::test]
#[ignore = "shared backend only (Postgres + Redis): Redis (tests/e2e/embedded.rs restarts an embedded node instead)"]
async fn an_emptied_redis_is_refilled_from_postgres_and_nothing_revoked_revives() {
    if tessera_tests::shared_only("Redis (tests/e2e/embedded.rs restarts an embedded node instead)")
    {
        return;
    }
    // Its own Redis database, so FLUSHDB touches no other test.
    let app = TestApp::builder().redis_db(7).start().await;
    app.tenant("acme", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    app.user("acme", "bob", "correct horse", json!({})).await;
    let revoked = app.login("acme", "alice", "correct horse").await;
    let cut = app.login("acme", "bob", "correct horse").await;
    let live = app.login("acme", "alice", "correct horse").await;
    assert_eq!(
        app.revoke_status("acme", &s(&revoked, "refresh")).await,
        200
    );
    assert_eq!(
        app.post(
            "/v1/tenants/acme/token/revoke-all",
            Some(&s(&cut, "access")),
            json!({})
        )
        .await
        .status,
        200
    );

    let mut redis = app.redis().await;
    let _: () = redis::cmd("FLUSHDB").query_async(&mut redis).await.unwrap();
    let n: i64 = redis::cmd("DBSIZE").query_async(&mut redis).await.unwrap();
    assert_eq!(n, 0);

    assert_eq!(app.me_status("acme", &s(&revoked, "access")).await, 401);
    assert_eq!(app.me_status("acme", &s(&cut, "access")).await, 401);
    assert_eq!(
        app.verify_status("acme", &s(&revoked, "refresh")).await,
        401
    );
    assert_eq!(app.me_status("acme", &s(&live, "access")).await, 200);
    let n: i64 = redis::cmd("DBSIZE").query_async(&mut redis).await.unwrap();
    assert!(n >= 3, "refilled: {n} keys");
}

/// The count of the revocation store's refills this node has made.
async fn refills(app: &TestApp) -> f64 {
    let m = app.management("/metrics").await.text;
    m.lines()
        .find_map(|l| {
            l.strip_prefix("tessera_revocation_store_seconds_count{op=\"refill\"}")
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0.0)
}

/// Sends 40 checks at once, a fifth of them with `revoked`'s access token, and
/// asserts each answer; returns how many refills the node made meanwhile.
async fn forty_checks_at_once(
    app: &TestApp,
    live: &serde_json::Value,
    revoked: &serde_json::Value,
) -> f64 {
    let before = refills(app).await;
    let (live, revoked) = (s(live, "access"), s(revoked, "access"));
    let checks = (0..40).map(|i| {
        let token = if i % 5 == 0 { &revoked } else { &live };
        async move { (i % 5 == 0, app.me_status("acme", token).await) }
    });
    for (is_revoked, status) in futures_util::future::join_all(checks).await {
        assert_eq!(status, if is_revoked { 401 } else { 200 });
    }
    refills(app).await - before
}

#[actix_rt::test]
async fn checks_that_find_the_store_unfilled_together_wait_for_one_refill() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    let revoked = app.login("acme", "alice", "correct horse").await;
    let live = app.login("acme", "alice", "correct horse").await;
    assert_eq!(
        app.revoke_status("acme", &s(&revoked, "refresh")).await,
        200
    );
    // Nothing has checked a token of the tenant yet: its store says it holds nothing
    // for sure (a revocation's write never starts the marker), so the first checks
    // must refill, and one of them does.
    assert_eq!(
        forty_checks_at_once(&app, &live, &revoked).await,
        1.0,
        "40 checks at once found the store unfilled: one of them refilled it"
    );
    if tessera_tests::shared_only("Redis (the in-process store is lost only by a restart)") {
        return;
    }
    // Redis loses every key of this node: the same again.
    let mut redis = app.redis().await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}*", app.prefix))
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(!keys.is_empty());
    let _: () = redis::cmd("DEL")
        .arg(&keys)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(forty_checks_at_once(&app, &live, &revoked).await, 1.0);
}

/// Every key of this app's prefix in `redis`, dumped with its remaining life.
async fn snapshot(
    redis: &mut redis::aio::MultiplexedConnection,
    prefix: &str,
) -> Vec<(String, Vec<u8>, i64)> {
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(redis)
        .await
        .unwrap();
    let mut out = Vec::new();
    for k in keys {
        let dump: Vec<u8> = redis::cmd("DUMP").arg(&k).query_async(redis).await.unwrap();
        let ttl: i64 = redis::cmd("PTTL").arg(&k).query_async(redis).await.unwrap();
        out.push((k, dump, ttl.max(0)));
    }
    out
}

/// Two nodes on a Redis of the test's own, a tenant, and three sessions of alice;
/// each node has checked a token once (so the tenant is "filled" everywhere).
async fn two_nodes_three_sessions(
    redis: &tessera_tests::services::PrivateRedis,
) -> (TestApp, TestApp, Vec<serde_json::Value>) {
    let a = TestApp::builder().redis(&redis.url()).start().await;
    let b = TestApp::builder().node_of(&a).start().await;
    a.tenant("acme", json!({})).await;
    a.user("acme", "alice", "correct horse", json!({})).await;
    let mut pairs = Vec::new();
    for _ in 0..3 {
        pairs.push(a.login("acme", "alice", "correct horse").await);
    }
    for node in [&a, &b] {
        assert_eq!(node.me_status("acme", &s(&pairs[0], "access")).await, 200);
    }
    (a, b, pairs)
}

/// Asserts that every node refuses the revoked pair within 2 s (the first node
/// learns of it only by polling) and then stays so, while the live pair works.
async fn refused_within_two_seconds_and_after(
    nodes: [&TestApp; 2],
    revoked: &serde_json::Value,
    live: &serde_json::Value,
) {
    for node in nodes {
        tessera_tests::eventually(
            "the revoked token refused",
            std::time::Duration::from_secs(2),
            || async { node.me_status("acme", &s(revoked, "access")).await == 401 },
        )
        .await;
    }
    stays_refused(nodes, revoked, live).await;
}

/// Asserts that on every node the revoked pair stays refused (over 1.5 s) and the
/// untouched one keeps working.
async fn stays_refused(
    nodes: [&TestApp; 2],
    revoked: &serde_json::Value,
    live: &serde_json::Value,
) {
    for _ in 0..5 {
        for node in nodes {
            assert_eq!(node.me_status("acme", &s(revoked, "access")).await, 401);
            assert_eq!(node.me_status("acme", &s(live, "access")).await, 200);
        }
        actix_rt::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}

#[actix_rt::test]
#[ignore = "shared backend only (Postgres + Redis): Redis snapshots"]
async fn a_redis_restored_from_an_older_snapshot_revives_nothing() {
    if tessera_tests::shared_only("Redis snapshots") {
        return;
    }
    let redis = tessera_tests::services::PrivateRedis::start();
    let (a, b, pairs) = two_nodes_three_sessions(&redis).await;
    let mut conn = a.redis().await;
    // A snapshot from before the revocation (what an RDB/AOF file or a lagging
    // replica holds), then the revocation on node A.
    let before = snapshot(&mut conn, &a.prefix).await;
    assert!(!before.is_empty());
    assert_eq!(a.revoke_status("acme", &s(&pairs[1], "refresh")).await, 200);
    assert_eq!(b.me_status("acme", &s(&pairs[1], "access")).await, 401);
    // Redis restarts from the snapshot: the revocation is gone, the marker is back.
    let _: () = redis::cmd("FLUSHALL").query_async(&mut conn).await.unwrap();
    for (k, dump, ttl) in &before {
        let _: () = redis::cmd("RESTORE")
            .arg(k)
            .arg(ttl)
            .arg(dump.as_slice())
            .query_async(&mut conn)
            .await
            .unwrap();
    }
    // Node B never saw the revocation itself: it learns the generation by polling.
    refused_within_two_seconds_and_after([&b, &a], &pairs[1], &pairs[2]).await;
}

#[actix_rt::test]
#[ignore = "shared backend only (Postgres + Redis): Redis write failures"]
async fn a_revocation_whose_redis_write_failed_is_refused_within_two_seconds() {
    if tessera_tests::shared_only("Redis write failures") {
        return;
    }
    let redis = tessera_tests::services::PrivateRedis::start();
    let (a, b, pairs) = two_nodes_three_sessions(&redis).await;
    let mut conn = a.redis().await;
    // Redis refuses every write (reads still work) while Postgres commits.
    let set = |n: &'static str| {
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("min-replicas-to-write")
            .arg(n)
            .to_owned()
    };
    let _: () = set("1").query_async(&mut conn).await.unwrap();
    assert_eq!(
        a.revoke_status("acme", &s(&pairs[1], "access")).await,
        503,
        "the store write failed"
    );
    // Committed in the database, missing from Redis: never accepted meanwhile.
    assert_ne!(a.me_status("acme", &s(&pairs[1], "access")).await, 200);
    let _: () = set("0").query_async(&mut conn).await.unwrap();
    refused_within_two_seconds_and_after([&b, &a], &pairs[1], &pairs[2]).await;
}

/// A refresh asks Postgres alone, not Redis, so the revocation records it reads there
/// refuse what the revocation store would: the token's id in an imported blacklist,
/// and a cut-off of its user after it was issued even where its session was never
/// marked (a session that committed while the user's sessions were being revoked).
#[actix_rt::test]
async fn refresh_refuses_what_the_revocation_records_refuse_even_without_session_marks() {
    use tessera_core::{ids::UserId, revocation::RevocationKind, time::now};
    use tessera_store::models::{revocation, tenant};
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    let id: UserId = app
        .user("acme", "alice", "correct horse", json!({}))
        .await
        .into();
    let listed = app.login("acme", "alice", "correct horse").await;
    let cut = app.login("acme", "alice", "correct horse").await;

    let jti = decode_parts(&s(&listed, "refresh")).1["jti"].clone();
    app.blacklist("acme", &jti).await;
    assert_eq!(
        app.refresh_status("acme", &s(&listed, "refresh")).await,
        401
    );
    let r = app
        .post(
            "/v1/tenants/acme/token/refresh",
            None,
            json!({"refresh": s(&cut, "refresh")}),
        )
        .await;
    assert_eq!(
        r.status, 200,
        "only the listed token is refused: {}",
        r.text
    );
    let successor = s(&r.body, "refresh");

    // A cut-off after every token so far, recorded without marking any session.
    let mut db = app.db();
    let tenant = tenant::by_slug(&mut db, "acme").unwrap().unwrap();
    let t = now();
    revocation::upsert(
        &mut db,
        &tenant.id,
        RevocationKind::User,
        id.as_str(),
        (t + 2, t + 3600),
        0,
    )
    .unwrap();
    assert_eq!(app.refresh_status("acme", &successor).await, 401);
}
