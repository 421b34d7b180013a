//! Tessera's storage: the diesel schema, one model file per table, and repository
//! functions that take the tenant id of every tenant-owned row, so isolation is
//! enforced here and not in handlers. Postgres and the embedded SQLite file share this
//! one code path ([`Db`]); each has its migrations under `../../migrations`.
#![forbid(unsafe_code)]

mod db;
pub mod models;
pub mod pool;
mod prepared;
pub mod prune;
pub mod schema;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use pool::{Db, DbConn, DbPool, Target, connect, establish, migrate, pending_migrations};

use tessera_core::Error;

/// Maps diesel results into Tessera's error: unique violations are conflicts,
/// everything else is internal (its cause logged, never sent).
pub trait DbResultExt<T> {
    /// Converts the error side.
    fn db(self) -> Result<T, Error>;
}

impl<T> DbResultExt<T> for Result<T, diesel::result::Error> {
    fn db(self) -> Result<T, Error> {
        use diesel::result::{DatabaseErrorKind, Error as D};
        self.map_err(|e| match e {
            D::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                Error::Conflict("already exists".into())
            }
            D::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => Error::Unavailable(format!("database connection closed: {}", info.message())),
            // A connection marked broken after it was found closed (see
            // `discard_if_closed`): the pool drops it once it is returned.
            D::BrokenTransactionManager => Error::Unavailable("database connection closed".into()),
            // SQLite's "database is locked": another process held the write lock past
            // the busy timeout. Worth a retry, not an internal error.
            D::DatabaseError(DatabaseErrorKind::Unknown, info)
                if info.message().contains("locked") =>
            {
                Error::Unavailable(format!("database busy: {}", info.message()))
            }
            other => Error::Failed {
                what: "database",
                source: Box::new(other),
            },
        })
    }
}

/// Runs `f` in a transaction whose body speaks Tessera's error: it commits on `Ok`
/// and rolls back on any error. A top-level transaction that loses a deadlock or a
/// serialization conflict runs again (see [`retrying`]).
pub fn transaction<T>(
    conn: &mut Db,
    mut f: impl FnMut(&mut Db) -> Result<T, Error>,
) -> Result<T, Error> {
    run(conn, |c| f(c).map_err(TxError::App))
}

/// Runs `f`, whose body speaks diesel's error, in a top-level transaction, again (a
/// few times, after a short pause) when it fails on a deadlock or serialization
/// conflict, so that two requests racing for the same rows both get an answer
/// instead of a 500.
pub fn retrying<T>(
    conn: &mut Db,
    mut f: impl FnMut(&mut Db) -> diesel::QueryResult<T>,
) -> Result<T, Error> {
    run(conn, |c| f(c).map_err(TxError::Db))
}

/// How many times a transaction that lost a deadlock or a serialization conflict
/// runs at most.
pub(crate) const TX_ATTEMPTS: usize = 4;

/// Why a transaction body failed: the database, or the application's own error.
enum TxError {
    Db(diesel::result::Error),
    App(Error),
}

impl From<diesel::result::Error> for TxError {
    fn from(e: diesel::result::Error) -> Self {
        TxError::Db(e)
    }
}

/// Whether a database error is one that running the transaction again can cure:
/// Postgres chose it as a deadlock's victim, or a serialization conflict.
pub(crate) fn is_retryable(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error as D};
    match e {
        D::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        D::DatabaseError(_, info) => info.message().contains("deadlock detected"),
        _ => false,
    }
}

/// The transaction loop of [`transaction`] and [`retrying`]: a nested transaction
/// (a savepoint) is never retried on its own, since its failure aborts the whole.
fn run<T>(conn: &mut Db, mut f: impl FnMut(&mut Db) -> Result<T, TxError>) -> Result<T, Error> {
    use diesel::Connection;
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let nested = match conn {
        Db::Pg(c) => AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth(),
        Db::Sqlite(c) => {
            AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth()
        }
    }
    .ok()
    .flatten()
    .is_some();
    let mut attempt = 1;
    let system = match conn {
        Db::Pg(_) => "postgresql",
        Db::Sqlite(_) => "sqlite",
    };
    loop {
        let span = (!nested).then(|| {
            tracing::debug_span!("db_transaction", db.system.name = system, attempt).entered()
        });
        let outcome = conn.transaction::<T, TxError, _>(&mut f);
        drop(span);
        match outcome {
            Ok(v) => return Ok(v),
            Err(TxError::Db(d)) if !nested && attempt < TX_ATTEMPTS && is_retryable(&d) => {
                tracing::info!(attempt, error = %d, "transaction retried");
                std::thread::sleep(std::time::Duration::from_millis(2 * attempt as u64));
                attempt += 1;
            }
            Err(TxError::Db(d)) => {
                if let Db::Pg(pg) = conn {
                    discard_if_closed(pg, &d);
                }
                return Err::<T, _>(d).db();
            }
            Err(TxError::App(a)) => return Err(a),
        }
    }
}

/// Whether a statement failed because the database could not be reached or cancelled
/// it (a timeout): trying the same items again, one by one, would only fail the same
/// way, each after as long a wait.
pub(crate) fn gives_up(e: &diesel::result::Error) -> bool {
    use diesel::result::Error as D;
    match e {
        _ if is_closed(e) => true,
        D::BrokenTransactionManager => true,
        D::DatabaseError(_, info) => info.message().starts_with("canceling statement"),
        _ => false,
    }
}

/// Whether an error says the connection to the database is closed.
fn is_closed(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error as D};
    matches!(
        e,
        D::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _
        )
    )
}

/// Marks a Postgres connection broken after an error that says it is closed, so the
/// pool drops it rather than handing it out again. diesel notices a dead connection
/// only when a statement's result comes back: a failure to send one (to prepare a
/// statement, or to begin a transaction, on a connection the server closed) leaves
/// it looking healthy, and after a Postgres restart the first use of each such
/// connection would fail again.
pub(crate) fn discard_if_closed(pg: &mut diesel::PgConnection, e: &diesel::result::Error) {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    if is_closed(e) {
        AnsiTransactionManager::transaction_manager_status_mut(pg).set_in_error();
    }
}

#[cfg(test)]
mod tests;
