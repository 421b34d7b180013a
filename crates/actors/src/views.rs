//! What flows answer with: the JSON bodies of API.md, documented for OpenAPI.
use serde::Serialize;
use tessera_core::{claims::TokenType, settings::TenantSettings, time::rfc3339};
use tessera_store::models::{tenant::Tenant, user::User};
use utoipa::ToSchema;

/// A token pair (login, refresh, password change).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"access": "eyJhbGciOiJFUzI1NiIsImtpZCI6ImtleV8wMTkzIiwidHlwIjoiYXQrand0In0.eyJ…", "refresh": "eyJhbGciOiJFUzI1NiIsImtpZCI6ImtleV8wMTkzIiwidHlwIjoiSldUIn0.eyJ…", "token_type": "Bearer", "expires_in": 900, "refresh_expires_in": 86400}))]
pub struct TokenPair {
    /// The access token (JWS, `typ: at+jwt`).
    pub access: String,
    /// The refresh token; absent when a refresh does not rotate, or in cookie mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh: Option<String>,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Seconds until the refresh token expires, when one is returned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_expires_in: Option<i64>,
}

/// What `/token/verify` says about a valid token.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"token_type": "access", "sub": "usr_0193a1b2c3d47e8f9a0b1c2d3e4f5a6b", "exp": 1795392000, "jti": "8f14e45fceea167a5a36dedd4bea2543"}))]
pub struct Verified {
    /// `access` or `refresh`.
    pub token_type: TokenType,
    /// The user id.
    pub sub: String,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Token id.
    pub jti: String,
}

/// A user as the API shows it (never the password hash).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "usr_0193a1b2c3d47e8f9a0b1c2d3e4f5a6b", "username": "alice", "email": "alice@example.com", "is_active": true, "roles": ["editor"], "date_joined": "2026-11-22T10:00:00Z", "last_login": "2026-11-22T10:05:00Z"}))]
pub struct UserView {
    /// `usr_…`
    pub id: String,
    /// Unique within the tenant.
    pub username: String,
    /// Optional e-mail.
    pub email: Option<String>,
    /// Whether the user may log in.
    pub is_active: bool,
    /// Role names.
    pub roles: Vec<String>,
    /// RFC 3339.
    pub date_joined: String,
    /// RFC 3339, null before the first login.
    pub last_login: Option<String>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.clone(),
            username: u.username.clone(),
            email: u.email.clone(),
            is_active: u.is_active,
            roles: u.role_list(),
            date_joined: rfc3339(u.date_joined),
            last_login: u.last_login.map(rfc3339),
        }
    }
}

/// A tenant as the admin API shows it: slug, times, and every setting.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"slug": "acme", "created_at": "2026-11-22T10:00:00Z", "updated_at": "2026-11-22T10:00:00Z", "display_name": "Acme", "issuer": null, "audience": null, "algorithm": "ES256", "access_token_ttl": 900, "refresh_token_ttl": 86400, "session_max_lifetime": 2592000, "rotate_refresh_tokens": true, "leeway": 0, "auth_header_types": ["Bearer"], "allow_signup": false, "password_min_length": 8, "refresh_cookie": false, "login_rate_limit": 10, "custom_claims": {}, "key_rotation_interval": null, "disabled": false}))]
pub struct TenantView {
    /// Public slug.
    pub slug: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// Every setting.
    #[serde(flatten)]
    pub settings: TenantSettings,
}

impl TenantView {
    /// The view of a row (settings that cannot be read make it fail).
    pub fn of(t: &Tenant) -> tessera_core::Result<Self> {
        Ok(Self {
            slug: t.slug.clone(),
            created_at: rfc3339(t.created_at),
            updated_at: rfc3339(t.updated_at),
            settings: t.settings()?,
        })
    }
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass back as `?cursor=` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}
