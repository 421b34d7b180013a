//! The connection pool over either backend, and each backend's embedded migrations.
//!
//! One code path serves both: every repository takes a [`Db`], diesel's
//! `MultiConnection` over Postgres (any number of nodes) and SQLite (the embedded,
//! single-node mode). The few statements whose SQL differs match on the variant.
use diesel::{
    Connection, PgConnection, RunQueryDsl, SqliteConnection,
    connection::SimpleConnection,
    r2d2::{ManageConnection, Pool, PooledConnection, R2D2Connection},
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::{path::PathBuf, time::Duration};
use tessera_core::Error;

pub use crate::db::Db;

/// Every Postgres migration of `migrations/postgres`, compiled in.
pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
/// Every SQLite migration of `migrations/sqlite` (same versions, same tables).
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A Postgres URL.
    Postgres(String),
    /// An SQLite database file.
    Sqlite(PathBuf),
}

impl Target {
    /// Whether this is the embedded, single-node SQLite mode.
    pub fn is_embedded(&self) -> bool {
        matches!(self, Target::Sqlite(_))
    }
}

/// How long an SQLite statement waits for another process's write lock (the CLI
/// writing while `serve` runs) before giving up with 503.
const SQLITE_BUSY_MS: u32 = 5_000;

/// Opens one connection to `target`. SQLite connections enforce foreign keys (the
/// cascades), use the write-ahead log and wait for a busy file rather than failing.
pub fn establish(target: &Target) -> Result<Db, diesel::ConnectionError> {
    prepare_tls();
    match target {
        Target::Postgres(url) => PgConnection::establish(url).map(Db::Pg),
        Target::Sqlite(path) => {
            let mut c = SqliteConnection::establish(&path.to_string_lossy())?;
            let pragmas = format!(
                "PRAGMA busy_timeout = {SQLITE_BUSY_MS}; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
            );
            c.batch_execute(&pragmas)
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            Ok(Db::Sqlite(c))
        }
    }
}

/// The r2d2 manager of [`Db`] connections to one [`Target`].
#[derive(Debug, Clone)]
pub struct Manager {
    target: Target,
    /// For the batch writer: Postgres plans no sequential scan on these connections,
    /// and a statement is cancelled after this long.
    batches: Option<Duration>,
}

impl ManageConnection for Manager {
    type Connection = Db;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Db, Self::Error> {
        let mut c = establish(&self.target).map_err(diesel::r2d2::Error::ConnectionError)?;
        if let (Some(limit), Db::Pg(pg)) = (self.batches, &mut c) {
            let ms = limit.as_millis().max(1);
            pg.batch_execute(&format!(
                "SET enable_seqscan = off; SET statement_timeout = {ms}"
            ))
            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)
            .map_err(diesel::r2d2::Error::ConnectionError)?;
        }
        Ok(c)
    }

    fn is_valid(&self, conn: &mut Db) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut Db) -> bool {
        conn.is_broken()
    }
}

/// The pool every DB-bound actor shares.
pub type DbPool = Pool<Manager>;
/// A connection checked out of the pool.
pub type DbConn = PooledConnection<Manager>;

/// Initializes OpenSSL, which libpq uses for TLS to Postgres, with
/// `OPENSSL_INIT_NO_ATEXIT` (through `openssl_sys::init`), before any connection
/// exists. Without it libpq's first connection registers OpenSSL's clean-up to run
/// at process exit, and that clean-up frees OpenSSL's global state while threads the
/// process cannot join — the actors' `SyncArbiter` threads and the pool's reaper,
/// closing their TLS connections or running OpenSSL's per-thread exit handlers — still
/// use it: heap corruption at shutdown (`malloc_consolidate(): unaligned fastbin chunk
/// detected`, SIGABRT). The first initialization wins, so this must come first; later
/// calls do nothing. The memory is the process's own and goes with it at exit.
pub fn prepare_tls() {
    openssl_sys::init();
}

