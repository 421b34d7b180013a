-- Tessera's first schema. Portable SQL on purpose (TEXT ids, BIGINT Unix seconds,
-- JSON kept as TEXT) so the same tables serve an embedded SQLite mode later.

CREATE TABLE tenants (
    id TEXT PRIMARY KEY NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    issuer TEXT,
    audience TEXT,
    algorithm TEXT NOT NULL DEFAULT 'ES256',
    access_token_ttl BIGINT NOT NULL DEFAULT 900,
    refresh_token_ttl BIGINT NOT NULL DEFAULT 86400,
    session_max_lifetime BIGINT NOT NULL DEFAULT 2592000,
    rotate_refresh_tokens BOOLEAN NOT NULL DEFAULT TRUE,
    leeway BIGINT NOT NULL DEFAULT 0,
    auth_header_types TEXT NOT NULL DEFAULT '["Bearer"]',
    allow_signup BOOLEAN NOT NULL DEFAULT FALSE,
    password_min_length INTEGER NOT NULL DEFAULT 8,
    refresh_cookie BOOLEAN NOT NULL DEFAULT FALSE,
    login_rate_limit INTEGER NOT NULL DEFAULT 10,
    custom_claims TEXT NOT NULL DEFAULT '{}',
    key_rotation_interval BIGINT,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Private key material is AES-256-GCM ciphertext under the master key, bound to kid.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    algorithm TEXT NOT NULL,
    public_jwk TEXT,
    private_key_enc TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    activated_at BIGINT,
    not_after BIGINT
);
CREATE INDEX signing_keys_tenant ON signing_keys (tenant_id, status);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    username TEXT NOT NULL,
    email TEXT,
    password_hash TEXT NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    roles TEXT NOT NULL DEFAULT '[]',
    date_joined BIGINT NOT NULL,
    last_login BIGINT,
    password_changed_at BIGINT NOT NULL,
    UNIQUE (tenant_id, username)
);

-- A session is one login: the family of refresh tokens that rotate from it.
CREATE TABLE sessions (
    sid TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    user_agent TEXT,
    ip TEXT,
    revoked_at BIGINT
);
CREATE INDEX sessions_user ON sessions (tenant_id, user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE refresh_tokens (
    jti TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    sid TEXT NOT NULL REFERENCES sessions (sid) ON DELETE CASCADE,
    parent_jti TEXT,
    user_id TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX refresh_tokens_sid ON refresh_tokens (sid);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);

-- The durable copy of every revocation; Redis is refilled from it when it restarts empty.
-- kind: 'sid' (a session), 'jti' (one token), 'user' (cut-off: tokens issued before revoked_at).
CREATE TABLE revocations (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    revoked_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, kind, subject)
);
CREATE INDEX revocations_expires ON revocations (expires_at);

-- Only the SHA-256 of an admin API key's secret is stored.
CREATE TABLE admin_api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    tenant_id TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    key_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
