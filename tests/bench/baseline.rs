//! The benchmark's baseline: a bare actix-web server doing what Tessera's hot paths
//! do, with nothing else — the same ES256 verification (jsonwebtoken, aws-lc-rs),
//! one Redis round trip (an MGET of four keys), and for `/me` the same Postgres user
//! read (diesel over r2d2 in `web::block`), and for `/refresh` the ES256 verify, the
//! Redis round trip, Tessera's refresh statement for this one token (the store's
//! `session::refresh`, not batched, on a pool made as Tessera's batch pool is) and two
//! ES256 signatures (access and successor, by Tessera's `KeyRing::mint` with a key of
//! its own, which it also accepts). Also measures one argon2id verify.
//!
//! `bench-baseline serve ADDR JWKS_JSON ISSUER DB_URL REDIS_URL TENANT_ID`
//! `bench-baseline argon2 [N]` — prints the median ms of N argon2id verifies.
//! `bench-baseline store refresh|logout DB_URL TENANT_ID USERNAME SECONDS BATCH CLIENTS`
//! — Postgres alone: CLIENTS threads each commit batches of BATCH refreshes (the
//! store's `refresh_many`, rotating chains of their own) or logouts (`revoke_many`, of
//! sessions made beforehand) for SECONDS, with no HTTP, crypto, Redis or actors;
//! prints the rows committed per second. It says "measuring" on stderr when the
//! stock is made and the clock starts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use jsonwebtoken::{DecodingKey, Validation, jwk::JwkSet};
use redis::AsyncCommands;
use serde_json::{Value, json};
use std::{sync::Arc, time::Instant};
use tessera_store::Db;

/// The allocator Tessera's binary uses, so the baseline differs from it only in what
/// it leaves out.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct State {
    key: DecodingKey,
    /// The baseline's own ES256 key, signing as Tessera signs: it signs the successors
    /// and accepts them.
    own: (tessera_core::token::KeyRing, DecodingKey),
    validation: Validation,
    redis: redis::aio::ConnectionManager,
    pool: tessera_store::DbPool,
    tenant_id: tessera_core::ids::TenantId,
}

#[derive(serde::Deserialize, serde::Serialize)]
struct Claims {
    iss: String,
    sub: tessera_core::ids::UserId,
    jti: String,
    sid: String,
    exp: i64,
}

async fn check(state: &State, token: &str) -> Option<Claims> {
    let header = jsonwebtoken::decode_header(token).ok()?;
    let key = if header.kid.as_deref() == Some("baseline") {
        &state.own.1
    } else {
        &state.key
    };
    let claims = jsonwebtoken::decode::<Claims>(token, key, &state.validation)
        .ok()?
        .claims;
    let mut redis = state.redis.clone();
    let keys = [
        "bench:rv:filled".to_owned(),
        format!("bench:rv:{}:sid:{}", state.tenant_id, claims.sid),
        format!("bench:rv:{}:jti:{}", state.tenant_id, claims.jti),
        format!("bench:rv:{}:user:{}", state.tenant_id, claims.sub),
    ];
    let found: Vec<Option<i64>> = redis.mget(&keys).await.ok()?;
    found.iter().skip(1).all(Option::is_none).then_some(claims)
}

async fn verify(state: web::Data<Arc<State>>, body: web::Json<Value>) -> HttpResponse {
    let token = body["token"].as_str().unwrap_or("");
    match check(&state, token).await {
        Some(c) => HttpResponse::Ok()
            .json(json!({"token_type": "access", "sub": c.sub, "exp": c.exp, "jti": c.jti})),
        None => HttpResponse::Unauthorized().finish(),
    }
}

async fn refresh(state: web::Data<Arc<State>>, body: web::Json<Value>) -> HttpResponse {
    use tessera_core::{claims::TokenType, ids::TokenId};
    use tessera_store::models::session::{self, RefreshOutcome, Rotation};
    let token = body["refresh"].as_str().unwrap_or("");
    let Some(c) = check(&state, token).await else {
        return HttpResponse::Unauthorized().finish();
    };
    let st = state.clone();
    let (jti, sid) = (c.jti.clone(), c.sid.clone());
    let done = web::block(move || {
        let mut conn = st.pool.get().ok()?;
        let rotation = Rotation {
            jti: TokenId::generate(),
            ttl: 86_400,
            reuse_interval: 0,
        };
        let jti = TokenId::parse(&jti)?;
        let now = tessera_core::time::now();
        session::refresh(&mut conn, &st.tenant_id, &jti, now, Some(&rotation)).ok()
    })
    .await
    .ok()
    .flatten();
    let Some((RefreshOutcome::Accepted { user, .. }, Some(next))) = done else {
        return HttpResponse::Unauthorized().finish();
    };
    let (sid, custom) = (
        tessera_core::ids::SessionId::from(sid),
        serde_json::Map::new(),
    );
    let sign = |token_type, jti: &TokenId, exp: i64| {
        let subject = tessera_core::token::Subject {
            user_id: &user.id,
            external_id: None,
            roles: &[],
            sid: &sid,
            custom: &custom,
        };
        let now = tessera_core::time::now();
        let ring = &state.own.0;
        ring.mint(token_type, subject, jti, now, exp - now, None)
            .unwrap()
            .0
    };
    let access = sign(TokenType::Access, &TokenId::generate(), c.exp);
    let refresh = sign(TokenType::Refresh, &next.jti, next.expires_at);
    HttpResponse::Ok().json(json!({"access": access, "refresh": refresh}))
}

