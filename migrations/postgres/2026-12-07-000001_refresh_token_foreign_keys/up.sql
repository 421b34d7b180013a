-- Refresh tokens lose their two foreign keys, the most frequent writes' largest cost:
-- every insert (one per refresh) checked both with a query of its own and took a
-- KEY SHARE lock on the tenant's row and the session's row. All of a tenant's
-- concurrent refreshes locked the one tenant row, which Postgres records as a growing
-- multixact and a WAL record per lock. Nothing depended on them: a token is inserted
-- only with the session the same statement or transaction just checked or created,
-- and deleting a user or a tenant deletes their sessions' tokens explicitly, in the
-- same transaction (the store's user::delete and tenant::delete); expired tokens are
-- pruned by expiry.
ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_tenant_id_fkey;
ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_sid_fkey;

-- A session is looked up by tenant and sid (a logout batch: sid = ANY(…)). With only
-- (tenant_id, user_id) to match the tenant, a plan made while the table was small
-- scanned every session of the tenant; this index matches both conditions.
CREATE INDEX sessions_tenant_sid ON sessions (tenant_id, sid);
