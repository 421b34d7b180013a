//! Login rate limits: fixed one-minute windows per tenant and username and per
//! tenant and client address, counted in one round trip (one pipeline in one cluster
//! slot, or one lock in process).
use tessera_core::{Error, Result};

use crate::{keys::Keys, link::Connection, unavailable};

/// Length of a rate-limit window, seconds.
pub const WINDOW: i64 = 60;

/// What one login attempt is counted against.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// Tenant id.
    pub tenant_id: &'a str,
    /// The normalized username tried (a digest of it goes into the key).
    pub username: &'a str,
    /// The client's address, when known.
    pub ip: Option<&'a str>,
    /// Attempts allowed per window for each of the two.
    pub limit: i64,
}

/// The counters one attempt hits.
pub(crate) fn keys(k: &Keys, a: Attempt<'_>) -> Vec<String> {
    use sha2::{Digest, Sha256};
    let user = Sha256::digest(a.username.as_bytes());
    let mut keys = vec![k.rate(a.tenant_id, &format!("user:{}", hex(&user[..16])))];
    if let Some(ip) = a.ip {
        keys.push(k.rate(a.tenant_id, &format!("ip:{ip}")));
    }
    keys
}

/// Counts a hit on each key (INCR, EXPIRE NX, TTL per key, in one pipeline); returns
/// `(count, seconds left)` per key.
pub(crate) async fn hit_redis(conn: &mut Connection, keys: &[String]) -> Result<Vec<(i64, i64)>> {
    let mut pipe = redis::pipe();
    for k in keys {
        pipe.incr(k, 1)
            .cmd("EXPIRE")
            .arg(k)
            .arg(WINDOW)
            .arg("NX")
            .ignore()
            .ttl(k);
    }
    let replies: Vec<i64> = pipe.query_async(conn).await.map_err(unavailable)?;
    if replies.len() != keys.len() * 2 {
        return Err(Error::Internal("redis rate pipeline arity".into()));
    }
    Ok(replies.chunks(2).map(|c| (c[0], c[1])).collect())
}

/// `Some(seconds)` until the window of a key over `limit` ends, or `None`.
pub(crate) fn verdict(counts: &[(i64, i64)], limit: i64) -> Option<i64> {
    counts
        .iter()
        .filter(|(count, _)| *count > limit)
        .map(|(_, left)| (*left).clamp(1, WINDOW))
        .max()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_wait_of_the_keys_over_the_limit_wins() {
        assert_eq!(verdict(&[(3, 50), (1, 59)], 3), None);
        assert_eq!(verdict(&[(4, 50), (9, 20)], 3), Some(50));
        assert_eq!(verdict(&[(4, 0)], 3), Some(1));
    }
}
