//! What clients send: the request bodies (and the one query) of API.md, as the
//! handlers parse them and the services take them, documented for OpenAPI. Responses
//! are in [`crate::views`].
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tessera_core::{
    algorithm::SigningAlgorithm,
    settings::{SettingsPatch, nullable},
};
use utoipa::{IntoParams, ToSchema};

/// `POST /token` body.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"username": "alice", "password": "correct horse battery"}))]
pub struct LoginRequest {
    /// The user's username.
    pub username: String,
    /// The user's password.
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
}

/// `POST /token/refresh` body.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"refresh": "eyJhbGciOiJFUzI1NiIsImtpZCI6ImtleV8wMTkzIiwidHlwIjoiSldUIn0.eyJ…"}))]
pub struct RefreshRequest {
    /// A refresh token; in browser mode it may come from the `tessera_refresh`
    /// cookie instead (with the `X-CSRF-Token` header).
    #[serde(default)]
    pub refresh: Option<String>,
}

/// `POST /token/revoke` body.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"token": "eyJhbGciOiJFUzI1NiIsImtpZCI6ImtleV8wMTkzIiwidHlwIjoiYXQrand0In0.eyJ…"}))]
pub struct RevokeRequest {
    /// An access or refresh token; in browser mode the `tessera_refresh` cookie may
    /// stand in (with the `X-CSRF-Token` header).
    #[serde(default)]
    pub token: Option<String>,
}

/// `POST /token/verify` body.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"token": "eyJhbGciOiJFUzI1NiIsImtpZCI6ImtleV8wMTkzIiwidHlwIjoiYXQrand0In0.eyJ…"}))]
pub struct TokenRequest {
    /// An access or refresh token.
    pub token: String,
}

/// `POST /users/me/password` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"old_password": "correct horse battery", "new_password": "a longer better passphrase"}))]
pub struct PasswordChange {
    /// The current password.
    #[schema(value_type = String, format = Password)]
    pub old_password: SecretString,
    /// The new password.
    #[schema(value_type = String, format = Password)]
    pub new_password: SecretString,
}

/// `POST /users` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "alice", "password": "correct horse battery", "email": "alice@example.com"}))]
pub struct SignupRequest {
    /// Unique within the tenant.
    pub username: String,
    /// At least the tenant's `password_min_length`.
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
    /// Optional e-mail.
    pub email: Option<String>,
}

/// `POST /v1/admin/tenants` body: a slug and any settings (others take defaults).
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"slug": "acme", "display_name": "Acme Inc.", "algorithm": "ES256", "access_token_ttl": 300, "allow_signup": true}))]
pub struct CreateTenantRequest {
    /// Lowercase `[a-z0-9-]{3,63}`, unique.
    pub slug: String,
    /// Any tenant settings.
    #[serde(flatten)]
    pub settings: SettingsPatch,
}

/// `POST /v1/admin/api-keys` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "acme ops", "tenant": "acme"}))]
pub struct CreateApiKeyRequest {
    /// A label for people, 1 to 200 characters.
    pub name: String,
    /// Scope the key to this tenant's slug; omit for a platform key.
    pub tenant: Option<String>,
}

/// `POST /v1/admin/tenants/{tenant}/users` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "alice", "password": "correct horse battery", "email": "alice@example.com", "roles": ["editor"]}))]
pub struct CreateUserRequest {
    /// Unique within the tenant.
    pub username: String,
    /// At least the tenant's `password_min_length`.
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
    /// Optional e-mail.
    pub email: Option<String>,
    /// Roles, copied into tokens at every mint.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Defaults to true.
    pub is_active: Option<bool>,
    /// The user's id in another system (e.g. a Django primary key), carried as the
    /// `user_id` claim of their tokens; unique within the tenant.
    pub external_id: Option<String>,
}

