//! Login rate limits in Redis: fixed one-minute windows per tenant and username and
//! per tenant and client address, counted in one round trip.
use redis::aio::ConnectionManager;
use tessera_core::{Error, Result};

use crate::unavailable;

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

/// Counts an attempt (INCR, EXPIRE NX, TTL per key, in one pipeline) and answers
/// `Some(seconds)` until the window of a key over its limit ends, or `None`.
pub(crate) async fn hit(
    conn: &ConnectionManager,
    prefix: &str,
    a: Attempt<'_>,
) -> Result<Option<i64>> {
    use sha2::{Digest, Sha256};
    let user = Sha256::digest(a.username.as_bytes());
    let mut keys = vec![format!(
        "{prefix}rl:{}:user:{}",
        a.tenant_id,
        hex(&user[..16])
    )];
    if let Some(ip) = a.ip {
        keys.push(format!("{prefix}rl:{}:ip:{ip}", a.tenant_id));
    }
    let mut pipe = redis::pipe();
    for k in &keys {
        pipe.incr(k, 1)
            .cmd("EXPIRE")
            .arg(k)
            .arg(WINDOW)
            .arg("NX")
            .ignore()
            .ttl(k);
    }
    let mut conn = conn.clone();
    let replies: Vec<i64> = pipe.query_async(&mut conn).await.map_err(unavailable)?;
    if replies.len() != keys.len() * 2 {
        return Err(Error::Internal("redis rate pipeline arity".into()));
    }
    Ok(replies
        .chunks(2)
        .filter(|c| c[0] > a.limit)
        .map(|c| c[1].clamp(1, WINDOW))
        .max())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
