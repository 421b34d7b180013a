//! Finding a tenant's context: the cache first, Postgres on a miss.
use std::sync::Arc;
use tessera_core::{Error, Result, ids::is_slug, time::now};

use std::time::{Duration, Instant};

use crate::{
    Hub,
    actors::LoadTenant,
    tenant::{Lookup, TenantCtx},
};

impl Hub {
    /// The context of an enabled tenant; unknown and disabled answer alike. A miss
    /// loads the tenant on the tenant loader's own threads (so neither an admin-key
    /// flood nor a slug flood delays it), once however many requests wait for it.
    pub async fn tenant(&self, slug: &str) -> Result<Arc<TenantCtx>> {
        match self.cache.lookup(slug, now(), Instant::now()) {
            Lookup::Found(ctx) => return enabled(ctx),
            Lookup::Unknown => return Err(Error::TenantNotFound),
            Lookup::Load => {}
        }
        if !is_slug(slug) {
            return Err(Error::TenantNotFound);
        }
        let _loading = self.cache.load_lock(slug).lock().await;
        // Another request may have loaded it while this one waited.
        match self.cache.lookup(slug, now(), Instant::now()) {
            Lookup::Found(ctx) => return enabled(ctx),
            Lookup::Unknown => return Err(Error::TenantNotFound),
            Lookup::Load => {}
        }
        let stamp = self.cache.stamp();
        let Some(ctx) = self
            .send(&self.loader, LoadTenant(slug.to_owned()))
            .await??
        else {
            self.cache.insert_miss(slug, stamp);
            return Err(Error::TenantNotFound);
        };
        let ctx = Arc::new(ctx);
        self.cache.insert(ctx.clone(), stamp);
        enabled(ctx)
    }

    /// Drops a tenant from this node's cache and tells every other node to. The
    /// notification is retried; if Redis still refuses it, the change (already
    /// saved) is answered with 503, since other nodes may go on with the old
    /// settings until their cached copy ages out.
    pub(crate) async fn tenant_changed(&self, slug: &str) -> Result<()> {
        self.cache.invalidate(slug);
        let mut last = None;
        for attempt in 0..PUBLISH_ATTEMPTS {
            if attempt > 0 {
                actix::clock::sleep(Duration::from_millis(100 << attempt)).await;
            }
            match self
                .send(&self.blacklist, crate::actors::Publish(slug.to_owned()))
                .await
                .and_then(|r| r)
            {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(e),
            }
        }
        let e = last.unwrap_or_else(|| Error::Unavailable("publish".into()));
        tracing::warn!(error = %e.log_cause(), tenant = slug, "could not publish a tenant change");
        Err(Error::Unavailable(format!(
            "the change is saved, but other nodes could not be told; they pick it up within {} s",
            self.cache_max_age.as_secs()
        )))
    }
}

/// How many times a change notification is sent before the admin call gives up.
const PUBLISH_ATTEMPTS: u32 = 3;

fn enabled(ctx: Arc<TenantCtx>) -> Result<Arc<TenantCtx>> {
    if ctx.settings.disabled {
        Err(Error::TenantNotFound)
    } else {
        Ok(ctx)
    }
}
