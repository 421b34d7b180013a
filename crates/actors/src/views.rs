//! What services answer with: the JSON bodies of API.md, documented for OpenAPI.
use serde::Serialize;
use tessera_core::{
    claims::TokenType,
    ids::SessionId,
    key_lifecycle::Phase,
    settings::TenantSettings,
    time::{now, rfc3339},
};
use tessera_store::models::{
    api_key::ApiKey, audit::AuditEvent, session::Session, signing_key::SigningKey, tenant::Tenant,
    user::User,
};
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
    /// Browser mode: the value of the new `tessera_csrf` cookie, which requests that
    /// bring the refresh cookie repeat in the `X-CSRF-Token` header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
    /// Browser mode: the HTTP layer moves the refresh token into a cookie.
    #[serde(skip)]
    #[schema(ignore)]
    pub browser: bool,
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
#[schema(example = json!({"id": "usr_0193a1b2c3d47e8f9a0b1c2d3e4f5a6b", "username": "alice", "email": "alice@example.com", "is_active": true, "roles": ["editor"], "date_joined": "2026-11-22T10:00:00Z", "last_login": "2026-11-22T10:05:00Z", "external_id": "42"}))]
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
    /// The user's id in the system they were imported from (a Django primary key),
    /// carried as the `user_id` claim of their tokens; unique within the tenant.
    pub external_id: Option<String>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.to_string(),
            username: u.username.clone(),
            email: u.email.clone(),
            is_active: u.is_active,
            roles: u.role_list(),
            date_joined: rfc3339(u.date_joined),
            last_login: u.last_login.map(rfc3339),
            external_id: u.external_id.clone(),
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

/// A signing key as the admin API shows it: public parts and its place in the
/// lifecycle, never private material.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"kid": "key_0193a1b2c3d47e8f9a0b1c2d3e4f5a6b", "algorithm": "ES256", "status": "retiring", "origin": "generated", "created_at": "2026-11-22T10:00:00Z", "activated_at": "2026-11-22T10:00:00Z", "verifies_until": "2026-11-23T10:15:00Z", "public_jwk": {"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0", "kid": "key_0193a1b2c3d47e8f9a0b1c2d3e4f5a6b", "alg": "ES256", "use": "sig"}}))]
pub struct KeyView {
    /// The JWS `kid`.
    pub kid: String,
    /// JWS algorithm.
    pub algorithm: String,
    /// `next` (published, signs from `activated_at`), `active` (signs), `retiring`
    /// (verifies until `verifies_until`) or `retired`.
    pub status: &'static str,
    /// `generated` or `imported`.
    pub origin: String,
    /// RFC 3339.
    pub created_at: String,
    /// When it started (or, for a next key, will start) signing.
    pub activated_at: Option<String>,
    /// Until when a retiring key verifies; when a retired key stopped.
    pub verifies_until: Option<String>,
    /// The public JWK as published; null for HS secrets.
    #[schema(value_type = Option<Object>)]
    pub public_jwk: Option<serde_json::Value>,
    /// For the tenant's legacy key: until when it verifies the kid-less tokens of
    /// the system the tenant moved from (RFC 3339); null otherwise.
    pub legacy_until: Option<String>,
}

impl KeyView {
    /// The view of a key in its current phase.
    pub fn of(k: &SigningKey, phase: Phase) -> Self {
        let until = match phase {
            Phase::Retiring { until } => Some(until),
            Phase::Retired => k.not_after,
            Phase::Next { .. } | Phase::Active => None,
        };
        Self {
            kid: k.kid.to_string(),
            algorithm: k.algorithm.as_str().to_owned(),
            status: phase.status().as_str(),
            origin: k.origin.as_str().to_owned(),
            created_at: rfc3339(k.created_at),
            activated_at: k.activated_at.map(rfc3339),
            verifies_until: until.map(rfc3339),
            public_jwk: k
                .public_jwk
                .as_deref()
                .and_then(|j| serde_json::from_str(j).ok()),
            legacy_until: k.legacy_until.filter(|u| *u > now()).map(rfc3339),
        }
    }
}

/// An admin API key as listed (never its secret or hash).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "ak_0193a1b2c3d47e8f9a0b1c2d3e4f5a6b", "name": "acme ops", "tenant": "acme", "created_at": "2026-11-22T10:00:00Z", "last_used_at": null}))]
pub struct ApiKeyView {
    /// `ak_…`
    pub id: String,
    /// Operator's label.
    pub name: String,
    /// The slug of the one tenant a scoped key may touch; null for a platform key.
    pub tenant: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, to the minute.
    pub last_used_at: Option<String>,
}

