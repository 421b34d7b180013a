//! TLS to Postgres and Redis, against servers the tests start with certificates they
//! make: everything works through them, and a wrong CA or a wrong host name stops
//! start-up with one line that says so.
use serde_json::json;
use tessera_core::master_key::MasterKey;
use tessera_tests::{
    TestApp, s,
    services::{PrivatePostgres, PrivateRedis, RedisCluster, TestCa},
};

/// Logs in, logs out, and checks the access token is refused: every step crosses
/// the TLS connections (users and sessions in Postgres, revocations in Redis).
async fn round_trip(app: &TestApp) {
    app.tenant("acme", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    let pair = app.login("acme", "alice", "correct horse").await;
    let access = s(&pair, "access");
    let me = app.get("/v1/tenants/acme/users/me", Some(&access)).await;
    assert_eq!(me.status, 200, "{}", me.text);
    let out = app
        .post(
            "/v1/tenants/acme/token/revoke",
            None,
            json!({"token": s(&pair, "refresh")}),
        )
        .await;
    assert_eq!(out.status, 200, "{}", out.text);
    let me = app.get("/v1/tenants/acme/users/me", Some(&access)).await;
    assert_eq!(me.status, 401, "{}", me.text);
    let ready = app.management("/readyz").await;
    assert_eq!(ready.status, 200, "{}", ready.text);
}

#[actix_rt::test]
#[ignore = "shared backend only (Postgres + Redis): TLS servers"]
async fn postgres_with_verify_full_and_redis_over_tls_serve_every_route() {
    if tessera_tests::shared_only("TLS to Postgres and Redis") {
        return;
    }
    let ca = TestCa::new();
    // TLS only: Postgres has hostssl rules alone, Redis no plain port.
    let pg = PrivatePostgres::start_tls(&ca);
    let redis = PrivateRedis::start_tls(&ca);
    let app = TestApp::builder()
        .database(&pg.tls_url())
        .redis(&redis.url())
        .configure(|s| {
            s.database.ca_file = Some(ca.ca());
            s.redis.ca_file = Some(ca.ca());
        })
        .start()
        .await;
    round_trip(&app).await;
}

#[actix_rt::test]
#[ignore = "shared backend only (Postgres + Redis): Redis Cluster over TLS"]
async fn a_redis_cluster_over_tls_serves_revocations() {
    if tessera_tests::shared_only("Redis Cluster over TLS") {
        return;
    }
    let ca = TestCa::new();
    let cluster = RedisCluster::start_tls(&ca);
    let app = TestApp::builder()
        .redis_cluster(cluster.urls())
        .configure(|s| s.redis.ca_file = Some(ca.ca()))
        .start()
        .await;
    round_trip(&app).await;
    assert!(
        cluster.keys_per_node().iter().sum::<i64>() > 0,
        "revocations were written to the cluster"
    );
}

/// `tessera serve` with `env`: it must stop at start-up; returns its last line.
fn refused_start(env: Vec<(&str, String)>) -> String {
    let mut env = env;
    env.push(("TESSERA__HTTP__BIND", "127.0.0.1:0".into()));
    env.push(("TESSERA__MANAGEMENT__BIND", "127.0.0.1:0".into()));
    env.push(("TESSERA__KEYS__MASTER_KEY", MasterKey::generate_base64()));
    env.push(("TESSERA__DATABASE__CHECKOUT_TIMEOUT_MS", "2000".into()));
    let (ok, _, err) = crate::tessera(&["serve"], &env);
    assert!(!ok, "serve started: {err}");
    err.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .to_owned()
}

#[actix_rt::test]
#[ignore = "shared backend only (Postgres + Redis): TLS servers"]
async fn a_wrong_ca_or_host_name_stops_start_up_with_one_clear_line() {
    if tessera_tests::shared_only("TLS to Postgres and Redis") {
        return;
    }
    let (ca, other) = (TestCa::new(), TestCa::new());
    let pg = PrivatePostgres::start_tls(&ca);
    let redis = PrivateRedis::start_tls(&ca);
    let port = redis.port();
    let env = |db: String, db_ca: &TestCa, redis: String, redis_ca: &TestCa| {
        vec![
            ("TESSERA__DATABASE__URL", db),
            ("TESSERA__DATABASE__CA_FILE", db_ca.ca()),
            ("TESSERA__REDIS__URL", redis),
            ("TESSERA__REDIS__CA_FILE", redis_ca.ca()),
        ]
    };
    let good_db = pg.tls_url();
    let good_redis = redis.url();
    // Postgres signed by another CA than the one configured.
    let line = refused_start(env(good_db.clone(), &other, good_redis.clone(), &ca));
    assert!(
        line.contains("database")
            && line.contains("SSL error")
            && line.contains("database.ca_file"),
        "{line}"
    );
    // The same when serve does not migrate (as in the Kubernetes Deployment).
    let mut no_migrations = env(good_db.clone(), &other, good_redis.clone(), &ca);
    no_migrations.push(("TESSERA__DATABASE__MIGRATE_ON_START", "false".into()));
    let line = refused_start(no_migrations);
    assert!(
        line.contains("SSL error") && line.contains("database.ca_file"),
        "{line}"
    );
    // Postgres reached under a name its certificate does not carry.
    let wrong_name = good_db.replace("@localhost:", "@wrong.example:") + "?hostaddr=127.0.0.1";
    let line = refused_start(env(wrong_name, &ca, good_redis.clone(), &ca));
    assert!(
        line.contains("does not match host name") && line.contains("database.ca_file"),
        "{line}"
    );
    // Redis signed by another CA.
    let line = refused_start(env(good_db.clone(), &ca, good_redis, &other));
    assert!(
        line.contains("redis.url") && line.contains("certificate"),
        "{line}"
    );
    // Redis reached under a name its certificate does not carry.
    let line = refused_start(env(good_db, &ca, format!("rediss://127.0.0.2:{port}"), &ca));
    assert!(
        line.contains("redis.url") && line.contains("not valid for name"),
        "{line}"
    );
}
