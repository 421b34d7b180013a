//! End-to-end tests: one binary, the real server against real Postgres and Redis.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod admin;
mod admin_users;
mod algorithms;
mod api_keys;
mod cli;
mod compat;
mod errors;
mod faults;
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

/// The `tessera` binary built from this tree.
pub const TESSERA: &str = env!("CARGO_BIN_EXE_tessera-e2e");

/// Runs `tessera args…` with `env` (and no `TESSERA__*` inherited); returns the exit
/// status's success, stdout and stderr.
pub fn tessera(args: &[&str], env: &[(&str, String)]) -> (bool, String, String) {
    let mut cmd = std::process::Command::new(TESSERA);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("TESSERA__")) {
        cmd.env_remove(k);
    }
    let out = cmd
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
