//! Token services: login, refresh, verify, revoke, revoke-all, and authenticating a
//! Bearer access token (verify + one revocation round trip).
use secrecy::{ExposeSecret, SecretString};
use std::sync::{Arc, atomic::Ordering};
use tessera_core::{
    Error, Result,
    claims::{TokenType, VerifiedClaims},
    ids::{SessionId, TenantId, TokenId, UserId},
    password::{MAX_PASSWORD_CHARS, check_username, username_key},
    time::now,
    token::{Checked, from_authorization},
};
use tessera_revocation::{Entry, RevocationKind, Status};
use tessera_store::models::{
    session::{RefreshOutcome, Rotation},
    session_batch::{RefreshItem, SessionStart},
    user::User,
};

use crate::{
    Hub,
    actors::{
        Attempted, CheckRevoked, ClientInfo, ExchangeLegacy, FindUserByName, IssuePair,
        IssuedTokens, LiveRevocations, RateAttempt, Refill, RefreshTokenLive, RevokeTokensRecord,
        RevokeUserRecord, SessionRevocation, VerifyPassword, VerifyToken, mint_refreshed,
        new_session,
    },
    metrics::LoginOutcome,
    tenant::TenantCtx,
    views::{TokenPair, Verified},
};

impl From<IssuedTokens> for TokenPair {
    fn from(t: IssuedTokens) -> Self {
        TokenPair {
            access: t.access,
            refresh: t.refresh,
            token_type: "Bearer",
            expires_in: t.access_expires_in,
            refresh_expires_in: t.refresh_expires_in,
            csrf_token: None,
            browser: t.browser,
        }
    }
}

impl Hub {
    /// `POST /token`: checks the password (argon2id on the hasher threads, against
    /// a dummy hash for an unknown user) and starts a session.
    pub async fn login(
        &self,
        slug: &str,
        username: &str,
        password: SecretString,
        client: ClientInfo,
    ) -> Result<TokenPair> {
        let ctx = self.tenant(slug).await?;
        // Rate limits first (per address, per username and address, per username),
        // so a flood of guesses never reaches the password hasher.
        let what = Attempted::Login(username_key(username));
        let from = client.ip.clone().unwrap_or_default();
        if let Err(e) = self.rate_limit(&ctx, what, &client).await {
            if matches!(e, Error::RateLimited { .. }) {
                self.metrics.login(&ctx.slug, LoginOutcome::RateLimited);
                tracing::info!(tenant = %ctx.slug, client = %from, "login refused: rate limited");
            }
            return Err(e);
        }
        // A username no user can have is not looked up (the hash below still runs).
        let user = if check_username(username).is_err() {
            None
        } else {
            let find = FindUserByName {
                tenant_id: ctx.id.clone(),
                username: username.to_owned(),
            };
            self.ask(&self.users, find).await?
        };
        let password = if password.expose_secret().chars().count() > MAX_PASSWORD_CHARS {
            SecretString::from("")
        } else {
            password
        };
        let verify = VerifyPassword {
            hash: user.as_ref().map(|u| u.password_hash.clone()),
            password,
        };
        let verdict = self
            .ask_within(&self.hasher, verify, self.hash_timeout)
            .await?;
        let user = match user {
            Some(u) if verdict.ok && u.is_active => u,
            _ => {
                self.metrics.login(&ctx.slug, LoginOutcome::Failed);
                tracing::info!(tenant = %ctx.slug, client = %from, "login failed");
                return Err(Error::InvalidCredentials);
            }
        };
        self.metrics.login(&ctx.slug, LoginOutcome::Succeeded);
        let tenant_id = ctx.id.clone();
        let issue = IssuePair {
            ctx,
            user_id: user.id.clone(),
            roles: user.role_list(),
            external_id: user.external_id.clone(),
            client,
            password_changed_at: Some(user.password_changed_at),
            rehash: verdict.rehash,
        };
        let tokens = self.start_session(issue).await?;
        // The login set last_login: the profile changed.
        self.user_changed(&tenant_id, &tokens.user_id).await;
        Ok(tokens.into())
    }

