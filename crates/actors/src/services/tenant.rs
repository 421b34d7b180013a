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
    /// loads the tenant once however many requests wait for it, on loader threads of
    /// their own: reloads of tenants this node already serves on one pair, first
    /// loads of slugs it has not seen on another, so that neither a flood of bogus
    /// admin keys nor one of random slugs delays a known tenant's reload.
    pub async fn tenant(&self, slug: &str) -> Result<Arc<TenantCtx>> {
        match self.cache.lookup(slug, now(), Instant::now()) {
            Lookup::Found(ctx) => return enabled(ctx),
            Lookup::Unknown => return Err(Error::TenantNotFound),
            Lookup::Load => {}
        }
        if !is_slug(slug) {
            return Err(Error::TenantNotFound);
        }
        // Concurrent reloads of a tenant this node serves happen once. First loads
        // of slugs never seen take no such lock: a flood of random slugs must not
        // hold the locks a known tenant's reload needs.
        let known = self.cache.get(slug).is_some();
        let _loading = match known {
            true => Some(self.cache.load_lock(slug).lock().await),
            false => None,
        };
        // Another request may have loaded it while this one waited.
        match self.cache.lookup(slug, now(), Instant::now()) {
            Lookup::Found(ctx) => return enabled(ctx),
            Lookup::Unknown => return Err(Error::TenantNotFound),
            Lookup::Load => {}
        }
        let stamp = self.cache.stamp();
        let loader = if known {
            &self.loader
        } else {
            &self.cold_loader
        };
        let Some(ctx) = self.ask(loader, LoadTenant(slug.to_owned())).await? else {
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
