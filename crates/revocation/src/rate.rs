//! Rate limits of everything that checks or sets a password (login, sign-up,
//! password change): fixed one-minute windows per tenant, counted in one round trip
//! (one pipeline in one cluster slot, or one lock in process) before any hashing.
//!
//! A login counts against its client address, its username *and* address pair (both
//! at the tenant's `login_rate_limit`) and its username alone at
//! [`USERNAME_CEILING`] times that: a guesser from one address is stopped at the
//! limit, a distributed guesser at the ceiling, and the owner of an account is not
//! locked out by anyone sending a few requests a minute from elsewhere. A sign-up
//! counts against its address; a password change against its address and its user.
use tessera_core::{Error, Result};

use crate::{key_names::Keys, link::Connection, unavailable};

/// Length of a rate-limit window, seconds.
pub const WINDOW: i64 = 60;

/// How many times the per-address limit the attempts at one username from all
/// addresses together may reach.
pub const USERNAME_CEILING: i64 = 10;

/// What is being attempted.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// A login with this normalized username (a digest of it goes into the keys).
    Login {
        /// The username tried, normalized.
        username: &'a str,
    },
    /// A self-service sign-up.
    Signup,
    /// A password change by this user.
    PasswordChange {
        /// The user's id.
        user_id: &'a tessera_core::ids::UserId,
    },
}

/// What one attempt is counted against.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// Tenant id.
    pub tenant_id: &'a tessera_core::ids::TenantId,
    /// What is attempted.
    pub action: Action<'a>,
    /// The client's rate-limit bucket (its address, or an IPv6 client's /64), when
    /// known.
    pub ip: Option<&'a str>,
    /// The tenant's `login_rate_limit`: attempts allowed per window.
    pub limit: i64,
}

/// The counters one attempt hits, each with its limit.
pub(crate) fn keys(k: &Keys, a: Attempt<'_>) -> Vec<(String, i64)> {
    use sha2::{Digest, Sha256};
    let ip = a.ip.unwrap_or("-");
    let mut keys = Vec::with_capacity(3);
    if a.ip.is_some() {
        keys.push((k.rate(a.tenant_id.as_str(), &format!("ip:{ip}")), a.limit));
    }
    match a.action {
        Action::Login { username } => {
            let user = hex(&Sha256::digest(username.as_bytes())[..16]);
            keys.push((
                k.rate(a.tenant_id.as_str(), &format!("user:{user}:ip:{ip}")),
                a.limit,
            ));
            keys.push((
                k.rate(a.tenant_id.as_str(), &format!("user:{user}")),
                a.limit.saturating_mul(USERNAME_CEILING),
            ));
        }
        Action::Signup => {}
        Action::PasswordChange { user_id } => {
            keys.push((
                k.rate(a.tenant_id.as_str(), &format!("pw:{user_id}")),
                a.limit,
            ));
        }
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

/// `Some(seconds)` until the window of a key over its limit ends, or `None`.
pub(crate) fn verdict(counts: &[(i64, i64)], limits: &[i64]) -> Option<i64> {
    counts
        .iter()
        .zip(limits)
        .filter(|((count, _), limit)| count > *limit)
        .map(|((_, left), _)| (*left).clamp(1, WINDOW))
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
        assert_eq!(verdict(&[(3, 50), (1, 59)], &[3, 3]), None);
        assert_eq!(verdict(&[(4, 50), (9, 20)], &[3, 3]), Some(50));
        assert_eq!(verdict(&[(4, 0)], &[3]), Some(1));
        assert_eq!(verdict(&[(4, 50), (9, 20)], &[3, 30]), Some(50));
    }

    #[test]
    fn a_login_counts_per_address_per_pair_and_per_username_with_a_ceiling() {
        let k = Keys::new("p:");
        let (ten, usr) = ("ten".into(), "usr_1".into());
        let a = |ip, action| Attempt {
            tenant_id: &ten,
            action,
            ip,
            limit: 10,
        };
        let login = keys(&k, a(Some("1.2.3.4"), Action::Login { username: "alice" }));
        let limits: Vec<i64> = login.iter().map(|(_, l)| *l).collect();
        assert_eq!(limits, vec![10, 10, 100]);
        assert!(login[0].0.ends_with("ip:1.2.3.4") && login[1].0.ends_with("ip:1.2.3.4"));
        // Another address shares only the username's ceiling.
        let other = keys(&k, a(Some("5.6.7.8"), Action::Login { username: "alice" }));
        assert_eq!(other[2], login[2]);
        assert_ne!(other[1], login[1]);
        let signup = keys(&k, a(Some("1.2.3.4"), Action::Signup));
        assert_eq!(signup, vec![login[0].clone()], "sign-ups count per address");
        let pw = keys(
            &k,
            a(Some("1.2.3.4"), Action::PasswordChange { user_id: &usr }),
        );
        assert_eq!(pw.len(), 2);
        assert_eq!(pw[0], login[0]);
    }
}
