//! The connection type of every repository: diesel's `MultiConnection` over Postgres
//! and SQLite. Its derive generates helper items that carry no docs of their own.
#![allow(missing_docs)]

/// A connection to either database; repositories take this.
#[derive(diesel::MultiConnection)]
pub enum Db {
    /// Postgres: the shared database of any number of nodes.
    Pg(diesel::PgConnection),
    /// SQLite: the embedded file of a single node.
    Sqlite(diesel::SqliteConnection),
}
