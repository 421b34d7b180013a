//! What a token's signature costs, for each algorithm, two ways in one run:
//! jsonwebtoken's `encode` with the tenant's `EncodingKey` (which parses an asymmetric
//! key pair again for each token) and Tessera's `KeyRing::mint` (the key parsed once
//! when the ring is built); and, for scale, `KeyRing::verify` of the minted token.
//! The two ways take turns in every round, on the same thread; prints the median µs
//! per token of ROUNDS rounds of N tokens each (RS256: N/10). `mint` also builds the
//! claims that `encode` is handed ready-made, so the saving it shows is the key
//! parse less that; the HS rows, jsonwebtoken on both sides, show that cost.
//!
//! `bench-sign [N] [ROUNDS]`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Map;
use std::time::Instant;
use tessera_core::{
    algorithm::SigningAlgorithm,
    claims::TokenType,
    ids::{SessionId, TokenId, UserId},
    key_material::KeyMaterial,
    token::{KeyRing, Subject, TokenPolicy},
};

/// µs per call of `f`, over `n` calls.
fn per_call(n: u32, mut f: impl FnMut()) -> f64 {
    let started = Instant::now();
    for _ in 0..n {
        f();
    }
    started.elapsed().as_secs_f64() * 1e6 / f64::from(n)
}

/// The median of `v`.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u32 = args.get(1).map_or(2_000, |a| a.parse().unwrap());
    let rounds: usize = args.get(2).map_or(5, |a| a.parse().unwrap());
    let policy = TokenPolicy {
        issuer: "https://auth.example.com/v1/tenants/acme".into(),
        audience: Some("https://api.example.com".into()),
        refresh_audience: "https://auth.example.com/v1/tenants/acme/token".into(),
        leeway: 0,
    };
    let (user, sid, jti) = (
        UserId::generate(),
        SessionId::generate(),
        TokenId::generate(),
    );
    let roles = vec!["member".to_owned()];
    let custom = Map::new();
    let subject = || Subject {
        user_id: &user,
        external_id: None,
        roles: &roles,
        sid: &sid,
        custom: &custom,
    };
    println!("| algorithm | jsonwebtoken::encode | KeyRing::mint | saved | KeyRing::verify |");
    println!("|---|---:|---:|---:|---:|");
    for alg in SigningAlgorithm::ALL {
        let material = KeyMaterial::generate(alg).unwrap();
        let mut ring = KeyRing::new(policy.clone());
        ring.add("key_bench", &material, true).unwrap();
        let key = material.encoding_key().unwrap();
        let now = tessera_core::time::now();
        let (token, _) = ring
            .mint(TokenType::Access, subject(), &jti, now, 900, None)
            .unwrap();
        // The claims the ring signed, signed again by jsonwebtoken with the same header.
        let (header, claims) = {
            let mut parts = token.split('.');
            let mut json = || {
                use base64::Engine;
                let b = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(parts.next().unwrap())
                    .unwrap();
                serde_json::from_slice::<serde_json::Value>(&b).unwrap()
            };
            (json(), json())
        };
        let mut header_jwt = jsonwebtoken::Header::new(alg.jwt());
        header_jwt.kid = header["kid"].as_str().map(str::to_owned);
        header_jwt.typ = header["typ"].as_str().map(str::to_owned);
        assert_eq!(serde_json::to_value(&header_jwt).unwrap(), header);
        let rounds_n = if alg == SigningAlgorithm::RS256 {
            (n / 10).max(1)
        } else {
            n
        };
        let (mut old, mut new, mut verify) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            old.push(per_call(rounds_n, || {
                jsonwebtoken::encode(&header_jwt, &claims, &key).unwrap();
            }));
            new.push(per_call(rounds_n, || {
                ring.mint(TokenType::Access, subject(), &jti, now, 900, None)
                    .unwrap();
            }));
            verify.push(per_call(rounds_n, || {
                ring.verify(&token, Some(TokenType::Access)).unwrap();
            }));
        }
        let (old, new) = (median(old), median(new));
        println!(
            "| {alg} | {old:.1} µs | {new:.1} µs | {:.0}% | {:.1} µs |",
            (old - new) / old * 100.0,
            median(verify)
        );
    }
}
