//! The database side of admin changes: plain functions over one connection, each
//! change and its audit record in one transaction. The admin actor runs them (and
//! the CLI, for API keys), so they are testable without actix.
pub mod api_keys;
pub mod clients;
pub mod imports;
pub mod signing_keys;
pub mod tenants;
