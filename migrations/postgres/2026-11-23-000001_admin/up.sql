-- Issue 3: the life of a signing key, and the audit log. Portable SQL, as before.

-- Where a key came from: 'generated' by Tessera or 'imported' by an operator.
ALTER TABLE signing_keys ADD COLUMN origin TEXT NOT NULL DEFAULT 'generated';

-- A tenant has at most one key signing and at most one key published ahead of its
-- turn; concurrent rotations on several nodes cannot break that.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (tenant_id) WHERE status = 'active';
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (tenant_id) WHERE status = 'next';

CREATE INDEX users_tenant_id ON users (tenant_id, id);

-- Every admin change: who (admin key id, 'cli' or 'system'), what, when, which
-- tenant, and the state before and after (JSON text, never a secret). No foreign
-- key: the record of a tenant's deletion outlives the tenant.
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT,
    tenant_slug TEXT,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    before_state TEXT,
    after_state TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX audit_events_tenant ON audit_events (tenant_id, id);
