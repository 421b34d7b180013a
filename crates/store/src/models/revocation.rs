//! `revocations`: the durable record of every revocation, replayed into Redis when it
//! comes back empty.
use diesel::prelude::*;
use tessera_core::{Result, ids::TenantId, revocation::RevocationKind};

use crate::{
    Db, DbResultExt,
    schema::{revocations, tenants},
};

/// A revocation row.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = revocations)]
pub struct Revocation {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// What the subject names.
    pub kind: RevocationKind,
    /// The sid, jti or user id.
    pub subject: String,
    /// When it was revoked (for a user: the cut-off).
    pub revoked_at: i64,
    /// When the last token it covers expires; the record is useless after.
    pub expires_at: i64,
    /// The tenant's revocation generation of the transaction that wrote it.
    pub generation: i64,
}

/// Takes the tenant's next revocation generation, for the rows this transaction
/// writes. Called after the transaction's session and token rows are locked and
/// before its revocation rows (one lock order everywhere); the tenant row stays
/// locked until commit, so generations commit in order.
pub fn next_generation(conn: &mut Db, tenant_id: &TenantId) -> QueryResult<i64> {
    diesel::update(tenants::table.find(tenant_id))
        .set(tenants::revocation_gen.eq(tenants::revocation_gen + 1))
        .returning(tenants::revocation_gen)
        .get_result(conn)
}

/// Whether the tenant has a revocation of this kind and subject (in force or not).
pub fn exists(
    conn: &mut Db,
    tenant_id: &TenantId,
    kind: RevocationKind,
    subject: &str,
) -> Result<bool> {
    use diesel::dsl::{exists, select};
    select(exists(
        revocations::table
            .filter(revocations::tenant_id.eq(tenant_id))
            .filter(revocations::kind.eq(kind))
            .filter(revocations::subject.eq(subject)),
    ))
    .get_result(conn)
    .db()
}

/// Revokes single tokens by jti, each until its expiry (`(jti, exp)`), in one
/// transaction of one generation: a logout with a legacy token, or an imported
/// blacklist. Returns the generation.
pub fn revoke_tokens(
    conn: &mut Db,
    tenant_id: &TenantId,
    tokens: &[(String, i64)],
    now: i64,
) -> Result<i64> {
    crate::retrying(conn, |c| {
        let generation = next_generation(c, tenant_id)?;
        for (jti, exp) in tokens {
            upsert(
                c,
                tenant_id,
                RevocationKind::Token,
                jti,
                (now, *exp),
                generation,
            )?;
        }
        Ok(generation)
    })
}

/// The current revocation generations of these tenants.
pub fn generations(conn: &mut Db, tenant_ids: &[TenantId]) -> Result<Vec<(TenantId, i64)>> {
    tenants::table
        .filter(tenants::id.eq_any(tenant_ids))
        .select((tenants::id, tenants::revocation_gen))
        .load(conn)
        .db()
}

/// Records a revocation of generation `gen`; a repeat keeps the latest cut-off and
/// the longest life.
pub fn upsert(
    conn: &mut Db,
    tenant_id: &TenantId,
    kind: RevocationKind,
    subject: &str,
    (revoked_at, expires_at): (i64, i64),
    generation: i64,
) -> QueryResult<()> {
    let row = Revocation {
        tenant_id: tenant_id.clone(),
        kind,
        subject: subject.to_owned(),
        revoked_at,
        expires_at,
        generation,
    };
    upsert_many(conn, std::slice::from_ref(&row))
}

/// [`upsert`] for many revocations (of distinct subjects): one statement on
/// Postgres, one a row on SQLite.
pub fn upsert_many(conn: &mut Db, rows: &[Revocation]) -> QueryResult<()> {
    use diesel::upsert::excluded;
    // The same upsert in both dialects; the multi-backend has no ON CONFLICT, so
    // each variant builds it for its own backend.
    use diesel::{dsl::sql, sql_types::BigInt};
    macro_rules! upsert {
        ($c:expr, $rows:expr, $larger:expr) => {
            diesel::insert_into(revocations::table)
                .values($rows)
                .on_conflict((
                    revocations::tenant_id,
                    revocations::kind,
                    revocations::subject,
                ))
                .do_update()
                .set((
                    revocations::revoked_at.eq(sql::<BigInt>(&format!(
                        "{}(revocations.revoked_at, excluded.revoked_at)",
                        $larger
                    ))),
                    revocations::expires_at.eq(sql::<BigInt>(&format!(
                        "{}(revocations.expires_at, excluded.expires_at)",
                        $larger
                    ))),
                    revocations::generation.eq(excluded(revocations::generation)),
                ))
                .execute($c)
        };
    }
    // The larger of two values: GREATEST in Postgres, the two-argument max in SQLite.
    match conn {
        Db::Pg(c) if !rows.is_empty() => {
            upsert!(c, rows, "GREATEST")?;
        }
        Db::Pg(_) => {}
        Db::Sqlite(c) => {
            for row in rows {
                upsert!(c, row, "max")?;
            }
        }
    }
    Ok(())
}

/// The tenant's revocation generation and every revocation of it still in force at
/// `now` (counting the widest leeway a tenant may allow, as the store's keys do) of a
/// generation after `after` (all of them for `None`): what refills the revocation
/// store up to that generation. The generation is read first: every row of it or
/// before has committed by then, since generations commit in order.
pub fn live(
    conn: &mut Db,
    tenant_id: &TenantId,
    now: i64,
    after: Option<i64>,
) -> Result<(i64, Vec<Revocation>)> {
    let generation: i64 = tenants::table
        .find(tenant_id)
        .select(tenants::revocation_gen)
        .first(conn)
        .optional()
        .db()?
        .unwrap_or(0);
    let rows = revocations::table
        .filter(revocations::tenant_id.eq(tenant_id))
        .filter(revocations::expires_at.gt(now - tessera_core::settings::MAX_LEEWAY))
        .filter(revocations::generation.gt(after.unwrap_or(i64::MIN)))
        .select(Revocation::as_select())
        .load(conn)
        .db()?;
    Ok((generation, rows))
}