/// `PATCH /v1/admin/tenants/{tenant}/users/{user_id}` body: only the fields sent
/// change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"is_active": false, "roles": ["viewer"], "email": null}))]
pub struct UserPatch {
    /// `false` logs the user out everywhere at once and refuses new logins.
    pub is_active: Option<bool>,
    /// Replaces the roles; tokens carry them from their next refresh.
    pub roles: Option<Vec<String>>,
    /// A new e-mail; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// A new password; every token issued before it stops working.
    #[schema(value_type = Option<String>, format = Password)]
    pub password: Option<SecretString>,
    /// A new external id (unique within the tenant; tokens carry it as `user_id`
    /// from their next mint); `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub external_id: Option<Option<String>>,
}

/// `GET /v1/admin/tenants/{tenant}/users` query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Part of a username or e-mail, any case.
    pub search: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
}

/// `POST /v1/admin/tenants/{tenant}/keys/import` body: an HS secret or a PEM
/// private key (PKCS#8) of the algorithm.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"algorithm": "HS256", "secret": "django-insecure-0123456789abcdefghijklmnopqrstuvwxyz"}))]
pub struct ImportKeyRequest {
    /// The key's algorithm; the tenant signs with it from now on.
    pub algorithm: SigningAlgorithm,
    /// For HS256/384/512: the shared secret (e.g. simplejwt's `SIGNING_KEY`), at
    /// least 32 bytes.
    #[schema(value_type = Option<String>, format = Password)]
    pub secret: Option<SecretString>,
    /// For RS256, ES256, ES384, EdDSA: the private key, PKCS#8 PEM.
    #[schema(value_type = Option<String>, format = Password)]
    pub private_key: Option<SecretString>,
    /// The key of a system moving to Tessera (simplejwt's `SIGNING_KEY`): it also
    /// verifies the tokens that system issued, which carry no `kid`, for
    /// `legacy_ttl` seconds. Only one key of a tenant is its legacy key.
    #[serde(default)]
    pub legacy: bool,
    /// How long a legacy key verifies kid-less tokens, in seconds: the longest
    /// lifetime of a token the old system issued (default: the tenant's
    /// `refresh_token_ttl`). Only with `legacy`.
    pub legacy_ttl: Option<i64>,
}

/// The format of an import: what Django's `manage.py dumpdata` prints, or Tessera's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImportFormat {
    /// Django's `dumpdata` records.
    Django,
    /// Tessera's own user records.
    Tessera,
}

/// `POST /v1/admin/tenants/{tenant}/users/import` body: up to 10 000 users, each
/// checked on its own (a bad one fails alone); existing usernames are skipped, so
/// importing the same users again creates nobody twice.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"format": "django", "users": [{"model": "auth.user", "pk": 42, "fields": {"password": "pbkdf2_sha256$1000000$DRUjJWtMeTYqdlNx1qGfXA$HOiEWgDgN5GthaovyLiMuaxEQvLyWI6Ignno+jZJRT8=", "last_login": "2026-11-20T09:30:00Z", "is_superuser": false, "username": "dora", "first_name": "", "last_name": "", "email": "dora@example.com", "is_staff": true, "is_active": true, "date_joined": "2024-03-01T12:00:00Z", "groups": [], "user_permissions": []}}]}))]
pub struct ImportUsersRequest {
    /// `django`: `users` is what `manage.py dumpdata auth.user` prints; `tessera`:
    /// Tessera's user records.
    pub format: ImportFormat,
    /// The records (at most 10 000).
    #[schema(value_type = Vec<Object>)]
    pub users: Vec<serde_json::Value>,
}

/// One user as Django's `dumpdata auth.user` prints it (other fields are ignored).
#[derive(Debug, Deserialize, ToSchema)]
pub struct DjangoUser {
    /// The model, e.g. `auth.user` (or a custom user model).
    pub model: String,
    /// The primary key: kept as the user's `external_id`, carried as `user_id`.
    #[schema(value_type = Object)]
    pub pk: serde_json::Value,
    /// The user's fields.
    pub fields: DjangoUserFields,
}

