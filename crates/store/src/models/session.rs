//! `sessions` and `refresh_tokens`: one login is a session; its refresh tokens form a
//! family rotated with reuse detection in one atomic `UPDATE … RETURNING`.
use diesel::prelude::*;
use tessera_core::{
    Error, Result,
    ids::{SessionId, TenantId, TokenId, UserId},
    revocation::RevocationKind,
};

use crate::{
    Db, DbResultExt,
    models::{
        revocation,
        session_batch::{RefreshItem, refresh_many},
        user::User,
    },
    schema::{refresh_tokens, revocations, sessions, users},
};

/// A session row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct Session {
    /// Session id, the `sid` claim.
    pub sid: SessionId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// The user logged in.
    pub user_id: UserId,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last refresh.
    pub last_used_at: i64,
    /// Hard end of the session (`session_max_lifetime`).
    pub expires_at: i64,
    /// Client's User-Agent at login.
    pub user_agent: Option<String>,
    /// Client address at login.
    pub ip: Option<String>,
    /// Set when revoked.
    pub revoked_at: Option<i64>,
}

/// A refresh token row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshToken {
    /// Token id.
    pub jti: TokenId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Its session.
    pub sid: SessionId,
    /// The token it was rotated from.
    pub parent_jti: Option<TokenId>,
    /// The user.
    pub user_id: UserId,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// Set when rotated out.
    pub used_at: Option<i64>,
    /// Set when revoked.
    pub revoked_at: Option<i64>,
}

/// Records a new session, its first refresh token, and the user's last login, at
/// once — if the user is still active and, when `password_changed_at` is given,
/// their password has not changed since the login read it (a login that checked the
/// old password never starts a session after a password change; a change always
/// moves this time forward, see [`crate::models::user::set_password`]). `rehash`
/// replaces the hash with one of the same password at the current costs, in the same
/// statement (a rehash is no change: two logins racing to rehash both succeed).
/// Returns whether the session started.
pub fn start(
    conn: &mut Db,
    session: &Session,
    first: &RefreshToken,
    password_changed_at: Option<i64>,
    rehash: Option<&str>,
) -> Result<bool> {
    crate::retrying(conn, |c| {
        // The user row first: the lock order of every transaction that changes a user.
        let mut q = diesel::update(users::table)
            .filter(users::tenant_id.eq(&session.tenant_id))
            .filter(users::id.eq(&session.user_id))
            .filter(users::is_active.eq(true))
            .into_boxed();
        if let Some(at) = password_changed_at {
            q = q.filter(users::password_changed_at.eq(at));
        }
        let touched = match rehash.filter(|_| password_changed_at.is_some()) {
            Some(new) => q
                .set((
                    users::last_login.eq(session.created_at),
                    users::password_hash.eq(new),
                ))
                .execute(c)?,
            None => q.set(users::last_login.eq(session.created_at)).execute(c)?,
        };
        if touched == 0 {
            return Ok(false);
        }
        diesel::insert_into(sessions::table)
            .values(session)
            .execute(c)?;
        diesel::insert_into(refresh_tokens::table)
            .values(first)
            .execute(c)?;
        Ok(true)
    })
}

/// Starts a session in exchange for a legacy refresh token (one the system the
/// tenant moved from issued, `legacy_jti`, valid until `legacy_exp`), once: the
/// legacy token is recorded as revoked in the same transaction, so presenting it
/// again is refused on every node, durably. The user must still be active. Returns
/// the revocation generation the record took.
pub fn start_from_legacy(
    conn: &mut Db,
    session: &Session,
    first: &RefreshToken,
    legacy_jti: &TokenId,
    legacy_exp: i64,
) -> Result<i64> {
    let tenant_id = &session.tenant_id;
    crate::transaction(conn, |c| {
        // The user row first (every user transaction's lock order), then the
        // tenant's generation, which serializes two exchanges of the same token.
        let active = diesel::update(users::table)
            .filter(users::tenant_id.eq(tenant_id))
            .filter(users::id.eq(&session.user_id))
            .filter(users::is_active.eq(true))
            .set(users::is_active.eq(true))
            .execute(c)
            .db()?;
        if active == 0 {
            return Err(Error::TokenNotValid("User is inactive"));
        }
        let generation = revocation::next_generation(c, tenant_id).db()?;
        if revocation::exists(c, tenant_id, RevocationKind::Token, legacy_jti.as_str())? {
            // Rolled back: the generation is not taken.
            return Err(Error::TokenNotValid("Token has already been used"));
        }
        revocation::upsert(
            c,
            tenant_id,
            RevocationKind::Token,
            legacy_jti.as_str(),
            (session.created_at, legacy_exp),
            generation,
        )
        .db()?;
        diesel::insert_into(sessions::table)
            .values(session)
            .execute(c)
            .db()?;
        diesel::insert_into(refresh_tokens::table)
            .values(first)
            .execute(c)
            .db()?;
        Ok(generation)
    })
}

