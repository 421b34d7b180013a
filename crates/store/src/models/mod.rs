//! One module per table: its read model, its insert form, and its repository functions.
pub mod api_key;
pub mod audit;
pub mod client;
pub mod revocation;
pub mod session;
pub mod session_batch;
pub mod signing_key;
pub mod tenant;
pub mod user;
