//! Passwords: the policy a new password must meet, and argon2id hashing with a dummy
//! hash so that an unknown user costs the same time as a wrong password.
use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, Version,
    password_hash::phc::{Output, ParamsString, Salt},
};
use subtle::ConstantTimeEq;

use crate::{Error, Result, django_hash};

/// Longest password accepted, in characters (at most 4 KiB of UTF-8): bounds the work
/// one request can cause, and is what a schema's `maxLength` can say.
pub const MAX_PASSWORD_CHARS: usize = 1024;
/// Whether `s` holds a character people can see (neither whitespace nor a control):
/// what a name must have.
pub fn has_visible(s: &str) -> bool {
    s.chars().any(|c| !c.is_whitespace() && !c.is_control())
}

/// Whether `s` holds a control character (a NUL among them, which a database text
/// column cannot store): never part of a name, URL or search.
pub fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// Longest e-mail address accepted, in characters.
pub const MAX_EMAIL_CHARS: usize = 254;
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

/// The answer of a password check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Whether the password matches.
    pub ok: bool,
    /// A hash of it with the current costs, when the stored one was made with others.
    pub rehash: Option<String>,
}

/// A reusable argon2 work area (`memory_kib` of blocks). Each hashing thread owns one,
/// so a hash neither allocates nor faults in 19 MiB of fresh pages per call.
pub struct HashScratch(Vec<Block>);

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
        let mut hashing = Self {
            argon: Argon2::new(Algorithm::Argon2id, Version::V0x13, p),
            dummy_hash: String::new(),
        };
        let mut scratch = hashing.scratch();
        hashing.dummy_hash = hashing.hash(&mut scratch, &crate::ids::random_id())?;
        Ok(hashing)
    }

    /// A work area sized for these costs.
    pub fn scratch(&self) -> HashScratch {
        HashScratch(vec![Block::default(); self.argon.params().block_count()])
    }

    /// A PHC string (`$argon2id$v=19$m=…`) for `password`, with a random salt.
    pub fn hash(&self, scratch: &mut HashScratch, password: &str) -> Result<String> {
        let fail = |e: &dyn std::fmt::Display| Error::Internal(format!("argon2: {e}"));
        let salt = argon2::password_hash::try_generate_salt().map_err(|e| fail(&e))?;
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        self.argon
            .hash_password_into_with_memory(
                password.as_bytes(),
                &salt,
                &mut out,
                scratch.blocks(self.argon.params()),
            )
            .map_err(|e| fail(&e))?;
        let phc = PasswordHash {
            algorithm: argon2::ARGON2ID_IDENT,
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(self.argon.params()).map_err(|e| fail(&e))?,
            salt: Some(Salt::new(&salt).map_err(|e| fail(&e))?),
            hash: Some(Output::new(&out).map_err(|e| fail(&e))?),
        };
        Ok(phc.to_string())
    }

    /// Whether `password` matches `hash` (compared in constant time). With no hash
    /// (unknown user) it verifies against the dummy hash and answers false, taking the
    /// same time.
    /// An unusable password (Django's `!…`) verifies against the dummy hash too.
    /// A Django hash (see [`crate::django_hash`]) is checked with its own hasher.
    pub fn verify(&self, scratch: &mut HashScratch, hash: Option<&str>, password: &str) -> bool {
        let usable = hash.filter(|h| !django_hash::is_unusable(h));
        let target = usable.unwrap_or(&self.dummy_hash);
        let ok = match target.strip_prefix('$') {
            Some(_) => Self::matches(scratch, target, password).unwrap_or(false),
            None => django_hash::parse(target).is_ok_and(|h| {
                h.verify(password, |phc| {
                    Self::matches(scratch, phc, password).unwrap_or(false)
                })
            }),
        };
        ok && usable.is_some()
    }

    /// Whether a stored hash was made with other costs (or another argon2 variant or
    /// version) than this hasher's: a successful login then stores a new one.
    pub fn needs_rehash(&self, phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return true;
        };
        let current = self.argon.params();
        parsed.algorithm != argon2::ARGON2ID_IDENT
            || parsed.version != Some(Version::V0x13.into())
            || Params::try_from(&parsed).map_or(true, |p| {
                (p.m_cost(), p.t_cost(), p.p_cost())
                    != (current.m_cost(), current.t_cost(), current.p_cost())
            })
    }

    /// [`PasswordHashing::verify`], and when the password matches a hash made with
    /// other costs, a new hash with this hasher's costs to store instead.
    pub fn verify_and_upgrade(
        &self,
        scratch: &mut HashScratch,
        hash: Option<&str>,
        password: &str,
    ) -> Result<Verdict> {
        let ok = self.verify(scratch, hash, password);
        let rehash = match hash {
            Some(h) if ok && self.needs_rehash(h) => Some(self.hash(scratch, password)?),
            _ => None,
        };
        Ok(Verdict { ok, rehash })
    }

    fn matches(scratch: &mut HashScratch, phc: &str, password: &str) -> Option<bool> {
        let parsed = PasswordHash::new(phc).ok()?;
        let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).ok()?;
        let version = parsed
            .version
            .map(Version::try_from)
            .transpose()
            .ok()?
            .unwrap_or_default();
        let params = Params::try_from(&parsed).ok()?;
        let (salt, expected) = (parsed.salt.as_ref()?, parsed.hash.as_ref()?);
        let mut out = vec![0u8; expected.len()];
        // A hash asking for more memory than the scratch holds (an imported one, say
        // Django's 100 MiB) gets it for this call only: the scratch keeps its size.
        let n = params.block_count();
        let mut spare = Vec::new();
        let memory = if scratch.0.len() >= n {
            &mut scratch.0[..n]
        } else {
            spare.resize(n, Block::default());
            &mut spare[..]
        };
        Argon2::new(algorithm, version, params.clone())
            .hash_password_into_with_memory(password.as_bytes(), salt.as_ref(), &mut out, memory)
            .ok()?;
        Some(out.ct_eq(expected.as_bytes()).into())
    }
}

