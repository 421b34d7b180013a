DROP INDEX users_tenant_username_key;
ALTER TABLE users ADD CONSTRAINT users_tenant_id_username_key UNIQUE (tenant_id, username);
ALTER TABLE users DROP COLUMN username_key;
