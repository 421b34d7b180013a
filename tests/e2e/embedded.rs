//! The zero-setup mode, as someone trying Tessera runs it: `tessera serve` in an
//! empty folder with no database URL, no master key and no reachable Redis.
use serde_json::{Value, json};
use std::{os::unix::fs::PermissionsExt, path::Path, time::Duration};

use crate::{sigterm, spawn_in, tessera_in};
use tessera_tests::{Res, bearer, request};

/// Everything but the port: nothing configured, and a Redis URL that answers nothing
/// (proof that this mode never uses Redis). Cheap argon2 to keep the test quick.
fn bare_env(public_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("TESSERA__REDIS__URL", "redis://127.0.0.1:1".into()),
        ("TESSERA__PUBLIC_URL", public_url.into()),
        ("TESSERA__ARGON2__MEMORY_KIB", "256".into()),
        ("TESSERA__ARGON2__ITERATIONS", "1".into()),
    ]
}

/// One request to the server at `url`.
async fn call(url: &str, method: &str, path: &str, token: Option<&str>, body: Value) -> Res {
    let body = (!body.is_null()).then_some(body);
    request(
        &awc::Client::default(),
        url,
        method,
        path,
        bearer(token),
        body,
    )
    .await
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[actix_rt::test]
async fn serve_with_nothing_configured_keeps_everything_in_its_data_folder() {
    let dir = tessera_tests::scratch_dir("zero-setup");
    // One public URL for both runs: it names the issuer the tokens carry.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let public = format!("http://127.0.0.1:{port}");
    let env = bare_env(&public);

    let (mut child, url) = spawn_in(&dir, env.clone()).await;
    let data = dir.join("tessera-data");
    assert_eq!(mode(&data), 0o700, "the data folder is its owner's only");
    assert_eq!(
        mode(&data.join("master.key")),
        0o600,
        "so is the master key"
    );
    let key_text = std::fs::read_to_string(data.join("master.key")).unwrap();
    assert!(data.join("tessera.db").exists());
    let ready = call(&url, "GET", "/readyz", None, Value::Null).await;
    assert_eq!(
        ready.status, 200,
        "ready without Postgres or Redis: {}",
        ready.text
    );
    // A second node on the same folder would keep a revocation list of its own.
    let mut second = env.clone();
    second.push(("TESSERA__HTTP__BIND", "127.0.0.1:0".into()));
    let (ok, _, err) = tessera_in(&dir, &["serve"], &second);
    assert!(
        !ok && err.contains("in use by another `tessera serve`"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    // The whole walk-through: an admin key from the CLI (same folder, while serving),
    // a tenant, sign-up, login, the protected resource, revocation.
    let (ok, admin_key, err) = tessera_in(&dir, &["admin", "create-key", "--name", "me"], &env);
    assert!(ok, "{err}");
    let admin_key = admin_key.trim().to_owned();
    let created = call(
        &url,
        "POST",
        "/v1/admin/tenants",
        Some(&admin_key),
        json!({"slug": "acme", "allow_signup": true}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let signup = json!({"username": "alice", "password": "correct horse"});
    assert_eq!(
        call(&url, "POST", "/v1/tenants/acme/users", None, signup.clone())
            .await
            .status,
        201
    );
    let login = |n: u8| {
        let url = url.clone();
        let signup = signup.clone();
        async move {
            let pair = call(&url, "POST", "/v1/tenants/acme/token", None, signup).await;
            assert_eq!(pair.status, 200, "login {n}: {}", pair.text);
            pair.body
        }
    };
    let revoked = login(1).await;
    let live = login(2).await;
    let me = |url: String, access: Value| async move {
        call(
            &url,
            "GET",
            "/v1/tenants/acme/users/me",
            access.as_str(),
            Value::Null,
        )
        .await
        .status
    };
    assert_eq!(me(url.clone(), revoked["access"].clone()).await, 200);
    let status = call(
        &url,
        "POST",
        "/v1/tenants/acme/token/revoke",
        None,
        json!({"token": revoked["refresh"]}),
    )
    .await
    .status;
    assert_eq!(status, 200);
    assert_eq!(
        me(url.clone(), revoked["access"].clone()).await,
        401,
        "revoked at once"
    );

    sigterm(&child);
    let exit = child.wait().unwrap();
    let mut log = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut log).unwrap();
    assert!(exit.success(), "{log}");
    assert!(
        log.contains("embedded mode") && log.contains("single node"),
        "the log says what this mode is for: {log}"
    );
    assert!(log.contains("created a master key"), "{log}");
    assert!(
        !log.contains(key_text.trim()),
        "the master key is never logged"
    );

    // Started again on the same folder: same master key, same signing keys; the
    // in-process revocation list is refilled from SQLite, so nothing revoked revives.
    let env = bare_env(&public);
    let (mut child, url) = spawn_in(&dir, env.clone()).await;
    assert_eq!(
        std::fs::read_to_string(data.join("master.key")).unwrap(),
        key_text,
        "the master key is kept, never replaced"
    );
    assert_eq!(
        me(url.clone(), live["access"].clone()).await,
        200,
        "tokens outlive a restart"
    );
    assert_eq!(
        me(url.clone(), revoked["access"].clone()).await,
        401,
        "revocations too"
    );
    let status = call(
        &url,
        "POST",
        "/v1/tenants/acme/token/refresh",
        None,
        json!({"refresh": revoked["refresh"]}),
    )
    .await
    .status;
    assert_eq!(status, 401);

    let (ok, out, err) = tessera_in(&dir, &["check-config", "--connect"], &env);
    assert!(ok, "{err}");
    assert!(out.contains("mode = embedded"), "{out}");
    assert!(
        out.contains("0 migration(s) pending") && out.contains("revocations: in process"),
        "{out}"
    );
    let (ok, out, err) = tessera_in(&dir, &["tenant", "list"], &env);
    assert!(ok && out.contains("acme"), "{out}{err}");

    sigterm(&child);
    assert!(child.wait().unwrap().success());
    std::thread::sleep(Duration::from_millis(10));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[actix_rt::test]
async fn a_data_dir_that_cannot_be_made_is_one_clear_line() {
    let dir = tessera_tests::scratch_dir("bad-data-dir");
    std::fs::write(dir.join("file"), "not a folder").unwrap();
    let env = vec![(
        "TESSERA__DATA_DIR",
        dir.join("file").join("data").to_string_lossy().into_owned(),
    )];
    let (ok, _, err) = tessera_in(&dir, &["serve"], &env);
    assert!(!ok, "{err}");
    assert!(
        err.contains("data_dir") && err.contains("TESSERA__DATA_DIR"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
