//! The life of a signing key: rotate, retire, import, scheduled rotation.
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tessera_core::{algorithm::SigningAlgorithm, key_material::KeyMaterial};
use tessera_tests::{TestApp, decode_parts, eventually, s};

/// Short lifetimes so windows close within a test: a key verifies 3 s after it
/// stops signing.
fn short() -> Value {
    json!({"access_token_ttl": 2, "refresh_token_ttl": 3, "session_max_lifetime": 30})
}

async fn keys(app: &TestApp, slug: &str) -> Vec<Value> {
    let r = app
        .admin("GET", &format!("/tenants/{slug}/keys"), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["items"].as_array().unwrap().clone()
}

fn kid_of(token: &str) -> String {
    s(&decode_parts(token).0, "kid")
}

#[actix_rt::test]
async fn rotation_keeps_the_old_key_until_its_tokens_expire_then_drops_it() {
    let app = TestApp::start().await;
    app.tenant("acme", short()).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    let old = s(&app.login("acme", "alice", "correct horse").await, "access");
    let a = kid_of(&old);

    let r = app.admin("POST", "/tenants/acme/keys", None).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let b = s(&r.body, "kid");
    assert_ne!(a, b);
    assert_eq!(r.body["status"], "active");
    assert_eq!(app.jwks_kids("acme").await, vec![b.clone(), a.clone()]);
    assert_eq!(
        app.me_status("acme", &old).await,
        200,
        "old tokens still verify"
    );
    let new = s(&app.login("acme", "alice", "correct horse").await, "access");
    assert_eq!(kid_of(&new), b, "new tokens are signed by the new key");

    let listed = keys(&app, "acme").await;
    assert_eq!(
        listed
            .iter()
            .map(|k| (s(k, "kid"), s(k, "status")))
            .collect::<Vec<_>>(),
        vec![(b.clone(), "active".into()), (a.clone(), "retiring".into())]
    );
    assert!(listed[1]["verifies_until"].is_string());
    assert!(!r.text.contains("\"d\"") && !r.text.contains("PRIVATE"));

    // Overlap = refresh_token_ttl (3 s): then the old key leaves by itself.
    eventually(
        "old key leaves the JWKS",
        Duration::from_secs(8),
        || async { app.jwks_kids("acme").await == vec![b.clone()] },
    )
    .await;
    assert_eq!(s(&keys(&app, "acme").await[1], "status"), "retired");
}

#[actix_rt::test]
async fn retiring_a_key_removes_it_and_its_tokens_at_once() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    app.tenant("globex", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    let t1 = app.login("acme", "alice", "correct horse").await;
    let a = kid_of(&s(&t1, "access"));
    let b = s(
        &app.admin("POST", "/tenants/acme/keys", None).await.body,
        "kid",
    );
    let t2 = app.login("acme", "alice", "correct horse").await;

    let r = app
        .admin("DELETE", &format!("/tenants/acme/keys/{a}"), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(app.verify_status("acme", &s(&t1, "access")).await, 401);
    assert_eq!(app.refresh_status("acme", &s(&t1, "refresh")).await, 401);
    assert_eq!(app.jwks_kids("acme").await, vec![b.clone()]);
    assert_eq!(app.me_status("acme", &s(&t2, "access")).await, 200);

    // Retiring the signing key hands signing to a new key.
    let r = app
        .admin("DELETE", &format!("/tenants/acme/keys/{b}"), None)
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(app.me_status("acme", &s(&t2, "access")).await, 401);
    let kids = app.jwks_kids("acme").await;
    assert_eq!(kids.len(), 1);
    assert!(kids[0] != a && kids[0] != b);
    let t3 = app.login("acme", "alice", "correct horse").await;
    assert_eq!(kid_of(&s(&t3, "access")), kids[0]);
    assert_eq!(app.me_status("acme", &s(&t3, "access")).await, 200);

    // Idempotent on a retired key; unknown or foreign kids are not found.
    assert_eq!(
        app.admin("DELETE", &format!("/tenants/acme/keys/{a}"), None)
            .await
            .status,
        204
    );
    let foreign = app.jwks_kids("globex").await.remove(0);
    for kid in ["key_nosuch", foreign.as_str()] {
        let r = app
            .admin("DELETE", &format!("/tenants/acme/keys/{kid}"), None)
            .await;
        assert_eq!((r.status.as_u16(), r.code()), (404, "not_found"), "{kid}");
    }
    assert_eq!(app.jwks_kids("globex").await, vec![foreign], "untouched");
    let statuses: Vec<String> = keys(&app, "acme")
        .await
        .iter()
        .map(|k| s(k, "status"))
        .collect();
    assert_eq!(statuses, vec!["active", "retired", "retired"]);
}

#[actix_rt::test]
async fn scheduled_rotation_publishes_the_next_key_a_cache_lifetime_ahead() {
    let app = TestApp::start().await;
    // Interval 6 s: JWKS max-age 3 s, next key published 4 s before it signs.
    let mut settings = short();
    settings["key_rotation_interval"] = json!(6);
    app.tenant("acme", settings).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    let jwks = app
        .get("/v1/tenants/acme/.well-known/jwks.json", None)
        .await;
    assert_eq!(
        jwks.headers.get("cache-control").unwrap(),
        "public, max-age=3"
    );
    let first = app.jwks_kids("acme").await.remove(0);

    let start = Instant::now();
    let mut published: Option<(String, Duration)> = None;
    let signed_at = loop {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no rotation within 20 s"
        );
        let kids = app.jwks_kids("acme").await;
        if published.is_none() && kids.len() == 2 && kids[1] == first {
            published = Some((kids[0].clone(), start.elapsed()));
            let listed = keys(&app, "acme").await;
            assert_eq!(s(&listed[0], "status"), "next");
            assert!(listed[0]["activated_at"].is_string());
        }
        let token = s(&app.login("acme", "alice", "correct horse").await, "access");
        let kid = kid_of(&token);
        if kid != first {
            let (next, _) = published
                .clone()
                .expect("a key signed before it was published");
            assert_eq!(kid, next, "the published key is the one that signs");
            break start.elapsed();
        }
        actix_rt::time::sleep(Duration::from_millis(200)).await;
    };
    let (next, published_at) = published.unwrap();
    // What the server promised, exactly: the key row (and the change notification)
    // came at least jwks max-age + 1 s (whole seconds) before its signing time.
    let lead = app.count(&format!(
        "SELECT activated_at - created_at AS n FROM signing_keys WHERE kid = '{next}'"
    ));
    assert!(
        lead >= 4,
        "next key published only {lead} s before it signs"
    );
    // What a client saw, through polling (each observation lags by up to one poll, so
    // this is approximate): it was in the JWKS seconds before a token it signed.
    let ahead = signed_at - published_at;
    assert!(
        ahead >= Duration::from_secs(2),
        "seen in the JWKS only {ahead:?} before a token it signed"
    );
    eprintln!("next key seen {ahead:?} before the first token it signed");
}

#[actix_rt::test]
async fn importing_a_django_secret_or_a_pem_key_makes_it_the_signer() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    let before = app.login("acme", "alice", "correct horse").await;

    // A Django project's SIGNING_KEY: its services keep verifying with it.
    let secret = "django-insecure-7#x!qk0v8m2$w9c@4z1r6t3y5u8i0o2p4a6s8d";
    let r = app
        .admin(
            "POST",
            "/tenants/acme/keys/import",
            Some(json!({"algorithm": "HS256", "secret": secret})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        (r.body["origin"].as_str(), r.body["algorithm"].as_str()),
        (Some("imported"), Some("HS256"))
    );
    assert!(r.body["public_jwk"].is_null());
    assert!(!r.text.contains(secret));
    assert_eq!(
        app.admin("GET", "/tenants/acme", None).await.body["algorithm"],
        "HS256"
    );
    let access = s(&app.login("acme", "alice", "correct horse").await, "access");
    let mut v = Validation::new(jsonwebtoken::Algorithm::HS256);
    v.validate_aud = false;
    let claims = jsonwebtoken::decode::<Value>(
        &access,
        &DecodingKey::from_secret(secret.as_bytes()).unwrap(),
        &v,
    )
    .expect("a service holding the Django key verifies Tessera's token");
    assert_eq!(claims.claims["token_type"], "access");
    assert_eq!(
        app.me_status("acme", &s(&before, "access")).await,
        200,
        "earlier tokens still verify"
    );
    let kids = app.jwks_kids("acme").await;
    assert_eq!(
        kids,
        vec![kid_of(&s(&before, "access"))],
        "an HS secret is never published"
    );

    // A PEM private key (PKCS#8): its public half is published under the new kid.
    let (_, r) = app.import_new_key("acme", SigningAlgorithm::ES384).await;
    let kid = s(&r.body, "kid");
    assert_eq!(r.body["public_jwk"]["crv"], "P-384");
    assert!(!r.text.contains("PRIVATE KEY") && r.body["public_jwk"].get("d").is_none());
    assert_eq!(app.jwks_kids("acme").await[0], kid);
    let access = s(&app.login("acme", "alice", "correct horse").await, "access");
    assert_eq!(
        (kid_of(&access), s(&decode_parts(&access).0, "alg")),
        (kid, "ES384".into())
    );
    assert_eq!(app.me_status("acme", &access).await, 200);

    let rsa = String::from_utf8(
        KeyMaterial::generate(SigningAlgorithm::RS256)
            .unwrap()
            .as_bytes()
            .to_vec(),
    )
    .unwrap();
    for (body, field) in [
        (json!({"algorithm": "HS256", "secret": "short"}), "secret"),
        (json!({"algorithm": "HS256", "private_key": rsa}), "secret"),
        (
            json!({"algorithm": "ES256", "private_key": rsa}),
            "private_key",
        ),
        (
            json!({"algorithm": "ES256", "secret": secret}),
            "private_key",
        ),
        (
            json!({"algorithm": "EdDSA", "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}),
            "private_key",
        ),
        (json!({"algorithm": "none", "secret": secret}), "algorithm"),
    ] {
        let r = app
            .admin("POST", "/tenants/acme/keys/import", Some(body.clone()))
            .await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (400, "validation_error"),
            "{body}: {}",
            r.text
        );
        assert!(r.body["errors"][field].is_array(), "{body}: {}", r.text);
        assert!(
            !r.text.contains("BEGIN") && !r.text.contains(secret),
            "material echoed: {}",
            r.text
        );
    }
    assert_eq!(
        app.admin("GET", "/tenants/acme", None).await.body["algorithm"],
        "ES384",
        "nothing changed"
    );
}

#[actix_rt::test]
async fn turning_scheduled_rotation_off_drops_the_published_next_key() {
    let app = TestApp::start().await;
    let mut settings = short();
    settings["key_rotation_interval"] = json!(6);
    app.tenant("acme", settings).await;
    let first = app.jwks_kids("acme").await.remove(0);
    eventually(
        "the next key is published",
        Duration::from_secs(8),
        || async { app.jwks_kids("acme").await.len() == 2 },
    )
    .await;
    let r = app
        .admin(
            "PATCH",
            "/tenants/acme",
            Some(json!({"key_rotation_interval": null})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(app.jwks_kids("acme").await, vec![first.clone()]);
    let statuses: Vec<(String, String)> = keys(&app, "acme")
        .await
        .iter()
        .map(|k| (s(k, "kid"), s(k, "status")))
        .collect();
    assert_eq!(statuses[0].1, "retired");
    assert_eq!(statuses[1], (first.clone(), "active".into()));
    actix_rt::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        app.jwks_kids("acme").await,
        vec![first],
        "no rotation happens any more"
    );
}
