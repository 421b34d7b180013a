//! `/metrics` (OpenMetrics text), the request id header, and JSON log lines that
//! carry the request id and no secret.
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use std::time::Duration;
use tessera_tests::{TestApp, s};

/// The value of the sample whose line starts with `series` (name and labels).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)
            .and_then(|rest| rest.trim().parse().ok())
    })
}

#[actix_rt::test]
async fn metrics_count_routes_logins_reuse_revocations_keys_and_timeouts() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({"login_rate_limit": 4})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    let p1 = app.login("acme", "alice", "correct horse").await;
    let p2 = app.login("acme", "alice", "correct horse").await;
    let bad = json!({"username": "alice", "password": "wrong"});
    assert_eq!(
        app.post("/v1/tenants/acme/token", None, bad.clone())
            .await
            .status,
        401
    );
    assert_eq!(
        app.post("/v1/tenants/acme/token", None, bad.clone())
            .await
            .status,
        401
    );
    assert_eq!(
        app.post("/v1/tenants/acme/token", None, bad).await.status,
        429
    );
    // Reuse: the first refresh rotates, the second presents a rotated-out token.
    assert_eq!(app.refresh_status("acme", &s(&p1, "refresh")).await, 200);
    assert_eq!(app.refresh_status("acme", &s(&p1, "refresh")).await, 401);
    assert_eq!(app.verify_status("acme", &s(&p2, "access")).await, 200);
    let r = app
        .post(
            "/v1/tenants/acme/token/revoke",
            None,
            json!({"token": s(&p2, "refresh")}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(app.verify_status("acme", &s(&p2, "access")).await, 401);
    assert_eq!(
        app.get("/v1/tenants/acme/no/such/route", None).await.status,
        404
    );

    let r = app.management("/metrics").await;
    assert_eq!(r.status, 200);
    assert!(
        r.headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"),
        "{:?}",
        r.headers
    );
    let m = &r.text;
    assert!(m.trim_end().ends_with("# EOF"), "{m}");
    let build = m
        .lines()
        .find(|l| l.starts_with("tessera_build_info{"))
        .unwrap_or_else(|| panic!("no build info: {m}"));
    let version = format!("version=\"{}\"", env!("CARGO_PKG_VERSION"));
    assert!(build.contains(&version) && build.ends_with(" 1"), "{build}");
    assert!(!build.contains("commit=\"\""), "{build}");
    // The aggregates, and the busiest tenants' own series (acme is the only one).
    for prefix in [
        "tessera_logins_total{",
        "tessera_tenant_logins_total{tenant=\"acme\",",
    ] {
        let logins = |what: &str| sample(m, &format!("{prefix}outcome=\"{what}\"}}"));
        assert_eq!(
            (
                logins("succeeded"),
                logins("failed"),
                logins("rate_limited")
            ),
            (Some(2.0), Some(2.0), Some(1.0)),
            "{prefix}: {m}"
        );
    }
    for series in [
        "tessera_refresh_reuse_detections_total ",
        "tessera_tenant_refresh_reuse_detections_total{tenant=\"acme\"}",
    ] {
        assert_eq!(sample(m, series), Some(1.0), "{series}: {m}");
    }
    for series in [
        "tessera_revocations_total{kind=\"session\"}",
        "tessera_tenant_revocations_total{tenant=\"acme\",kind=\"session\"}",
    ] {
        assert_eq!(
            sample(m, series),
            Some(2.0),
            "reuse and revoke each revoke one session: {series}: {m}"
        );
    }
    assert_eq!(
        sample(m, "tessera_tenant_series_omitted "),
        Some(0.0),
        "{m}"
    );
    // Pools, queues and the revocation store's round trips.
    let in_use = sample(m, "tessera_db_pool_connections{state=\"in_use\"}");
    let idle = sample(m, "tessera_db_pool_connections{state=\"idle\"}");
    assert!(in_use.is_some() && idle.unwrap_or(0.0) >= 1.0, "{m}");
    assert_eq!(
        sample(m, "tessera_actor_in_flight{actor=\"PasswordHasher\"}"),
        Some(0.0),
        "nothing is hashing now: {m}"
    );
    // Each verify checked revocation: the store's histogram counted them (a refresh
    // asks Postgres alone).
    let checks = sample(m, "tessera_revocation_store_seconds_count{op=\"check\"}");
    assert!(checks.unwrap_or(0.0) >= 2.0, "{m}");
    assert!(
        sample(m, "tessera_revocation_store_seconds_count{op=\"revoke\"}").unwrap_or(0.0) >= 2.0,
        "{m}"
    );
    let token_route = "route=\"/v1/tenants/{tenant}/token\"";
    assert_eq!(
        sample(
            m,
            &format!("tessera_http_requests_total{{method=\"POST\",{token_route},status=\"200\"}}")
        ),
        Some(2.0),
        "{m}"
    );
    assert_eq!(
        sample(
            m,
            &format!("tessera_http_requests_total{{method=\"POST\",{token_route},status=\"401\"}}")
        ),
        Some(2.0),
        "{m}"
    );
    assert_eq!(
        sample(
            m,
            &format!(
                "tessera_http_request_duration_seconds_count{{method=\"POST\",{token_route}}}"
            )
        ),
        Some(5.0),
        "{m}"
    );
    assert!(
        sample(
            m,
            "tessera_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}"
        )
        .is_some(),
        "{m}"
    );
    assert!(
        !m.contains("/v1/tenants/acme/"),
        "raw paths must not become labels: {m}"
    );
    let kid = app.jwks_kids("acme").await.remove(0);
    let age = sample(
        m,
        &format!("tessera_signing_key_age_seconds{{tenant=\"acme\",kid=\"{kid}\"}}"),
    )
    .unwrap();
    assert!((0.0..120.0).contains(&age), "{age}");
    let oldest = sample(m, "tessera_signing_key_max_age_seconds ").unwrap();
    assert!(oldest >= age, "{m}");
    assert_eq!(sample(m, "tessera_signing_keys_active "), Some(1.0), "{m}");
    assert!(!m.contains("correct horse") && !m.contains(&s(&p2, "refresh")));
}

#[actix_rt::test]
async fn a_hasher_that_does_not_answer_in_time_is_a_503_and_counted() {
    let app = TestApp::builder()
        .real_argon2()
        .configure(|s| s.timeouts.hash_ms = 1)
        .start()
        .await;
    app.tenant("acme", json!({})).await;
    let r = app
        .post(
            "/v1/tenants/acme/token",
            None,
            json!({"username": "nobody", "password": "correct horse"}),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (503, "service_unavailable"),
        "{}",
        r.text
    );
    let m = app.management("/metrics").await.text;
    assert_eq!(
        sample(
            &m,
            "tessera_actor_send_timeouts_total{actor=\"PasswordHasher\"}"
        ),
        Some(1.0),
        "{m}"
    );
}

#[actix_rt::test]
async fn every_answer_carries_a_request_id_and_keeps_a_sane_one() {
    let app = TestApp::start().await;
    for path in [
        "/healthz",
        "/v1/tenants/nope/.well-known/jwks.json",
        "/nowhere",
    ] {
        let r = app.get(path, None).await;
        let id = r.headers.get("x-request-id").unwrap().to_str().unwrap();
        assert!(
            id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "{path}: {id}"
        );
    }
    let r = app
        .send(
            "GET",
            "/healthz",
            vec![("X-Request-Id", "edge-42.a_b".into())],
            None,
        )
        .await;
    assert_eq!(
        r.headers.get("x-request-id").unwrap().to_str().unwrap(),
        "edge-42.a_b"
    );
    let r = app
        .send(
            "GET",
            "/healthz",
            vec![("X-Request-Id", "a b <c>".into())],
            None,
        )
        .await;
    assert_ne!(
        r.headers.get("x-request-id").unwrap().to_str().unwrap(),
        "a b <c>"
    );
    assert_eq!(r.headers.get("x-request-id").unwrap().len(), 32);
}

#[actix_rt::test]
async fn json_logs_carry_the_request_id_and_no_secret() {
    let mut app = TestApp::start().await;
    app.tenant("acme", json!({"allow_signup": true})).await;
    let (child, url) = crate::spawn_server(
        &mut app,
        &[
            ("TESSERA__LOG__FORMAT", "json"),
            ("TESSERA__LOG__LEVEL", "debug"),
        ],
    )
    .await;
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let signup = client
        .post(format!("{url}/v1/tenants/acme/users"))
        .insert_header(("X-Request-Id", "trace-me-1"))
        .send_json(&json!({"username": "alice", "password": "hunter2-very-secret"}))
        .await
        .unwrap();
    assert_eq!(signup.status(), 201);
    let login = client
        .post(format!("{url}/v1/tenants/acme/token"))
        .insert_header(("X-Request-Id", "trace-me-2"))
        .send_json(&json!({"username": "alice", "password": "wrong-but-secret"}))
        .await
        .unwrap();
    assert_eq!(login.status(), 401);
    crate::sigterm(&child);
    let out = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(!lines.is_empty());
    for id in ["trace-me-1", "trace-me-2"] {
        let tagged = lines
            .iter()
            .filter(|l| l["span"]["request_id"] == id && l["target"] == "tessera::access")
            .count();
        assert_eq!(tagged, 1, "{id}: {logs}");
    }
    // Configured, or (embedded) the one the server keeps in its data folder.
    let master = match &app.data_dir {
        Some(dir) => std::fs::read_to_string(dir.join("master.key")).unwrap(),
        None => app
            .settings
            .keys
            .master_key
            .as_ref()
            .unwrap()
            .expose_secret()
            .to_owned(),
    };
    for secret in ["hunter2-very-secret", "wrong-but-secret", master.trim()] {
        assert!(!logs.contains(secret), "secret in logs: {logs}");
    }
}

#[actix_rt::test]
async fn metrics_are_on_the_management_listener_only() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    let public = app.get("/metrics", None).await;
    assert_eq!(
        public.status, 404,
        "the public port names no tenant: {}",
        public.text
    );
    let m = app.management("/metrics").await;
    assert_eq!(m.status, 200);
    assert!(m.text.contains("tessera_build_info"), "{}", m.text);
    for path in ["/healthz", "/readyz"] {
        assert_eq!(
            app.management(path).await.status,
            200,
            "{path} on management"
        );
        assert_eq!(
            app.get(path, None).await.status,
            200,
            "{path} on the public port"
        );
    }
    let other = app.management("/v1/admin/tenants").await;
    assert_eq!(other.status, 404, "nothing else there: {}", other.text);
}

