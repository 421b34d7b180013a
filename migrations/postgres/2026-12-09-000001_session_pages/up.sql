-- A session row is inserted at login and then updated in place: last_used_at on every
-- refresh, revoked_at at logout. At the default fillfactor its page is full by then,
-- so the new version goes to another page with a new entry in each of the table's four
-- indexes; in a logout benchmark (sessions made by a login run just before) more than
-- one update in three went that way. Two fifths of each page kept free lets those updates
-- stay on their page (HOT: no index entry, the old version pruned in place). Pages
-- written before this migration keep their old fill until they are rewritten.
ALTER TABLE sessions SET (fillfactor = 60);
