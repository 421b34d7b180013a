//! End-to-end tests: one binary, the real server against real Postgres and Redis.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod admin;
mod admin_users;
mod algorithms;
mod api_keys;
mod compat;
mod errors;
mod forgery;
mod hardening;
mod keys;
mod maintenance;
mod migrations;
mod nodes;
mod openapi;
mod revocation;
mod secrets;
mod sessions;
mod tokens;
mod users;
