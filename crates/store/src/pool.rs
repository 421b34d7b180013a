//! The r2d2 connection pool and embedded migrations.
use diesel::{
    PgConnection,
    r2d2::{ConnectionManager, Pool, PooledConnection},
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::time::Duration;
use tessera_core::Error;

/// Every migration of `migrations/`, compiled in.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// The Postgres pool.
pub type DbPool = Pool<ConnectionManager<PgConnection>>;
/// A connection checked out of the pool.
pub type DbConn = PooledConnection<ConnectionManager<PgConnection>>;

/// Builds a pool of `size` connections to `url`; a checkout waits at most `timeout`.
/// Connections are opened lazily, so a pool can be built while Postgres is down.
pub fn connect(url: &str, size: u32, timeout: Duration) -> DbPool {
    Pool::builder()
        .max_size(size.max(1))
        .min_idle(Some(0))
        .connection_timeout(timeout)
        .test_on_check_out(false)
        .build_unchecked(ConnectionManager::new(url))
}

/// Checks a connection out, mapping failure to 503.
pub fn conn(pool: &DbPool) -> Result<DbConn, Error> {
    pool.get()
        .map_err(|e| Error::Unavailable(format!("database pool: {e}")))
}

/// Applies every pending migration; returns how many ran.
pub fn migrate(conn: &mut PgConnection) -> Result<usize, Error> {
    conn.run_pending_migrations(MIGRATIONS)
        .map(|v| v.len())
        .map_err(|e| Error::Internal(format!("migrations: {e}")))
}

/// How many migrations have not been applied yet.
pub fn pending_migrations(conn: &mut PgConnection) -> Result<usize, Error> {
    conn.pending_migrations(MIGRATIONS)
        .map(|v| v.len())
        .map_err(|e| Error::Unavailable(format!("migrations: {e}")))
}

/// Reverts every applied migration (for the up → down → up test).
pub fn revert_all(conn: &mut PgConnection) -> Result<usize, Error> {
    conn.revert_all_migrations(MIGRATIONS)
        .map(|v| v.len())
        .map_err(|e| Error::Internal(format!("migrations: {e}")))
}
