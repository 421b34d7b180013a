//! Identifiers: tenant slugs, and one type per kind of id (`TenantId`, `UserId`,
//! `Kid`, …), each its prefixed string on the wire and in the database.
use crate::{Error, Result};

/// A tenant slug as a regular expression (what [`validate_slug`] accepts).
pub const SLUG_PATTERN: &str = "^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$";

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

/// A string-backed id type: compares, hashes and serializes as its string (so nothing
/// changes on the wire or in a column), but a `UserId` cannot stand where a `TenantId`
/// is expected. With the `sql` feature it maps to a diesel `Text` column on every
/// backend.
macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        #[cfg_attr(feature = "sql", derive(diesel_derive_newtype::DieselNewType))]
        pub struct $name(String);

        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id's text, owned.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

/// An id with a type prefix, made time-ordered (UUID v7) so ids sort by creation and
/// make stable pagination cursors.
macro_rules! prefixed_id {
    ($(#[$meta:meta])* $name:ident, $prefix:literal) => {
        string_id!($(#[$meta])* $name);

        impl $name {
            /// The prefix every new id of this kind starts with.
            pub const PREFIX: &'static str = $prefix;

            /// A new, unique, time-ordered id.
            pub fn generate() -> Self {
                Self(format!("{}{}", $prefix, uuid::Uuid::now_v7().simple()))
            }

            /// `s` if it has the shape of this kind of id (the prefix and 32
            /// lowercase hex digits), e.g. a pagination cursor a client sent back.
            pub fn parse(s: &str) -> Option<Self> {
                let hex = s.strip_prefix($prefix)?;
                (hex.len() == 32 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
                    .then(|| Self(s.to_owned()))
            }
        }
    };
}

/// An id of 122 random bits (UUID v4): nothing can be learnt or guessed from it.
macro_rules! random_id_type {
    ($(#[$meta:meta])* $name:ident) => {
        string_id!($(#[$meta])* $name);

        impl $name {
            /// A new random id.
            pub fn generate() -> Self {
                Self(random_id())
            }

            /// `s` if it has the shape of such an id (32 lowercase hex digits).
            pub fn parse(s: &str) -> Option<Self> {
                (s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
                    .then(|| Self(s.to_owned()))
            }
        }
    };
}

prefixed_id!(
    /// A tenant's internal id (`ten_…`); every query is scoped by it.
    TenantId,
    "ten_"
);
prefixed_id!(
    /// A user's id (`usr_…`), the `sub` of their tokens.
    UserId,
    "usr_"
);
prefixed_id!(
    /// A signing key's id (`key_…`), the JWS `kid`.
    Kid,
    "key_"
);
prefixed_id!(
    /// An admin API key's id (`ak_…`).
    ApiKeyId,
    "ak_"
);
prefixed_id!(
    /// A resource-server client's id (`cli_…`), its HTTP Basic user name.
    ClientId,
    "cli_"
);
prefixed_id!(
    /// An audit event's id (`aud_…`).
    AuditId,
    "aud_"
);
random_id_type!(
    /// A session's id: the `sid` every token of one login's refresh family carries.
    SessionId
);
random_id_type!(
    /// A token's id: its `jti`.
    TokenId
);

/// A new random string of 122 bits (UUID v4, 32 hex digits): for ids and nonces.
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
        let (a, b) = (UserId::generate(), UserId::generate());
        assert!(a.as_str().starts_with("usr_") && a.as_str().len() == 36);
        assert_ne!(a, b);
        assert!(a < b, "v7 ids sort by creation");
        assert!(Kid::generate().as_str().starts_with(Kid::PREFIX));
        assert!(ApiKeyId::generate().as_str().starts_with("ak_"));
        assert!(TenantId::generate().as_str().starts_with("ten_"));
        assert!(AuditId::generate().as_str().starts_with("aud_"));
        assert_ne!(SessionId::generate(), SessionId::generate());
        assert_eq!(TokenId::generate().as_str().len(), 32);
    }

    #[test]
    fn only_ids_of_the_right_shape_parse() {
        let id = Kid::generate();
        assert_eq!(Kid::parse(id.as_str()), Some(id.clone()));
        assert_eq!(UserId::parse(id.as_str()), None, "another kind's prefix");
        for bad in [
            "",
            "key_",
            "key_XYZ",
            "bogus",
            "key_0193A1B2C3D47E8F9A0B1C2D3E4F5A6B",
        ] {
            assert_eq!(Kid::parse(bad), None, "{bad}");
        }
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn ids_are_their_strings_on_the_wire() {
        let id = UserId::from("usr_1");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"usr_1\"");
        let back: UserId = serde_json::from_str("\"usr_1\"").unwrap();
        assert_eq!(back, id);
        assert_eq!(id.to_string(), "usr_1");
        assert!(id == "usr_1");
    }
}
