ALTER TABLE signing_keys DROP COLUMN legacy_until;
DROP INDEX users_tenant_external_id;
ALTER TABLE users DROP COLUMN external_id;
