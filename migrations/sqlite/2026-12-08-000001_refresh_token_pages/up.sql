-- The Postgres migration of this version leaves half of each refresh_tokens page
-- free (so the update that marks a token used stays on its page); SQLite has no such
-- setting. Both look a successor up by session and parent, with one index that also
-- finds a session's tokens.
DROP INDEX refresh_tokens_parent;
DROP INDEX refresh_tokens_sid;
CREATE INDEX refresh_tokens_sid_parent ON refresh_tokens (sid, parent_jti);