    /// Mints a new session's pair and records the session with the other logins of
    /// its batch; refused (as bad credentials) when the user is no longer active or
    /// their password changed since the login checked it.
    async fn start_session(&self, issue: IssuePair) -> Result<IssuedTokens> {
        let (session, first, tokens) = new_session(&issue)?;
        let start = SessionStart {
            session,
            first,
            password_changed_at: issue.password_changed_at,
            rehash: issue.rehash,
        };
        if !self.session_starts.commit(start).await? {
            return Err(Error::InvalidCredentials);
        }
        Ok(tokens)
    }

    /// Counts an attempt to log in, sign up or change a password against the
    /// tenant's `login_rate_limit`: 429 with the wait when it is over, before any
    /// hashing happens.
    pub(crate) async fn rate_limit(
        &self,
        ctx: &TenantCtx,
        what: Attempted,
        client: &ClientInfo,
    ) -> Result<()> {
        let attempt = RateAttempt {
            tenant_id: ctx.id.clone(),
            what,
            ip: client.ip.clone(),
            limit: ctx.settings.login_rate_limit.into(),
        };
        match self.ask(&self.blacklist, attempt).await? {
            Some(retry_after) => Err(Error::RateLimited {
                retry_after: retry_after.max(1) as u64,
            }),
            None => Ok(()),
        }
    }

    /// Issues a fresh pair for a user in a new session.
    pub(crate) async fn issue(
        &self,
        ctx: Arc<TenantCtx>,
        user: &User,
        client: ClientInfo,
    ) -> Result<TokenPair> {
        let tenant_id = ctx.id.clone();
        let tokens = self
            .start_session(IssuePair {
                ctx,
                user_id: user.id.clone(),
                roles: user.role_list(),
                external_id: user.external_id.clone(),
                client,
                password_changed_at: None,
                rehash: None,
            })
            .await?;
        self.user_changed(&tenant_id, &tokens.user_id).await;
        Ok(tokens.into())
    }

    /// `POST /token/refresh`: a refresh token works once when the tenant rotates;
    /// presenting a rotated-out one revokes its whole session.
    /// A legacy (simplejwt) refresh token is exchanged once for a new session;
    /// `client` says where the request came from, for that session.
    pub async fn refresh(
        &self,
        slug: &str,
        token: String,
        client: impl FnOnce() -> ClientInfo,
    ) -> Result<TokenPair> {
        let ctx = self.tenant(slug).await?;
        let claims = self
            .verify_token(&ctx, token, Some(TokenType::Refresh))
            .await?;
        if claims.legacy {
            let claims = self.unrevoked(&ctx, claims).await?;
            return self.exchange_legacy(ctx, claims, client()).await;
        }
        // No Redis check: Postgres decides whether this token is revoked, in the
        // statement that uses it. Revoking a session or a user marks its tokens and
        // sessions in the transaction that records the revocation, and the statement
        // looks up the records a mark may miss (a user cut-off, a listed jti); Redis
        // only caches those records. So the batch refuses a revoked token, and a
        // logout committed while this refresh waited wins over it.
        let s = &ctx.settings;
        let item = RefreshItem {
            tenant_id: ctx.id.clone(),
            jti: claims.jti.clone(),
            rotate: s.rotate_refresh_tokens.then(|| Rotation {
                jti: TokenId::generate(),
                ttl: s.refresh_token_ttl,
                reuse_interval: s.refresh_reuse_interval,
            }),
        };
        // Committed (with the other refreshes of its batch) before anything is minted.
        let (outcome, next) = self.refreshes.commit(item).await?;
        match outcome {
            RefreshOutcome::Accepted {
                user,
                session_expires_at,
            } => Ok(mint_refreshed(&ctx, &claims.sid, &user, session_expires_at, next)?.into()),
            RefreshOutcome::Rejected => Err(Error::TokenNotValid("Token is invalid or expired")),
            RefreshOutcome::Reused { sid } => {
                tracing::warn!(tenant = %ctx.slug, %sid, "refresh token reuse detected: session revoked");
                self.metrics.reuse(&ctx.slug);
                self.revoke_session(&ctx, &sid, now() + ctx.longest_token_life())
                    .await?;
                Err(Error::TokenNotValid("Token has already been used"))
            }
        }
    }

