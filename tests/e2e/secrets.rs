//! Secrets hygiene: a whole session — tenants, admin keys, key rotation and import,
//! users, logins, refreshes, password changes and errors — and then no private key,
//! HS secret, password, password hash or admin key secret appears in any response
//! or in any log line of the process (captured at debug level).
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use diesel::{QueryDsl, RunQueryDsl, SelectableHelper};
use serde_json::json;
use tessera_core::{algorithm::SigningAlgorithm, key_material::KeyMaterial};
use tessera_store::{models::signing_key::SigningKey, schema::signing_keys};
use tessera_tests::{TestApp, captured_logs, s};

/// The forms a secret could leak in: itself, and (for raw bytes) base64 and hex.
fn forms(bytes: &[u8]) -> Vec<String> {
    let mut out = vec![
        STANDARD.encode(bytes),
        URL_SAFE_NO_PAD.encode(bytes),
        bytes.iter().map(|b| format!("{b:02x}")).collect(),
    ];
    if let Ok(text) = std::str::from_utf8(bytes) {
        out.push(text.to_owned());
        // A PEM's base64 body, line by line (a log might print one line of it).
        out.extend(
            text.lines()
                .filter(|l| !l.starts_with("-----") && l.len() >= 40)
                .map(str::to_owned),
        );
    }
    out
}

#[actix_rt::test]
async fn no_secret_reaches_a_response_or_a_log_line() {
    let logs = captured_logs();
    let app = TestApp::start().await;
    let tag = tessera_core::ids::random_id();
    let passwords: Vec<String> = (1..=5).map(|i| format!("pass-{i}-{tag}")).collect();
    let hs_secret = format!("django-insecure-{tag}-{tag}");
    let pem = String::from_utf8(
        KeyMaterial::generate(SigningAlgorithm::RS256)
            .unwrap()
            .as_bytes()
            .to_vec(),
    )
    .unwrap();

    app.tenant("acme", json!({"allow_signup": true})).await;
    app.tenant("globex", json!({"algorithm": "HS256"})).await;
    let scoped = app
        .admin(
            "POST",
            "/api-keys",
            Some(json!({"name": "ops", "tenant": "acme"})),
        )
        .await;
    let scoped_secret = s(&scoped.body, "secret");
    let id = app.user("acme", "alice", &passwords[0], json!({})).await;
    let r = app
        .post(
            "/v1/tenants/acme/users",
            None,
            json!({"username": "bob", "password": passwords[1]}),
        )
        .await;
    assert_eq!(r.status, 201);
    app.user("globex", "gina", &passwords[0], json!({})).await;
    let pair = app.login("acme", "alice", &passwords[0]).await;
    app.login("globex", "gina", &passwords[0]).await;
    app.post(
        "/v1/tenants/acme/token/refresh",
        None,
        json!({"refresh": s(&pair, "refresh")}),
    )
    .await;
    // Errors of every kind.
    app.post(
        "/v1/tenants/acme/token",
        None,
        json!({"username": "alice", "password": passwords[1]}),
    )
    .await;
    app.post(
        "/v1/tenants/acme/token",
        None,
        json!({"username": "nobody", "password": passwords[2]}),
    )
    .await;
    app.post(
        "/v1/tenants/acme/token/refresh",
        None,
        json!({"refresh": s(&pair, "refresh")}),
    )
    .await; // reuse
    app.post(
        "/v1/tenants/acme/token/verify",
        None,
        json!({"token": "garbage"}),
    )
    .await;
    app.call(
        "GET",
        "/v1/admin/tenants",
        Some(&format!("{scoped_secret}x")),
        None,
    )
    .await;
    app.admin(
        "POST",
        "/tenants/acme/keys/import",
        Some(json!({"algorithm": "HS256", "secret": "short"})),
    )
    .await;
    app.admin(
        "POST",
        "/tenants/acme/keys/import",
        Some(json!({"algorithm": "ES256", "private_key": pem})),
    )
    .await; // an RSA key for ES256: refused
    // Keys: rotate, import both kinds, retire, change algorithm.
    app.admin("POST", "/tenants/acme/keys", None).await;
    let r = app
        .admin(
            "POST",
            "/tenants/acme/keys/import",
            Some(json!({"algorithm": "RS256", "private_key": pem})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .admin(
            "POST",
            "/tenants/globex/keys/import",
            Some(json!({"algorithm": "HS256", "secret": hs_secret})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    app.admin(
        "PATCH",
        "/tenants/acme",
        Some(json!({"algorithm": "EdDSA"})),
    )
    .await;
    let fresh = app.login("acme", "alice", &passwords[0]).await;
    let r = app
        .post(
            "/v1/tenants/acme/users/me/password",
            Some(&s(&fresh, "access")),
            json!({"old_password": passwords[0], "new_password": passwords[3]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.admin(
        "PATCH",
        &format!("/tenants/acme/users/{id}"),
        Some(json!({"password": passwords[4]})),
    )
    .await;
    for path in [
        "/tenants/acme/keys",
        "/tenants/globex/keys",
        "/tenants/acme/audit",
        "/audit",
        "/api-keys",
        "/tenants/acme/users",
    ] {
        assert_eq!(app.admin("GET", path, None).await.status, 200, "{path}");
    }
    app.get("/v1/tenants/acme/.well-known/jwks.json", None)
        .await;

    // Every private key and HS secret the tenants hold, decrypted from Postgres.
    let master = app.settings.master_key().unwrap();
    let rows: Vec<SigningKey> = signing_keys::table
        .select(SigningKey::as_select())
        .load(&mut app.db())
        .unwrap();
    assert!(rows.len() >= 6, "{}", rows.len());
    let mut secrets: Vec<(String, String)> = rows
        .iter()
        .flat_map(|k| {
            let m = k.material(&master).unwrap();
            forms(m.as_bytes())
                .into_iter()
                .map(|f| (format!("key {}", k.kid), f))
        })
        .collect();
    secrets.extend(
        forms(hs_secret.as_bytes())
            .into_iter()
            .map(|f| ("imported secret".into(), f)),
    );
    secrets.extend(
        forms(pem.as_bytes())
            .into_iter()
            .map(|f| ("imported PEM".into(), f)),
    );
    secrets.extend(passwords.iter().map(|p| ("password".into(), p.clone())));
    secrets.push(("admin key".into(), app.admin_key.clone()));
    secrets.push(("scoped admin key".into(), scoped_secret.clone()));
    secrets.push(("password hash".into(), "$argon2id$".into()));

    let responses = app.transcript.lock().unwrap().join("\n");
    assert!(
        responses.contains("tsk_"),
        "the one response that shows a key secret is there"
    );
    let logs = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(!logs.is_empty(), "logs were captured");
    for (what, secret) in &secrets {
        assert!(!logs.contains(secret.as_str()), "{what} in a log line");
        let shown = responses.matches(secret.as_str()).count();
        // Only the creation of the scoped key shows its secret, once.
        let allowed = usize::from(secret == &scoped_secret);
        assert_eq!(shown, allowed, "{what} in a response");
    }
}
