//! Django's password hashes, so that users imported from a Django project log in with
//! the passwords they have: `pbkdf2_sha256`, `pbkdf2_sha1`, `argon2`, `bcrypt_sha256`,
//! `bcrypt` and `scrypt`, in the encodings Django's hashers write. Each is checked with
//! a RustCrypto (or rust-bcrypt) implementation; nothing here is hand-written crypto.
//! Costs are bounded ([`parse`] refuses more), so a stored hash never asks a login for
//! more work than the bounds allow. A password checked against one of these is then
//! re-hashed with Tessera's argon2id by the caller.
use base64::{Engine, engine::general_purpose::STANDARD};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Most PBKDF2 iterations accepted (Django 5.2 writes 1 000 000; a little room for
/// later Django versions, none for a hash made to stall the shared hasher threads).
pub const MAX_PBKDF2_ITERATIONS: u32 = 3_000_000;
/// Highest bcrypt cost accepted (Django writes 12).
pub const MAX_BCRYPT_COST: u32 = 14;
/// Most memory an scrypt or argon2 hash may ask for, in KiB (Django's argon2 asks
/// 100 MiB, its scrypt 16 MiB).
pub const MAX_MEMORY_KIB: u64 = 256 * 1024;
/// Most argon2 passes or scrypt/argon2 lanes accepted (Django: t=2, p=8; scrypt p=5).
pub const MAX_PASSES: u32 = 8;
/// Most total work of an scrypt or argon2 hash, in KiB processed (memory × passes or
/// lanes): twice Django's argon2 default (100 MiB × 2).
pub const MAX_WORK_KIB: u64 = 400 * 1024;

/// Which PBKDF2 digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prf {
    Sha256,
    Sha1,
}

/// A parsed Django hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DjangoHash {
    /// `pbkdf2_sha256$iterations$salt$base64` or `pbkdf2_sha1$…`.
    Pbkdf2 {
        /// The digest.
        sha1: bool,
        /// Iterations.
        iterations: u32,
        /// The salt as Django stores it (its bytes are the salt).
        salt: String,
        /// The derived key.
        hash: Vec<u8>,
    },
    /// `argon2$argon2id$v=19$m=…,t=…,p=…$salt$hash`: the PHC string after `argon2`.
    Argon2 {
        /// The PHC string (`$argon2id$…`).
        phc: String,
    },
    /// `bcrypt_sha256$$2b$12$…` (the password's SHA-256 hex digest is bcrypt's input)
    /// or `bcrypt$$2b$12$…`.
    Bcrypt {
        /// Whether the password is pre-hashed with SHA-256.
        sha256: bool,
        /// The bcrypt string (`$2b$…`).
        hash: String,
    },
    /// `scrypt$N$salt$r$p$base64`.
    Scrypt {
        /// log2 of N.
        log_n: u8,
        /// Block size.
        r: u32,
        /// Parallelism.
        p: u32,
        /// The salt as Django stores it.
        salt: String,
        /// The derived key (64 bytes in Django).
        hash: Vec<u8>,
    },
}

/// Whether a stored hash is Django's mark of an unusable password (`!…`, from
/// `set_unusable_password()`): such a user never logs in with a password.
pub fn is_unusable(encoded: &str) -> bool {
    encoded.starts_with('!')
}

/// Whether `encoded` names one of Django's hashers (it may still be malformed).
pub fn is_django(encoded: &str) -> bool {
    [
        "pbkdf2_sha256$",
        "pbkdf2_sha1$",
        "argon2$",
        "bcrypt_sha256$",
        "bcrypt$",
        "scrypt$",
    ]
    .iter()
    .any(|p| encoded.starts_with(p))
}

