//! Flows: what one request does, as a short sequence of actor messages. Handlers
//! call exactly one flow.
mod account;
mod admin;
mod auth;
mod ops;
mod tenant;

pub use account::SignupRequest;
pub use admin::{AdminKey, CreateUserRequest};
