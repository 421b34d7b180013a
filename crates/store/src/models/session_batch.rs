//! Session writes of many requests at once (group commit): refreshes in one prepared
//! statement, session revocations in one transaction. Each request keeps its own
//! outcome; one that the batch cannot decide (a reused, refused or replayed token)
//! takes the one-request path, which changes nothing the batch did.
use diesel::prelude::*;
use std::collections::{BTreeMap, HashMap};
use tessera_core::{
    Result,
    ids::{SessionId, TenantId, TokenId},
    revocation::RevocationKind,
};

use crate::{
    Db,
    models::{
        revocation::{self, Revocation},
        session::{self, RefreshOutcome, Revoked, Rotation, Successor},
        user::User,
    },
    prepared::{Param, Prepared},
    schema::sessions,
};

/// One refresh of a batch: the presented token, and its successor when rotating.
#[derive(Debug, Clone)]
pub struct RefreshItem {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The presented refresh token's id.
    pub jti: TokenId,
    /// The successor to record (`None`: the tenant does not rotate).
    pub rotate: Option<Rotation>,
}

/// What [`refresh_many`] answers for one item.
pub type Refreshed = (RefreshOutcome, Option<Successor>);

/// Uses each item's token if it is live, of a live session of an active user, touches
/// the sessions and records the successors — one statement for all the rotating items
/// and one for the others, on Postgres. Tokens of the same session in one batch are
/// fine: the row is changed once and only one of two uses of one token wins (the other
/// is decided by [`session::refresh`], as reuse or a replay within the interval).
pub fn refresh_many(conn: &mut Db, now: i64, items: &[RefreshItem]) -> Vec<Result<Refreshed>> {
    let mut out: Vec<Option<Result<Refreshed>>> = items.iter().map(|_| None).collect();
    if let Db::Pg(pg) = conn {
        let (rotating, keeping): (Vec<usize>, Vec<usize>) =
            (0..items.len()).partition(|&i| items[i].rotate.is_some());
        for group in [rotating, keeping] {
            if group.is_empty() {
                continue;
            }
            match in_one_statement(pg, now, items, &group) {
                Ok(rows) => {
                    for row in rows {
                        let Some(&i) = usize::try_from(row.n - 1).ok().and_then(|n| group.get(n))
                        else {
                            continue;
                        };
                        let next = match (&items[i].rotate, row.next_expires_at) {
                            (Some(r), Some(expires_at)) => Some(Successor {
                                jti: r.jti.clone(),
                                expires_at,
                            }),
                            _ => None,
                        };
                        let accepted = RefreshOutcome::Accepted {
                            user: Box::new(row.user),
                            session_expires_at: row.session_expires_at,
                        };
                        out[i] = Some(Ok((accepted, next)));
                    }
                }
                // Nothing of the statement was committed: each item on its own.
                Err(e) => {
                    tracing::warn!(error = %e, "batched refresh failed; refreshing one by one")
                }
            }
        }
    }
    items
        .iter()
        .zip(out)
        .map(|(item, done)| {
            done.unwrap_or_else(|| {
                session::refresh_general(
                    conn,
                    &item.tenant_id,
                    &item.jti,
                    now,
                    item.rotate.as_ref(),
                )
            })
        })
        .collect()
}

/// An accepted item of the batched refresh statement.
#[derive(QueryableByName)]
struct Row {
    /// 1-based position in the statement's input.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
    #[diesel(embed)]
    user: User,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    session_expires_at: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    next_expires_at: Option<i64>,
}

