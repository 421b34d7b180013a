//! Passwords: the policy a new password must meet, and argon2id hashing with a dummy
//! hash so that an unknown user costs the same time as a wrong password.
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};

use crate::{Error, Result};

/// Longest password accepted, in bytes: bounds the work one request can cause.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Longest username accepted, in characters (Django's limit).
pub const MAX_USERNAME_CHARS: usize = 150;

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub struct HashParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Iterations.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for HashParams {
    /// OWASP's argon2id baseline: m=19456 KiB, t=2, p=1.
    fn default() -> Self {
        Self {
            memory_kib: 19456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl HashParams {
    /// Checks the costs are ones argon2 accepts.
    pub fn check(&self) -> std::result::Result<(), String> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// Hashes and verifies passwords with argon2id; CPU- and memory-bound, so callers run
/// it on dedicated threads, never on an async worker.
pub struct PasswordHashing {
    argon: Argon2<'static>,
    dummy_hash: String,
}

impl PasswordHashing {
    /// A hasher with the given costs; computes the dummy hash once.
    pub fn new(params: HashParams) -> Result<Self> {
        let p = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(|e| Error::Internal(format!("argon2 params: {e}")))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, p);
        let dummy_hash = argon
            .hash_password(crate::ids::random_id().as_bytes())
            .map_err(|e| Error::Internal(format!("argon2: {e}")))?
            .to_string();
        Ok(Self { argon, dummy_hash })
    }

    /// A PHC string (`$argon2id$v=19$m=…`) for `password`, with a random salt.
    pub fn hash(&self, password: &str) -> Result<String> {
        self.argon
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("argon2: {e}")))
    }

    /// Whether `password` matches `hash`. With no hash (unknown user) it verifies
    /// against the dummy hash and answers false, taking the same time.
    pub fn verify(&self, hash: Option<&str>, password: &str) -> bool {
        let target = hash.unwrap_or(&self.dummy_hash);
        let ok = self
            .argon
            .verify_password(password.as_bytes(), target)
            .is_ok();
        ok && hash.is_some()
    }
}

/// Checks a new password against the tenant's minimum and the global maximum.
pub fn check_new_password(field: &str, password: &str, min_chars: usize) -> Result<()> {
    if password.chars().count() < min_chars {
        return Err(Error::field(
            field,
            format!("must be at least {min_chars} characters"),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(Error::field(
            field,
            format!("must be at most {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// Checks a username: 1 to 150 characters, no whitespace or control characters.
pub fn check_username(username: &str) -> Result<()> {
    let n = username.chars().count();
    if n == 0 || n > MAX_USERNAME_CHARS {
        return Err(Error::field(
            "username",
            format!("must be 1 to {MAX_USERNAME_CHARS} characters"),
        ));
    }
    if username
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(Error::field(
            "username",
            "must not contain spaces or control characters",
        ));
    }
    Ok(())
}

/// Checks an optional e-mail address (a light shape check; delivery is not Tessera's).
pub fn check_email(email: &str) -> Result<()> {
    let ok = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(Error::field("email", "must be a valid e-mail address"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> PasswordHashing {
        PasswordHashing::new(HashParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn hash_is_argon2id_and_verifies() {
        let h = fast();
        let hash = h.hash("correct horse").unwrap_or_default();
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert!(!hash.contains("correct horse"));
        assert!(h.verify(Some(&hash), "correct horse"));
        assert!(!h.verify(Some(&hash), "wrong horse"));
        assert!(!h.verify(None, "correct horse"));
        assert!(!h.verify(Some("not a phc string"), "x"));
    }

    #[test]
    fn default_params_are_owasp_baseline() {
        assert_eq!(
            HashParams::default(),
            HashParams {
                memory_kib: 19456,
                iterations: 2,
                parallelism: 1
            }
        );
    }

    #[test]
    fn policy() {
        assert!(check_new_password("password", "1234567", 8).is_err());
        assert!(check_new_password("password", "12345678", 8).is_ok());
        assert!(check_new_password("password", &"x".repeat(MAX_PASSWORD_BYTES + 1), 8).is_err());
        assert!(check_username("alice").is_ok());
        assert!(check_username("").is_err());
        assert!(check_username("a b").is_err());
        assert!(check_username(&"a".repeat(151)).is_err());
        assert!(check_email("a@b.co").is_ok());
        assert!(check_email("nope").is_err());
    }
}
