//! The `tessera` binary's library half: configuration, CLI commands and start-up,
//! shared with the end-to-end tests (which start the real server on a random port).
#![forbid(unsafe_code)]

pub mod cli;
pub mod commands;
pub mod entry;
pub mod settings;
pub mod startup;
pub mod telemetry;
