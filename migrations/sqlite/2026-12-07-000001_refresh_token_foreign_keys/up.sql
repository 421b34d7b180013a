-- The Postgres migration of this version drops refresh_tokens' foreign keys, whose
-- checks and row locks were the largest cost of a refresh there. SQLite keeps them:
-- it has one writer and no row locks, and dropping a foreign key would mean
-- rebuilding the table. The version exists here so both backends stay in step.
SELECT 1;
