DROP INDEX refresh_tokens_sid_parent;
CREATE INDEX refresh_tokens_sid ON refresh_tokens (sid);
CREATE INDEX refresh_tokens_parent ON refresh_tokens (parent_jti);
ALTER TABLE refresh_tokens RESET (fillfactor);