/// Builds a pool of `size` connections to `target`; a checkout waits at most
/// `timeout`. Connections are opened lazily, so a pool can be built while Postgres is
/// down. SQLite gets one connection whatever `size` says: the file has one writer at
/// a time, and one connection means no transaction ever waits on another's lock.
pub fn connect(target: &Target, size: u32, timeout: Duration) -> DbPool {
    build(target, size, timeout, None)
}

/// A pool for the batched session writes, whose statements find every row by key: on
/// its Postgres connections the planner never chooses a sequential scan. Those
/// statements are prepared once per connection and their plan is kept; one planned
/// while the tables were small (a fresh database, before autovacuum has analyzed the
/// growing tables) scanned whole tables on every batch: a fresh database with one
/// writer committed 1 952 refreshes/s in batches of 16, against 17 965 with this.
/// A statement is cancelled after `statement_limit` (the longest any request waits for
/// it), so one stuck on a lock cannot hold up every batch behind it.
pub fn connect_for_batches(
    target: &Target,
    size: u32,
    timeout: Duration,
    statement_limit: Duration,
) -> DbPool {
    build(target, size, timeout, Some(statement_limit))
}

fn build(target: &Target, size: u32, timeout: Duration, batches: Option<Duration>) -> DbPool {
    prepare_tls();
    let size = match target {
        Target::Postgres(_) => size.max(1),
        Target::Sqlite(_) => 1,
    };
    Pool::builder()
        .max_size(size)
        .min_idle(Some(0))
        .connection_timeout(timeout)
        .test_on_check_out(false)
        .build_unchecked(Manager {
            target: target.clone(),
            batches,
        })
}

/// Checks a connection out, mapping failure to 503.
pub fn conn(pool: &DbPool) -> Result<DbConn, Error> {
    pool.get().map_err(|e| {
        // libpq's messages end in a newline and may span lines: one line here.
        let why = e.to_string().trim().replace('\n', " ");
        let tls = ["SSL", "certificate", "host name"]
            .iter()
            .any(|w| why.contains(w));
        let hint = if tls {
            " (TLS: check database.ca_file and the host name in database.url)"
        } else {
            ""
        };
        Error::Unavailable(format!("database pool: {why}{hint}"))
    })
}

/// Answers whether the database answers a trivial query.
pub fn ping(conn: &mut Db) -> Result<(), Error> {
    diesel::sql_query("SELECT 1")
        .execute(conn)
        .map(|_| ())
        .map_err(|e| {
            if let Db::Pg(pg) = conn {
                crate::discard_if_closed(pg, &e);
            }
            Error::Unavailable(format!("database: {e}"))
        })
}

fn migration_error(e: Box<dyn std::error::Error + Send + Sync>) -> Error {
    Error::Failed {
        what: "migrations",
        source: e,
    }
}

/// Applies every pending migration of the connection's backend; returns how many ran.
pub fn migrate(conn: &mut Db) -> Result<usize, Error> {
    match conn {
        Db::Pg(c) => c.run_pending_migrations(PG_MIGRATIONS).map(|v| v.len()),
        Db::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    }
    .map_err(migration_error)
}

/// How many migrations have not been applied yet.
pub fn pending_migrations(conn: &mut Db) -> Result<usize, Error> {
    match conn {
        Db::Pg(c) => c.pending_migrations(PG_MIGRATIONS).map(|v| v.len()),
        Db::Sqlite(c) => c.pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    }
    .map_err(|e| Error::Unavailable(format!("migrations: {e}")))
}

/// Reverts every applied migration (for the up → down → up test).
pub fn revert_all(conn: &mut Db) -> Result<usize, Error> {
    match conn {
        Db::Pg(c) => c.revert_all_migrations(PG_MIGRATIONS).map(|v| v.len()),
        Db::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    }
    .map_err(migration_error)
}