/// What presenting a refresh token led to.
#[derive(Debug)]
pub enum RefreshOutcome {
    /// Accepted: the user as of now, and the session's hard end.
    Accepted {
        /// The user, re-read now (roles are never copied from the old token).
        user: Box<User>,
        /// The session's `expires_at`.
        session_expires_at: i64,
    },
    /// The token was already rotated out: reuse of a stolen or replayed token.
    Reused {
        /// The session to revoke.
        sid: SessionId,
    },
    /// Unknown, revoked, expired, or its session or user is no longer valid.
    Rejected,
}

/// The new refresh token to record when rotating.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// New token id.
    pub jti: TokenId,
    /// Lifetime of a refresh token, seconds.
    pub ttl: i64,
    /// Seconds after its rotation within which a rotated-out token presented again
    /// gets its (unused) successor again instead of counting as reuse; 0 is strict.
    pub reuse_interval: i64,
}

/// The refresh token that succeeds the one presented: to sign and hand out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Successor {
    /// Its id: the new one, or within the reuse interval the one already issued.
    pub jti: TokenId,
    /// Its expiry (never past the session's end).
    pub expires_at: i64,
}

/// Exchanges the refresh token `jti`: with `rotate`, marks it used in one atomic
/// `UPDATE … WHERE used_at IS NULL RETURNING` and records its successor (whose
/// `expires_at` never passes the session's end); without, checks it is still good.
/// A token rotated out less than `reuse_interval` seconds ago, whose successor is
/// still unused, gets that successor again. Returns the outcome and, when rotated,
/// the successor.
pub fn refresh(
    conn: &mut Db,
    tenant_id: &TenantId,
    jti: &TokenId,
    now: i64,
    rotate: Option<&Rotation>,
) -> Result<(RefreshOutcome, Option<Successor>)> {
    let item = RefreshItem {
        tenant_id: tenant_id.clone(),
        jti: jti.clone(),
        rotate: rotate.cloned(),
    };
    let mut done = refresh_many(conn, now, std::slice::from_ref(&item));
    done.pop()
        .unwrap_or_else(|| Err(Error::Internal("a batch of one gave no answer".into())))
}

/// [`refresh`] in its own transaction, step by step: what a batch could not decide
/// (reuse, a replay within the reuse interval, a refused token), and every refresh on
/// SQLite.
pub(crate) fn refresh_general(
    conn: &mut Db,
    tenant_id: &TenantId,
    jti: &TokenId,
    now: i64,
    rotate: Option<&Rotation>,
) -> Result<(RefreshOutcome, Option<Successor>)> {
    use refresh_tokens::dsl as rt;
    crate::retrying(conn, |c| {
        if refused_by_record(c, tenant_id, jti, now)? {
            return Ok((RefreshOutcome::Rejected, None));
        }
        let live = rt::refresh_tokens
            .filter(rt::tenant_id.eq(tenant_id))
            .filter(rt::jti.eq(jti))
            .filter(rt::revoked_at.is_null())
            .filter(rt::expires_at.gt(now));
        let found: Option<(SessionId, UserId)> = if rotate.is_some() {
            diesel::update(live.filter(rt::used_at.is_null()))
                .set(rt::used_at.eq(now))
                .returning((rt::sid, rt::user_id))
                .get_result(c)
                .optional()?
        } else {
            live.select((rt::sid, rt::user_id)).first(c).optional()?
        };
        let mut replayed = None;
        let (sid, user_id) = match found {
            Some(found) => found,
            None => {
                let used: Option<(Option<i64>, SessionId, UserId)> = rt::refresh_tokens
                    .filter(rt::tenant_id.eq(tenant_id))
                    .filter(rt::jti.eq(jti))
                    .filter(rt::revoked_at.is_null())
                    .select((rt::used_at, rt::sid, rt::user_id))
                    .first(c)
                    .optional()?;
                let Some((Some(used_at), sid, user_id)) = used else {
                    return Ok((RefreshOutcome::Rejected, None));
                };
                let window = rotate.map_or(0, |r| r.reuse_interval);
                let successor = if window > 0 && now - used_at <= window {
                    // By session and parent: the index on (sid, parent_jti).
                    rt::refresh_tokens
                        .filter(rt::tenant_id.eq(tenant_id))
                        .filter(rt::sid.eq(&sid))
                        .filter(rt::parent_jti.eq(jti))
                        .filter(rt::used_at.is_null())
                        .filter(rt::revoked_at.is_null())
                        .filter(rt::expires_at.gt(now))
                        .select((rt::jti, rt::expires_at))
                        .first::<(TokenId, i64)>(c)
                        .optional()?
                } else {
                    None
                };
                match successor {
                    // A lost answer or a second tab: the same successor again.
                    Some((jti, expires_at)) => {
                        replayed = Some(Successor { jti, expires_at });
                        (sid, user_id)
                    }
                    None => return Ok((RefreshOutcome::Reused { sid }, None)),
                }
            }
        };
        let session: Option<i64> = sessions::table
            .filter(sessions::tenant_id.eq(tenant_id))
            .filter(sessions::sid.eq(&sid))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(now))
            .select(sessions::expires_at)
            .first(c)
            .optional()?;
        let user: Option<User> = users::table
            .filter(users::tenant_id.eq(tenant_id))
            .filter(users::id.eq(&user_id))
            .filter(users::is_active.eq(true))
            .select(User::as_select())
            .first(c)
            .optional()?;
        let (Some(session_expires_at), Some(user)) = (session, user) else {
            return Ok((RefreshOutcome::Rejected, None));
        };
        diesel::update(sessions::table.find(&sid))
            .set(sessions::last_used_at.eq(now))
            .execute(c)?;
        let mut next = replayed.clone();
        if let Some(rot) = rotate.filter(|_| replayed.is_none()) {
            let exp = (now + rot.ttl).min(session_expires_at);
            diesel::insert_into(refresh_tokens::table)
                .values(&RefreshToken {
                    jti: rot.jti.clone(),
                    tenant_id: tenant_id.clone(),
                    sid: sid.clone(),
                    parent_jti: Some(jti.clone()),
                    user_id: user_id.clone(),
                    issued_at: now,
                    expires_at: exp,
                    used_at: None,
                    revoked_at: None,
                })
                .execute(c)?;
            next = Some(Successor {
                jti: rot.jti.clone(),
                expires_at: exp,
            });
        }
        Ok((
            RefreshOutcome::Accepted {
                user: Box::new(user),
                session_expires_at,
            },
            next,
        ))
    })
}

