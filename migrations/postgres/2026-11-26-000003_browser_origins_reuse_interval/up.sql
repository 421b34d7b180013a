-- Browser mode: origins besides same-site allowed to call the token routes (a JSON
-- array of origins). refresh_reuse_interval: seconds after a rotation within which
-- the rotated-out refresh token returns its successor again instead of counting as
-- reuse (lost answers, parallel tabs); 0 is strict. The successor is found by parent.
ALTER TABLE tenants ADD COLUMN allowed_origins TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tenants ADD COLUMN refresh_reuse_interval BIGINT NOT NULL DEFAULT 0;
CREATE INDEX refresh_tokens_parent ON refresh_tokens (parent_jti);
