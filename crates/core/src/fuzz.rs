//! Property-based fuzzing of everything that reads untrusted input in core: token
//! verification, `Authorization` headers, settings patches and usernames. Run
//! longer with `PROPTEST_CASES=20000 cargo test --release -p tessera-core fuzz_`.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::{
    algorithm::SigningAlgorithm,
    key_material::KeyMaterial,
    password::{check_username, username_key},
    settings::{SettingsPatch, TenantSettings},
    token::{KeyRing, TokenPolicy, from_authorization},
};

/// One ring for every case: an ES256 signer and an HS256 verifier.
static RING: std::sync::LazyLock<KeyRing> = std::sync::LazyLock::new(|| {
    let mut ring = KeyRing::new(TokenPolicy {
        issuer: "https://issuer.example".into(),
        refresh_audience: "https://t.example/v1/tenants/acme/token".into(),
        audience: None,
        leeway: 0,
    });
    for (kid, alg) in [
        ("k_es", SigningAlgorithm::ES256),
        ("k_hs", SigningAlgorithm::HS256),
    ] {
        let m = KeyMaterial::generate(alg).unwrap_or_else(|e| panic!("{e}"));
        ring.add(kid, &m, kid == "k_es")
            .unwrap_or_else(|e| panic!("{e}"));
    }
    ring
});

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,20}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(".{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A JWS-shaped token: a header naming real or bogus algorithms and kids, any
/// claims, any signature bytes.
fn jws() -> impl Strategy<Value = String> {
    let alg = prop_oneof![
        Just("ES256"),
        Just("HS256"),
        Just("none"),
        Just("RS256"),
        Just("EdDSA"),
        Just("")
    ];
    let kid = prop_oneof![Just("k_es"), Just("k_hs"), Just("other"), Just("")];
    let typ = prop_oneof![Just("at+jwt"), Just("JWT"), Just("x")];
    (
        alg,
        kid,
        typ,
        json_value(),
        prop::collection::vec(any::<u8>(), 0..80),
    )
        .prop_map(|(alg, kid, typ, claims, sig)| {
            let header = json!({"alg": alg, "kid": kid, "typ": typ});
            format!(
                "{}.{}.{}",
                B64.encode(header.to_string()),
                B64.encode(claims.to_string()),
                B64.encode(sig)
            )
        })
}

proptest! {
    #[test]
    fn fuzz_verify_never_panics_or_accepts_unsigned_input(token in ".{0,300}") {
        prop_assert!(RING.verify(&token, None).is_err());
    }

    #[test]
    fn fuzz_verify_refuses_forged_jws(token in jws()) {
        prop_assert!(RING.verify(&token, None).is_err());
    }

    #[test]
    fn fuzz_authorization_headers(header in ".{0,200}") {
        let allowed = vec!["Bearer".to_owned(), "JWT".to_owned()];
        if let Some(t) = from_authorization(&header, &allowed) {
            prop_assert!(!t.is_empty() && !t.contains(' '));
        }
    }

    #[test]
    fn fuzz_settings_patches_keep_settings_valid(patch in json_value()) {
        let mut s = TenantSettings::new("Acme");
        if let Ok(p) = SettingsPatch::from_json(patch) {
            let before = s.clone();
            match s.apply(p) {
                Ok(()) => prop_assert!(s.validate().is_ok()),
                Err(_) => prop_assert_eq!(s, before),
            }
        }
    }

    #[test]
    fn fuzz_usernames(name in "\\PC{0,200}") {
        let _ = check_username(&name);
        let key = username_key(&name);
        prop_assert_eq!(username_key(&key), key, "the key is stable");
    }
}
