//! Admin services over a tenant's users: list/search, create, read, change, delete,
//! and revoke every session. Deactivating, deleting or re-passwording a user cuts
//! off their tokens at once (Postgres in the change's transaction, then Redis).
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tessera_core::{
    Error, Result,
    ids::UserId,
    password::{check_email, check_external_id, check_new_password},
    settings::{MAX_ROLE_BYTES, MAX_ROLES},
    time::now,
};
use tessera_store::DbResultExt;
use tessera_store::models::{
    audit::{self, AuditEvent},
    session,
    tenant::Tenant,
    user::{self, User},
};

use crate::{
    Hub,
    actors::HashPassword,
    admin_jobs::tenants,
    requests::{CreateUserRequest, UserPatch, UserQuery},
    services::{
        AdminKey,
        account::NewUser,
        admin::{cursor, page, page_size},
        auth::cutoff_entries,
    },
    views::{Page, RevokedSessions, UserView},
};

/// Longest user search (`?search=`), characters.
pub const MAX_SEARCH: usize = 200;

pub(crate) fn check_roles(roles: &[String]) -> Result<()> {
    // No character JSON escapes (quotes, backslashes, controls): a role's bytes are
    // what it takes in a token, which keeps the 8 KiB token budget exact.
    let bad = |r: &String| {
        r.is_empty()
            || r.len() > MAX_ROLE_BYTES
            || r.chars().any(|c| c.is_control() || c == '"' || c == '\\')
    };
    if roles.len() > MAX_ROLES || roles.iter().any(bad) {
        return Err(Error::field(
            "roles",
            "at most 64 roles of 1 to 64 bytes, without quotes, backslashes or control characters",
        ));
    }
    Ok(())
}

/// The audit view of a user: what the API shows, never the hash.
fn audited(u: &User) -> Value {
    serde_json::to_value(UserView::from(u)).unwrap_or(Value::Null)
}

impl Hub {
    /// Creates a user in a tenant the key can see.
    pub async fn admin_create_user(
        &self,
        key: &AdminKey,
        slug: &str,
        req: CreateUserRequest,
    ) -> Result<UserView> {
        let row = self.visible_tenant(key, slug).await?;
        check_roles(&req.roles)?;
        if let Some(x) = &req.external_id {
            check_external_id(x)?;
        }
        let new = NewUser {
            username: req.username,
            password: req.password,
            email: req.email,
            roles: req.roles,
            is_active: req.is_active.unwrap_or(true),
        };
        let mut user = self.new_user(&row.id, row.password_min_length, new).await?;
        user.external_id = req.external_id;
        let (actor, view) = (key.id.clone(), UserView::from(&user));
        self.admin_job(move |c, _| {
            tessera_store::transaction(c, |c| {
                if let Some(x) = &user.external_id {
                    user::check_external_id_free(c, &row.id, x, None)?;
                }
                user::insert(c, &user)?;
                let after = Some(audited(&user));
                let ev = AuditEvent::new(
                    Some(row.audit_ref()),
                    actor.as_str(),
                    "user.create",
                    user.id.as_str(),
                    None,
                    after,
                );
                audit::record(c, &ev)
            })
        })
        .await?;
        Ok(view)
    }

    /// Lists a tenant's users, optionally searching usernames and e-mails.
    pub async fn list_users(
        &self,
        key: &AdminKey,
        slug: &str,
        q: UserQuery,
    ) -> Result<Page<UserView>> {
        if q.search.as_ref().is_some_and(|s| {
            s.chars().count() > MAX_SEARCH || tessera_core::password::has_control(s)
        }) {
            return Err(Error::field(
                "search",
                format!("must be at most {MAX_SEARCH} characters, without control characters"),
            ));
        }
        let (limit, after) = (page_size(q.limit)?, cursor(q.cursor, UserId::parse)?);
        let (s, scope) = (slug.to_owned(), key.scope.clone());
        let rows = self
            .admin_job(move |c, _| {
                let row = tenants::visible(c, &s, scope.as_ref())?;
                let search = q.search.as_deref().filter(|s| !s.is_empty());
                user::list(c, &row.id, search, after.as_ref(), limit + 1)
            })
            .await?;
        page(rows, limit, |u| u.id.clone(), |u| Ok(UserView::from(u)))
    }

    /// Reads one user of a tenant the key can see.
    pub async fn admin_get_user(
        &self,
        key: &AdminKey,
        slug: &str,
        user_id: &UserId,
    ) -> Result<UserView> {
        let (s, scope, id) = (slug.to_owned(), key.scope.clone(), user_id.to_owned());
        let u = self
            .admin_job(move |c, _| {
                let row = tenants::visible(c, &s, scope.as_ref())?;
                user::by_id(c, &row.id, &id)?.ok_or(Error::NotFound("User"))
            })
            .await?;
        Ok(UserView::from(&u))
    }

