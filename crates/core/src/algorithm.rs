//! The signing algorithms a tenant may choose.
use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

/// A tenant's JWS algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[cfg_attr(
    feature = "sql",
    derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)
)]
#[cfg_attr(feature = "sql", diesel(sql_type = diesel::sql_types::Text))]
pub enum SigningAlgorithm {
    /// HMAC with SHA-256 (shared secret; never published in the JWKS).
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512.
    HS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys.
    RS256,
    /// ECDSA P-256 with SHA-256 (the default).
    ES256,
    /// ECDSA P-384 with SHA-384.
    ES384,
    /// Ed25519.
    EdDSA,
}

impl SigningAlgorithm {
    /// Every supported algorithm.
    pub const ALL: [SigningAlgorithm; 7] = [
        Self::HS256,
        Self::HS384,
        Self::HS512,
        Self::RS256,
        Self::ES256,
        Self::ES384,
        Self::EdDSA,
    ];

    /// The JWS `alg` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
            Self::RS256 => "RS256",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::EdDSA => "EdDSA",
        }
    }

    /// Whether the key is a shared secret (kept out of the JWKS).
    pub fn is_symmetric(self) -> bool {
        matches!(self, Self::HS256 | Self::HS384 | Self::HS512)
    }

    /// The `jsonwebtoken` algorithm.
    pub fn jwt(self) -> jsonwebtoken::Algorithm {
        use jsonwebtoken::Algorithm as A;
        match self {
            Self::HS256 => A::HS256,
            Self::HS384 => A::HS384,
            Self::HS512 => A::HS512,
            Self::RS256 => A::RS256,
            Self::ES256 => A::ES256,
            Self::ES384 => A::ES384,
            Self::EdDSA => A::EdDSA,
        }
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

sql_as_text!(SigningAlgorithm);

impl FromStr for SigningAlgorithm {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| format!("unsupported algorithm {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for alg in SigningAlgorithm::ALL {
            assert_eq!(alg.as_str().parse::<SigningAlgorithm>(), Ok(alg));
            let json = serde_json::to_string(&alg).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", alg.as_str()));
        }
        assert!("none".parse::<SigningAlgorithm>().is_err());
        assert!("hs256".parse::<SigningAlgorithm>().is_err());
    }
}