impl ApiKeyView {
    /// The view of a row and its scope's slug.
    pub fn of(k: &ApiKey, tenant: Option<String>) -> Self {
        Self {
            id: k.id.to_string(),
            name: k.name.clone(),
            tenant,
            created_at: rfc3339(k.created_at),
            last_used_at: k.last_used_at.map(rfc3339),
        }
    }
}

/// A new admin API key: the only time its secret is shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "ak_0193a1b2c3d47e8f9a0b1c2d3e4f5a6b", "name": "acme ops", "tenant": "acme", "secret": "tsk_4fQ…", "created_at": "2026-11-22T10:00:00Z", "last_used_at": null}))]
pub struct NewApiKey {
    /// The key as it will be listed.
    #[serde(flatten)]
    pub key: ApiKeyView,
    /// Send as `Authorization: Bearer <secret>`; shown this once, stored only hashed.
    pub secret: String,
}

/// One audit event.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "aud_0193a1b2c3d47e8f9a0b1c2d3e4f5a6b", "at": "2026-11-22T10:00:00Z", "actor": "ak_0193a1b2c3d47e8f9a0b1c2d3e4f5a6c", "action": "tenant.update", "tenant": "acme", "target": "acme", "before": {"access_token_ttl": 900}, "after": {"access_token_ttl": 300}}))]
pub struct AuditView {
    /// `aud_…`, time-ordered.
    pub id: String,
    /// RFC 3339.
    pub at: String,
    /// The admin key id that made the change, `cli` or `system`.
    pub actor: String,
    /// `tenant.create|update|delete`, `key.rotate|retire|import|schedule`,
    /// `user.create|update|delete|revoke_sessions`, `api_key.create|delete`.
    pub action: String,
    /// The tenant's slug at the time, if any.
    pub tenant: Option<String>,
    /// What was changed: a slug, kid, user id or admin key id.
    pub target: String,
    /// State before (no secrets).
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// State after (no secrets).
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
}

impl From<&AuditEvent> for AuditView {
    fn from(e: &AuditEvent) -> Self {
        let parse = |s: &Option<String>| s.as_deref().and_then(|t| serde_json::from_str(t).ok());
        Self {
            id: e.id.to_string(),
            at: rfc3339(e.created_at),
            actor: e.actor.clone(),
            action: e.action.clone(),
            tenant: e.tenant_slug.clone(),
            target: e.target.clone(),
            before: parse(&e.before_state),
            after: parse(&e.after_state),
        }
    }
}

/// One of the caller's live sessions.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"sid": "5f0c6a8e2b7d4c1a9e3f8b6d2a4c7e1f", "created_at": "2026-11-22T10:00:00Z", "last_used_at": "2026-11-22T11:00:00Z", "expires_at": "2026-12-22T10:00:00Z", "user_agent": "Mozilla/5.0", "ip": "203.0.113.7", "current": true}))]
pub struct SessionView {
    /// Session id (the `sid` claim).
    pub sid: String,
    /// RFC 3339: the login.
    pub created_at: String,
    /// RFC 3339: the last refresh.
    pub last_used_at: String,
    /// RFC 3339: the session's hard end.
    pub expires_at: String,
    /// User-Agent at login.
    pub user_agent: Option<String>,
    /// Client address at login.
    pub ip: Option<String>,
    /// Whether the token of this request belongs to it.
    pub current: bool,
}

impl SessionView {
    /// The view of a session; `current_sid` is the caller's.
    pub fn of(s: &Session, current_sid: &SessionId) -> Self {
        Self {
            sid: s.sid.to_string(),
            created_at: rfc3339(s.created_at),
            last_used_at: rfc3339(s.last_used_at),
            expires_at: rfc3339(s.expires_at),
            user_agent: s.user_agent.clone(),
            ip: s.ip.clone(),
            current: &s.sid == current_sid,
        }
    }
}

/// What revoking a user's sessions did.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"revoked_sessions": 2}))]
pub struct RevokedSessions {
    /// Live sessions revoked (every older token is cut off as well).
    pub revoked_sessions: usize,
}

/// What a user import did.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[schema(example = json!({"created": 2, "skipped": [{"username": "dora", "reason": "a user with this username already exists"}], "failed": [{"index": 3, "username": "eve", "errors": {"password": ["uses the hasher \"md5\", which Tessera does not read (pbkdf2_sha256, pbkdf2_sha1, argon2, bcrypt_sha256, bcrypt, scrypt)"]}}]}))]
pub struct ImportReport {
    /// Users created.
    pub created: usize,
    /// Users left out because the tenant has them already.
    pub skipped: Vec<ImportSkip>,
    /// Records refused, by their index in `users`, with what is wrong.
    pub failed: Vec<ImportFailure>,
}