    /// Exchanges a verified legacy refresh token for a Tessera pair in a new session,
    /// once: the legacy token is revoked by the same transaction, then on every node.
    async fn exchange_legacy(
        &self,
        ctx: Arc<TenantCtx>,
        claims: VerifiedClaims,
        client: ClientInfo,
    ) -> Result<TokenPair> {
        let (jti, exp) = (claims.jti.to_string(), claims.exp);
        let exchange = ExchangeLegacy {
            ctx: ctx.clone(),
            claims,
            client,
        };
        let (tokens, generation) = self.ask(&self.tokens, exchange).await?;
        self.user_changed(&ctx.id, &tokens.user_id).await;
        let entry = token_entry(&ctx.id, jti, now(), exp);
        // Committed: the legacy token is spent in the database, which every node's
        // generation check refills from; a failed store write must not cost the user
        // the pair they were exchanging it for.
        if let Err(e) = self
            .revoke_entries(&ctx.slug, &ctx.id, generation, vec![entry])
            .await
        {
            tracing::warn!(tenant = %ctx.slug, error = %e.log_cause(), "legacy exchange: revocation store not written; the generation check refills it");
        }
        Ok(tokens.into())
    }

    /// `POST /token/verify`: any token type, signature, claims and revocation; a
    /// refresh token must also still be exchangeable (not rotated out or revoked).
    pub async fn verify(&self, slug: &str, token: String) -> Result<Verified> {
        let ctx = self.tenant(slug).await?;
        let c = self.verify_live(&ctx, token).await?;
        Ok(Verified {
            token_type: c.token_type,
            sub: c.sub.into(),
            exp: c.exp,
            jti: c.jti.into(),
        })
    }

    /// The claims of a valid access token from an `Authorization` header.
    pub async fn authenticate(
        &self,
        ctx: &Arc<TenantCtx>,
        authorization: Option<&str>,
    ) -> Result<VerifiedClaims> {
        let header = authorization.ok_or(Error::NotAuthenticated(
            "Authentication credentials were not provided.",
        ))?;
        let token = from_authorization(header, &ctx.settings.auth_header_types).ok_or(
            Error::NotAuthenticated(
                "Authorization header must contain a valid scheme and one token",
            ),
        )?;
        self.verify_unrevoked(ctx, token.to_owned(), Some(TokenType::Access))
            .await
    }

    /// `POST /token/revoke`: revokes the token's whole session at once. Answers
    /// whether the tenant is in browser mode (its cookies are to be cleared).
    pub async fn revoke(&self, slug: &str, token: String) -> Result<bool> {
        let ctx = self.tenant(slug).await?;
        let c = self.verify_token(&ctx, token, None).await?;
        if c.legacy {
            // A legacy token has no session of its own: it is revoked by itself.
            let record = RevokeTokensRecord {
                tenant_id: ctx.id.clone(),
                tokens: vec![(c.jti.to_string(), c.exp)],
            };
            let generation = self.ask(&self.tokens, record).await?;
            let entry = token_entry(&ctx.id, c.jti.to_string(), now(), c.exp);
            self.revoke_entries(&ctx.slug, &ctx.id, generation, vec![entry])
                .await?;
        } else {
            self.revoke_session(&ctx, &c.sid, c.exp).await?;
        }
        Ok(ctx.settings.refresh_cookie)
    }

    /// `POST /token/revoke-all`: every token of the caller issued before now.
    pub async fn revoke_all(&self, slug: &str, authorization: Option<&str>) -> Result<()> {
        let ctx = self.tenant(slug).await?;
        let c = self.authenticate(&ctx, authorization).await?;
        self.revoke_user(&ctx, &c.sub).await
    }

