//! The actors. Each is thin: a message in, a plain function call, a reply out.
mod admin;
mod batcher;
mod batches;
mod blacklist;
mod hasher;
mod token;
mod traced;
mod user;

pub use admin::*;
pub use batcher::*;
pub use batches::*;
pub use blacklist::*;
pub use hasher::*;
pub use token::*;
pub use traced::{Handles, Traced};
pub use user::*;
