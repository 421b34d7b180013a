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
    /// Same as `sub`: what simplejwt's USER_ID_CLAIM reads.
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
}
