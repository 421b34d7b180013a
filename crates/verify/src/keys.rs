//! The tenant's public keys from its JWKS: each with the algorithm its JWK names (a
//! key without one is not used), kept as long as the JWKS answer's `max-age` says and
//! fetched again sooner when a token names a kid not in it, at most once per
//! `refetch_after`.
use jsonwebtoken::{
    Algorithm, DecodingKey,
    jwk::{Jwk, JwkSet},
};
use parking_lot::{Mutex, RwLock};
use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use crate::Error;

/// A verifying key and the one algorithm it verifies.
#[derive(Clone)]
pub(crate) struct Key {
    pub(crate) alg: Algorithm,
    pub(crate) key: DecodingKey,
}

pub(crate) struct KeySet {
    url: String,
    refetch_after: Duration,
    keys: RwLock<HashMap<String, Key>>,
    /// When the keys were fetched and how long they stay fresh.
    fresh_until: RwLock<Option<Instant>>,
    last_fetch: Mutex<Option<Instant>>,
}

impl KeySet {
    pub(crate) fn new(url: String, refetch_after: Duration) -> Self {
        Self {
            url,
            refetch_after,
            keys: RwLock::default(),
            fresh_until: RwLock::default(),
            last_fetch: Mutex::default(),
        }
    }

    /// The key of `kid`, if the set (fresh or not) has it.
    pub(crate) fn get(&self, kid: &str) -> Option<Key> {
        self.keys.read().get(kid).cloned()
    }

    /// Fetches the JWKS again if the set has gone stale or names no `kid`, unless it
    /// was fetched less than `refetch_after` ago; then looks `kid` up.
    pub(crate) async fn refetch_for(
        &self,
        http: &reqwest::Client,
        kid: &str,
    ) -> Result<Option<Key>, Error> {
        let due = {
            let mut last = self.last_fetch.lock();
            let due = last.is_none_or(|at| at.elapsed() >= self.refetch_after);
            if due {
                *last = Some(Instant::now());
            }
            due
        };
        if due {
            self.fetch(http).await?;
        }
        Ok(self.get(kid))
    }

    /// Whether the set is past its `max-age`.
    pub(crate) fn stale(&self) -> bool {
        self.fresh_until.read().is_none_or(|t| Instant::now() >= t)
    }

    /// Fetches the JWKS and replaces the set.
    pub(crate) async fn fetch(&self, http: &reqwest::Client) -> Result<(), Error> {
        let unavailable =
            |e: &dyn std::fmt::Display| Error::Unavailable(format!("{}: {e}", self.url));
        let res = http
            .get(&self.url)
            .send()
            .await
            .map_err(|e| unavailable(&e))?;
        if !res.status().is_success() {
            return Err(unavailable(&res.status()));
        }
        let max_age = res
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(max_age)
            .unwrap_or(Duration::from_secs(60));
        let set: JwkSet = res.json().await.map_err(|e| unavailable(&e))?;
        let keys = set
            .keys
            .iter()
            .filter_map(|jwk| Some((jwk.common.key_id.clone()?, key_of(jwk)?)))
            .collect();
        *self.keys.write() = keys;
        *self.fresh_until.write() = Some(Instant::now() + max_age);
        *self.last_fetch.lock() = Some(Instant::now());
        Ok(())
    }
}

/// A JWK's key with the algorithm it names; none for a key that names none.
fn key_of(jwk: &Jwk) -> Option<Key> {
    let alg = Algorithm::try_from(jwk.common.key_algorithm?).ok()?;
    Some(Key {
        alg,
        key: DecodingKey::from_jwk(jwk).ok()?,
    })
}

/// The `max-age` of a `Cache-Control` value.
fn max_age(cache_control: &str) -> Option<Duration> {
    cache_control.split(',').find_map(|d| {
        let secs = d.trim().strip_prefix("max-age=")?.parse().ok()?;
        Some(Duration::from_secs(secs))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn max_age_is_read_from_cache_control() {
        use std::time::Duration;
        assert_eq!(
            super::max_age("public, max-age=300"),
            Some(Duration::from_secs(300))
        );
        assert_eq!(super::max_age("no-store"), None);
    }
}
