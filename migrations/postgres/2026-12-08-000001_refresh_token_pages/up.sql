-- A refresh token row is inserted once and updated once, moments later, when it is
-- used (used_at) and its successor recorded. At the default fillfactor its page was
-- full by then, so in the stateful benchmark three updates in four put the new version
-- on another page, with a new entry in every index. Half of each page kept free lets
-- that update stay on its page (a HOT update: no index entry, the old version pruned
-- in place; every update in the same benchmark), so pages end about as full as before.
-- Pages written before this migration keep their old fill.
ALTER TABLE refresh_tokens SET (fillfactor = 50);

-- A successor is looked up by its session and parent (a replay within the reuse
-- interval), and a session's tokens by sid (revocation): one index serves both.
DROP INDEX refresh_tokens_parent;
DROP INDEX refresh_tokens_sid;
CREATE INDEX refresh_tokens_sid_parent ON refresh_tokens (sid, parent_jti);
