//! `revocations`: the durable record of every revocation, replayed into Redis when it
//! comes back empty.
use diesel::prelude::*;
use tessera_core::Result;

use crate::{Db, DbResultExt, schema::revocations};

/// Kind of a revoked session.
pub const SESSION: &str = "sid";
/// Kind of a revoked single token.
pub const TOKEN: &str = "jti";
/// Kind of a user cut-off (tokens issued before `revoked_at`).
pub const USER: &str = "user";

/// A revocation row.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = revocations)]
pub struct Revocation {
    /// Owning tenant.
    pub tenant_id: String,
    /// [`SESSION`], [`TOKEN`] or [`USER`].
    pub kind: String,
    /// The sid, jti or user id.
    pub subject: String,
    /// When it was revoked (for a user: the cut-off).
    pub revoked_at: i64,
    /// When the last token it covers expires; the record is useless after.
    pub expires_at: i64,
}

/// Records a revocation; a repeat keeps the latest cut-off and the longest life.
pub fn upsert(
    conn: &mut Db,
    tenant_id: &str,
    kind: &str,
    subject: &str,
    revoked_at: i64,
    expires_at: i64,
) -> QueryResult<()> {
    use diesel::upsert::excluded;
    let row = Revocation {
        tenant_id: tenant_id.to_owned(),
        kind: kind.to_owned(),
        subject: subject.to_owned(),
        revoked_at,
        expires_at,
    };
    // The same upsert in both dialects; the multi-backend has no ON CONFLICT, so
    // each variant builds it for its own backend.
    macro_rules! upsert {
        ($c:expr) => {
            diesel::insert_into(revocations::table)
                .values(&row)
                .on_conflict((
                    revocations::tenant_id,
                    revocations::kind,
                    revocations::subject,
                ))
                .do_update()
                .set((
                    revocations::revoked_at.eq(excluded(revocations::revoked_at)),
                    revocations::expires_at.eq(excluded(revocations::expires_at)),
                ))
                .execute($c)
        };
    }
    match conn {
        Db::Pg(c) => upsert!(c),
        Db::Sqlite(c) => upsert!(c),
    }?;
    Ok(())
}

/// Every revocation of a tenant still in force at `now`, counting the widest leeway
/// a tenant may allow (to refill the revocation store, whose keys last that long too).
pub fn live(conn: &mut Db, tenant_id: &str, now: i64) -> Result<Vec<Revocation>> {
    revocations::table
        .filter(revocations::tenant_id.eq(tenant_id))
        .filter(revocations::expires_at.gt(now - tessera_core::settings::MAX_LEEWAY))
        .select(Revocation::as_select())
        .load(conn)
        .db()
}
