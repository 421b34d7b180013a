//! Every algorithm end to end, and offline verification from the JWKS alone.
use jsonwebtoken::{DecodingKey, Validation, jwk::JwkSet};
use serde_json::{Value, json};
use tessera_core::algorithm::SigningAlgorithm;
use tessera_tests::{TestApp, decode_parts, s};

#[actix_rt::test]
async fn every_algorithm_round_trips_and_verifies_offline_from_the_jwks() {
    let app = TestApp::start().await;
    for alg in SigningAlgorithm::ALL {
        let slug = format!("t-{}", alg.as_str().to_ascii_lowercase());
        app.tenant(&slug, json!({"algorithm": alg.as_str(), "audience": "api"}))
            .await;
        app.user(&slug, "alice", "correct horse", json!({})).await;
        let pair = app.login(&slug, "alice", "correct horse").await;
        let access = s(&pair, "access");
        assert_eq!(decode_parts(&access).0["alg"], alg.as_str());
        let r = app
            .post(
                &format!("/v1/tenants/{slug}/token/verify"),
                None,
                json!({"token": access}),
            )
            .await;
        assert_eq!(r.status, 200, "{alg}: {}", r.text);
        assert_eq!(
            app.get(&format!("/v1/tenants/{slug}/users/me"), Some(&access))
                .await
                .status,
            200,
            "{alg}"
        );

        let jwks = app
            .get(&format!("/v1/tenants/{slug}/.well-known/jwks.json"), None)
            .await;
        if alg.is_symmetric() {
            assert_eq!(
                jwks.body,
                json!({"keys": []}),
                "{alg}: HS secrets are never published"
            );
            continue;
        }
        for key in jwks.body["keys"].as_array().unwrap() {
            for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
                assert!(key.get(private).is_none(), "{alg}: JWKS leaks {private}");
            }
        }
        // What a resource server does: find the kid in the JWKS, verify with it alone.
        let set: JwkSet = serde_json::from_value(jwks.body.clone()).unwrap();
        let kid = decode_parts(&access).0["kid"].as_str().unwrap().to_owned();
        let jwk = set
            .find(&kid)
            .unwrap_or_else(|| panic!("{alg}: kid {kid} not in JWKS"));
        let key = DecodingKey::from_jwk(jwk).unwrap();
        let mut v = Validation::new(alg.jwt());
        v.set_audience(&["api"]);
        v.set_issuer(&[format!("{}/v1/tenants/{slug}", app.url)]);
        let data = jsonwebtoken::decode::<Value>(&access, &key, &v);
        assert!(data.is_ok(), "{alg}: {data:?}");
    }
}