/// Whether a revocation record in force at `now` refuses the refresh token `jti`
/// beyond its own and its session's marks: a cut-off of its user after it was issued,
/// or its id listed (an imported blacklist). With those marks, what the revocation
/// store would check (see `live_tokens!` for the batched statement).
fn refused_by_record(
    c: &mut Db,
    tenant_id: &TenantId,
    jti: &TokenId,
    now: i64,
) -> QueryResult<bool> {
    use diesel::dsl::{exists, select};
    use refresh_tokens::dsl as rt;
    let token: Option<(UserId, i64)> = rt::refresh_tokens
        .filter(rt::tenant_id.eq(tenant_id))
        .filter(rt::jti.eq(jti))
        .select((rt::user_id, rt::issued_at))
        .first(c)
        .optional()?;
    let Some((user_id, issued_at)) = token else {
        return Ok(false);
    };
    let cut = revocations::kind
        .eq(RevocationKind::User)
        .and(revocations::subject.eq(user_id.as_str()))
        .and(revocations::revoked_at.gt(issued_at));
    let listed = revocations::kind
        .eq(RevocationKind::Token)
        .and(revocations::subject.eq(jti.as_str()));
    select(exists(
        revocations::table
            .filter(revocations::tenant_id.eq(tenant_id))
            .filter(revocations::expires_at.gt(now))
            .filter(cut.or(listed)),
    ))
    .get_result(c)
}

/// What a revoking transaction committed: the tenant's revocation generation it
/// took, and what it revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked<T> {
    /// The generation of the rows written (see [`revocation::next_generation`]).
    pub generation: i64,
    /// What was revoked.
    pub what: T,
}

/// Revokes one session of the tenant: the session, its refresh tokens, and a durable
/// revocation record. Returns the session's end (how long the revocation must last),
/// or `None` if the tenant has no such session.
pub fn revoke(
    conn: &mut Db,
    tenant_id: &TenantId,
    sid: &SessionId,
    now: i64,
) -> Result<Option<Revoked<i64>>> {
    crate::retrying(conn, |c| {
        let found: Option<(i64, Option<i64>)> = sessions::table
            .filter(sessions::tenant_id.eq(tenant_id))
            .filter(sessions::sid.eq(sid))
            .select((sessions::expires_at, sessions::revoked_at))
            .first(c)
            .optional()?;
        let Some((expires, revoked_at)) = found else {
            return Ok(None);
        };
        if revoked_at.is_some() {
            // Already revoked and recorded: no new generation (a replayed logout must
            // not make every node refill), the store's entry is written again.
            return Ok(Some(Revoked {
                generation: 0,
                what: expires,
            }));
        }
        mark_revoked(c, tenant_id, std::slice::from_ref(sid), now)?;
        let generation = revocation::next_generation(c, tenant_id)?;
        revocation::upsert(
            c,
            tenant_id,
            RevocationKind::Session,
            sid.as_str(),
            (now, expires),
            generation,
        )?;
        Ok(Some(Revoked {
            generation,
            what: expires,
        }))
    })
}

