-- The same version as the Postgres migration, which sets the sessions table's
-- fillfactor; SQLite has no such setting, so nothing changes here.
SELECT 1;
