//! Public identifiers: tenant slugs and prefixed ids (`usr_…`, `key_…`, `ak_…`).
use crate::{Error, Result};

/// Checks a tenant slug: lowercase `[a-z0-9-]{3,63}`, not starting or ending with `-`.
pub fn validate_slug(slug: &str) -> Result<()> {
    let ok = (3..=63).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::field(
            "slug",
            "must be 3 to 63 characters of a-z, 0-9 and '-'",
        ))
    }
}

/// Whether `slug` has the shape of a slug (cheap pre-check before any lookup).
pub fn is_slug(slug: &str) -> bool {
    validate_slug(slug).is_ok()
}

fn prefixed(prefix: &str) -> String {
    // v7: time-ordered, so ids sort by creation and make stable pagination cursors.
    format!("{prefix}{}", uuid::Uuid::now_v7().simple())
}

/// A new tenant id (internal).
pub fn tenant_id() -> String {
    prefixed("ten_")
}

/// A new user id.
pub fn user_id() -> String {
    prefixed("usr_")
}

/// A new signing key id (kid).
pub fn key_id() -> String {
    prefixed("key_")
}

/// A new admin API key id.
pub fn api_key_id() -> String {
    prefixed("ak_")
}

/// A new audit event id.
pub fn audit_id() -> String {
    prefixed("aud_")
}

/// A new random token id (jti) or session id (sid): 122 random bits.
pub fn random_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["acme", "a-b-c", "abc", "x1y2z3", &"a".repeat(63)] {
            assert!(is_slug(ok), "{ok}");
        }
        for bad in [
            "ab",
            "Acme",
            "a_b",
            "-ab",
            "ab-",
            "a b",
            "ünï",
            &"a".repeat(64),
            "",
        ] {
            assert!(!is_slug(bad), "{bad}");
        }
    }

    #[test]
    fn ids_are_prefixed_and_unique() {
        let (a, b) = (user_id(), user_id());
        assert!(a.starts_with("usr_") && a.len() == 36);
        assert_ne!(a, b);
        assert!(key_id().starts_with("key_"));
        assert!(api_key_id().starts_with("ak_"));
        assert!(tenant_id().starts_with("ten_"));
        assert_ne!(random_id(), random_id());
    }
}
