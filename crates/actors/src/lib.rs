//! Tessera's actors and the flows that drive them. Handlers call one flow of the
//! [`Hub`]; a flow sends messages (`send(..).timeout(..)`, a timeout is 503) to:
//! - [`actors::UserActor`] — sync, users in Postgres;
//! - [`actors::PasswordHasher`] — sync, its own threads (argon2id never runs on an
//!   async worker, and a login flood queues here, not in front of DB work);
//! - [`actors::TokenActor`] — sync, mints/verifies and records sessions;
//! - [`actors::BlacklistActor`] — async, one supervised instance, every reply a
//!   spawned future over a cloned Redis `ConnectionManager`;
//! - [`actors::AdminActor`] — sync, tenants, keys and admin API keys.
//!
//! Each actor handler calls plain functions of core/store/revocation, so the logic is
//! testable without actix and the actor layer stays replaceable.
#![forbid(unsafe_code)]

pub mod actors;
pub mod api_keys;
pub mod flows;
mod hub;
pub mod keys;
pub mod metrics;
pub mod tenant;
pub mod views;

pub use hub::{Hub, HubConfig};
