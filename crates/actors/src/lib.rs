//! Tessera's actors and the services that drive them. Handlers call one service of the
//! [`Hub`]; a service sends messages (`Hub::ask`: with a timeout, which is 503) to:
//! - [`actors::UserActor`] — sync, users in Postgres;
//! - [`actors::PasswordHasher`] — sync, its own threads (argon2id never runs on an
//!   async worker, and a login flood queues here, not in front of DB work);
//! - [`actors::TokenActor`] — sync, mints/verifies and records sessions;
//! - [`actors::BlacklistActor`] — async, one supervised instance, every reply a
//!   spawned future over a cloned Redis `ConnectionManager`;
//! - [`actors::AdminActor`] — sync, tenants, keys and admin API keys;
//! - [`actors::TenantLoader`] — sync, loads tenant contexts for the cache (two
//!   instances: reloads of served tenants, first loads of unseen slugs).
//!
//! Where things are: `actors/` (the actors and their messages), `services/` (the use
//! cases, one file per resource: `auth` tokens, `account` the user's own, `sessions`,
//! `admin` tenants and admin API keys, `admin_users`, `signing_keys`, `tenant` lookup,
//! `ops`), `admin_jobs/` (the database side of admin changes, audited, one
//! transaction each: `tenants`, `signing_keys`, `api_keys`), `requests` and `views`
//! (the request and response bodies), `tenant` (tenant contexts and their cache),
//! `metrics`. "Keys" has one meaning per name: signing keys (`signing_keys`, core's
//! `key_material` and `key_lifecycle`), admin API keys (`api_keys`), Redis key names
//! (the revocation crate's `key_names`).
//!
//! Each actor handler calls plain functions of core/store/revocation, so the logic is
//! testable without actix and the actor layer stays replaceable.
#![forbid(unsafe_code)]

pub mod actors;
pub mod admin_jobs;
pub mod feed;
mod hub;
pub mod metrics;
pub mod requests;
pub mod services;
pub mod tenant;
pub mod user_cache;
pub mod views;

pub use hub::{Hub, HubConfig};