#[actix_rt::test]
async fn per_tenant_series_are_kept_for_the_busiest_tenants_only() {
    let app = TestApp::builder()
        .configure(|s| s.metrics.tenant_series = 2)
        .start()
        .await;
    // busy: 3 logins, middling: 2, quiet: 1, idle: none.
    for (slug, logins) in [("busy", 3), ("middling", 2), ("quiet", 1), ("idle", 0)] {
        app.tenant(slug, json!({})).await;
        app.user(slug, "alice", "correct horse", json!({})).await;
        for _ in 0..logins {
            app.login(slug, "alice", "correct horse").await;
        }
    }
    let m = app.management("/metrics").await.text;
    let tenant_lines: Vec<&str> = m
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains("tenant=\""))
        .collect();
    let named = |slug: &str| {
        tenant_lines
            .iter()
            .any(|l| l.contains(&format!("tenant=\"{slug}\"")))
    };
    for slug in ["busy", "middling"] {
        assert!(
            sample(
                &m,
                &format!("tessera_tenant_logins_total{{tenant=\"{slug}\",outcome=\"succeeded\"}}")
            )
            .is_some(),
            "{slug}: {m}"
        );
    }
    assert!(
        !m.contains("tessera_tenant_logins_total{tenant=\"quiet\""),
        "the third busiest is left out: {m}"
    );
    assert_eq!(
        sample(&m, "tessera_tenant_series_omitted "),
        Some(1.0),
        "{m}"
    );
    // The aggregate still counts every tenant.
    assert_eq!(
        sample(&m, "tessera_logins_total{outcome=\"succeeded\"}"),
        Some(6.0),
        "{m}"
    );
    // Two of the four active keys are named; the count and the oldest age cover all.
    let key_lines = tenant_lines
        .iter()
        .filter(|l| l.starts_with("tessera_signing_key_age_seconds{"))
        .count();
    assert_eq!(key_lines, 2, "{m}");
    assert_eq!(sample(&m, "tessera_signing_keys_active "), Some(4.0), "{m}");
    assert!(named("busy") && named("middling"), "{m}");
}

#[actix_rt::test]
async fn with_tenant_series_off_no_series_names_a_tenant() {
    let app = TestApp::builder()
        .configure(|s| s.metrics.tenant_series = 0)
        .start()
        .await;
    app.tenant("acme", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    app.login("acme", "alice", "correct horse").await;
    let m = app.management("/metrics").await.text;
    assert!(
        !m.lines()
            .any(|l| !l.starts_with('#') && l.contains("tenant=")),
        "{m}"
    );
    assert_eq!(
        sample(&m, "tessera_logins_total{outcome=\"succeeded\"}"),
        Some(1.0),
        "{m}"
    );
}