/// The items' tokens that can be exchanged now, with their session's end and their
/// user: live (unexpired, not revoked, and when rotating unused), of a live session and
/// an active user. Each `LATERAL … LIMIT 1` is a lookup by primary key alone (every
/// other condition, the tenant's included, is checked on the row it found), which the
/// planner cannot reorder or answer from another index: the items drive the plan
/// whatever the tables' statistics say, and the cost per item does not grow with the
/// batch or the tables.
macro_rules! live_tokens {
    ($unused:literal) => {
        concat!(
            "
WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $4::text[], $5::bigint[])
        WITH ORDINALITY AS i(tenant_id, jti, next_jti, ttl, n)
), live AS MATERIALIZED (
    SELECT i.n, i.next_jti, i.ttl, t.jti AS token_jti, t.sid,
           s.expires_at AS session_expires_at, u.*
    FROM input i
    CROSS JOIN LATERAL (
        SELECT rt.jti, rt.sid, rt.user_id, rt.tenant_id, rt.revoked_at, rt.expires_at,
               rt.used_at
        FROM refresh_tokens rt WHERE rt.jti = i.jti LIMIT 1) t
    CROSS JOIN LATERAL (
        SELECT s.tenant_id, s.revoked_at, s.expires_at
        FROM sessions s WHERE s.sid = t.sid LIMIT 1) s
    CROSS JOIN LATERAL (SELECT * FROM users u WHERE u.id = t.user_id LIMIT 1) u
    WHERE t.tenant_id = i.tenant_id AND t.revoked_at IS NULL AND t.expires_at > $3",
            $unused,
            "
      AND s.tenant_id = i.tenant_id AND s.revoked_at IS NULL AND s.expires_at > $3
      AND u.tenant_id = i.tenant_id AND u.is_active
)"
        )
    };
}

/// With rotation: $1 tenant ids, $2 token ids, $3 now, $4 successor ids, $5 their
/// lifetimes. Each live token is marked used — again only if still unused and not
/// revoked when its row is locked, so of two uses racing one wins and a logout that
/// committed meanwhile wins over the refresh — its session touched, and its successor
/// recorded (never past the session's end).
const ROTATE_MANY: &str = concat!(
    live_tokens!(" AND t.used_at IS NULL"),
    ", used AS (
    UPDATE refresh_tokens AS rt SET used_at = $3
    FROM live
    WHERE rt.jti = ANY($2::text[]) AND rt.jti = live.token_jti
      AND rt.used_at IS NULL AND rt.revoked_at IS NULL
    RETURNING live.*, LEAST($3 + live.ttl, live.session_expires_at) AS next_expires_at
), touched AS (
    UPDATE sessions SET last_used_at = $3
    FROM (SELECT DISTINCT tenant_id, sid FROM used) AS d
    WHERE sessions.sid = d.sid AND sessions.tenant_id = d.tenant_id
), successor AS (
    INSERT INTO refresh_tokens
        (jti, tenant_id, sid, parent_jti, user_id, issued_at, expires_at, used_at, revoked_at)
    SELECT next_jti, tenant_id, sid, token_jti, id, $3, next_expires_at, NULL, NULL
    FROM used
)
SELECT * FROM used"
);

/// Without rotation: the same parameters ($4 and $5 empty). Each live token is
/// accepted if its session, locked to be touched, is still not revoked (a logout that
/// committed meanwhile wins over the refresh).
const KEEP_MANY: &str = concat!(
    live_tokens!(""),
    ", touched AS (
    UPDATE sessions SET last_used_at = $3
    FROM (SELECT DISTINCT tenant_id, sid FROM live) AS d
    WHERE sessions.sid = d.sid AND sessions.tenant_id = d.tenant_id
      AND sessions.revoked_at IS NULL
    RETURNING sessions.sid
)
SELECT live.*, NULL::bigint AS next_expires_at
FROM live WHERE live.sid IN (SELECT sid FROM touched)"
);

