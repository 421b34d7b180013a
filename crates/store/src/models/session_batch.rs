//! Session writes of many requests at once (group commit): logins' new sessions,
//! refreshes and session revocations, each kind in one prepared statement on
//! Postgres. Each request keeps its own outcome; one that the batch cannot decide (a
//! reused, refused or replayed token) takes the one-request path, which changes
//! nothing the batch did.
use diesel::prelude::*;
use std::collections::{BTreeMap, HashMap};
use tessera_core::{
    Error, Result,
    ids::{SessionId, TenantId, TokenId},
    revocation::RevocationKind,
};

use crate::{
    Db, DbResultExt,
    models::{
        revocation::{self, Revocation},
        session::{self, RefreshOutcome, RefreshToken, Revoked, Rotation, Session, Successor},
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
            // Tokens in one order in every batch (see [`in_lock_order`]).
            let group = in_lock_order(group, |i| items[i].jti.as_str());
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
                Err(e) => failed(&mut out, &group, &e, "refresh"),
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

/// `group` (positions in a batch) sorted by the key of the rows its statement locks
/// first. Two batches commit at once on a node with two or more cores; rows locked in
/// arrival order ([A, B] in one batch, [B, A] in the other) would deadlock them until
/// Postgres's `deadlock_timeout` (a second by default) stalled both.
fn in_lock_order<K: Ord>(mut group: Vec<usize>, key: impl Fn(usize) -> K) -> Vec<usize> {
    group.sort_by_key(|&i| key(i));
    group
}

/// After a batch statement failed (nothing of it committed): the items of `group`
/// are left to the one-request path, each on its own, unless the database is out of
/// reach or the statement timed out, when they all fail at once (one by one would
/// fail the same way, each after as long a wait).
fn failed<T>(
    out: &mut [Option<Result<T>>],
    group: &[usize],
    e: &diesel::result::Error,
    what: &str,
) {
    if !crate::gives_up(e) {
        tracing::warn!(error = %e, "batched {what} failed; going on one by one");
        return;
    }
    tracing::warn!(error = %e, "batched {what} failed");
    let why = format!("database: {}", e.to_string().trim());
    for &i in group {
        out[i] = Some(Err(Error::Unavailable(why.clone())));
    }
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
/// an active user, and refused by no revocation record in force: neither a cut-off of
/// their user after they were issued nor a listing of their id (an imported
/// blacklist) — with the session's and the tokens' marks, everything the revocation
/// store would check, so a refresh needs no Redis round trip. Each `LATERAL … LIMIT 1`
/// is a lookup by primary key, which the planner cannot reorder or answer from another
/// index: for the token, session and user by the key alone (every other condition, the
/// tenant's included, is checked on the row it found), for the two records by the whole
/// key (tenant, kind, subject). The items drive the plan whatever the tables'
/// statistics say, and the cost per item does not grow with the batch or the tables.
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
               rt.used_at, rt.issued_at
        FROM refresh_tokens rt WHERE rt.jti = i.jti LIMIT 1) t
    CROSS JOIN LATERAL (
        SELECT s.tenant_id, s.revoked_at, s.expires_at
        FROM sessions s WHERE s.sid = t.sid LIMIT 1) s
    CROSS JOIN LATERAL (SELECT * FROM users u WHERE u.id = t.user_id LIMIT 1) u
    LEFT JOIN LATERAL (
        SELECT 1 AS hit FROM revocations r
        WHERE r.tenant_id = i.tenant_id AND r.kind = 'user' AND r.subject = t.user_id
          AND r.revoked_at > t.issued_at AND r.expires_at > $3 LIMIT 1) cut ON true
    LEFT JOIN LATERAL (
        SELECT 1 AS hit FROM revocations r
        WHERE r.tenant_id = i.tenant_id AND r.kind = 'jti' AND r.subject = t.jti
          AND r.expires_at > $3 LIMIT 1) listed ON true
    WHERE t.tenant_id = i.tenant_id AND t.revoked_at IS NULL AND t.expires_at > $3",
            $unused,
            "
      AND s.tenant_id = i.tenant_id AND s.revoked_at IS NULL AND s.expires_at > $3
      AND u.tenant_id = i.tenant_id AND u.is_active
      AND cut.hit IS NULL AND listed.hit IS NULL
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
    retrying_statement(pg, group.len(), statement)
}

/// Loads a prepared statement's rows, again when it loses a deadlock.
fn retrying_statement<'a, R>(
    pg: &mut diesel::PgConnection,
    batch: usize,
    statement: impl Fn() -> Prepared<'a>,
) -> diesel::QueryResult<Vec<R>>
where
    R: diesel::deserialize::QueryableByName<diesel::pg::Pg> + 'static,
{
    let mut attempt = 1;
    loop {
        let _span = tracing::debug_span!(
            "db_transaction",
            db.system.name = "postgresql",
            attempt,
            batch
        )
        .entered();
        match statement().load::<R>(pg) {
            Err(e) if attempt < crate::TX_ATTEMPTS && crate::is_retryable(&e) => {
                tracing::info!(attempt, error = %e, "batched statement retried");
                std::thread::sleep(std::time::Duration::from_millis(2 * attempt as u64));
                attempt += 1;
            }
            other => {
                if let Err(e) = &other {
                    crate::discard_if_closed(pg, e);
                }
                return other;
            }
        }
    }
}

