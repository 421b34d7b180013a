//! The claims of Tessera's tokens, as written at mint time and as read back on verify.
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::{SessionId, TokenId, UserId};

/// `typ` header of access tokens (RFC 9068).
pub const ACCESS_TYP: &str = "at+jwt";
/// `typ` header of refresh tokens.
pub const REFRESH_TYP: &str = "JWT";

/// Which kind of token: the `token_type` claim simplejwt clients read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    /// Short-lived, presented to resource servers.
    Access,
    /// Longer-lived, exchanged at `/token/refresh`.
    Refresh,
}

impl TokenType {
    /// The `typ` header that goes with this token type.
    pub fn typ(self) -> &'static str {
        match self {
            TokenType::Access => ACCESS_TYP,
            TokenType::Refresh => REFRESH_TYP,
        }
    }
}

/// The claims written into a token (borrowed, so minting copies nothing twice).
#[derive(Debug, Serialize)]
pub struct MintClaims<'a> {
    /// Issuer: the tenant's issuer URL.
    pub iss: &'a str,
    /// Audience, when the tenant sets one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<&'a str>,
    /// Subject: the user id.
    pub sub: &'a str,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Not before, Unix seconds.
    pub nbf: i64,
    /// Token id.
    pub jti: &'a str,
    /// Session (refresh family) id.
    pub sid: &'a str,
    /// Access or refresh.
    pub token_type: TokenType,
    /// What simplejwt's USER_ID_CLAIM reads: the user's `external_id` when they have
    /// one (an imported Django primary key, as a string), else the same as `sub`.
    pub user_id: &'a str,
    /// The user's roles, read afresh at every mint (access tokens only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<&'a [String]>,
    /// Tenant-configured custom claims.
    #[serde(flatten)]
    pub custom: &'a Map<String, Value>,
}

/// The claims Tessera needs back from a verified token; other claims are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VerifiedClaims {
    /// The user id.
    pub sub: UserId,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Token id.
    pub jti: TokenId,
    /// Session id.
    pub sid: SessionId,
    /// Access or refresh.
    pub token_type: TokenType,
    /// Whether this is a legacy (simplejwt) token, its user found by `external_id`
    /// and its jti standing for its session; never read from a token.
    #[serde(skip)]
    pub legacy: bool,
}

/// The claims read from a legacy (simplejwt) token: no `sub`, `sid` or `iss`; its
/// user is named by `user_id`, the user's external id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LegacyClaims {
    /// The user's id in the old system (simplejwt 5.5 writes a string, older
    /// versions a number).
    #[serde(deserialize_with = "string_or_number")]
    pub user_id: String,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Token id (simplejwt's is a UUID's 32 hex digits).
    pub jti: TokenId,
    /// Access or refresh.
    pub token_type: TokenType,
}

fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        _ => Err(serde::de::Error::custom(
            "user_id must be a string or an integer",
        )),
    }
}