/// Runs the items at `group` (all rotating, or none) as one statement, again when it
/// loses a deadlock; the rows of the accepted ones.
fn in_one_statement(
    pg: &mut diesel::PgConnection,
    now: i64,
    items: &[RefreshItem],
    group: &[usize],
) -> diesel::QueryResult<Vec<Row>> {
    let statement = || {
        let tenants = group.iter().map(|&i| items[i].tenant_id.as_str()).collect();
        let jtis = group.iter().map(|&i| items[i].jti.as_str()).collect();
        let rotations: Vec<&Rotation> = group
            .iter()
            .filter_map(|&i| items[i].rotate.as_ref())
            .collect();
        let sql = if rotations.is_empty() {
            KEEP_MANY
        } else {
            ROTATE_MANY
        };
        Prepared::new(
            sql,
            vec![
                Param::Texts(tenants),
                Param::Texts(jtis),
                Param::Int(now),
                Param::Texts(rotations.iter().map(|r| r.jti.as_str()).collect()),
                Param::Ints(rotations.iter().map(|r| r.ttl).collect()),
            ],
        )
    };
    let mut attempt = 1;
    loop {
        let _span = tracing::debug_span!(
            "db_transaction",
            db.system.name = "postgresql",
            attempt,
            batch = group.len()
        )
        .entered();
        match statement().load::<Row>(pg) {
            Err(e) if attempt < crate::TX_ATTEMPTS && crate::is_retryable(&e) => {
                tracing::info!(attempt, error = %e, "batched refresh retried");
                std::thread::sleep(std::time::Duration::from_millis(2 * attempt as u64));
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Revokes sessions of any tenants in one transaction: per tenant one new revocation
/// generation, the sessions and their refresh tokens marked, a durable record each.
/// One answer per item, as [`session::revoke`] gives it.
pub fn revoke_many(
    conn: &mut Db,
    now: i64,
    items: &[(TenantId, SessionId)],
) -> Result<Vec<Option<Revoked<i64>>>> {
    let mut by_tenant: BTreeMap<&TenantId, Vec<&SessionId>> = BTreeMap::new();
    for (tenant, sid) in items {
        by_tenant.entry(tenant).or_default().push(sid);
    }
    // Tenants in one order in every batch, so two batches never deadlock on them.
    let answers = crate::retrying(conn, |c| {
        let mut answers = HashMap::new();
        for (&tenant, sids) in &by_tenant {
            let found: Vec<(SessionId, i64, Option<i64>)> = sessions::table
                .filter(sessions::tenant_id.eq(tenant))
                .filter(sessions::sid.eq_any(sids.iter().copied()))
                .select((sessions::sid, sessions::expires_at, sessions::revoked_at))
                .load(c)?;
            let live: Vec<SessionId> = found
                .iter()
                .filter(|f| f.2.is_none())
                .map(|f| f.0.clone())
                .collect();
            // One generation a session: each request writes its own entry to the
            // store, and the store's marker moves over a generation only once its
            // whole write is in (a batch sharing one would let the first write
            // claim the others').
            let mut generations = HashMap::new();
            if !live.is_empty() {
                session::mark_revoked(c, tenant, &live, now)?;
                let n = live.len() as i64;
                let last = revocation::next_generations(c, tenant, n)?;
                for (i, sid) in live.iter().enumerate() {
                    generations.insert(sid.clone(), last - n + 1 + i as i64);
                }
            }
            let mut records = Vec::new();
            for (sid, expires, revoked_at) in found {
                // Already revoked and recorded: no new generation (a replayed logout
                // must not make every node refill), as for one.
                let generation = match (revoked_at, generations.get(&sid)) {
                    (None, Some(&generation)) => {
                        records.push(Revocation {
                            tenant_id: tenant.clone(),
                            kind: RevocationKind::Session,
                            subject: sid.as_str().to_owned(),
                            revoked_at: now,
                            expires_at: expires,
                            generation,
                        });
                        generation
                    }
                    _ => 0,
                };
                let what = Revoked {
                    generation,
                    what: expires,
                };
                answers.insert((tenant.clone(), sid), what);
            }
            revocation::upsert_many(c, &records)?;
        }
        Ok(answers)
    })?;
    Ok(items
        .iter()
        .map(|(tenant, sid)| answers.get(&(tenant.clone(), sid.clone())).cloned())
        .collect())
}
