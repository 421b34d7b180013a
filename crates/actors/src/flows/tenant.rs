//! Finding a tenant's context: the cache first, Postgres on a miss.
use std::sync::Arc;
use tessera_core::{Error, Result, ids::is_slug, time::now};

use crate::{Hub, actors::LoadTenant, tenant::TenantCtx};

impl Hub {
    /// The context of an enabled tenant; unknown and disabled answer alike.
    pub async fn tenant(&self, slug: &str) -> Result<Arc<TenantCtx>> {
        if let Some(ctx) = self.cache.get(slug)
            && ctx.refresh_at.is_none_or(|at| now() < at)
        {
            return enabled(ctx);
        }
        if !is_slug(slug) {
            return Err(Error::TenantNotFound);
        }
        let stamp = self.cache.stamp();
        let ctx = self
            .send(&self.admin, LoadTenant(slug.to_owned()))
            .await??
            .ok_or(Error::TenantNotFound)?;
        let ctx = Arc::new(ctx);
        self.cache.insert(ctx.clone(), stamp);
        enabled(ctx)
    }

    /// Drops a tenant from this node's cache and tells every other node to.
    pub(crate) async fn tenant_changed(&self, slug: &str) {
        self.cache.invalidate(slug);
        if let Err(e) = self
            .send(&self.blacklist, crate::actors::Publish(slug.to_owned()))
            .await
            .and_then(|r| r)
        {
            tracing::warn!(error = %e.log_cause(), "could not publish a tenant change");
        }
    }
}

fn enabled(ctx: Arc<TenantCtx>) -> Result<Arc<TenantCtx>> {
    if ctx.settings.disabled {
        Err(Error::TenantNotFound)
    } else {
        Ok(ctx)
    }
}
