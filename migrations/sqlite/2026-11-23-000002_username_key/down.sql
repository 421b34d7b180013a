DROP INDEX users_tenant_username_key;
CREATE UNIQUE INDEX users_tenant_username ON users (tenant_id, username);
ALTER TABLE users DROP COLUMN username_key;
