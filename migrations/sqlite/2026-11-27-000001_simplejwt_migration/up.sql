-- Moving from simplejwt. external_id: the user's id in the system they came from (a
-- Django primary key), carried as the user_id claim; unique within a tenant when set.
-- legacy_until: for an imported legacy key, until when it also verifies the kid-less
-- tokens that system issued.
ALTER TABLE users ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX users_tenant_external_id ON users (tenant_id, external_id);
ALTER TABLE signing_keys ADD COLUMN legacy_until BIGINT;