async fn me(state: web::Data<Arc<State>>, req: HttpRequest) -> HttpResponse {
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let Some(c) = check(&state, token).await else {
        return HttpResponse::Unauthorized().finish();
    };
    let st = state.clone();
    let user = web::block(move || {
        let mut conn = st.pool.get().ok()?;
        tessera_store::models::user::by_id(&mut conn, &st.tenant_id, &c.sub)
            .ok()
            .flatten()
    })
    .await
    .ok()
    .flatten();
    match user {
        Some(u) => HttpResponse::Ok().json(
            json!({"id": u.id, "username": u.username, "email": u.email, "is_active": u.is_active}),
        ),
        None => HttpResponse::Unauthorized().finish(),
    }
}

fn argon2_median_ms(n: usize) -> f64 {
    use argon2::{Argon2, PasswordHasher, PasswordVerifier};
    let params = tessera_core::password::HashParams::default();
    let a = Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .unwrap(),
    );
    let hash = a.hash_password(b"correct horse").unwrap().to_string();
    let mut times: Vec<f64> = (0..n)
        .map(|_| {
            let t = Instant::now();
            a.verify_password(b"correct horse", hash.as_str()).unwrap();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    times[n / 2]
}

/// The same verify with one work area reused across calls (no per-call allocation).
fn argon2_reuse_median_ms(n: usize) -> f64 {
    let params = tessera_core::password::HashParams::default();
    let p = argon2::Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        None,
    )
    .unwrap();
    let mut blocks = vec![argon2::Block::default(); p.block_count()];
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, p);
    let mut out = [0u8; 32];
    let mut times: Vec<f64> = (0..n)
        .map(|_| {
            let t = Instant::now();
            a.hash_password_into_with_memory(
                b"correct horse",
                b"0123456789abcdef",
                &mut out,
                &mut blocks,
            )
            .unwrap();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    times[n / 2]
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("argon2") => {
            let n = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(31);
            println!("{:.2}", argon2_median_ms(n));
            Ok(())
        }
        Some("argon2-reuse") => {
            let n = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(31);
            println!("{:.2}", argon2_reuse_median_ms(n));
            Ok(())
        }
        Some("serve") => actix_web::rt::System::new().block_on(serve(args[2..].to_vec())),
        Some("store") => {
            println!("{:.0}", store_alone(args[2..].to_vec()));
            Ok(())
        }
        _ => {
            eprintln!(
                "usage: bench-baseline serve ADDR JWKS_JSON ISSUER DB_URL REDIS_URL TENANT_ID | argon2 [N] | store refresh|logout DB_URL TENANT_ID USERNAME SECONDS BATCH CLIENTS"
            );
            std::process::exit(2)
        }
    }
}

async fn serve(a: Vec<String>) -> std::io::Result<()> {
    let [addr, jwks, issuer, db_url, redis_url, tenant_id] =
        <[String; 6]>::try_from(a).expect("six arguments");
    let set: JwkSet = serde_json::from_str(&jwks).expect("jwks");
    let jwk = &set.keys[0];
    let mut validation = Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_issuer(&[&issuer]);
    validation.validate_aud = false;
    let redis = redis::aio::ConnectionManager::new(redis::Client::open(redis_url).unwrap())
        .await
        .unwrap();
    let _: () = redis::AsyncCommands::set(&mut redis.clone(), "bench:rv:filled", 1)
        .await
        .unwrap();
    let own = tessera_core::key_material::KeyMaterial::generate(
        tessera_core::algorithm::SigningAlgorithm::ES256,
    )
    .unwrap();
    let mut own_ring = tessera_core::token::KeyRing::new(tessera_core::token::TokenPolicy {
        issuer: issuer.clone(),
        audience: None,
        refresh_audience: format!("{issuer}/token"),
        leeway: 0,
    });
    own_ring.add("baseline", &own, true).unwrap();
    let state = Arc::new(State {
        key: DecodingKey::from_jwk(jwk).unwrap(),
        own: (own_ring, own.decoding_key().unwrap()),
        validation,
        redis,
        pool: tessera_store::pool::connect_for_batches(
            &tessera_store::Target::Postgres(db_url),
            16,
            std::time::Duration::from_secs(5),
            std::time::Duration::from_secs(5),
        ),
        tenant_id: tenant_id.into(),
    });
    HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(state.clone()))
            .route("/verify", web::post().to(verify))
            .route("/me", web::get().to(me))
            .route("/refresh", web::post().to(refresh))
    })
    .bind(addr)?
    .run()
    .await
}

