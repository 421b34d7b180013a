DROP INDEX sessions_tenant_sid;
DELETE FROM refresh_tokens rt WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.sid = rt.sid);
ALTER TABLE refresh_tokens
    ADD CONSTRAINT refresh_tokens_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE;
ALTER TABLE refresh_tokens
    ADD CONSTRAINT refresh_tokens_sid_fkey FOREIGN KEY (sid) REFERENCES sessions (sid) ON DELETE CASCADE;
