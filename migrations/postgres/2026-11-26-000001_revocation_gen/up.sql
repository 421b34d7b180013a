-- Each tenant's revocation generation: every transaction that revokes something
-- bumps it and stamps its rows with the new value. The revocation store keeps the
-- generation it holds everything up to; a node that sees the store behind the
-- database (a restart from an older snapshot, a lost write) refills what is missing.
ALTER TABLE tenants ADD COLUMN revocation_gen BIGINT NOT NULL DEFAULT 0;
ALTER TABLE revocations ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
CREATE INDEX revocations_gen ON revocations (tenant_id, generation);
