//! Operational flows: readiness.
use tessera_core::Result;

use crate::{
    Hub,
    actors::{Ping, PingDb},
};

impl Hub {
    /// Ready when Postgres and Redis both answer.
    pub async fn ready(&self) -> Result<()> {
        self.send(&self.admin, PingDb).await??;
        self.send(&self.blacklist, Ping).await?
    }
}
