//! `tessera-verify` against a real Tessera: offline verification, a logout refused
//! within a second through the revocation feed, a key rotation followed without a
//! restart, forged tokens refused; and its example resource server, run as is.
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tessera_tests::{TestApp, decode_parts, s};
use tessera_verify::{Config, Error, Verifier};

/// The crate's example, as it is (its `main` is not run here).
#[allow(dead_code)]
#[path = "../../crates/verify/examples/resource_server.rs"]
mod example;

async fn verifier(app: &TestApp, slug: &str, audience: &str) -> Verifier {
    let c = app
        .admin(
            "POST",
            &format!("/tenants/{slug}/clients"),
            Some(json!({"name": "orders"})),
        )
        .await;
    let mut config = Config::new(&format!("{}/v1/tenants/{slug}", app.url))
        .audience(audience)
        .client(&s(&c.body, "client_id"), &s(&c.body, "client_secret"));
    config.refetch_after = Duration::from_millis(100);
    Verifier::new(config).await.expect("the verifier starts")
}

fn b64(v: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

#[actix_rt::test]
async fn the_crate_verifies_offline_follows_logouts_and_rotations_and_refuses_forgeries() {
    let app = TestApp::start().await;
    app.tenant("shop", json!({"audience": "orders-api"})).await;
    app.tenant("other", json!({"audience": "orders-api"})).await;
    let uid = app.user("shop", "alice", "correct horse", json!({})).await;
    app.user("other", "alice", "correct horse", json!({})).await;
    let v = verifier(&app, "shop", "orders-api").await;

    let pair = app.login("shop", "alice", "correct horse").await;
    let access = s(&pair, "access");
    let claims = v
        .verify(&access)
        .await
        .expect("a fresh access token verifies");
    assert_eq!(claims.sub, uid);

    // The example resource server, with this verifier.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = example::serve(v.clone(), listener).unwrap();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    let http = awc::Client::default();
    let orders = format!("http://127.0.0.1:{port}/orders");
    let status = |token: Option<String>| {
        let mut req = http.get(&orders);
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(Some(access.clone())).await, 200);
    assert_eq!(status(None).await, 401);

    // A logout at Tessera: refused offline within a second.
    assert_eq!(app.revoke_status("shop", &access).await, 200);
    let revoked = Instant::now();
    loop {
        match v.verify(&access).await {
            Err(Error::Revoked) => break,
            Ok(_) if revoked.elapsed() < Duration::from_secs(1) => {
                actix_web::rt::time::sleep(Duration::from_millis(5)).await
            }
            other => panic!("not refused within a second: {other:?}"),
        }
    }
    eprintln!(
        "tessera-verify: logout refused offline {:?} after it answered",
        revoked.elapsed()
    );
    assert_eq!(status(Some(access.clone())).await, 401);

    // "Log out everywhere" (a user cut-off) too.
    let other = s(&app.login("shop", "alice", "correct horse").await, "access");
    assert!(v.verify(&other).await.is_ok());
    let all = app
        .post("/v1/tenants/shop/token/revoke-all", Some(&other), json!({}))
        .await;
    assert_eq!(all.status, 200);
    tessera_tests::eventually(
        "the cut-off reaches the crate",
        Duration::from_secs(1),
        || async { matches!(v.verify(&other).await, Err(Error::Revoked)) },
    )
    .await;

    // A rotation: new tokens verify without a restart.
    let before = decode_parts(&s(
        &app.login("shop", "alice", "correct horse").await,
        "access",
    ))
    .0;
    let r = app.admin("POST", "/tenants/shop/keys", None).await;
    assert!(r.status.is_success(), "{}", r.text);
    let rotated = s(&app.login("shop", "alice", "correct horse").await, "access");
    assert_ne!(decode_parts(&rotated).0["kid"], before["kid"]);
    // Fetched on its first token, unless a fetch came less than refetch_after
    // (100 ms) ago: then on a token after that.
    tessera_tests::eventually(
        "the new key is fetched without a restart",
        Duration::from_secs(1),
        || async { v.verify(&rotated).await.is_ok() },
    )
    .await;

    // Forgeries and wrong tokens.
    let fresh = s(&app.login("shop", "alice", "correct horse").await, "access");
    let (header, payload) = decode_parts(&fresh);
    let sig = fresh.rsplit('.').next().unwrap();
    let mut elevated = payload.clone();
    elevated["roles"] = json!(["admin"]);
    let none = json!({"alg": "none", "typ": "at+jwt", "kid": header["kid"]});
    let jwks = app
        .get("/v1/tenants/shop/.well-known/jwks.json", None)
        .await;
    let confused = {
        // HS256 signed with the public key's JSON: the classic algorithm confusion.
        let key = jwks.body["keys"][0].to_string();
        let h = json!({"alg": "HS256", "typ": "at+jwt", "kid": header["kid"]});
        jsonwebtoken::encode(
            &serde_json::from_value(h).unwrap(),
            &payload,
            &jsonwebtoken::EncodingKey::from_secret(key.as_bytes()).unwrap(),
        )
        .unwrap()
    };
    let foreign = s(
        &app.login("other", "alice", "correct horse").await,
        "access",
    );
    let forged = [
        (
            "tampered payload",
            format!("{}.{}.{sig}", b64(&header), b64(&elevated)),
        ),
        ("alg none", format!("{}.{}.", b64(&none), b64(&payload))),
        ("algorithm confusion", confused),
        ("another tenant's", foreign),
        ("a refresh token", s(&pair, "refresh")),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (what, token) in forged {
        let r = v.verify(&token).await;
        assert!(matches!(r, Err(Error::Invalid(_))), "{what}: {r:?}");
    }
    // A header extension marked critical that the verifier does not understand (RFC
    // 7515 4.1.11), signed with a key of the tenant's: refused, while the same token
    // without it verifies.
    let (pem, r) = app
        .import_new_key("shop", tessera_core::algorithm::SigningAlgorithm::ES256)
        .await;
    let key = jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes()).unwrap();
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    h.kid = Some(s(&r.body, "kid"));
    h.typ = Some("at+jwt".into());
    let plain = jsonwebtoken::encode(&h, &payload, &key).unwrap();
    h.crit = Some(vec!["x-unknown".into()]);
    let critical = jsonwebtoken::encode(&h, &payload, &key).unwrap();
    tessera_tests::eventually(
        "the imported key verifies",
        Duration::from_secs(1),
        || async { v.verify(&plain).await.is_ok() },
    )
    .await;
    let r = v.verify(&critical).await;
    assert!(matches!(r, Err(Error::Invalid(_))), "crit: {r:?}");
    // A verifier expecting another audience refuses the tenant's tokens.
    let wrong = verifier(&app, "shop", "billing-api").await;
    assert!(matches!(wrong.verify(&fresh).await, Err(Error::Invalid(_))));
    handle.stop(true).await;
}