    /// Revokes one session in Postgres and Redis; `fallback_until` bounds the Redis
    /// entry when Postgres has no such session.
    pub(crate) async fn revoke_session(
        &self,
        ctx: &Arc<TenantCtx>,
        sid: &SessionId,
        fallback_until: i64,
    ) -> Result<()> {
        let item = SessionRevocation {
            ctx: ctx.clone(),
            sid: sid.clone(),
            fallback_until,
        };
        // Committed and written to the store with the rest of its batch.
        self.session_revocations.commit(item).await?;
        self.metrics.revoked(&ctx.slug, RevocationKind::Session);
        Ok(())
    }

    /// Cuts off every token of a user issued before now, and revokes their sessions.
    pub(crate) async fn revoke_user(&self, ctx: &TenantCtx, user_id: &UserId) -> Result<()> {
        let at = now();
        let lasts_until = at + ctx.longest_token_life();
        let record = RevokeUserRecord {
            tenant_id: ctx.id.clone(),
            user_id: user_id.clone(),
            at,
            lasts_until,
        };
        let revoked = self.ask(&self.tokens, record).await?;
        let entries = cutoff_entries(&ctx.id, user_id, at, lasts_until, revoked.what);
        self.revoke_entries(&ctx.slug, &ctx.id, revoked.generation, entries)
            .await
    }

    /// Any token of the tenant, valid now: [`Hub::verify_unrevoked`], and a refresh
    /// token must also still be exchangeable (not rotated out). A legacy refresh token
    /// has no row: its exchange revoked it, which the revocation check saw.
    pub(crate) async fn verify_live(
        &self,
        ctx: &Arc<TenantCtx>,
        token: String,
    ) -> Result<VerifiedClaims> {
        let c = self.verify_unrevoked(ctx, token, None).await?;
        if c.token_type == TokenType::Refresh && !c.legacy {
            let live = RefreshTokenLive {
                tenant_id: ctx.id.clone(),
                jti: c.jti.clone(),
            };
            if !self.ask(&self.tokens, live).await? {
                return Err(Error::TokenNotValid("Token is blacklisted"));
            }
        }
        Ok(c)
    }

    /// Checks a token's signature and claims right here: the key ring is in the
    /// tenant context and the crypto needs no database, so there is no actor hop (a
    /// hop cost as much as an HS256 verification). Only a kid-less legacy token,
    /// whose user is looked up by external id, goes to the TokenActor.
    pub(crate) async fn verify_token(
        &self,
        ctx: &Arc<TenantCtx>,
        token: String,
        expected: Option<TokenType>,
    ) -> Result<VerifiedClaims> {
        match ctx.ring.check(&token, expected)? {
            Checked::Tessera(claims) => Ok(claims),
            Checked::Legacy(_) => {
                let verify = VerifyToken {
                    ctx: ctx.clone(),
                    token,
                    expected,
                };
                self.ask(&self.tokens, verify).await
            }
        }
    }

    /// Verifies a token ([`Hub::verify_token`]) and checks revocation with the store
    /// itself (one round trip; an emptied Redis is refilled from Postgres first).
    pub(crate) async fn verify_unrevoked(
        &self,
        ctx: &Arc<TenantCtx>,
        token: String,
        expected: Option<TokenType>,
    ) -> Result<VerifiedClaims> {
        let claims = self.verify_token(ctx, token, expected).await?;
        self.unrevoked(ctx, claims).await
    }

