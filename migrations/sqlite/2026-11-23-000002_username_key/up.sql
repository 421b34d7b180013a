-- Usernames are unique per tenant ignoring case and Unicode look-alikes (see the
-- Postgres edition). SQLite cannot add a NOT NULL column without a default nor drop
-- a constraint: the column defaults to '' (Tessera always writes it) and the old
-- uniqueness is an index, dropped here.
ALTER TABLE users ADD COLUMN username_key TEXT NOT NULL DEFAULT '';
UPDATE users SET username_key = lower(username);
DROP INDEX users_tenant_username;
CREATE UNIQUE INDEX users_tenant_username_key ON users (tenant_id, username_key);
