DROP TABLE audit_events;
DROP INDEX users_tenant_id;
DROP INDEX signing_keys_one_next;
DROP INDEX signing_keys_one_active;
ALTER TABLE signing_keys DROP COLUMN origin;
