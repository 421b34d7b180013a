//! Resource servers: a tenant's clients (admin create, list, delete; a change reaches
//! every node's tenant context before the answer), RFC 7662 introspection and the
//! revocation feed, both for a client of the tenant (HTTP Basic).
use std::sync::Arc;
use tessera_core::{Error, Result, claims::TokenType, ids::ClientId};
use tessera_store::models::client;

use crate::{
    Hub,
    actors::{GetUser, LiveRevocations},
    admin_jobs::{clients, tenants},
    requests::CreateClientRequest,
    services::{
        AdminKey,
        admin::{cursor, page, page_size},
    },
    tenant::TenantCtx,
    views::{
        ActiveToken, ClientView, Introspection, NewClient, Page, RevocationItem, RevocationPage,
    },
};

/// Longest wait of a feed request, seconds.
pub const MAX_FEED_WAIT: u64 = 30;

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

    /// `GET /revocations`: the tenant's revocations in force (after `since`, a cursor
    /// of an earlier answer), waiting up to `wait` seconds for one when there is none:
    /// the answer comes as soon as a revocation commits on any node.
    pub async fn revocations(
        &self,
        slug: &str,
        authorization: Option<&str>,
        since: Option<String>,
        wait: Option<u64>,
    ) -> Result<RevocationPage> {
        let ctx = self.tenant(slug).await?;
        Self::client_of(&ctx, authorization)?;
        let after = match since.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(
                s.parse::<i64>()
                    .ok()
                    .filter(|g| *g >= 0 && s.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or_else(|| Error::field("since", "is not a cursor the feed gave"))?,
            ),
        };
        let wait = wait.unwrap_or(0);
        if wait > MAX_FEED_WAIT {
            return Err(Error::field(
                "wait",
                format!("must be 0 to {MAX_FEED_WAIT} seconds"),
            ));
        }
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(wait);
        // Subscribed before the first read, so a revocation between the read and
        // the wait still wakes it.
        let mut woken = self.feed.subscribe(&ctx.id);
        loop {
            let live = LiveRevocations {
                tenant_id: ctx.id.clone(),
                after,
            };
            let (generation, rows) = self.ask(&self.tokens, live).await?;
            // Answer with what there is, unless there is nothing and a wake-up comes
            // before the deadline (timeout_at returns at once past it): then read again.
            let woke = rows.is_empty()
                && matches!(
                    tokio::time::timeout_at(deadline, woken.changed()).await,
                    Ok(Ok(()))
                );
            if !woke {
                let cursor = after.map_or(generation, |a| a.max(generation)).to_string();
                let items = rows.iter().map(item).collect();
                return Ok(RevocationPage { items, cursor });
            }
        }
    }

    async fn active_token(
        &self,
        ctx: &Arc<TenantCtx>,
        token: String,
        client_id: ClientId,
    ) -> Result<ActiveToken> {
        let c = self.verify_live(ctx, token).await?;
        let key = (ctx.id.clone(), c.sub.clone());
        let username = match self.usernames.get(&key) {
            Some(name) => name,
            None => {
                let get = GetUser {
                    tenant_id: ctx.id.clone(),
                    user_id: c.sub.clone(),
                };
                let user = self
                    .ask(&self.users, get)
                    .await?
                    .filter(|u| u.is_active)
                    .ok_or(Error::TokenNotValid("User not found or inactive"))?;
                let name: Arc<str> = user.username.into();
                self.usernames.insert(key, name.clone());
                name
            }
        };
        let policy = ctx.ring.policy();
        let aud = match c.token_type {
            TokenType::Access => policy.audience.clone(),
            TokenType::Refresh => Some(policy.refresh_audience.clone()),
        };
        Ok(ActiveToken {
            sub: c.sub.to_string(),
            username: username.to_string(),
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

/// A revocation row as the feed shows it.
fn item(r: &tessera_store::models::revocation::Revocation) -> RevocationItem {
    use tessera_core::revocation::RevocationKind;
    let subject = Some(r.subject.clone());
    let (kind, sid, jti, sub, before) = match r.kind {
        RevocationKind::Session => ("session", subject, None, None, None),
        RevocationKind::Token => ("token", None, subject, None, None),
        RevocationKind::User => ("user", None, None, subject, Some(r.revoked_at)),
    };
    RevocationItem {
        kind,
        sid,
        jti,
        sub,
        before,
        until: r.expires_at,
        revoked_at: r.revoked_at,
    }
}