/// Revokes every live session of a user and records the user's cut-off (`now`):
/// every token issued before it stops working. Returns the revoked sessions with
/// their ends, and how long the cut-off must last.
pub fn revoke_user(
    conn: &mut Db,
    tenant_id: &TenantId,
    user_id: &UserId,
    now: i64,
    cutoff_lasts_until: i64,
) -> Result<Revoked<Vec<(SessionId, i64)>>> {
    crate::retrying(conn, |c| {
        revoke_user_in(c, tenant_id, user_id, now, cutoff_lasts_until)
    })
}

/// [`revoke_user`] inside the caller's transaction.
pub fn revoke_user_in(
    c: &mut Db,
    tenant_id: &TenantId,
    user_id: &UserId,
    now: i64,
    cutoff_lasts_until: i64,
) -> QueryResult<Revoked<Vec<(SessionId, i64)>>> {
    let live: Vec<(SessionId, i64)> = sessions::table
        .filter(sessions::tenant_id.eq(tenant_id))
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select((sessions::sid, sessions::expires_at))
        .load(c)?;
    let sids: Vec<SessionId> = live.iter().map(|(s, _)| s.clone()).collect();
    mark_revoked(c, tenant_id, &sids, now)?;
    let generation = revocation::next_generation(c, tenant_id)?;
    for (sid, exp) in &live {
        revocation::upsert(
            c,
            tenant_id,
            RevocationKind::Session,
            sid.as_str(),
            (now, *exp),
            generation,
        )?;
    }
    revocation::upsert(
        c,
        tenant_id,
        RevocationKind::User,
        user_id.as_str(),
        (now, cutoff_lasts_until),
        generation,
    )?;
    Ok(Revoked {
        generation,
        what: live,
    })
}

/// Marks sessions and their refresh tokens revoked. Refresh tokens are locked before
/// sessions, the order a refresh takes them in, so the two never deadlock.
pub(crate) fn mark_revoked(
    c: &mut Db,
    tenant_id: &TenantId,
    sids: &[SessionId],
    now: i64,
) -> QueryResult<()> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::tenant_id.eq(tenant_id))
            .filter(refresh_tokens::sid.eq_any(sids))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(c)?;
    diesel::update(
        sessions::table
            .filter(sessions::tenant_id.eq(tenant_id))
            .filter(sessions::sid.eq_any(sids))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(c)?;
    Ok(())
}

/// A user's live sessions, newest first, after the cursor `(created_at, sid)`.
pub fn live_for_user(
    conn: &mut Db,
    tenant_id: &TenantId,
    user_id: &UserId,
    now: i64,
    after: Option<(i64, &str)>,
    limit: i64,
) -> Result<Vec<Session>> {
    let mut q = sessions::table
        .filter(sessions::tenant_id.eq(tenant_id.clone()))
        .filter(sessions::user_id.eq(user_id.clone()))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select(Session::as_select())
        .order((sessions::created_at.desc(), sessions::sid.desc()))
        .limit(limit)
        .into_boxed();
    if let Some((at, sid)) = after {
        q = q.filter(
            sessions::created_at.lt(at).or(sessions::created_at
                .eq(at)
                .and(sessions::sid.lt(sid.to_owned()))),
        );
    }
    q.load(conn).db()
}

/// Whether `sid` is a live session of this user.
pub fn is_live_for_user(
    conn: &mut Db,
    tenant_id: &TenantId,
    user_id: &UserId,
    sid: &SessionId,
    now: i64,
) -> Result<bool> {
    let n: i64 = sessions::table
        .filter(sessions::tenant_id.eq(tenant_id))
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::sid.eq(sid))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .count()
        .get_result(conn)
        .db()?;
    Ok(n > 0)
}

/// Whether the refresh token `jti` of the tenant can still be exchanged: recorded,
/// not rotated out, not revoked, not expired (what `/token/verify` checks of a
/// refresh token, as simplejwt's blacklist app does).
pub fn refresh_token_is_live(
    conn: &mut Db,
    tenant_id: &TenantId,
    jti: &TokenId,
    now: i64,
) -> Result<bool> {
    let n: i64 = refresh_tokens::table
        .filter(refresh_tokens::tenant_id.eq(tenant_id))
        .filter(refresh_tokens::jti.eq(jti))
        .filter(refresh_tokens::used_at.is_null())
        .filter(refresh_tokens::revoked_at.is_null())
        .filter(refresh_tokens::expires_at.gt(now))
        .count()
        .get_result(conn)
        .db()?;
    Ok(n > 0)
}