/// A user an import left out.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportSkip {
    /// The username.
    pub username: String,
    /// Why.
    pub reason: String,
}

/// A record an import refused.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportFailure {
    /// Its index in `users`.
    pub index: usize,
    /// Its username, when it could be read.
    pub username: Option<String>,
    /// Messages by field.
    #[schema(value_type = Object)]
    pub errors: tessera_core::error::FieldErrors,
}

/// What a blacklist import did.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[schema(example = json!({"imported": 1, "expired": 0, "unknown": 0}))]
pub struct RevocationImport {
    /// Blacklisted tokens now refused until they expire.
    pub imported: usize,
    /// Blacklisted tokens left out because they have expired anyway.
    pub expired: usize,
    /// Blacklist entries naming no outstanding token of the dump.
    pub unknown: usize,
}

/// A new resource-server client: its secret is in this answer and nowhere else.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"client_id": "cli_0193a1b2c3d47e8f9a0b1c2d3e4f5a6b", "client_secret": "tcs_kY8Q2mXw0c1Jr9d3ZpV6tA4hN7sL5uE2bG8fR1qW3eT", "name": "orders-api", "created_at": "2026-11-27T10:00:00Z"}))]
pub struct NewClient {
    /// `cli_…`: the HTTP Basic user name.
    pub client_id: String,
    /// The HTTP Basic password, shown this once (only its SHA-256 is kept).
    pub client_secret: String,
    /// Its label.
    pub name: String,
    /// RFC 3339.
    pub created_at: String,
}

/// A resource-server client as listed (never its secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"client_id": "cli_0193a1b2c3d47e8f9a0b1c2d3e4f5a6b", "name": "orders-api", "created_at": "2026-11-27T10:00:00Z"}))]
pub struct ClientView {
    /// `cli_…`
    pub client_id: String,
    /// Its label.
    pub name: String,
    /// RFC 3339.
    pub created_at: String,
}

impl From<&tessera_store::models::client::Client> for ClientView {
    fn from(c: &tessera_store::models::client::Client) -> Self {
        Self {
            client_id: c.id.to_string(),
            name: c.name.clone(),
            created_at: rfc3339(c.created_at),
        }
    }
}

/// An RFC 7662 introspection answer: `{"active": false}` and nothing else, or the
/// active token's facts.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"active": true, "sub": "usr_0193a1b2c3d47e8f9a0b1c2d3e4f5a6b", "username": "alice", "exp": 1795391995, "iat": 1795391095, "nbf": 1795391095, "iss": "https://auth.example.com/v1/tenants/acme", "aud": "orders-api", "jti": "9f2c4e1a7b3d4c5e8f9a0b1c2d3e4f5a", "sid": "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "token_type": "access", "client_id": "cli_0193a1b2c3d47e8f9a0b1c2d3e4f5a6b"}))]
pub struct Introspection {
    /// Whether the token is valid now: signed by the tenant, unexpired and unrevoked.
    pub active: bool,
    /// The facts of an active token.
    #[serde(flatten)]
    pub token: Option<ActiveToken>,
}

/// What introspection says of an active token.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActiveToken {
    /// The user id.
    pub sub: String,
    /// The user's username.
    pub username: String,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Not before, Unix seconds.
    pub nbf: i64,
    /// The tenant's issuer.
    pub iss: String,
    /// The audience, when the token has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Token id.
    pub jti: String,
    /// Session id.
    pub sid: String,
    /// `access` or `refresh`.
    pub token_type: TokenType,
    /// The client that asked.
    pub client_id: String,
}

/// A page of the revocation feed: what an offline verifier must now refuse, and the
/// cursor to ask again from.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"items": [{"kind": "session", "sid": "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "until": 1798069495, "revoked_at": 1795391095}, {"kind": "user", "sub": "usr_0193a1b2c3d47e8f9a0b1c2d3e4f5a6b", "before": 1795391100, "until": 1797983100, "revoked_at": 1795391100}], "cursor": "42"}))]
pub struct RevocationPage {
    /// Revocations after the cursor asked from (all those in force without one).
    pub items: Vec<RevocationItem>,
    /// Pass back as `since` to get only what comes after.
    pub cursor: String,
}

/// One revocation: what it covers and until when it matters.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RevocationItem {
    /// `session` (every token with this `sid`), `token` (the token with this `jti`)
    /// or `user` (every token of `sub` issued before `before`).
    pub kind: &'static str,
    /// The session, for `session`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The token, for `token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// The user, for `user`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// For `user`: tokens issued (`iat`) before this Unix time are revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
    /// Unix time after which no token it covers is valid anyway: forget it then.
    pub until: i64,
    /// Unix time of the revocation.
    pub revoked_at: i64,
}