impl HashScratch {
    fn blocks(&mut self, params: &Params) -> &mut [Block] {
        let n = params.block_count();
        if self.0.len() < n {
            self.0.resize(n, Block::default());
        }
        &mut self.0[..n]
    }
}

/// Longest stored password hash an import may bring, in bytes.
pub const MAX_HASH_BYTES: usize = 1024;

/// Checks a password hash brought by an import: Tessera's argon2 PHC string
/// (`$argon2id$…`), a Django hash of a hasher Tessera reads, or Django's unusable
/// mark (`!…`); the error says what is wrong with it.
pub fn check_imported_hash(encoded: &str) -> std::result::Result<(), String> {
    if encoded.len() > MAX_HASH_BYTES || has_control(encoded) {
        return Err(format!(
            "must be at most {MAX_HASH_BYTES} bytes, without control characters"
        ));
    }
    if django_hash::is_unusable(encoded) {
        return Ok(());
    }
    if encoded.starts_with('$') {
        // Django's argon2 form is this PHC string behind `argon2`: one set of checks.
        return django_hash::parse(&format!("argon2{encoded}")).map(|_| ());
    }
    django_hash::parse(encoded).map(|_| ())
}

/// Checks a new password against the tenant's minimum and the global maximum.
pub fn check_new_password(field: &str, password: &str, min_chars: usize) -> Result<()> {
    if password.chars().count() < min_chars {
        return Err(Error::field(
            field,
            format!("must be at least {min_chars} characters"),
        ));
    }
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(Error::field(
            field,
            format!("must be at most {MAX_PASSWORD_CHARS} characters"),
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

/// A username as it is stored and shown: NFKC-normalized, so look-alike encodings
/// of the same characters ("ｊｏｅ", "e" + combining accent) are one name.
pub fn normalize_username(username: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    username.nfkc().collect()
}

/// The key a username is unique and found by within a tenant: normalized and
/// lower-cased, so "Alice" and "alice" are the same user.
pub fn username_key(username: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    normalize_username(username).to_lowercase().nfkc().collect()
}

/// Checks an optional e-mail address (a light shape check; delivery is not Tessera's).
pub fn check_email(email: &str) -> Result<()> {
    let ok = email.chars().count() <= MAX_EMAIL_CHARS
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

/// Longest external id accepted, in characters (a UUID has 36). It takes the place
/// of the user id in every token, so it is kept within the tokens' size budget.
pub const MAX_EXTERNAL_ID_CHARS: usize = 64;

/// Checks an external id (a user's id in the system they came from): 1 to 64
/// characters, without whitespace, control characters, quotes or backslashes (which
/// JSON would escape, growing the token).
pub fn check_external_id(external_id: &str) -> Result<()> {
    let n = external_id.chars().count();
    let bad = |c: char| c.is_whitespace() || c.is_control() || c == '"' || c == '\\';
    if n == 0 || n > MAX_EXTERNAL_ID_CHARS || external_id.chars().any(bad) {
        return Err(Error::field(
            "external_id",
            format!(
                "must be 1 to {MAX_EXTERNAL_ID_CHARS} characters, without spaces, control characters, quotes or backslashes"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod username_tests {
    use super::*;

    #[test]
    fn usernames_are_nfkc_and_case_insensitive() {
        assert_eq!(normalize_username("ｊｏｅ"), "joe");
        assert_eq!(normalize_username("e\u{301}mile"), "\u{e9}mile");
        assert_eq!(username_key("Alice"), username_key("aLiCe"));
        assert_eq!(username_key("ＡＬＩＣＥ"), "alice");
        assert_eq!(username_key("E\u{301}MILE"), username_key("\u{e9}mile"));
        assert_ne!(username_key("alice"), username_key("alice2"));
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
    fn a_match_against_other_costs_brings_a_new_hash() {
        let old = PasswordHashing::new(HashParams {
            memory_kib: 32,
            iterations: 2,
            parallelism: 1,
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let now = fast();
        let mut scratch = old.scratch();
        let stored = old.hash(&mut scratch, "pw").unwrap_or_default();
        assert!(now.needs_rehash(&stored) && !old.needs_rehash(&stored));
        let mut scratch = now.scratch();
        let v = now
            .verify_and_upgrade(&mut scratch, Some(&stored), "pw")
            .unwrap_or_else(|e| panic!("{e}"));
        let new = v.rehash.unwrap_or_default();
        assert!(v.ok && new.contains("m=64,t=1,p=1"), "{new}");
        assert!(now.verify(&mut scratch, Some(&new), "pw"));
        // A wrong password, a current hash or an unknown user bring none.
        let wrong = now.verify_and_upgrade(&mut scratch, Some(&stored), "nope");
        assert_eq!(
            wrong.ok(),
            Some(Verdict {
                ok: false,
                rehash: None
            })
        );
        let same = now.verify_and_upgrade(&mut scratch, Some(&new), "pw");
        assert_eq!(
            same.ok(),
            Some(Verdict {
                ok: true,
                rehash: None
            })
        );
        let unknown = now.verify_and_upgrade(&mut scratch, None, "pw");
        assert_eq!(
            unknown.ok(),
            Some(Verdict {
                ok: false,
                rehash: None
            })
        );
        assert!(now.needs_rehash("not a phc string"));
    }

    #[test]
    fn hash_is_argon2id_and_verifies() {
        let h = fast();
        let mut s = h.scratch();
        let hash = h.hash(&mut s, "correct horse").unwrap_or_default();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
        assert!(!hash.contains("correct horse"));
        assert_ne!(
            hash,
            h.hash(&mut s, "correct horse").unwrap_or_default(),
            "salted"
        );
        assert!(h.verify(&mut s, Some(&hash), "correct horse"));
        assert!(!h.verify(&mut s, Some(&hash), "wrong horse"));
        assert!(!h.verify(&mut s, None, "correct horse"));
        assert!(!h.verify(&mut s, Some("not a phc string"), "x"));
    }

    #[test]
    fn verifies_hashes_made_by_the_argon2_crate_and_other_costs() {
        use argon2::PasswordHasher as _;
        let h = fast();
        // a hash with other costs than this hasher's (e.g. made before a cost change)
        let other = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(128, 2, 1, None).unwrap_or_default(),
        );
        let phc = other
            .hash_password(b"pw")
            .map(|p| p.to_string())
            .unwrap_or_default();
        let mut s = h.scratch();
        assert!(h.verify(&mut s, Some(&phc), "pw"));
        assert!(!h.verify(&mut s, Some(&phc), "pW"));
        // and the crate verifies ours
        use argon2::PasswordVerifier as _;
        let ours = h.hash(&mut s, "pw").unwrap_or_default();
        assert!(other.verify_password(b"pw", ours.as_str()).is_ok());
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
        assert!(check_new_password("password", &"x".repeat(MAX_PASSWORD_CHARS + 1), 8).is_err());
        assert!(check_username("alice").is_ok());
        assert!(check_username("").is_err());
        assert!(check_username("a b").is_err());
        assert!(check_username(&"a".repeat(151)).is_err());
        assert!(check_email("a@b.co").is_ok());
        assert!(check_email("nope").is_err());
    }
}