/// Parses a Django hash, refusing unknown hashers, malformed encodings and costs
/// beyond the bounds above with a sentence saying which.
pub fn parse(encoded: &str) -> Result<DjangoHash, String> {
    let (algorithm, rest) = encoded
        .split_once('$')
        .ok_or("is not a Django password hash (algorithm$…)")?;
    match algorithm {
        "pbkdf2_sha256" | "pbkdf2_sha1" => {
            let parts: Vec<&str> = rest.split('$').collect();
            let [iterations, salt, hash] = parts[..] else {
                return Err(format!("is not a {algorithm} hash (iterations$salt$hash)"));
            };
            let iterations: u32 = iterations
                .parse()
                .ok()
                .filter(|n| (1..=MAX_PBKDF2_ITERATIONS).contains(n))
                .ok_or(format!(
                    "has iterations outside 1 to {MAX_PBKDF2_ITERATIONS}"
                ))?;
            let hash = decode(hash)?;
            let prf = if algorithm == "pbkdf2_sha1" {
                Prf::Sha1
            } else {
                Prf::Sha256
            };
            let want = match prf {
                Prf::Sha256 => 32,
                Prf::Sha1 => 20,
            };
            if hash.len() != want {
                return Err(format!("has a {algorithm} hash of the wrong length"));
            }
            Ok(DjangoHash::Pbkdf2 {
                sha1: prf == Prf::Sha1,
                iterations,
                salt: salt.to_owned(),
                hash,
            })
        }
        "argon2" => {
            // The PHC string is what follows `argon2`, its `$` included.
            let rest = &encoded["argon2".len()..];
            let parsed = argon2::PasswordHash::new(rest)
                .map_err(|e| format!("is not an argon2 hash ($argon2id$v=19$m=…): {e}"))?;
            argon2::Algorithm::try_from(parsed.algorithm.as_str())
                .map_err(|_| "names an unknown argon2 variant".to_owned())?;
            let params = argon2::Params::try_from(&parsed)
                .map_err(|_| "has unreadable argon2 costs".to_owned())?;
            if u64::from(params.m_cost()) > MAX_MEMORY_KIB
                || params.t_cost() > MAX_PASSES
                || params.p_cost() > MAX_PASSES
                || u64::from(params.m_cost()) * u64::from(params.t_cost()) > MAX_WORK_KIB
            {
                return Err(format!(
                    "asks argon2 for more than {MAX_MEMORY_KIB} KiB, {MAX_PASSES} passes or lanes, or {MAX_WORK_KIB} KiB of work"
                ));
            }
            if parsed.salt.is_none() || parsed.hash.is_none() {
                return Err("is an argon2 hash without its salt or output".into());
            }
            Ok(DjangoHash::Argon2 {
                phc: rest.to_owned(),
            })
        }
        "bcrypt_sha256" | "bcrypt" => {
            // Django writes `bcrypt$` + the bcrypt string, which starts with `$`.
            let hash = rest;
            let parts: bcrypt::HashParts = hash
                .parse()
                .map_err(|_| format!("is not a {algorithm} hash ($2b$cost$…)"))?;
            if parts.get_cost() > MAX_BCRYPT_COST {
                return Err(format!("has a bcrypt cost over {MAX_BCRYPT_COST}"));
            }
            Ok(DjangoHash::Bcrypt {
                sha256: algorithm == "bcrypt_sha256",
                hash: hash.to_owned(),
            })
        }
        "scrypt" => {
            let parts: Vec<&str> = rest.split('$').collect();
            let [n, salt, r, p, hash] = parts[..] else {
                return Err("is not a scrypt hash (N$salt$r$p$hash)".into());
            };
            let number = |s: &str| s.parse::<u64>().ok().filter(|v| *v >= 1);
            let (Some(n), Some(r), Some(p)) = (number(n), number(r), number(p)) else {
                return Err("has unreadable scrypt costs".into());
            };
            if !n.is_power_of_two() || n < 2 {
                return Err("has a scrypt N that is not a power of two".into());
            }
            // scrypt's memory is 128 · r · N bytes, its work that times p.
            let memory = n.saturating_mul(r).saturating_mul(128);
            if memory > MAX_MEMORY_KIB * 1024
                || p > u64::from(MAX_PASSES)
                || memory.saturating_mul(p) > MAX_WORK_KIB * 1024
            {
                return Err(format!(
                    "asks scrypt for more than {MAX_MEMORY_KIB} KiB, {MAX_PASSES} lanes or {MAX_WORK_KIB} KiB of work"
                ));
            }
            let hash = decode(hash)?;
            if hash.is_empty() || hash.len() > 128 {
                return Err("has a scrypt hash of the wrong length".into());
            }
            Ok(DjangoHash::Scrypt {
                log_n: n.trailing_zeros() as u8,
                r: r as u32,
                p: p as u32,
                salt: salt.to_owned(),
                hash,
            })
        }
        // Only a name that looks like a hasher's is repeated: the text before a `$`
        // might be a password stored in the clear.
        other
            if other.len() <= 32
                && other
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') =>
        {
            Err(format!(
                "uses the hasher {other:?}, which Tessera does not read (pbkdf2_sha256, \
             pbkdf2_sha1, argon2, bcrypt_sha256, bcrypt, scrypt)"
            ))
        }
        _ => Err(
            "uses a hasher Tessera does not read (pbkdf2_sha256, pbkdf2_sha1, \
             argon2, bcrypt_sha256, bcrypt, scrypt)"
                .into(),
        ),
    }
}

