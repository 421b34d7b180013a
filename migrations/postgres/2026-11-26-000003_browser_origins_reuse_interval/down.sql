DROP INDEX refresh_tokens_parent;
ALTER TABLE tenants DROP COLUMN refresh_reuse_interval;
ALTER TABLE tenants DROP COLUMN allowed_origins;
