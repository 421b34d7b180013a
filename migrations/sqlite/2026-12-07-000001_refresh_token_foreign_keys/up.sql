-- The Postgres migration of this version drops refresh_tokens' foreign keys, whose
-- checks and row locks were the largest cost of a refresh there. SQLite keeps them:
-- it has one writer and no row locks, and dropping a foreign key would mean
-- rebuilding the table. Both get the index that finds a session by tenant and sid.
CREATE INDEX sessions_tenant_sid ON sessions (tenant_id, sid);
