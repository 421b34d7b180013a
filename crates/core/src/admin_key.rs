//! Admin API key and client secrets: generated once, shown once, stored only as
//! SHA-256.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

use crate::master_key::fill_random;

/// Prefix of every admin key secret (lets secret scanners recognise a leaked one).
pub const SECRET_PREFIX: &str = "tsk_";

/// Prefix of every resource-server client secret.
pub const CLIENT_SECRET_PREFIX: &str = "tcs_";

/// A new random admin key secret: `tsk_` + 256 random bits in base64url.
pub fn generate_secret() -> String {
    secret_with(SECRET_PREFIX)
}

/// A new random client secret: `tcs_` + 256 random bits in base64url.
pub fn generate_client_secret() -> String {
    secret_with(CLIENT_SECRET_PREFIX)
}

fn secret_with(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    fill_random(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Hex SHA-256 of a secret: what is stored and looked up.
pub fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_hash_stably() {
        let (a, b) = (generate_secret(), generate_secret());
        assert!(a.starts_with(SECRET_PREFIX) && a.len() == 4 + 43);
        assert_ne!(a, b);
        assert_eq!(hash_secret(&a), hash_secret(&a));
        assert_eq!(hash_secret(&a).len(), 64);
        assert!(!hash_secret(&a).contains(&a[4..]));
    }
}
