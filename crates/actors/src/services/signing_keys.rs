//! Key services: list, rotate, retire and import a tenant's signing keys, and the
//! scheduled rotation pass every node runs. A change reaches every node's cache
//! over Redis pub/sub before the answer is sent.
use secrecy::ExposeSecret;
use tessera_core::{
    Error, Result, ids::Kid, key_lifecycle::Phase, key_material::KeyMaterial,
    settings::MAX_LIFETIME,
};

use crate::{
    Hub,
    admin_jobs::{signing_keys as keys, tenants},
    requests::ImportKeyRequest,
    services::{
        AdminKey,
        admin::{cursor, page, page_size},
    },
    views::{KeyView, Page},
};

impl Hub {
    /// A tenant's keys, newest first, with what each does now.
    pub async fn list_keys(
        &self,
        key: &AdminKey,
        slug: &str,
        given: Option<String>,
        limit: Option<i64>,
    ) -> Result<Page<KeyView>> {
        let (limit, before) = (page_size(limit)?, cursor(given, Kid::parse)?);
        let (s, scope) = (slug.to_owned(), key.scope.clone());
        let rows = self
            .admin_job(move |c, _| {
                let row = tenants::visible(c, &s, scope.as_ref())?;
                keys::list(c, &row, before.as_ref(), limit + 1)
            })
            .await?;
        page(
            rows,
            limit,
            |(k, _)| k.kid.clone(),
            |(k, p)| Ok(KeyView::of(k, *p)),
        )
    }

    /// Rotates a tenant's signing key now.
    pub async fn rotate_key(&self, key: &AdminKey, slug: &str) -> Result<KeyView> {
        let (s, scope, actor) = (slug.to_owned(), key.scope.clone(), key.id.clone());
        let new = self
            .admin_job(move |c, master| {
                let row = tenants::visible(c, &s, scope.as_ref())?;
                keys::rotate(c, &row, master, actor.as_str())
            })
            .await?;
        self.tenant_changed(slug).await?;
        Ok(KeyView::of(&new, Phase::Active))
    }

    /// Retires a key at once: out of the JWKS, its tokens refused on every node.
    pub async fn retire_key(&self, key: &AdminKey, slug: &str, kid: &Kid) -> Result<()> {
        let (s, scope, actor, kid) = (
            slug.to_owned(),
            key.scope.clone(),
            key.id.clone(),
            kid.clone(),
        );
        self.admin_job(move |c, master| {
            let row = tenants::visible(c, &s, scope.as_ref())?;
            keys::retire(c, &row, &kid, master, actor.as_str())
        })
        .await?;
        self.tenant_changed(slug).await?;
        Ok(())
    }

    /// Imports an operator's key as the tenant's signing key.
    pub async fn import_key(
        &self,
        key: &AdminKey,
        slug: &str,
        req: ImportKeyRequest,
    ) -> Result<KeyView> {
        let alg = req.algorithm;
        let bytes = match (alg.is_symmetric(), req.secret, req.private_key) {
            (true, Some(s), None) => s.expose_secret().as_bytes().to_vec(),
            (false, None, Some(p)) => p.expose_secret().as_bytes().to_vec(),
            (true, _, _) => {
                return Err(Error::field(
                    "secret",
                    format!("{alg} takes a secret (and no private_key)"),
                ));
            }
            (false, _, _) => {
                return Err(Error::field(
                    "private_key",
                    format!("{alg} takes a private_key (and no secret)"),
                ));
            }
        };
        // Checked before the tenant is looked up: bad material is a 400 either way.
        let material = KeyMaterial::import(alg, bytes)?;
        if let Some(ttl) = req.legacy_ttl {
            if !req.legacy {
                return Err(Error::field("legacy_ttl", "goes only with legacy: true"));
            }
            if !(1..=MAX_LIFETIME).contains(&ttl) {
                return Err(Error::field(
                    "legacy_ttl",
                    format!("must be 1 to {MAX_LIFETIME} seconds"),
                ));
            }
        }
        let (s, scope, actor) = (slug.to_owned(), key.scope.clone(), key.id.clone());
        let (legacy, legacy_ttl) = (req.legacy, req.legacy_ttl);
        let (new, _) = self
            .admin_job(move |c, master| {
                let row = tenants::visible(c, &s, scope.as_ref())?;
                let ttl = match legacy {
                    false => None,
                    true => {
                        // Revocation cut-offs last the tenant's longest token life:
                        // a longer window would let a kid-less token outlive one.
                        let s = row.settings()?;
                        let longest = s.longest_token_life();
                        let ttl = legacy_ttl.unwrap_or(s.refresh_token_ttl);
                        if ttl > longest {
                            return Err(Error::field(
                                "legacy_ttl",
                                format!(
                                    "must be at most the tenant's longest token life ({longest} s)"
                                ),
                            ));
                        }
                        Some(ttl)
                    }
                };
                keys::import(c, &row, &material, ttl, master, actor.as_str())
            })
            .await?;
        self.tenant_changed(slug).await?;
        Ok(KeyView::of(&new, Phase::Active))
    }

    /// One scheduled-rotation pass (run periodically by every node); tells every
    /// node about the tenants whose keys changed.
    pub async fn rotation_pass(&self) -> Result<usize> {
        let changed = self.admin_job(keys::scheduled_rotation).await?;
        for slug in &changed {
            // One failed notification must not keep the others from going out (a
            // node that misses one still reloads within the cache's bound).
            if let Err(e) = self.tenant_changed(slug).await {
                tracing::warn!(tenant = %slug, error = %e.log_cause(), "rotation not announced");
            }
        }
        Ok(changed.len())
    }
}
