//! Token mint/verify tests: every algorithm, and the forgeries of RFC 8725.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;
use crate::algorithm::SigningAlgorithm;
use crate::ids::{SessionId, TokenId, UserId};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use jsonwebtoken::EncodingKey;
use serde_json::json;

fn policy() -> TokenPolicy {
    TokenPolicy {
        issuer: "https://auth.test/v1/tenants/acme".into(),
        refresh_audience: "https://t.example/v1/tenants/acme/token".into(),
        audience: None,
        leeway: 0,
    }
}

fn ring_with(alg: SigningAlgorithm, policy: TokenPolicy) -> (KeyRing, KeyMaterial) {
    let m = KeyMaterial::generate(alg).unwrap();
    let mut ring = KeyRing::new(policy);
    ring.add("key_a", &m, true).unwrap();
    (ring, m)
}

static USR: std::sync::LazyLock<UserId> = std::sync::LazyLock::new(|| "usr_1".into());
static SID: std::sync::LazyLock<SessionId> = std::sync::LazyLock::new(|| "sid1".into());

fn subject<'a>(roles: &'a [String], custom: &'a Map<String, Value>) -> Subject<'a> {
    Subject {
        user_id: &USR,
        external_id: None,
        roles,
        sid: &SID,
        custom,
    }
}

fn now() -> i64 {
    crate::time::now()
}

fn mint(ring: &KeyRing, t: TokenType, iat: i64, ttl: i64) -> String {
    let custom = Map::new();
    ring.mint(t, subject(&[], &custom), &"jti1".into(), iat, ttl, None)
        .unwrap()
        .0
}

fn parts(token: &str) -> (Value, Value, String) {
    let mut it = token.split('.');
    let h = serde_json::from_slice(&B64.decode(it.next().unwrap()).unwrap()).unwrap();
    let c = serde_json::from_slice(&B64.decode(it.next().unwrap()).unwrap()).unwrap();
    (h, c, it.next().unwrap().to_owned())
}

fn forge(header: &Value, claims: &Value, sig: &str) -> String {
    format!(
        "{}.{}.{}",
        B64.encode(serde_json::to_vec(header).unwrap()),
        B64.encode(serde_json::to_vec(claims).unwrap()),
        sig
    )
}

fn invalid(r: Result<VerifiedClaims>) -> &'static str {
    match r {
        Err(Error::TokenNotValid(why)) => why,
        other => panic!("expected token_not_valid, got {other:?}"),
    }
}

#[test]
fn every_algorithm_round_trips_and_verifies_with_the_public_jwk_alone() {
    for alg in SigningAlgorithm::ALL {
        let (ring, m) = ring_with(alg, policy());
        let roles = vec!["admin".to_owned()];
        let mut custom = Map::new();
        custom.insert("plan".into(), json!("gold"));
        let (token, exp) = ring
            .mint(
                TokenType::Access,
                subject(&roles, &custom),
                &TokenId::from("j1"),
                now(),
                60,
                None,
            )
            .unwrap();
        let claims = ring.verify(&token, Some(TokenType::Access)).unwrap();
        assert_eq!(
            (claims.sub.as_str(), claims.sid.as_str(), claims.exp),
            ("usr_1", "sid1", exp)
        );

        let (h, c, _) = parts(&token);
        assert_eq!(h["alg"], alg.as_str());
        assert_eq!(h["kid"], "key_a");
        assert_eq!(h["typ"], "at+jwt");
        for k in ["iss", "sub", "exp", "iat", "nbf", "jti", "sid", "user_id"] {
            assert!(c.get(k).is_some(), "{alg}: claim {k} missing");
        }
        assert_eq!(c["token_type"], "access");
        assert_eq!(c["user_id"], c["sub"]);
        assert_eq!(c["roles"], json!(["admin"]));
        assert_eq!(c["plan"], "gold");

        // A resource server holding only the published JWK verifies it.
        if let Some(jwk) = m.public_jwk("key_a").unwrap() {
            let key = crate::key_material::decoding_key_from_jwk(&jwk).unwrap();
            let mut v = Validation::new(alg.jwt());
            v.set_issuer(&[&policy().issuer]);
            v.validate_aud = false;
            let d = jsonwebtoken::decode::<Value>(&token, &key, &v);
            assert!(d.is_ok(), "{alg}: {d:?}");
        } else {
            assert!(alg.is_symmetric());
        }
    }
}

