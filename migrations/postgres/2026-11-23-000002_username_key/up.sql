-- Usernames are unique per tenant ignoring case and Unicode look-alikes: the key is
-- the NFKC-normalized, lower-cased name (computed by Tessera; lower() backfills rows
-- written before, whose names were unique as typed).
ALTER TABLE users ADD COLUMN username_key TEXT;
UPDATE users SET username_key = lower(username);
ALTER TABLE users ALTER COLUMN username_key SET NOT NULL;
ALTER TABLE users DROP CONSTRAINT users_tenant_id_username_key;
CREATE UNIQUE INDEX users_tenant_username_key ON users (tenant_id, username_key);
