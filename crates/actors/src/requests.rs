//! What clients send: the request bodies (and the one query) of API.md, as the
//! handlers parse them and the services take them, documented for OpenAPI. Responses
//! are in [`crate::views`].
use serde::Deserialize;
use tessera_core::{
    algorithm::SigningAlgorithm,
    secret::SecretString,
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
}
