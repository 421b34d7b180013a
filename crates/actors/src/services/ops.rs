//! Operational services: readiness, metrics, and writing revocations (counted).
use tessera_core::{Result, ids::TenantId, time::now};
use tessera_revocation::Entry;
use tessera_store::models::signing_key;

use crate::{
    Hub,
    actors::{Ping, PingDb},
};

impl Hub {
    /// Ready when Postgres (on the shared pool and on the batch writer's) and Redis
    /// all answer.
    pub async fn ready(&self) -> Result<()> {
        self.ask(&self.admin, PingDb).await?;
        self.writer.ping(self.timeout).await?;
        self.send(&self.blacklist, Ping).await?
    }

    /// The metrics text, with signing-key ages read now (left out, not failed, when
    /// the database cannot answer: a scrape must not fail because of what it observes).
    pub async fn render_metrics(&self) -> String {
        let ages = match self
            .admin_job(|c, _| signing_key::active_everywhere(c))
            .await
        {
            Ok(keys) => {
                let t = now();
                Some(
                    keys.into_iter()
                        .map(|(slug, kid, since)| (slug, kid, (t - since).max(0)))
                        .collect(),
                )
            }
            Err(e) => {
                tracing::warn!(error = %e.log_cause(), "metrics: signing-key ages unavailable");
                None
            }
        };
        let state = self.pool.state();
        self.metrics.set_pool(
            state.connections - state.idle_connections,
            state.idle_connections,
        );
        self.metrics.render(ages)
    }

    /// Writes the revocations of one committed transaction of the tenant `slug`
    /// (revocation generation `gen`) to the revocation store, counting them. This
    /// node's checks then expect the store to have reached `gen`.
    pub(crate) async fn revoke_entries(
        &self,
        slug: &str,
        tenant_id: &TenantId,
        generation: i64,
        entries: Vec<Entry>,
    ) -> Result<()> {
        for e in &entries {
            self.metrics.revoked(slug, e.kind);
        }
        if let Some(ctx) = self.cache.get(slug) {
            ctx.saw_revocation_gen(generation);
        }
        self.publisher
            .write(tenant_id.clone(), generation, entries)
            .await?;
        Ok(())
    }
}