/// Revokes sessions of any tenants at once: the sessions and their refresh tokens
/// marked, a durable record each, and per tenant one new revocation generation that
/// all its sessions of the batch share (the batch's store write for the tenant is one
/// atomic write, as for one transaction of any other kind). One statement on Postgres,
/// one transaction on SQLite. One answer per item, as [`session::revoke`] gives it.
pub fn revoke_many(
    conn: &mut Db,
    now: i64,
    items: &[(TenantId, SessionId)],
) -> Result<Vec<Option<Revoked<i64>>>> {
    if let Db::Pg(pg) = conn {
        // Sessions in one order in every batch (see [`in_lock_order`]).
        let order = in_lock_order((0..items.len()).collect(), |i| {
            (items[i].0.as_str(), items[i].1.as_str())
        });
        let statement = || {
            Prepared::new(
                REVOKE_MANY,
                vec![
                    Param::Texts(order.iter().map(|&i| items[i].0.as_str()).collect()),
                    Param::Texts(order.iter().map(|&i| items[i].1.as_str()).collect()),
                    Param::Int(now),
                ],
            )
        };
        let rows: Vec<RevokedRow> = retrying_statement(pg, items.len(), statement).db()?;
        let mut out = vec![None; items.len()];
        for row in rows {
            let at = usize::try_from(row.n - 1).ok().and_then(|n| order.get(n));
            if let Some(slot) = at.and_then(|&i| out.get_mut(i)) {
                *slot = Some(Revoked {
                    generation: row.generation,
                    what: row.expires_at,
                });
            }
        }
        return Ok(out);
    }
    revoke_in_transaction(conn, now, items)
}

/// An item of the batched revocation statement whose session the tenant has.
#[derive(QueryableByName)]
struct RevokedRow {
    /// 1-based position in the statement's input.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
    /// The session's end.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    expires_at: i64,
    /// The generation that revoked it (0: it was revoked already).
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    generation: i64,
}

