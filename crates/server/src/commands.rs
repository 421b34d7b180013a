//! The one-shot commands: migrate, openapi, admin create-key.
use std::time::Duration;
use tessera_core::{Error, admin_key, ids};
use tessera_store::{
    models::{
        api_key::{self, ApiKey},
        tenant,
    },
    pool::{conn, connect},
};

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

/// Creates an admin API key (scoped to `tenant` when given); returns its secret.
pub fn create_key(settings: &Settings, name: &str, tenant: Option<&str>) -> CommandResult<String> {
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err("--name must be 1 to 200 characters".into());
    }
    let pool = db(settings)?;
    let mut c = conn(&pool).map_err(plain)?;
    let tenant_id = match tenant {
        None => None,
        Some(slug) => Some(
            tenant::by_slug(&mut c, slug)
                .map_err(plain)?
                .ok_or_else(|| format!("no tenant with slug {slug:?}"))?
                .id,
        ),
    };
    let secret = admin_key::generate_secret();
    let row = ApiKey::new(
        ids::api_key_id(),
        name,
        tenant_id,
        admin_key::hash_secret(&secret),
    );
    api_key::insert(&mut c, &row).map_err(plain)?;
    Ok(secret)
}
