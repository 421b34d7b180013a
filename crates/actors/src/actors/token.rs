//! TokenActor: mints and verifies with the tenant's key ring (one shared `Arc` per
//! tenant, never per-instance state) and records sessions and refresh tokens.
use super::Handles;
use actix::prelude::*;
use std::sync::Arc;
use tessera_core::{
    Error, Result,
    claims::{TokenType, VerifiedClaims},
    ids::{SessionId, TenantId, TokenId, UserId},
    time::now,
    token::{Checked, Subject},
};
use tessera_store::{
    DbPool,
    models::{
        revocation::{self, Revocation},
        session::{self, RefreshToken, Revoked, Session, Successor},
        user,
    },
    pool::conn,
};

use crate::tenant::TenantCtx;

/// Mints, verifies, rotates and revokes tokens.
pub struct TokenActor(pub DbPool);

impl Actor for TokenActor {
    type Context = SyncContext<Self>;
}

/// Where a login came from (shown in the sessions list).
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// User-Agent header, truncated.
    pub user_agent: Option<String>,
    /// Client address.
    pub ip: Option<String>,
}

/// Tokens handed out by a login, a refresh or a password change.
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    /// The access token.
    pub access: String,
    /// Its lifetime, seconds.
    pub access_expires_in: i64,
    /// A refresh token, when one was issued.
    pub refresh: Option<String>,
    /// Its lifetime, seconds.
    pub refresh_expires_in: Option<i64>,
    /// Whether the tenant wants the refresh token in a cookie (browser mode).
    pub browser: bool,
    /// Whose tokens they are.
    pub user_id: UserId,
}

/// Verify a token of this tenant.
#[derive(Message)]
#[rtype(result = "Result<VerifiedClaims>")]
pub struct VerifyToken {
    /// The tenant.
    pub ctx: Arc<TenantCtx>,
    /// The compact JWS.
    pub token: String,
    /// Required token type, if any.
    pub expected: Option<TokenType>,
}

/// A session to start for a user, with its first pair ([`new_session`]).
pub struct IssuePair {
    /// The tenant.
    pub ctx: Arc<TenantCtx>,
    /// User id.
    pub user_id: UserId,
    /// The user's roles now.
    pub roles: Vec<String>,
    /// The user's external id, the tokens' `user_id` when set.
    pub external_id: Option<String>,
    /// Where the login came from.
    pub client: ClientInfo,
    /// The password change time of the hash the login checked the password
    /// against: the session starts only if the password has not changed since.
    pub password_changed_at: Option<i64>,
    /// A new hash of the password with the current costs, to store instead.
    pub rehash: Option<String>,
}

/// Revoke every session of a user in Postgres and record the cut-off `now`.
#[derive(Message)]
#[rtype(result = "Result<Revoked<Vec<(SessionId, i64)>>>")]
pub struct RevokeUserRecord {
    /// Tenant id.
    pub tenant_id: TenantId,
    /// User id.
    pub user_id: UserId,
    /// The cut-off time.
    pub at: i64,
    /// How long the cut-off must last.
    pub lasts_until: i64,
}

/// The tenant's revocation generation and its revocations still in force after a
/// generation (to refill the revocation store).
#[derive(Message)]
#[rtype(result = "Result<(i64, Vec<Revocation>)>")]
pub struct LiveRevocations {
    /// Tenant id.
    pub tenant_id: TenantId,
    /// Only those after this generation (`None`: all).
    pub after: Option<i64>,
}

impl Handles<VerifyToken> for TokenActor {
    type Result = Result<VerifiedClaims>;
    fn handle(&mut self, m: VerifyToken, _: &mut SyncContext<Self>) -> Self::Result {
        match m.ctx.ring.check(&m.token, m.expected)? {
            Checked::Tessera(claims) => Ok(claims),
            // A kid-less token of the system the tenant moved from: its user is the
            // active one whose external id it names; its jti stands for its session.
            Checked::Legacy(l) => {
                tessera_core::password::check_external_id(&l.user_id)
                    .map_err(|_| Error::TokenNotValid("Token is invalid"))?;
                let user = user::by_external_id(&mut *conn(&self.0)?, &m.ctx.id, &l.user_id)?
                    .filter(|u| u.is_active)
                    .ok_or(Error::TokenNotValid("Token is invalid"))?;
                let sid = SessionId::parse(l.jti.as_str())
                    .ok_or(Error::TokenNotValid("Token is invalid"))?;
                Ok(VerifiedClaims {
                    sub: user.id,
                    exp: l.exp,
                    iat: l.iat,
                    jti: l.jti,
                    sid,
                    token_type: l.token_type,
                    legacy: true,
                })
            }
        }
    }
}