/// `store …` (see the crate doc): rows committed per second by the batched statements
/// alone.
fn store_alone(a: Vec<String>) -> f64 {
    use diesel::prelude::*;
    use tessera_core::ids::{SessionId, TenantId, TokenId};
    use tessera_store::models::{
        session::{RefreshOutcome, Rotation},
        session_batch::{self, RefreshItem},
        user,
    };
    let [kind, db_url, tenant, username, secs, batch, clients] =
        <[String; 7]>::try_from(a).expect("seven arguments");
    let (secs, batch, clients): (u64, usize, usize) = (
        secs.parse().expect("seconds"),
        batch.parse().expect("batch"),
        clients.parse().expect("clients"),
    );
    let refresh = match kind.as_str() {
        "refresh" => true,
        "logout" => false,
        _ => panic!("refresh or logout"),
    };
    let pool = tessera_store::pool::connect_for_batches(
        &tessera_store::Target::Postgres(db_url),
        clients as u32 + 1,
        std::time::Duration::from_secs(5),
        std::time::Duration::from_secs(60),
    );
    let tenant = TenantId::from(tenant.as_str());
    let mut conn = tessera_store::pool::conn(&pool).unwrap();
    let user = user::by_username(&mut conn, &tenant, &username)
        .unwrap()
        .expect("the user");
    // Sessions, each with one live token: a chain per refresh item, or the logout
    // stock (more than 40 000 logouts a second would run out, and are reported).
    let n = if refresh {
        clients * batch
    } else {
        40_000 * secs as usize
    };
    let now = tessera_core::time::now();
    let sids: Vec<String> = (0..n)
        .map(|_| SessionId::generate().into_string())
        .collect();
    let jtis: Vec<String> = (0..n)
        .map(|_| TokenId::generate().as_str().to_owned())
        .collect();
    let Db::Pg(pg) = &mut *conn else {
        panic!("Postgres")
    };
    for (sids, jtis) in sids.chunks(10_000).zip(jtis.chunks(10_000)) {
        diesel::sql_query(
            "WITH s AS (INSERT INTO sessions (sid, tenant_id, user_id, created_at, last_used_at, expires_at)
                 SELECT sid, $1, $2, $3, $3, $3 + 86400 FROM unnest($4::text[]) AS sid)
             INSERT INTO refresh_tokens (jti, tenant_id, sid, user_id, issued_at, expires_at)
             SELECT jti, $1, sid, $2, $3, $3 + 86400 FROM unnest($5::text[], $4::text[]) AS u(jti, sid)",
        )
        .bind::<diesel::sql_types::Text, _>(tenant.as_str())
        .bind::<diesel::sql_types::Text, _>(user.id.as_str())
        .bind::<diesel::sql_types::BigInt, _>(now)
        .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(sids)
        .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(jtis)
        .execute(pg)
        .unwrap();
    }
    diesel::sql_query("ANALYZE sessions, refresh_tokens")
        .execute(pg)
        .unwrap();
    eprintln!("measuring");
    let start = std::time::Instant::now();
    let deadline = start + std::time::Duration::from_secs(secs);
    let done: usize = std::thread::scope(|s| {
        let workers: Vec<_> = (0..clients)
            .map(|c| {
                let (pool, tenant) = (pool.clone(), tenant.clone());
                let mine: Vec<(String, String)> = sids
                    .iter()
                    .zip(&jtis)
                    .skip(c)
                    .step_by(clients)
                    .map(|(s, j)| (s.clone(), j.clone()))
                    .collect();
                s.spawn(move || {
                    let mut conn = tessera_store::pool::conn(&pool).unwrap();
                    let mut done = 0;
                    let mut tokens: Vec<TokenId> = mine
                        .iter()
                        .map(|(_, j)| TokenId::from(j.as_str()))
                        .collect();
                    let mut stock = mine.chunks(batch);
                    while std::time::Instant::now() < deadline {
                        let t = tessera_core::time::now();
                        if refresh {
                            let items: Vec<RefreshItem> = tokens
                                .iter()
                                .map(|jti| RefreshItem {
                                    tenant_id: tenant.clone(),
                                    jti: jti.clone(),
                                    rotate: Some(Rotation {
                                        jti: TokenId::generate(),
                                        ttl: 86_400,
                                        reuse_interval: 0,
                                    }),
                                })
                                .collect();
                            let out = session_batch::refresh_many(&mut conn, t, &items);
                            tokens.clear();
                            for o in out {
                                if let Ok((RefreshOutcome::Accepted { .. }, Some(next))) = o {
                                    tokens.push(next.jti);
                                    done += 1;
                                }
                            }
                            assert_eq!(tokens.len(), items.len(), "every chain goes on");
                        } else {
                            let Some(chunk) = stock.next() else {
                                panic!("the logout stock ran out: more than 40 000 a second")
                            };
                            let items: Vec<(TenantId, SessionId)> = chunk
                                .iter()
                                .map(|(sid, _)| (tenant.clone(), SessionId::from(sid.as_str())))
                                .collect();
                            let out = session_batch::revoke_many(&mut conn, t, &items).unwrap();
                            done += out
                                .iter()
                                .filter(|r| r.as_ref().is_some_and(|r| r.generation > 0))
                                .count();
                        }
                    }
                    done
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    done as f64 / start.elapsed().as_secs_f64()
}
