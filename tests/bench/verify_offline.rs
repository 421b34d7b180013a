//! `tessera-verify`'s offline verification rate on one core: a verifier of the tenant
//! at URL (following its revocation feed with the client credential) checks TOKEN
//! N times in a loop on one thread, ROUNDS times; prints verifications per second of
//! each round, one per line.
//!
//! `bench-verify URL CLIENT_ID CLIENT_SECRET TOKEN [N] [ROUNDS]`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (url, id, secret, token) = (&args[1], &args[2], &args[3], &args[4]);
    let n: u32 = args.get(5).map_or(20_000, |a| a.parse().unwrap());
    let rounds: u32 = args.get(6).map_or(3, |a| a.parse().unwrap());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let config = tessera_verify::Config::new(url).client(id, secret);
        let v = tessera_verify::Verifier::new(config)
            .await
            .expect("verifier");
        v.verify(token).await.expect("the token verifies");
        for _ in 0..rounds {
            let started = Instant::now();
            for _ in 0..n {
                v.verify(token).await.unwrap();
            }
            println!("{:.0}", f64::from(n) / started.elapsed().as_secs_f64());
        }
    });
}
