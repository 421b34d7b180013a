//! Resource servers: a tenant's clients (admin create, list, delete; a change reaches
//! every node's tenant context before the answer) and RFC 7662 introspection, which
//! authenticates a client of the tenant with HTTP Basic.
use std::sync::Arc;
use tessera_core::{Error, Result, claims::TokenType, ids::ClientId};
use tessera_store::models::client;

use crate::{
    Hub,
    actors::{GetUser, RefreshTokenLive},
    admin_jobs::{clients, tenants},
    requests::CreateClientRequest,
    services::{
        AdminKey,
        admin::{cursor, page, page_size},
    },
    tenant::TenantCtx,
    views::{ActiveToken, ClientView, Introspection, NewClient, Page},
};

/// How a request without a valid client credential is refused.
const NO_CLIENT: Error =
    Error::NotAuthenticated("A client credential of this tenant is required (HTTP Basic)");

impl Hub {
    /// Creates a client of a tenant the key can see; its secret is in the answer only.
    pub async fn create_client(
        &self,
        key: &AdminKey,
        slug: &str,
        req: CreateClientRequest,
    ) -> Result<NewClient> {
        let (s, scope, actor) = (slug.to_owned(), key.scope.clone(), key.id.clone());
        let (row, secret) = self
            .admin_job(move |c, _| {
                let row = tenants::visible(c, &s, scope.as_ref())?;
                clients::create(c, &row, &req.name, actor.as_str())
            })
            .await?;
        self.tenant_changed(slug).await?;
        let view = ClientView::from(&row);
        Ok(NewClient {
            client_id: view.client_id,
            client_secret: secret,
            name: view.name,
            created_at: view.created_at,
        })
    }

    /// A page of a tenant's clients, oldest first.
    pub async fn list_clients(
        &self,
        key: &AdminKey,
        slug: &str,
        after: Option<String>,
        limit: Option<i64>,
    ) -> Result<Page<ClientView>> {
        let (limit, after) = (page_size(limit)?, cursor(after, ClientId::parse)?);
        let (s, scope) = (slug.to_owned(), key.scope.clone());
        let rows = self
            .admin_job(move |c, _| {
                let row = tenants::visible(c, &s, scope.as_ref())?;
                client::list(c, &row.id, after.as_ref(), limit + 1)
            })
            .await?;
        page(rows, limit, |c| c.id.clone(), |c| Ok(ClientView::from(c)))
    }

    /// Deletes a client; every node refuses it before this answers.
    pub async fn delete_client(&self, key: &AdminKey, slug: &str, id: &ClientId) -> Result<()> {
        let (s, scope, actor, id) = (
            slug.to_owned(),
            key.scope.clone(),
            key.id.clone(),
            id.clone(),
        );
        self.admin_job(move |c, _| {
            let row = tenants::visible(c, &s, scope.as_ref())?;
            clients::delete(c, &row, &id, actor.as_str())
        })
        .await?;
        self.tenant_changed(slug).await
    }

    /// The client of the tenant an `Authorization: Basic` header names, or 401.
    fn client_of(ctx: &TenantCtx, authorization: Option<&str>) -> Result<ClientId> {
        let (id, secret) = authorization
            .and_then(tessera_core::token::from_basic)
            .ok_or(NO_CLIENT)?;
        ctx.client(&id, &secret).ok_or(NO_CLIENT)
    }

    /// `POST /token/introspect` (RFC 7662): whether a token is active, for a client of
    /// the tenant. Anything but a valid, unrevoked token of this tenant whose user
    /// is active is `{"active": false}`, whatever the reason.
    pub async fn introspect(
        &self,
        slug: &str,
        authorization: Option<&str>,
        token: String,
    ) -> Result<Introspection> {
        let ctx = self.tenant(slug).await?;
        let client_id = Self::client_of(&ctx, authorization)?;
        match self.active_token(&ctx, token, client_id).await {
            Ok(t) => Ok(Introspection {
                active: true,
                token: Some(t),
            }),
            Err(Error::TokenNotValid(_)) => Ok(Introspection {
                active: false,
                token: None,
            }),
            Err(e) => Err(e),
        }
    }

    async fn active_token(
        &self,
        ctx: &Arc<TenantCtx>,
        token: String,
        client_id: ClientId,
    ) -> Result<ActiveToken> {
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
        let get = GetUser {
            tenant_id: ctx.id.clone(),
            user_id: c.sub.clone(),
        };
        let user = self
            .ask(&self.users, get)
            .await?
            .filter(|u| u.is_active)
            .ok_or(Error::TokenNotValid("User not found or inactive"))?;
        let policy = ctx.ring.policy();
        let aud = match c.token_type {
            TokenType::Access => policy.audience.clone(),
            TokenType::Refresh => Some(policy.refresh_audience.clone()),
        };
        Ok(ActiveToken {
            sub: c.sub.to_string(),
            username: user.username,
            exp: c.exp,
            iat: c.iat,
            nbf: c.iat,
            iss: policy.issuer.clone(),
            aud: aud.filter(|_| !c.legacy),
            jti: c.jti.to_string(),
            sid: c.sid.to_string(),
            token_type: c.token_type,
            client_id: client_id.to_string(),
        })
    }
}