/// Start a session in exchange for a verified legacy refresh token, once.
#[derive(Message)]
#[rtype(result = "Result<(IssuedTokens, i64)>")]
pub struct ExchangeLegacy {
    /// The tenant.
    pub ctx: Arc<TenantCtx>,
    /// The legacy token's claims (its user resolved).
    pub claims: VerifiedClaims,
    /// Where the request came from.
    pub client: ClientInfo,
}

impl Handles<ExchangeLegacy> for TokenActor {
    type Result = Result<(IssuedTokens, i64)>;
    fn handle(&mut self, m: ExchangeLegacy, _: &mut SyncContext<Self>) -> Self::Result {
        let c = &mut *conn(&self.0)?;
        let user = user::by_id(c, &m.ctx.id, &m.claims.sub)?
            .ok_or(Error::TokenNotValid("Token is invalid"))?;
        let issue = IssuePair {
            ctx: m.ctx,
            user_id: user.id.clone(),
            roles: user.role_list(),
            external_id: user.external_id.clone(),
            client: m.client,
            password_changed_at: None,
            rehash: None,
        };
        let (session, first, tokens) = new_session(&issue)?;
        let generation =
            session::start_from_legacy(c, &session, &first, &m.claims.jti, m.claims.exp)?;
        Ok((tokens, generation))
    }
}

/// Revoke single tokens by jti in the database, each until its expiry; replies
/// with the revocation generation.
#[derive(Message)]
#[rtype(result = "Result<i64>")]
pub struct RevokeTokensRecord {
    /// Tenant id.
    pub tenant_id: TenantId,
    /// `(jti, exp)` pairs.
    pub tokens: Vec<(String, i64)>,
}

impl Handles<RevokeTokensRecord> for TokenActor {
    type Result = Result<i64>;
    fn handle(&mut self, m: RevokeTokensRecord, _: &mut SyncContext<Self>) -> Self::Result {
        revocation::revoke_tokens(&mut *conn(&self.0)?, &m.tenant_id, &m.tokens, now())
    }
}

fn truncate(s: Option<String>, max: usize) -> Option<String> {
    s.map(|s| s.chars().take(max).collect())
}

/// A new session for the user of `m`, its first refresh token, and the pair minted
/// for it; nothing stored yet (minted on the request's task: no database needed).
pub fn new_session(m: &IssuePair) -> Result<(Session, RefreshToken, IssuedTokens)> {
    let s = &m.ctx.settings;
    let t = now();
    let sid = SessionId::generate();
    let jti = TokenId::generate();
    let session_end = t + s.session_max_lifetime;
    let subject = Subject {
        user_id: &m.user_id,
        external_id: m.external_id.as_deref(),
        roles: &m.roles,
        sid: &sid,
        custom: &s.custom_claims,
    };
    let (refresh, refresh_exp) = m.ctx.ring.mint(
        TokenType::Refresh,
        subject,
        &jti,
        t,
        s.refresh_token_ttl,
        Some(session_end),
    )?;
    let (access, access_exp) = m.ctx.ring.mint(
        TokenType::Access,
        subject,
        &TokenId::generate(),
        t,
        s.access_token_ttl,
        None,
    )?;
    let session = Session {
        sid: sid.clone(),
        tenant_id: m.ctx.id.clone(),
        user_id: m.user_id.clone(),
        created_at: t,
        last_used_at: t,
        expires_at: session_end,
        user_agent: truncate(m.client.user_agent.clone(), 512),
        ip: truncate(m.client.ip.clone(), 64),
        revoked_at: None,
    };
    let first = RefreshToken {
        jti,
        tenant_id: m.ctx.id.clone(),
        sid,
        parent_jti: None,
        user_id: m.user_id.clone(),
        issued_at: t,
        expires_at: refresh_exp,
        used_at: None,
        revoked_at: None,
    };
    let tokens = IssuedTokens {
        user_id: m.user_id.clone(),
        browser: s.refresh_cookie,
        access,
        access_expires_in: access_exp - t,
        refresh: Some(refresh),
        refresh_expires_in: Some(refresh_exp - t),
    };
    Ok((session, first, tokens))
}

