//! Tessera's domain: ids, tenant settings, claims, key material, token minting and
//! verification, password policy and the one error type. No I/O happens here, so
//! every security rule is tested without services.
#![forbid(unsafe_code)]

#[macro_use]
mod text_enum;

pub mod admin_key;
pub mod algorithm;
pub mod claims;
pub mod client_ip;
pub mod cross_site;
pub mod django_hash;
pub mod error;
pub mod ids;
pub mod key_lifecycle;
pub mod key_material;
pub mod master_key;
pub mod password;
pub mod revocation;
pub mod settings;
pub mod simplejwt;
pub mod time;
pub mod token;

pub use error::{Error, Result};

#[cfg(test)]
mod fuzz;