    /// `claims` if the revocation store does not list their token, session or user.
    async fn unrevoked(
        &self,
        ctx: &Arc<TenantCtx>,
        claims: VerifiedClaims,
    ) -> Result<VerifiedClaims> {
        let mut check = CheckRevoked {
            tenant_id: ctx.id.clone(),
            user_id: claims.sub.clone(),
            sid: claims.sid.clone(),
            jti: claims.jti.clone(),
            iat: claims.iat,
            known_gen: ctx.revocation_gen(),
        };
        let mut status = check
            .ask(&self.revocation_store, self.metrics.clone())
            .await?;
        if matches!(status, Status::Unfilled | Status::Behind(_)) {
            self.refill_once(ctx, &check).await?;
            // The store as it is now, against what this node knows now.
            check.known_gen = ctx.revocation_gen();
            status = check
                .ask(&self.revocation_store, self.metrics.clone())
                .await?;
        }
        match status {
            Status::Clear => Ok(claims),
            Status::Revoked => Err(Error::TokenNotValid("Token is revoked")),
            Status::Unfilled | Status::Behind(_) => Err(Error::Unavailable(
                "revocation list lost data during refill".into(),
            )),
        }
    }

    /// After `check` found the store unfilled or behind: refills it, one refill of the
    /// tenant context at a time. A check that waited while another refilled does not
    /// refill again (even when that one failed: it answers from the store as it is);
    /// the wait is bounded by the actor timeout.
    async fn refill_once(&self, ctx: &TenantCtx, check: &CheckRevoked) -> Result<()> {
        let seen = ctx.refills.load(Ordering::Acquire);
        let _refilling = actix::clock::timeout(self.timeout, ctx.refilling.lock())
            .await
            .map_err(|_| Error::Unavailable("waited too long for a revocation refill".into()))?;
        if ctx.refills.load(Ordering::Acquire) != seen {
            return Ok(());
        }
        let check = CheckRevoked {
            known_gen: ctx.revocation_gen(),
            ..check.clone()
        };
        let from = match check
            .ask(&self.revocation_store, self.metrics.clone())
            .await?
        {
            Status::Unfilled => None,
            Status::Behind(have) => Some(have),
            Status::Clear | Status::Revoked => return Ok(()),
        };
        let refilled = self.refill(ctx, from).await;
        ctx.refills.fetch_add(1, Ordering::AcqRel);
        refilled
    }

    /// Replays a tenant's live revocations from the database into the store: all
    /// of them (`from: None`), or those after the generation the store held.
    async fn refill(&self, ctx: &TenantCtx, from: Option<i64>) -> Result<()> {
        let tenant_id = &ctx.id;
        let live = LiveRevocations {
            tenant_id: tenant_id.clone(),
            after: from,
        };
        let (generation, rows) = self.ask(&self.tokens, live).await?;
        ctx.saw_revocation_gen(generation);
        let entries = rows
            .into_iter()
            .map(|r| Entry {
                kind: r.kind,
                tenant_id: r.tenant_id,
                subject: r.subject,
                revoked_at: r.revoked_at,
                expires_at: r.expires_at,
            })
            .collect();
        let refill = Refill {
            tenant_id: tenant_id.clone(),
            from,
            generation,
            entries,
        };
        self.send(&self.blacklist, refill).await?
    }
}

/// The revocation store's entry of a single token revoked at `at`, lasting until
/// its expiry.
pub(crate) fn token_entry(tenant_id: &TenantId, jti: String, at: i64, until: i64) -> Entry {
    Entry {
        tenant_id: tenant_id.clone(),
        kind: RevocationKind::Token,
        subject: jti,
        revoked_at: at,
        expires_at: until,
    }
}

/// The Redis entries of a user's cut-off at `at` (lasting until `lasts_until`) and of
/// the sessions it revoked (each lasting until its end).
pub(crate) fn cutoff_entries(
    tenant_id: &TenantId,
    user_id: &UserId,
    at: i64,
    lasts_until: i64,
    sessions: Vec<(SessionId, i64)>,
) -> Vec<Entry> {
    let mut entries: Vec<Entry> = sessions
        .iter()
        .map(|(sid, until)| Entry::session(tenant_id, sid, at, *until))
        .collect();
    entries.push(Entry {
        tenant_id: tenant_id.clone(),
        kind: RevocationKind::User,
        subject: user_id.to_string(),
        revoked_at: at,
        expires_at: lasts_until,
    });
    entries
}