#[test]
fn the_parsed_key_signs_what_jsonwebtoken_signs() {
    for alg in SigningAlgorithm::ALL {
        let m = KeyMaterial::generate(alg).unwrap();
        let mut header = Header::new(alg.jwt());
        header.kid = Some("key_a".into());
        let claims = json!({"sub": "usr_1", "exp": 4_000_000_000_i64, "roles": ["a"]});
        let ours = signing::SigningKey::new(&m)
            .unwrap()
            .sign(&header, &claims)
            .unwrap();
        let theirs = jsonwebtoken::encode(&header, &claims, &m.encoding_key().unwrap()).unwrap();
        if matches!(alg, SigningAlgorithm::ES256 | SigningAlgorithm::ES384) {
            // ECDSA signatures are randomized: the same signed part, and one that verifies.
            assert_eq!(
                ours.rsplit_once('.').unwrap().0,
                theirs.rsplit_once('.').unwrap().0
            );
            let mut v = Validation::new(alg.jwt());
            v.required_spec_claims.clear();
            let d = jsonwebtoken::decode::<Value>(&ours, &m.decoding_key().unwrap(), &v);
            assert_eq!(d.unwrap().claims, claims, "{alg}");
        } else {
            assert_eq!(ours, theirs, "{alg}");
        }
        // A header naming another algorithm is refused, as jsonwebtoken refuses it.
        for other in SigningAlgorithm::ALL.into_iter().filter(|o| *o != alg) {
            header.alg = other.jwt();
            let key = signing::SigningKey::new(&m).unwrap();
            assert!(
                key.sign(&header, &claims).is_err(),
                "{alg} key, {other} header"
            );
        }
    }
}

#[test]
fn refresh_tokens_have_jwt_typ_and_types_are_enforced() {
    let (ring, _) = ring_with(SigningAlgorithm::ES256, policy());
    let refresh = mint(&ring, TokenType::Refresh, now(), 60);
    assert_eq!(parts(&refresh).0["typ"], "JWT");
    assert!(ring.verify(&refresh, Some(TokenType::Refresh)).is_ok());
    assert!(ring.verify(&refresh, None).is_ok());
    assert_eq!(
        invalid(ring.verify(&refresh, Some(TokenType::Access))),
        "Token has wrong type"
    );
    let access = mint(&ring, TokenType::Access, now(), 60);
    assert_eq!(
        invalid(ring.verify(&access, Some(TokenType::Refresh))),
        "Token has wrong type"
    );
}

#[test]
fn expiry_not_before_and_bounded_leeway() {
    let (ring, _) = ring_with(SigningAlgorithm::HS256, policy());
    let expired = mint(&ring, TokenType::Access, now() - 100, 10);
    assert_eq!(invalid(ring.verify(&expired, None)), "Token is expired");
    let future = mint(&ring, TokenType::Access, now() + 100, 1000);
    assert_eq!(
        invalid(ring.verify(&future, None)),
        "Token is not yet valid"
    );

    let mut p = policy();
    p.leeway = 200;
    let (lenient, m) = ring_with(SigningAlgorithm::HS256, p);
    assert!(
        lenient
            .verify(&mint(&lenient, TokenType::Access, now() - 100, 10), None)
            .is_ok()
    );
    // leeway never exceeds the bound
    let mut p = policy();
    p.leeway = 10_000;
    let mut capped = KeyRing::new(p);
    capped.add("key_a", &m, true).unwrap();
    assert_eq!(capped.policy().leeway, MAX_LEEWAY as u64);
    let old = mint(&capped, TokenType::Access, now() - 1000, 10);
    assert_eq!(invalid(capped.verify(&old, None)), "Token is expired");
}

