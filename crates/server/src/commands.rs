//! The one-shot commands: migrate, flush-expired, admin create-key.
use std::time::Duration;
use tessera_core::Error;
use tessera_store::pool::{conn, connect};

use crate::settings::{ConfigError, Settings};

/// Any failure of a command, printed as one line.
pub type CommandResult<T> = Result<T, Box<dyn std::error::Error>>;

fn db(settings: &Settings) -> Result<tessera_store::DbPool, ConfigError> {
    Ok(connect(
        settings.database_url()?,
        2,
        Duration::from_secs(10),
    ))
}

fn plain(e: Error) -> Box<dyn std::error::Error> {
    e.log_cause().into()
}

/// Applies pending migrations; returns how many ran.
pub fn migrate(settings: &Settings) -> CommandResult<usize> {
    let pool = db(settings)?;
    let mut c = conn(&pool).map_err(plain)?;
    tessera_store::migrate(&mut c).map_err(plain)
}

/// Deletes everything that expired (see [`tessera_store::prune`]).
pub fn flush_expired(settings: &Settings) -> CommandResult<tessera_store::prune::Flushed> {
    let pool = db(settings)?;
    let mut c = conn(&pool).map_err(plain)?;
    tessera_store::prune::flush_expired(&mut c, tessera_core::time::now()).map_err(plain)
}

/// Creates an admin API key (scoped to `tenant` when given); returns its secret.
pub fn create_key(settings: &Settings, name: &str, tenant: Option<&str>) -> CommandResult<String> {
    let pool = db(settings)?;
    let mut c = conn(&pool).map_err(plain)?;
    let (_, _, secret) =
        tessera_actors::api_keys::create(&mut c, name, tenant, "cli").map_err(|e| match e {
            Error::Validation { errors, .. } => errors
                .into_iter()
                .map(|(f, m)| format!("--{f} {}", m.join("; ")))
                .collect::<Vec<_>>()
                .join("; ")
                .into(),
            other => plain(other),
        })?;
    Ok(secret)
}
