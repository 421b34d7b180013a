//! Deleting what no longer protects or serves anything: sessions, refresh tokens and
//! revocations whose tokens have all expired, even under the widest leeway a tenant
//! may set. Run by `tessera flush-expired` and periodically by `serve`.
use diesel::prelude::*;
use tessera_core::{Result, settings::MAX_LEEWAY};

use crate::{
    Db, DbResultExt,
    schema::{refresh_tokens, revocations, sessions},
};

/// How many rows a flush deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flushed {
    /// Expired sessions (their refresh tokens went with them).
    pub sessions: usize,
    /// Expired refresh tokens of sessions still alive.
    pub refresh_tokens: usize,
    /// Revocations whose tokens have all expired.
    pub revocations: usize,
}

/// Deletes everything that expired before `now - MAX_LEEWAY`, in one transaction.
pub fn flush_expired(conn: &mut Db, now: i64) -> Result<Flushed> {
    let before = now - MAX_LEEWAY;
    conn.transaction(|c| {
        let refresh_tokens =
            diesel::delete(refresh_tokens::table.filter(refresh_tokens::expires_at.le(before)))
                .execute(c)?;
        let sessions =
            diesel::delete(sessions::table.filter(sessions::expires_at.le(before))).execute(c)?;
        let revocations =
            diesel::delete(revocations::table.filter(revocations::expires_at.le(before)))
                .execute(c)?;
        Ok(Flushed {
            sessions,
            refresh_tokens,
            revocations,
        })
    })
    .db()
}