#[test]
fn mint_never_outlives_not_after() {
    let (ring, _) = ring_with(SigningAlgorithm::HS256, policy());
    let custom = Map::new();
    let t = now();
    let (_, exp) = ring
        .mint(
            TokenType::Refresh,
            subject(&[], &custom),
            &TokenId::from("j"),
            t,
            1000,
            Some(t + 5),
        )
        .unwrap();
    assert_eq!(exp, t + 5);
}

#[test]
fn alg_none_and_stripped_signatures_are_rejected() {
    let (ring, _) = ring_with(SigningAlgorithm::ES256, policy());
    let token = mint(&ring, TokenType::Access, now(), 60);
    let (mut h, c, _) = parts(&token);
    h["alg"] = json!("none");
    invalid(ring.verify(&forge(&h, &c, ""), None));
    h["alg"] = json!("ES256");
    invalid(ring.verify(&forge(&h, &c, ""), None));
}

#[test]
fn algorithm_confusion_hs256_signed_with_the_public_key_is_rejected() {
    for alg in [
        SigningAlgorithm::RS256,
        SigningAlgorithm::ES256,
        SigningAlgorithm::EdDSA,
    ] {
        let (ring, m) = ring_with(alg, policy());
        let token = mint(&ring, TokenType::Access, now(), 60);
        let (mut h, c, _) = parts(&token);
        h["alg"] = json!("HS256");
        let public = serde_json::to_vec(&m.public_jwk("key_a").unwrap()).unwrap();
        let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some("key_a".into());
        header.typ = Some("at+jwt".into());
        let forged =
            jsonwebtoken::encode(&header, &c, &EncodingKey::from_secret(&public).unwrap()).unwrap();
        invalid(ring.verify(&forged, None));
        let _ = h;
    }
}

#[test]
fn unknown_or_missing_kid_and_foreign_keys_are_rejected() {
    let (ring, _) = ring_with(SigningAlgorithm::ES256, policy());
    let (other, _) = ring_with(SigningAlgorithm::ES256, policy());
    // same kid name, another tenant's key: the signature fails
    invalid(ring.verify(&mint(&other, TokenType::Access, now(), 60), None));
    let token = mint(&ring, TokenType::Access, now(), 60);
    let (mut h, c, sig) = parts(&token);
    h["kid"] = json!("key_zzz");
    invalid(ring.verify(&forge(&h, &c, &sig), None));
    h.as_object_mut().unwrap().remove("kid");
    invalid(ring.verify(&forge(&h, &c, &sig), None));
}

#[test]
fn tampering_is_detected() {
    let (ring, _) = ring_with(SigningAlgorithm::EdDSA, policy());
    let token = mint(&ring, TokenType::Access, now(), 60);
    let (h, mut c, sig) = parts(&token);
    c["sub"] = json!("usr_admin");
    invalid(ring.verify(&forge(&h, &c, &sig), None));
    let (h, c, _) = parts(&token);
    invalid(ring.verify(&forge(&h, &c, "AAAA"), None));
    // typ header swapped to disguise an access token as a refresh token
    let (mut h, c, sig) = parts(&token);
    h["typ"] = json!("JWT");
    invalid(ring.verify(&forge(&h, &c, &sig), None));
}

#[test]
fn wrong_issuer_or_audience_is_rejected() {
    let (a, m) = ring_with(SigningAlgorithm::ES256, policy());
    let mut p = policy();
    p.issuer = "https://evil.test".into();
    let mut other_iss = KeyRing::new(p);
    other_iss.add("key_a", &m, true).unwrap();
    invalid(a.verify(&mint(&other_iss, TokenType::Access, now(), 60), None));

    let mut p = policy();
    p.audience = Some("api".into());
    let mut with_aud = KeyRing::new(p.clone());
    with_aud.add("key_a", &m, true).unwrap();
    let t = mint(&with_aud, TokenType::Access, now(), 60);
    assert_eq!(parts(&t).1["aud"], "api");
    assert!(with_aud.verify(&t, None).is_ok());
    // a token without aud is refused where an audience is required
    invalid(with_aud.verify(&mint(&a, TokenType::Access, now(), 60), None));
    p.audience = Some("other".into());
    let mut other_aud = KeyRing::new(p);
    other_aud.add("key_a", &m, true).unwrap();
    invalid(other_aud.verify(&t, None));
}

