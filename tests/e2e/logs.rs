//! The log an operator reads, from the real binary: one access line per request (by
//! route template, with status, duration, request id and tenant, never a token),
//! failed logins and refused admin keys at info with tenant and client address
//! (never the password or the key), and `RUST_LOG` over `log.level`.
use serde_json::json;

use crate::{sigterm, spawn_in, tessera_in};
use tessera_tests::{bearer, request};

fn env(extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("TESSERA__REDIS__URL", "redis://127.0.0.1:1".to_owned()),
        ("TESSERA__ARGON2__MEMORY_KIB", "256".to_owned()),
        ("TESSERA__ARGON2__ITERATIONS", "1".to_owned()),
    ];
    env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    env
}

/// Runs the walk-through against a fresh embedded server; returns its log.
async fn walk(extra: &[(&'static str, &str)]) -> (String, String) {
    let dir = tessera_tests::scratch_dir("logs");
    let env = env(extra);
    let (mut child, url) = spawn_in(&dir, env.clone()).await;
    let (ok, key, err) = tessera_in(&dir, &["admin", "create-key", "--name", "me"], &env);
    assert!(ok, "{err}");
    let client = awc::Client::default();
    let call = |method: &'static str, path: &'static str, token: Option<String>, body| {
        let (client, url) = (client.clone(), url.clone());
        async move { request(&client, &url, method, path, bearer(token.as_deref()), body).await }
    };
    let key = key.trim().to_owned();
    let tenant = json!({"slug": "acme", "allow_signup": true});
    assert_eq!(
        call("POST", "/v1/admin/tenants", Some(key), Some(tenant))
            .await
            .status,
        201
    );
    let user = json!({"username": "alice", "password": "correct horse"});
    assert_eq!(
        call("POST", "/v1/tenants/acme/users", None, Some(user.clone()))
            .await
            .status,
        201
    );
    let pair = call("POST", "/v1/tenants/acme/token", None, Some(user)).await;
    let access = pair.body["access"].as_str().unwrap().to_owned();
    assert_eq!(
        call(
            "GET",
            "/v1/tenants/acme/users/me",
            Some(access.clone()),
            None
        )
        .await
        .status,
        200
    );
    let wrong = json!({"username": "alice", "password": "hunter2-wrong"});
    assert_eq!(
        call("POST", "/v1/tenants/acme/token", None, Some(wrong))
            .await
            .status,
        401
    );
    let bad_key = Some("tsk_not-a-real-key-secret".to_owned());
    assert_eq!(
        call("GET", "/v1/admin/tenants", bad_key, None).await.status,
        401
    );
    sigterm(&child);
    assert!(child.wait().unwrap().success());
    let mut log = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut log).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    (log, access)
}

#[actix_rt::test]
async fn every_request_is_one_access_line_and_failures_name_who_but_no_secret() {
    let (log, access) = walk(&[]).await;
    let me = log
        .lines()
        .find(|l| l.contains("route=/v1/tenants/{tenant}/users/me"))
        .unwrap_or_else(|| panic!("no access line for /users/me: {log}"));
    for part in [
        "INFO",
        "method=GET",
        "status=200",
        "tenant=acme",
        "request_id=",
        "ms=",
    ] {
        assert!(me.contains(part), "{part} missing: {me}");
    }
    let failed = log
        .lines()
        .find(|l| l.contains("login failed"))
        .unwrap_or_else(|| panic!("no failed-login line: {log}"));
    assert!(
        failed.contains("INFO") && failed.contains("tenant=acme"),
        "{failed}"
    );
    assert!(failed.contains("client=127.0.0.1"), "{failed}");
    let refused = log
        .lines()
        .find(|l| l.contains("admin API key refused"))
        .unwrap_or_else(|| panic!("no refused-key line: {log}"));
    assert!(refused.contains("client=127.0.0.1"), "{refused}");
    for secret in [
        access.as_str(),
        "correct horse",
        "hunter2-wrong",
        "tsk_not-a-real-key-secret",
    ] {
        assert!(!log.contains(secret), "a secret in the log: {secret}");
    }
}

#[actix_rt::test]
async fn rust_log_takes_the_place_of_log_level() {
    let (log, _) = walk(&[("RUST_LOG", "warn"), ("TESSERA__LOG__LEVEL", "debug")]).await;
    assert!(
        !log.contains("route="),
        "RUST_LOG=warn keeps access lines out: {log}"
    );
}
