//! End-user account services: sign-up, `/users/me`, password change.
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use tessera_core::{
    Error, Result,
    ids::{TenantId, UserId},
    password::{check_email, check_new_password, check_username, normalize_username},
    time::now,
};
use tessera_store::models::user::User;

use crate::{
    Hub,
    actors::{
        Attempted, ClientInfo, CreateUser, FindUserByName, GetUser, HashPassword, SetPassword,
        VerifyPassword,
    },
    requests::SignupRequest,
    services::auth::cutoff_entries,
    user_cache::UserCache,
    views::{TokenPair, UserView},
};

/// A user to create, before validation and hashing.
pub(crate) struct NewUser {
    pub(crate) username: String,
    pub(crate) password: SecretString,
    pub(crate) email: Option<String>,
    pub(crate) roles: Vec<String>,
    pub(crate) is_active: bool,
}

impl Hub {
    /// `POST /users`: self-service sign-up, when the tenant allows it; counted
    /// against the client address's rate limit before anything is hashed.
    pub async fn signup(
        &self,
        slug: &str,
        req: SignupRequest,
        client: ClientInfo,
    ) -> Result<UserView> {
        let ctx = self.tenant(slug).await?;
        if !ctx.settings.allow_signup {
            return Err(Error::SignupDisabled);
        }
        self.rate_limit(&ctx, Attempted::Signup, &client).await?;
        let new = NewUser {
            username: req.username,
            password: req.password,
            email: req.email,
            roles: Vec::new(),
            is_active: true,
        };
        self.create_user(&ctx.id, ctx.settings.password_min_length, new)
            .await
    }

    /// Validates, hashes and stores a new user of a tenant.
    pub(crate) async fn create_user(
        &self,
        tenant_id: &TenantId,
        min_len: i32,
        new: NewUser,
    ) -> Result<UserView> {
        let row = self.new_user(tenant_id, min_len, new).await?;
        let view = UserView::from(&row);
        self.ask(&self.users, CreateUser(row)).await?;
        Ok(view)
    }

    /// Validates a new user and hashes their password (on the hasher threads); the
    /// row is not stored yet.
    pub(crate) async fn new_user(
        &self,
        tenant_id: &TenantId,
        min_len: i32,
        new: NewUser,
    ) -> Result<User> {
        check_username(&normalize_username(&new.username))?;
        if let Some(e) = &new.email {
            check_email(e)?;
        }
        check_new_password(
            "password",
            new.password.expose_secret(),
            min_len.max(1) as usize,
        )?;
        // A taken username costs no hashing (the insert still enforces uniqueness).
        let find = FindUserByName {
            tenant_id: tenant_id.clone(),
            username: new.username.clone(),
        };
        if self.ask(&self.users, find).await?.is_some() {
            return Err(Error::Conflict(
                "A user with that username already exists".into(),
            ));
        }
        let hash = self
            .ask_within(&self.hasher, HashPassword(new.password), self.hash_timeout)
            .await?;
        let mut row = User::new(tenant_id, &new.username, new.email, hash, &new.roles);
        row.is_active = new.is_active;
        Ok(row)
    }

    /// `GET /users/me`: the caller, read now (an inactive or deleted user's token
    /// no longer works).
    pub async fn me(&self, slug: &str, authorization: Option<&str>) -> Result<UserView> {
        let ctx = self.tenant(slug).await?;
        let claims = self.authenticate(&ctx, authorization).await?;
        // The token was just checked for revocation; only the profile is cached.
        if let Some(view) = self.user_cache.get(&ctx.id, &claims.sub) {
            self.metrics.user_cache(true);
            return Ok((*view).clone());
        }
        self.metrics.user_cache(false);
        let ticket = self.user_cache.ticket();
        let user = self.active_user(&ctx.id, claims.sub).await?;
        let view = UserView::from(&user);
        self.user_cache
            .put(ticket, &ctx.id, &user.id, Arc::new(view.clone()));
        Ok(view)
    }

    /// Drops a user's cached profile on this node and tells every other node to. A
    /// notice that cannot be sent is logged: the other nodes then catch up within
    /// the cache's maximum age (the revocation check runs on every request anyway).
    pub(crate) async fn user_changed(&self, tenant_id: &TenantId, user_id: &UserId) {
        self.user_cache.invalidate(tenant_id, user_id);
        let notice = crate::actors::Publish(UserCache::message(tenant_id, user_id));
        if let Err(e) = self.send(&self.blacklist, notice).await.and_then(|r| r) {
            tracing::warn!(error = %e.log_cause(), "a user change was not published; other nodes catch up within the cache's maximum age");
        }
    }

    async fn active_user(&self, tenant_id: &TenantId, user_id: UserId) -> Result<User> {
        self.ask(
            &self.users,
            GetUser {
                tenant_id: tenant_id.clone(),
                user_id,
            },
        )
        .await?
        .filter(|u| u.is_active)
        .ok_or(Error::TokenNotValid("User not found or inactive"))
    }

    /// `POST /users/me/password`: checks the old password, stores the new one, cuts
    /// off every older token and returns a fresh pair.
    pub async fn change_password(
        &self,
        slug: &str,
        authorization: Option<&str>,
        old: SecretString,
        new: SecretString,
        client: ClientInfo,
    ) -> Result<TokenPair> {
        let ctx = self.tenant(slug).await?;
        let claims = self.authenticate(&ctx, authorization).await?;
        // A stolen access token does not buy unlimited guesses of the old password.
        let what = Attempted::PasswordChange(claims.sub.clone());
        self.rate_limit(&ctx, what, &client).await?;
        let user = self.active_user(&ctx.id, claims.sub).await?;
        check_new_password(
            "new_password",
            new.expose_secret(),
            ctx.settings.password_min_length.max(1) as usize,
        )?;
        let verify = VerifyPassword {
            hash: Some(user.password_hash.clone()),
            password: old,
        };
        if !self
            .ask_within(&self.hasher, verify, self.hash_timeout)
            .await?
            .ok
        {
            return Err(Error::field(
                "old_password",
                "Your old password was entered incorrectly.",
            ));
        }
        let hash = self
            .ask_within(&self.hasher, HashPassword(new), self.hash_timeout)
            .await?;
        let at = now();
        let lasts_until = at + ctx.longest_token_life();
        let set = SetPassword {
            tenant_id: ctx.id.clone(),
            user_id: user.id.clone(),
            hash,
            at,
            lasts_until,
        };
        let revoked = self.ask(&self.users, set).await?;
        let entries = cutoff_entries(&ctx.id, &user.id, at, lasts_until, revoked.what);
        self.revoke_entries(&ctx.slug, &ctx.id, revoked.generation, entries)
            .await?;
        self.issue(ctx, &user, client).await
    }
}