/// $1 tenant ids, $2 session ids, $3 now. Each item's session is found by primary key
/// and checked to be the tenant's; the live ones have their refresh tokens marked and
/// then (once every token row is locked: tables in the order the refresh statement
/// locks them, though rows within a table may still be taken in another order, so two
/// batches in flight can deadlock and one is retried) themselves, again only if
/// still live when locked; each
/// tenant with a session revoked takes one generation, and each such session gets its
/// durable record.
const REVOKE_MANY: &str = "
WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS i(tenant_id, sid, n)
), found AS MATERIALIZED (
    SELECT i.n, s.tenant_id, s.sid, s.expires_at, s.revoked_at
    FROM input i
    CROSS JOIN LATERAL (
        SELECT s.sid, s.tenant_id, s.expires_at, s.revoked_at
        FROM sessions s WHERE s.sid = i.sid LIMIT 1) s
    WHERE s.tenant_id = i.tenant_id
), tokens AS (
    UPDATE refresh_tokens SET revoked_at = $3
    WHERE sid = ANY(ARRAY(SELECT sid FROM found WHERE revoked_at IS NULL))
      AND (tenant_id, sid) IN (SELECT tenant_id, sid FROM found)
      AND revoked_at IS NULL
    RETURNING 1
), revoked AS (
    UPDATE sessions SET revoked_at = $3
    WHERE sid = ANY(ARRAY(SELECT sid FROM found WHERE revoked_at IS NULL))
      AND (tenant_id, sid) IN (SELECT tenant_id, sid FROM found)
      AND revoked_at IS NULL
      AND (SELECT count(*) FROM tokens) >= 0
    RETURNING tenant_id, sid, expires_at
), generations AS (
    UPDATE tenants SET revocation_gen = revocation_gen + 1
    WHERE id = ANY(ARRAY(SELECT DISTINCT tenant_id FROM revoked))
    RETURNING id, revocation_gen
), recorded AS (
    INSERT INTO revocations AS r (tenant_id, kind, subject, revoked_at, expires_at, generation)
    SELECT v.tenant_id, 'sid', v.sid, $3, v.expires_at, g.revocation_gen
    FROM revoked v JOIN generations g ON g.id = v.tenant_id
    ON CONFLICT (tenant_id, kind, subject) DO UPDATE SET
        revoked_at = GREATEST(r.revoked_at, excluded.revoked_at),
        expires_at = GREATEST(r.expires_at, excluded.expires_at),
        generation = excluded.generation
)
SELECT f.n, f.expires_at, COALESCE(g.revocation_gen, 0) AS generation
FROM found f
LEFT JOIN revoked v ON v.sid = f.sid
LEFT JOIN generations g ON g.id = v.tenant_id";