/// The fields of a Django user that Tessera keeps.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DjangoUserFields {
    /// The username.
    pub username: String,
    /// Django's password hash (`pbkdf2_sha256$…`, `argon2$…`, `bcrypt_sha256$…`,
    /// `bcrypt$…`, `scrypt$…`, `pbkdf2_sha1$…`, or `!…` for an unusable one).
    pub password: String,
    /// E-mail (empty for none).
    #[serde(default)]
    pub email: Option<String>,
    /// Whether the user may log in.
    #[serde(default = "yes")]
    pub is_active: bool,
    /// Becomes the role `staff`.
    #[serde(default)]
    pub is_staff: bool,
    /// Becomes the role `superuser`.
    #[serde(default)]
    pub is_superuser: bool,
    /// Kept.
    #[serde(default)]
    pub date_joined: Option<String>,
    /// Kept.
    #[serde(default)]
    pub last_login: Option<String>,
}

fn yes() -> bool {
    true
}

/// One user in Tessera's import format.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TesseraUser {
    /// Unique within the tenant.
    pub username: String,
    /// Tessera's argon2 PHC string, a Django hash, or `!` (no usable password).
    pub password_hash: String,
    /// Optional e-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Defaults to true.
    #[serde(default = "yes")]
    pub is_active: bool,
    /// Role names.
    #[serde(default)]
    pub roles: Vec<String>,
    /// The user's id in the old system, carried as `user_id`.
    #[serde(default)]
    pub external_id: Option<String>,
    /// RFC 3339 (default: now).
    #[serde(default)]
    pub date_joined: Option<String>,
    /// RFC 3339.
    #[serde(default)]
    pub last_login: Option<String>,
}

/// `POST /v1/admin/tenants/{tenant}/revocations/import` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"format": "django", "objects": [{"model": "token_blacklist.outstandingtoken", "pk": 7, "fields": {"user": 42, "jti": "3f1c9a0b2d4e4f6a8b0c1d2e3f4a5b6c", "token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…", "created_at": "2026-11-26T09:00:00Z", "expires_at": "2099-11-27T09:00:00Z"}}, {"model": "token_blacklist.blacklistedtoken", "pk": 3, "fields": {"token": 7, "blacklisted_at": "2026-11-26T09:10:00Z"}}]}))]
pub struct ImportRevocationsRequest {
    /// Only `django`.
    pub format: DjangoFormat,
    /// What `manage.py dumpdata token_blacklist` prints: OutstandingToken and
    /// BlacklistedToken records (at most 100 000).
    #[schema(value_type = Vec<Object>)]
    pub objects: Vec<serde_json::Value>,
}

/// The one format a blacklist import takes.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DjangoFormat {
    /// Django's `dumpdata` records.
    Django,
}

/// A record of `dumpdata token_blacklist`.
#[derive(Debug, Deserialize)]
pub struct DjangoBlacklistRecord {
    /// `token_blacklist.outstandingtoken` or `token_blacklist.blacklistedtoken`.
    pub model: String,
    /// Primary key.
    pub pk: serde_json::Value,
    /// Its fields.
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// `POST /v1/admin/tenants/{tenant}/clients` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "orders-api"}))]
pub struct CreateClientRequest {
    /// A label for the service (1 to 200 characters).
    pub name: String,
}

/// `POST /v1/tenants/{tenant}/token/introspect` body (RFC 7662), JSON or
/// form-encoded.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"token": "eyJhbGciOiJFUzI1NiIsImtpZCI6ImtleV8wMTkzIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiJ1c3JfMDE5MyJ9.c2lnbmF0dXJl", "token_type_hint": "access_token"}))]
pub struct IntrospectRequest {
    /// The token to ask about.
    pub token: String,
    /// `access_token` or `refresh_token`: a hint, which the answer does not depend on.
    pub token_type_hint: Option<String>,
}

/// `GET /v1/tenants/{tenant}/revocations` query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RevocationsQuery {
    /// A `cursor` of an earlier answer: only what was revoked after it. Without it,
    /// every revocation still in force.
    pub since: Option<String>,
    /// Seconds (0 to 30) to wait for something new when there is nothing yet: the
    /// answer comes as soon as a revocation happens on any node.
    pub wait: Option<u64>,
}
