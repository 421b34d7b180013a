//! RFC 8725 in practice: forged and doctored tokens presented to the real service
//! are each refused with 401 token_not_valid. The test imports a key it holds, so
//! it can sign tokens as well as Tessera does and change one thing at a time.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tessera_core::algorithm::SigningAlgorithm;
use tessera_tests::{TestApp, decode_parts, s};

struct Forger {
    kid: String,
    key: EncodingKey,
    claims: Value,
}

impl Forger {
    fn sign(&self, header: Value, claims: &Value) -> String {
        let mut h = Header::new(Algorithm::ES256);
        h.kid = header["kid"].as_str().map(str::to_owned);
        h.typ = header["typ"].as_str().map(str::to_owned);
        h.crit = serde_json::from_value(header["crit"].clone()).unwrap();
        jsonwebtoken::encode(&h, claims, &self.key).unwrap()
    }

    /// A token like Tessera's, with `change` applied to its claims.
    fn access(&self, change: impl FnOnce(&mut Value)) -> String {
        let mut c = self.claims.clone();
        change(&mut c);
        self.sign(json!({"kid": self.kid, "typ": "at+jwt"}), &c)
    }
}

fn raw(header: &Value, claims: &Value, sig: &str) -> String {
    format!(
        "{}.{}.{sig}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    )
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn verify(app: &TestApp, slug: &str, token: &str) -> (u16, String) {
    let r = app
        .post(
            &format!("/v1/tenants/{slug}/token/verify"),
            None,
            json!({"token": token}),
        )
        .await;
    (r.status.as_u16(), r.code().to_owned())
}

const REFUSED: (u16, &str) = (401, "token_not_valid");

#[actix_rt::test]
async fn forged_and_doctored_tokens_are_refused() {
    let app = TestApp::start().await;
    app.tenant("acme", json!({"audience": "api", "leeway": 0}))
        .await;
    app.tenant("globex", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    app.user("globex", "gina", "correct horse", json!({})).await;
    let (pem, r) = app.import_new_key("acme", SigningAlgorithm::ES256).await;
    let kid = s(&r.body, "kid");
    let real = s(&app.login("acme", "alice", "correct horse").await, "access");
    let f = Forger {
        kid: kid.clone(),
        key: EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
        claims: decode_parts(&real).1,
    };
    let refused = |(st, code): (u16, String)| (st, code) == (REFUSED.0, REFUSED.1.to_owned());

    // The harness signs as Tessera does: an unchanged re-signed token verifies.
    assert_eq!(
        verify(&app, "acme", &f.access(|_| {})).await,
        (200, String::new())
    );

    let jwks = app
        .get("/v1/tenants/acme/.well-known/jwks.json", None)
        .await;
    let claims = f.claims.clone();
    let mut cases: Vec<(&str, String)> = vec![
        (
            "alg none",
            raw(
                &json!({"alg": "none", "typ": "at+jwt", "kid": kid}),
                &claims,
                "",
            ),
        ),
        (
            "alg none, no kid",
            raw(&json!({"alg": "none"}), &claims, ""),
        ),
        (
            "unknown kid",
            f.sign(json!({"kid": "key_nosuch", "typ": "at+jwt"}), &claims),
        ),
        ("no kid", f.sign(json!({"typ": "at+jwt"}), &claims)),
        (
            // RFC 7515 4.1.11: an extension the verifier does not know is critical.
            "unknown critical header extension",
            f.sign(
                json!({"kid": kid, "typ": "at+jwt", "crit": ["x-unknown"]}),
                &claims,
            ),
        ),
        ("expired", f.access(|c| c["exp"] = json!(now() - 10))),
        ("not yet valid", f.access(|c| c["nbf"] = json!(now() + 10))),
        (
            "wrong token_type for its typ",
            f.access(|c| c["token_type"] = json!("refresh")),
        ),
        (
            "refresh typ on an access token",
            f.sign(json!({"kid": kid, "typ": "JWT"}), &claims),
        ),
        (
            "wrong iss",
            f.access(|c| c["iss"] = json!("https://evil.example")),
        ),
        ("wrong aud", f.access(|c| c["aud"] = json!("other-api"))),
        (
            "no aud",
            f.access(|c| {
                c.as_object_mut().unwrap().remove("aud");
            }),
        ),
        (
            "no exp",
            f.access(|c| {
                c.as_object_mut().unwrap().remove("exp");
            }),
        ),
        (
            "oversized",
            f.access(|c| c["pad"] = json!("x".repeat(9000))),
        ),
        ("not base64url", "@@@.@@@.@@@".into()),
        (
            "not JSON",
            format!(
                "{}.{}.{}",
                B64.encode("hello"),
                B64.encode("world"),
                B64.encode("sig")
            ),
        ),
        (
            "two segments",
            format!("{}.{}", B64.encode("{}"), B64.encode("{}")),
        ),
    ];
    // HS256 "signed" with the tenant's published public key (algorithm confusion).
    for secret in [
        jwks.text.clone(),
        s(&jwks.body["keys"][0], "x"),
        pem.clone(),
    ] {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some(kid.clone());
        h.typ = Some("at+jwt".into());
        let t = jsonwebtoken::encode(
            &h,
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()).unwrap(),
        )
        .unwrap();
        cases.push(("HS256 with the public key", t));
    }
    // Tampering: payload changed under the old signature, signature changed.
    let good = f.access(|_| {});
    let parts: Vec<&str> = good.split('.').collect();
    let mut other = claims.clone();
    other["sub"] = json!("usr_someone_else");
    cases.push((
        "tampered payload",
        format!(
            "{}.{}.{}",
            parts[0],
            B64.encode(other.to_string()),
            parts[2]
        ),
    ));
    let mut sig = B64.decode(parts[2]).unwrap();
    sig[10] ^= 1;
    cases.push((
        "tampered signature",
        format!("{}.{}.{}", parts[0], parts[1], B64.encode(sig)),
    ));
    // A kid of another tenant, and another tenant's valid token.
    let foreign_kid = app.jwks_kids("globex").await.remove(0);
    cases.push((
        "another tenant's kid",
        f.sign(json!({"kid": foreign_kid, "typ": "at+jwt"}), &claims),
    ));
    cases.push((
        "another tenant's token",
        s(
            &app.login("globex", "gina", "correct horse").await,
            "access",
        ),
    ));

    for (what, token) in &cases {
        let got = verify(&app, "acme", token).await;
        assert!(refused(got.clone()), "{what}: {got:?}");
        let r = app.get("/v1/tenants/acme/users/me", Some(token)).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            REFUSED,
            "{what} at /users/me"
        );
    }
    // The refresh route refuses an access token, and /users/me a refresh token.
    let pair = app.login("acme", "alice", "correct horse").await;
    assert_eq!(app.refresh_status("acme", &s(&pair, "access")).await, 401);
    let r = app
        .get("/v1/tenants/acme/users/me", Some(&s(&pair, "refresh")))
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body["detail"].as_str()),
        (401, Some("Token has wrong type"))
    );

    // Leeway, bounded and per tenant: 30 s forgives a token 10 s past exp or before nbf.
    let expired = f.access(|c| c["exp"] = json!(now() - 10));
    let early = f.access(|c| c["nbf"] = json!(now() + 10));
    let late = f.access(|c| c["exp"] = json!(now() - 60));
    app.admin("PATCH", "/tenants/acme", Some(json!({"leeway": 30})))
        .await;
    assert_eq!(verify(&app, "acme", &expired).await.0, 200, "within leeway");
    assert_eq!(verify(&app, "acme", &early).await.0, 200, "within leeway");
    assert!(refused(verify(&app, "acme", &late).await), "beyond leeway");
}