/// The pair a refresh hands out once its batch committed: a new access token and,
/// when the tenant rotates, the successor recorded for it. Roles and custom claims
/// come from the user as the database read them now, never from the old token.
pub fn mint_refreshed(
    ctx: &TenantCtx,
    sid: &SessionId,
    user: &user::User,
    session_end: i64,
    next: Option<Successor>,
) -> Result<IssuedTokens> {
    let s = &ctx.settings;
    let t = now();
    let roles = user.role_list();
    let subject = Subject {
        user_id: &user.id,
        external_id: user.external_id.as_deref(),
        roles: &roles,
        sid,
        custom: &s.custom_claims,
    };
    let (access, access_exp) = ctx.ring.mint(
        TokenType::Access,
        subject,
        &TokenId::generate(),
        t,
        s.access_token_ttl,
        Some(session_end),
    )?;
    let refresh = match (s.rotate_refresh_tokens, next) {
        (true, Some(next)) => {
            // Exactly the end the database recorded, even when this second is later
            // than the batch's own "now" (the successor's life may then be over).
            let life = next.expires_at - t;
            let (token, exp) =
                ctx.ring
                    .mint(TokenType::Refresh, subject, &next.jti, t, life, None)?;
            Some((token, (exp - t).max(0)))
        }
        (false, _) => None,
        (true, None) => return Err(Error::Internal("rotation recorded without expiry".into())),
    };
    Ok(IssuedTokens {
        user_id: user.id.clone(),
        browser: s.refresh_cookie,
        access,
        access_expires_in: access_exp - t,
        refresh_expires_in: refresh.as_ref().map(|r| r.1),
        refresh: refresh.map(|r| r.0),
    })
}

impl Handles<RevokeUserRecord> for TokenActor {
    type Result = Result<Revoked<Vec<(SessionId, i64)>>>;
    fn handle(&mut self, m: RevokeUserRecord, _: &mut SyncContext<Self>) -> Self::Result {
        session::revoke_user(
            &mut *conn(&self.0)?,
            &m.tenant_id,
            &m.user_id,
            m.at,
            m.lasts_until,
        )
    }
}

impl Handles<LiveRevocations> for TokenActor {
    type Result = Result<(i64, Vec<Revocation>)>;
    fn handle(&mut self, m: LiveRevocations, _: &mut SyncContext<Self>) -> Self::Result {
        revocation::live(&mut *conn(&self.0)?, &m.tenant_id, now(), m.after)
    }
}

/// Whether a refresh token can still be exchanged (not rotated out or revoked).
#[derive(Message)]
#[rtype(result = "Result<bool>")]
pub struct RefreshTokenLive {
    /// Tenant id.
    pub tenant_id: TenantId,
    /// The refresh token's jti.
    pub jti: TokenId,
}

impl Handles<RefreshTokenLive> for TokenActor {
    type Result = Result<bool>;
    fn handle(&mut self, m: RefreshTokenLive, _: &mut SyncContext<Self>) -> Self::Result {
        session::refresh_token_is_live(&mut *conn(&self.0)?, &m.tenant_id, &m.jti, now())
    }
}

/// A page of a user's live sessions, newest first.
#[derive(Message)]
#[rtype(result = "Result<Vec<Session>>")]
pub struct ListSessions {
    /// Tenant id.
    pub tenant_id: TenantId,
    /// User id.
    pub user_id: UserId,
    /// Cursor: `(created_at, sid)` of the last session of the previous page.
    pub after: Option<(i64, String)>,
    /// Page size.
    pub limit: i64,
}

/// Revoke one of the user's own live sessions; replies with its end, or `None`
/// when the user has no such live session.
#[derive(Message)]
#[rtype(result = "Result<Option<Revoked<i64>>>")]
pub struct RevokeOwnSession {
    /// Tenant id.
    pub tenant_id: TenantId,
    /// User id.
    pub user_id: UserId,
    /// Session id.
    pub sid: SessionId,
}

impl Handles<ListSessions> for TokenActor {
    type Result = Result<Vec<Session>>;
    fn handle(&mut self, m: ListSessions, _: &mut SyncContext<Self>) -> Self::Result {
        let after = m.after.as_ref().map(|(at, sid)| (*at, sid.as_str()));
        session::live_for_user(
            &mut *conn(&self.0)?,
            &m.tenant_id,
            &m.user_id,
            now(),
            after,
            m.limit,
        )
    }
}

impl Handles<RevokeOwnSession> for TokenActor {
    type Result = Result<Option<Revoked<i64>>>;
    fn handle(&mut self, m: RevokeOwnSession, _: &mut SyncContext<Self>) -> Self::Result {
        let mut c = conn(&self.0)?;
        let t = now();
        if !session::is_live_for_user(&mut c, &m.tenant_id, &m.user_id, &m.sid, t)? {
            return Ok(None);
        }
        session::revoke(&mut c, &m.tenant_id, &m.sid, t)
    }
}
