DROP TABLE admin_api_keys;
DROP TABLE revocations;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE signing_keys;
DROP TABLE tenants;
