//! Import services: a project's users and blacklist (see [`crate::admin_jobs::imports`]);
//! imported revocations reach every node's revocation store before the answer.
use tessera_core::Result;

use crate::{
    Hub,
    admin_jobs::{imports, tenants},
    requests::{ImportRevocationsRequest, ImportUsersRequest},
    services::{AdminKey, auth::token_entry},
    views::{ImportReport, RevocationImport},
};

impl Hub {
    /// Imports users into a tenant the key can see.
    pub async fn import_users(
        &self,
        key: &AdminKey,
        slug: &str,
        req: ImportUsersRequest,
    ) -> Result<ImportReport> {
        let (s, scope, actor) = (slug.to_owned(), key.scope.clone(), key.id.clone());
        self.bulk_admin_job(move |c, _| {
            let row = tenants::visible(c, &s, scope.as_ref())?;
            imports::users(c, &row, req, actor.as_str())
        })
        .await
    }

    /// Imports a blacklist into a tenant the key can see: every token in it that has
    /// not expired is refused from the answer on, on every node.
    pub async fn import_revocations(
        &self,
        key: &AdminKey,
        slug: &str,
        req: ImportRevocationsRequest,
    ) -> Result<RevocationImport> {
        let (s, scope, actor) = (slug.to_owned(), key.scope.clone(), key.id.clone());
        let (tenant_id, (report, batches)) = self
            .bulk_admin_job(move |c, _| {
                let row = tenants::visible(c, &s, scope.as_ref())?;
                Ok((
                    row.id.clone(),
                    imports::revocations(c, &row, req, actor.as_str())?,
                ))
            })
            .await?;
        let at = tessera_core::time::now();
        for (generation, tokens) in batches {
            let entries = tokens
                .into_iter()
                .map(|(jti, exp)| token_entry(&tenant_id, jti, at, exp))
                .collect();
            self.revoke_entries(slug, &tenant_id, generation, entries)
                .await?;
        }
        Ok(report)
    }
}
