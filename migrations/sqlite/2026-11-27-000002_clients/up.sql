-- Resource-server clients: a tenant's services that introspect tokens and follow its
-- revocations, authenticated with HTTP Basic; only the SHA-256 of a secret is kept.
CREATE TABLE clients (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE INDEX clients_tenant ON clients (tenant_id, id);
