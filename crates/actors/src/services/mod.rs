//! Services (the use cases): what one request does, as a short sequence of actor messages. Handlers
//! call exactly one flow.
mod account;
mod admin;
pub(crate) mod admin_users;
pub(crate) mod auth;
mod clients;
mod imports;
mod ops;
mod sessions;
mod signing_keys;
mod tenant;

pub use admin::{AdminKey, MAX_PAGE, TENANT_CURSOR};
pub use admin_users::MAX_SEARCH;
pub use clients::MAX_FEED_WAIT;