impl DjangoHash {
    /// Whether `password` is the one this hash was made of (compared in constant
    /// time). `argon2_check` checks an argon2 PHC string (the caller's argon2, with
    /// its reusable memory).
    pub fn verify(&self, password: &str, argon2_check: impl FnOnce(&str) -> bool) -> bool {
        match self {
            DjangoHash::Pbkdf2 {
                sha1,
                iterations,
                salt,
                hash,
            } => {
                let mut out = vec![0u8; hash.len()];
                let (pw, salt) = (password.as_bytes(), salt.as_bytes());
                if *sha1 {
                    pbkdf2::pbkdf2_hmac::<Sha1>(pw, salt, *iterations, &mut out);
                } else {
                    pbkdf2::pbkdf2_hmac::<Sha256>(pw, salt, *iterations, &mut out);
                }
                out.ct_eq(hash).into()
            }
            DjangoHash::Argon2 { phc } => argon2_check(phc),
            DjangoHash::Bcrypt { sha256, hash } => {
                let result = if *sha256 {
                    let digest = Sha256::digest(password.as_bytes());
                    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                    bcrypt::verify(hex, hash)
                } else {
                    bcrypt::verify(password, hash)
                };
                result.unwrap_or(false)
            }
            DjangoHash::Scrypt {
                log_n,
                r,
                p,
                salt,
                hash,
            } => {
                let Ok(params) = scrypt::Params::new(*log_n, *r, *p) else {
                    return false;
                };
                let mut out = vec![0u8; hash.len()];
                scrypt::scrypt(password.as_bytes(), salt.as_bytes(), &params, &mut out).is_ok()
                    && bool::from(out.ct_eq(hash))
            }
        }
    }
}

fn decode(b64: &str) -> Result<Vec<u8>, String> {
    STANDARD
        .decode(b64)
        .map_err(|_| "has a hash that is not base64".to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    // Each hash below was made by Django 5.2.19's own hashers (argon2-cffi 25.1,
    // bcrypt 5.0) for the password "s3cret-pw", at low costs.
    const PW: &str = "s3cret-pw";

    fn argon(password: &str) -> impl FnOnce(&str) -> bool + '_ {
        move |phc| {
            use argon2::PasswordVerifier;
            let parsed = argon2::PasswordHash::new(phc).unwrap();
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        }
    }

    fn check(encoded: &str) {
        let h = parse(encoded).unwrap_or_else(|e| panic!("{encoded}: {e}"));
        assert!(h.verify(PW, argon(PW)), "{encoded} refused its password");
        let other = "s3cret-pX";
        assert!(
            !h.verify(other, argon(other)),
            "{encoded} took another password"
        );
    }

    #[test]
    fn djangos_own_hashes_verify() {
        check(
            "pbkdf2_sha256$1000$ABqs5udYPbQmLEf77biVpV$lJ2YpGRd0QapxyLnTzs0dMcdLvewfbAlCMLUwtqUPFc=",
        );
        check("pbkdf2_sha1$1000$FExCbKkYSQ9fMixKEgEdm7$UplA0iLvwIoJg11vz1b11ydt4vQ=");
        check(
            "argon2$argon2id$v=19$m=256,t=1,p=1$MndrcXVra24zeEFrZjBNeDRYR2lUUQ$OzHO4gNl7m5HDlvfpD1NUCUmiK5fmFlf/7+WOWce5hI",
        );
        check("bcrypt_sha256$$2b$04$huyoW1h6LwJn4KeYBSNx/e6Pw./xpbyKXz2yjgSnv3wWsi7FbbU4u");
        check("bcrypt$$2b$04$ViAZS0lU158RoZlv6izShuejVBcLumipCoanrGMy.APQeJhHAtNzW");
        check(
            "scrypt$1024$K2SlZLt2BNAbvwIqB8NbVs$8$5$qa5RwIvN6S1QJ5NWO+cVsUvuqb6l3Fp9jF06dpK4RlCA1KrOPpcFcmN1P3P5PzD8+eMlZ5fD2QGCJOc6BBJibg==",
        );
    }

    #[test]
    fn unknown_and_malformed_hashes_are_refused_with_a_reason() {
        for (encoded, says) in [
            ("md5$salt$abc", "md5"),
            ("pbkdf2_sha256$abc$salt$x", "iterations"),
            ("pbkdf2_sha256$99999999$salt$x", "iterations"),
            ("Hunter2-Secret$x", "a hasher Tessera does not read"),
            ("scrypt$65536$salt$8$8$YWJj", "more than"),
            ("pbkdf2_sha256$1000$salt$!!", "base64"),
            ("pbkdf2_sha256$1000$salt$YWJj", "length"),
            (
                "bcrypt$$2b$31$ViAZS0lU158RoZlv6izShuejVBcLumipCoanrGMy.APQeJhHAtNzW",
                "cost",
            ),
            ("scrypt$1000$salt$8$1$YWJj", "power of two"),
            ("scrypt$1073741824$salt$8$1$YWJj", "more than"),
            (
                "argon2$argon2id$v=19$m=9999999,t=1,p=1$MndrcXVra24zeEFrZjBNeDRYR2lUUQ$OzHO4gNl7m5HDlvfpD1NUCUmiK5fmFlf/7+WOWce5hI",
                "more than",
            ),
            ("plaintext", "not a Django"),
        ] {
            let e = parse(encoded).unwrap_err();
            assert!(e.contains(says), "{encoded}: {e}");
        }
        assert!(is_unusable("!abcdef"));
        assert!(is_django("bcrypt$$2b$04$x") && !is_django("$argon2id$v=19"));
    }
}