    /// Changes a user; deactivation and a new password cut off every token now.
    pub async fn admin_patch_user(
        &self,
        key: &AdminKey,
        slug: &str,
        user_id: &UserId,
        patch: UserPatch,
    ) -> Result<UserView> {
        let row = self.visible_tenant(key, slug).await?;
        if let Some(r) = &patch.roles {
            check_roles(r)?;
        }
        if let Some(Some(e)) = &patch.email {
            check_email(e)?;
        }
        if let Some(Some(x)) = &patch.external_id {
            check_external_id(x)?;
        }
        let hash = match patch.password {
            Some(p) => {
                let min = row.password_min_length.max(1) as usize;
                check_new_password("password", p.expose_secret(), min)?;
                Some(
                    self.ask_within(&self.hasher, HashPassword(p), self.hash_timeout)
                        .await?,
                )
            }
            None => None,
        };
        let (actor, id) = (key.id.clone(), user_id.to_owned());
        let (is_active, roles, email) = (patch.is_active, patch.roles, patch.email);
        let external_id = patch.external_id;
        let life = row.settings()?.longest_token_life();
        let tenant_id = row.id.clone();
        let (updated, cutoff) = self
            .admin_job(move |c, _| {
                let mut u = user::by_id(c, &row.id, &id)?.ok_or(Error::NotFound("User"))?;
                let before = audited(&u);
                let t = now();
                let deactivated = u.is_active && is_active == Some(false);
                let repassworded = hash.is_some();
                let changes = user::UserChanges {
                    is_active,
                    roles: roles.map(|r| Value::from(r).to_string()),
                    password_hash: None,
                    email,
                    external_id,
                };
                // The view and audit record of the user after the change.
                if let Some(a) = changes.is_active {
                    u.is_active = a;
                }
                if let Some(r) = &changes.roles {
                    u.roles = r.clone();
                }
                if let Some(e) = &changes.email {
                    u.email = e.clone();
                }
                if let Some(x) = &changes.external_id {
                    u.external_id = x.clone();
                }
                if let Some(h) = &hash {
                    u.password_hash = h.clone();
                    u.password_changed_at = t;
                }
                tessera_store::transaction(c, |c| {
                    if let Some(Some(x)) = &changes.external_id {
                        user::check_external_id_free(c, &row.id, x, Some(&u.id))?;
                    }
                    user::update(c, &row.id, &u.id, &changes)?;
                    if let Some(h) = &hash {
                        user::set_password(c, &row.id, &u.id, h)?;
                    }
                    let cutoff = if deactivated || repassworded {
                        Some((
                            t,
                            session::revoke_user_in(c, &row.id, &u.id, t, t + life).db()?,
                        ))
                    } else {
                        None
                    };
                    let mut after = audited(&u);
                    if repassworded {
                        after["password"] = json!("changed");
                    }
                    let ev = AuditEvent::new(
                        Some(row.audit_ref()),
                        actor.as_str(),
                        "user.update",
                        u.id.as_str(),
                        Some(before.clone()),
                        Some(after),
                    );
                    audit::record(c, &ev)?;
                    Ok((u.clone(), cutoff))
                })
            })
            .await?;
        self.user_changed(&tenant_id, &updated.id).await;
        if let Some((at, revoked)) = cutoff {
            let entries = cutoff_entries(&tenant_id, &updated.id, at, at + life, revoked.what);
            self.revoke_entries(slug, &tenant_id, revoked.generation, entries)
                .await?;
        }
        Ok(UserView::from(&updated))
    }

    /// Deletes a user; their tokens stop working at once.
    pub async fn admin_delete_user(
        &self,
        key: &AdminKey,
        slug: &str,
        user_id: &UserId,
    ) -> Result<()> {
        self.cut_off_user(key, slug, user_id, true)
            .await
            .map(|_| ())
    }

    /// Revokes every session and token of a user.
    pub async fn admin_revoke_user(
        &self,
        key: &AdminKey,
        slug: &str,
        user_id: &UserId,
    ) -> Result<RevokedSessions> {
        let n = self.cut_off_user(key, slug, user_id, false).await?;
        Ok(RevokedSessions {
            revoked_sessions: n,
        })
    }

    /// Cuts off every token of a user (and deletes the user with `delete`), in one
    /// audited transaction, then in Redis. Returns how many live sessions ended.
    async fn cut_off_user(
        &self,
        key: &AdminKey,
        slug: &str,
        user_id: &UserId,
        delete: bool,
    ) -> Result<usize> {
        let row: Tenant = self.visible_tenant(key, slug).await?;
        let life = row.settings()?.longest_token_life();
        let (actor, id, tenant_id) = (key.id.clone(), user_id.to_owned(), row.id.clone());
        let (at, sessions) = self
            .admin_job(move |c, _| {
                let u = user::by_id(c, &row.id, &id)?.ok_or(Error::NotFound("User"))?;
                let t = now();
                tessera_store::transaction(c, |c| {
                    // The user row first, as every transaction changing a user takes it.
                    user::lock(c, &row.id, &u.id)?;
                    let sessions = session::revoke_user_in(c, &row.id, &u.id, t, t + life).db()?;
                    let (action, after) = if delete {
                        user::delete(c, &row.id, &u.id)?;
                        ("user.delete", None)
                    } else {
                        (
                            "user.revoke_sessions",
                            Some(json!({"revoked_sessions": sessions.what.len()})),
                        )
                    };
                    let ev = AuditEvent::new(
                        Some(row.audit_ref()),
                        actor.as_str(),
                        action,
                        u.id.as_str(),
                        Some(audited(&u)),
                        after,
                    );
                    audit::record(c, &ev)?;
                    Ok((t, sessions))
                })
            })
            .await?;
        let n = sessions.what.len();
        if delete {
            self.user_changed(&tenant_id, user_id).await;
        }
        let entries = cutoff_entries(&tenant_id, user_id, at, at + life, sessions.what);
        self.revoke_entries(slug, &tenant_id, sessions.generation, entries)
            .await?;
        Ok(n)
    }
}
