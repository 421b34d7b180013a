//! For tests of this crate and the crates above it (feature `testing`): a migrated
//! SQLite database of a test's own, so store logic is tested on a real database
//! without any service running.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use crate::{Db, Target};

/// A scratch folder, removed with everything in it when dropped.
pub struct Scratch(pub std::path::PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A freshly migrated SQLite database in a folder of its own; keep the guard alive
/// as long as the connection.
pub fn scratch_db() -> (Db, Scratch) {
    let dir = std::env::temp_dir().join(format!("tessera-db-{}", tessera_core::ids::random_id()));
    std::fs::create_dir_all(&dir).expect("make a scratch folder");
    let mut conn = crate::establish(&Target::Sqlite(dir.join("t.db"))).expect("open SQLite");
    crate::migrate(&mut conn).expect("migrate");
    (conn, Scratch(dir))
}