#[test]
fn garbage_and_oversized_input_is_rejected_without_panic() {
    let (ring, _) = ring_with(SigningAlgorithm::ES256, policy());
    for bad in [
        "",
        ".",
        "..",
        "a.b.c",
        "eyJ.eyJ.sig",
        "not a token",
        "%%%.%%%.%%%",
        "e30.e30.e30",
    ] {
        invalid(ring.verify(bad, None));
    }
    let big = "a".repeat(MAX_TOKEN_BYTES + 1);
    assert_eq!(invalid(ring.verify(&big, None)), "Token is too large");
}

#[test]
fn a_ring_without_signer_cannot_mint() {
    let ring = KeyRing::new(policy());
    let custom = Map::new();
    assert!(
        ring.mint(
            TokenType::Access,
            subject(&[], &custom),
            &TokenId::from("j"),
            now(),
            5,
            None
        )
        .is_err()
    );
    assert_eq!(ring.active_kid(), None);
}

#[test]
fn authorization_header_schemes() {
    let bearer = vec!["Bearer".to_owned()];
    assert_eq!(from_authorization("Bearer abc", &bearer), Some("abc"));
    assert_eq!(from_authorization("JWT abc", &bearer), None);
    assert_eq!(from_authorization("bearer abc", &bearer), None);
    assert_eq!(from_authorization("Bearer", &bearer), None);
    assert_eq!(from_authorization("Bearer a b", &bearer), None);
    let both = vec!["Bearer".to_owned(), "JWT".to_owned()];
    assert_eq!(from_authorization("JWT abc", &both), Some("abc"));
}

#[test]
fn refresh_tokens_carry_their_own_audience_and_no_roles_or_custom_claims() {
    let mut p = policy();
    p.audience = Some("api.example".into());
    let (ring, m) = ring_with(SigningAlgorithm::ES256, p);
    let roles = vec!["admin".to_owned()];
    let mut custom = Map::new();
    custom.insert("plan".into(), json!("gold"));
    let t = now();
    let (refresh, _) = ring
        .mint(
            TokenType::Refresh,
            subject(&roles, &custom),
            &TokenId::from("r1"),
            t,
            60,
            None,
        )
        .unwrap();
    let (access, _) = ring
        .mint(
            TokenType::Access,
            subject(&roles, &custom),
            &TokenId::from("a1"),
            t,
            60,
            None,
        )
        .unwrap();
    let (h, c, _) = parts(&refresh);
    assert_eq!(h["typ"], "JWT");
    assert_eq!(c["token_type"], "refresh");
    assert_eq!(c["aud"], "https://t.example/v1/tenants/acme/token");
    assert!(c.get("roles").is_none() && c.get("plan").is_none(), "{c}");
    let (_, c, _) = parts(&access);
    assert_eq!(
        (c["aud"].clone(), c["plan"].clone()),
        (json!("api.example"), json!("gold"))
    );
    assert_eq!(
        ring.verify(&refresh, Some(TokenType::Refresh)).unwrap().jti,
        "r1"
    );
    // A resource server checking iss + aud + exp (and not token_type) refuses it.
    let mut rs = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    rs.set_issuer(&["https://auth.test/v1/tenants/acme"]);
    rs.set_audience(&["api.example"]);
    let key = m.decoding_key().unwrap();
    assert!(jsonwebtoken::decode::<Value>(&access, &key, &rs).is_ok());
    assert!(jsonwebtoken::decode::<Value>(&refresh, &key, &rs).is_err());
}