/// [`revoke_many`] as one transaction of diesel statements (SQLite).
fn revoke_in_transaction(
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
            let generation = if live.is_empty() {
                0
            } else {
                session::mark_revoked(c, tenant, &live, now)?;
                revocation::next_generation(c, tenant)?
            };
            let mut records = Vec::new();
            for (sid, expires, revoked_at) in found {
                // Already revoked and recorded: no new generation (a replayed logout
                // must not make every node refill), as for one.
                let generation = if revoked_at.is_none() {
                    records.push(Revocation {
                        tenant_id: tenant.clone(),
                        kind: RevocationKind::Session,
                        subject: sid.as_str().to_owned(),
                        revoked_at: now,
                        expires_at: expires,
                        generation,
                    });
                    generation
                } else {
                    0
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

/// A login's new session, to start if its user is still active and, when
/// `password_changed_at` is given, their password has not changed since the login
/// read it (see [`session::start`]). No `Debug`: it may carry a password hash.
#[derive(Clone)]
pub struct SessionStart {
    /// The session.
    pub session: Session,
    /// Its first refresh token.
    pub first: RefreshToken,
    /// The password change time of the hash the login checked.
    pub password_changed_at: Option<i64>,
    /// A new hash of the password at the current costs, to store instead.
    pub rehash: Option<String>,
}

/// Starts each item's session as [`session::start`] does, answering whether it
/// started: on Postgres the items without a re-hash in one statement (a user's row is
/// then locked once for all their logins of the batch), the others one by one.
pub fn start_many(conn: &mut Db, items: &[SessionStart]) -> Vec<Result<bool>> {
    let mut out: Vec<Option<Result<bool>>> = items.iter().map(|_| None).collect();
    if let Db::Pg(pg) = conn {
        let group: Vec<usize> = (0..items.len())
            .filter(|&i| items[i].rehash.is_none())
            .collect();
        // Users in one order in every batch (see [`in_lock_order`]).
        let s = |i: usize| &items[i].session;
        let group = in_lock_order(group, |i| (s(i).tenant_id.as_str(), s(i).user_id.as_str()));
        if !group.is_empty() {
            let g = || group.iter().map(|&i| &items[i]);
            let statement = || {
                Prepared::new(
                    START_MANY,
                    vec![
                        Param::Texts(g().map(|i| i.session.tenant_id.as_str()).collect()),
                        Param::Texts(g().map(|i| i.session.user_id.as_str()).collect()),
                        Param::NullableInts(g().map(|i| i.password_changed_at).collect()),
                        Param::Texts(g().map(|i| i.session.sid.as_str()).collect()),
                        Param::Texts(g().map(|i| i.first.jti.as_str()).collect()),
                        Param::Ints(g().map(|i| i.session.created_at).collect()),
                        Param::Ints(g().map(|i| i.session.expires_at).collect()),
                        Param::Ints(g().map(|i| i.first.expires_at).collect()),
                        Param::NullableTexts(
                            g().map(|i| i.session.user_agent.as_deref()).collect(),
                        ),
                        Param::NullableTexts(g().map(|i| i.session.ip.as_deref()).collect()),
                    ],
                )
            };
            match retrying_statement::<Started>(pg, group.len(), statement) {
                Ok(rows) => {
                    for &i in &group {
                        out[i] = Some(Ok(false));
                    }
                    for row in rows {
                        if let Some(&i) = usize::try_from(row.n - 1).ok().and_then(|n| group.get(n))
                        {
                            out[i] = Some(Ok(true));
                        }
                    }
                }
                Err(e) => failed(&mut out, &group, &e, "session start"),
            }
        }
    }
    items
        .iter()
        .zip(out)
        .map(|(item, done)| {
            done.unwrap_or_else(|| {
                session::start(
                    conn,
                    &item.session,
                    &item.first,
                    item.password_changed_at,
                    item.rehash.as_deref(),
                )
            })
        })
        .collect()
}

/// A started item of the batched session start.
#[derive(QueryableByName)]
struct Started {
    /// 1-based position in the statement's input.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// $1 tenant ids, $2 user ids, $3 the password change times the logins checked (NULL:
/// none), $4 session ids, $5 first token ids, $6 login times, $7 session ends, $8 first
/// tokens' expiries, $9 user agents, $10 addresses. The users first (the lock order of
/// every transaction that changes a user): each active one with a login whose checked
/// password is still theirs when the row is locked gets its last login; then the
/// sessions and first tokens of exactly those logins.
const START_MANY: &str = "
WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[],
                         $6::bigint[], $7::bigint[], $8::bigint[], $9::text[], $10::text[])
        WITH ORDINALITY AS i(tenant_id, user_id, changed_at, sid, jti, created_at,
                             session_end, token_end, user_agent, ip, n)
), touched AS (
    UPDATE users AS u SET last_login = i.created_at
    FROM input i
    WHERE u.id = i.user_id AND u.tenant_id = i.tenant_id AND u.is_active
      AND (i.changed_at IS NULL OR u.password_changed_at = i.changed_at)
    RETURNING u.tenant_id, u.id, u.password_changed_at
), started AS MATERIALIZED (
    SELECT i.* FROM input i
    WHERE EXISTS (SELECT 1 FROM touched t WHERE t.id = i.user_id AND t.tenant_id = i.tenant_id
                  AND (i.changed_at IS NULL OR t.password_changed_at = i.changed_at))
), made AS (
    INSERT INTO sessions (sid, tenant_id, user_id, created_at, last_used_at, expires_at,
                          user_agent, ip, revoked_at)
    SELECT sid, tenant_id, user_id, created_at, created_at, session_end, user_agent, ip, NULL
    FROM started
), first AS (
    INSERT INTO refresh_tokens (jti, tenant_id, sid, parent_jti, user_id, issued_at,
                                expires_at, used_at, revoked_at)
    SELECT jti, tenant_id, sid, NULL, user_id, created_at, token_end, NULL, NULL
    FROM started
)
SELECT n FROM started";
