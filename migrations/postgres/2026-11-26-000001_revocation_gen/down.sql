DROP INDEX revocations_gen;
ALTER TABLE revocations DROP COLUMN generation;
ALTER TABLE tenants DROP COLUMN revocation_gen;
