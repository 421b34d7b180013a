//! The connection to Redis: one server through a `ConnectionManager`, or a Redis
//! Cluster through the redis crate's cluster client. Both reconnect by themselves,
//! and both fail fast (bounded timeouts and retries) while Redis is unreachable.
use redis::{
    Cmd, Pipeline, RedisFuture, RedisResult, Value,
    aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig},
    cluster::{ClusterClient, ClusterClientBuilder},
    cluster_async::ClusterConnection,
};
use std::{sync::Arc, time::Duration};
use tessera_core::Result;

use crate::unavailable;

/// Longest wait to connect to a Redis server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Longest wait for a Redis reply.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Where Redis is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redis {
    /// One server: `redis://host:port/db`.
    Single(String),
    /// A Redis Cluster: some of its nodes' URLs (the rest are discovered).
    Cluster(Vec<String>),
}

impl Redis {
    /// The URLs to subscribe to, in the order to try them: pub/sub messages reach
    /// every node of a cluster, so any one node will do.
    pub fn subscribe_urls(&self) -> Vec<String> {
        match self {
            Redis::Single(url) => vec![url.clone()],
            Redis::Cluster(nodes) => nodes.clone(),
        }
    }
}

/// A prepared, lazily connected link to Redis; cheap to clone.
#[derive(Clone)]
pub(crate) enum Link {
    Single(ConnectionManager),
    Cluster(Arc<LazyCluster>),
}

/// The cluster connection, made at first use (and again after a failed attempt), so
/// a node starts while the cluster is down.
pub(crate) struct LazyCluster {
    client: ClusterClient,
    conn: tokio::sync::OnceCell<ClusterConnection>,
}

impl Link {
    /// Prepares the link without connecting; only a malformed URL fails.
    pub(crate) fn new(redis: &Redis) -> RedisResult<Self> {
        match redis {
            Redis::Single(url) => {
                let client = redis::Client::open(url.as_str())?;
                let config = ConnectionManagerConfig::new()
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(200))
                    .set_connection_timeout(Some(CONNECT_TIMEOUT))
                    .set_response_timeout(Some(RESPONSE_TIMEOUT));
                ConnectionManager::new_lazy_with_config(client, config).map(Link::Single)
            }
            Redis::Cluster(nodes) => {
                let client = ClusterClientBuilder::new(nodes.iter().map(String::as_str))
                    .retries(1)
                    .connection_timeout(CONNECT_TIMEOUT)
                    .response_timeout(RESPONSE_TIMEOUT)
                    .build()?;
                Ok(Link::Cluster(Arc::new(LazyCluster {
                    client,
                    conn: tokio::sync::OnceCell::new(),
                })))
            }
        }
    }

    /// A connection to send on (a clone of the shared one).
    pub(crate) async fn get(&self) -> Result<Connection> {
        match self {
            Link::Single(m) => Ok(Connection::Single(m.clone())),
            Link::Cluster(lazy) => lazy
                .conn
                .get_or_try_init(|| lazy.client.get_async_connection())
                .await
                .map(|c| Connection::Cluster(c.clone()))
                .map_err(unavailable),
        }
    }
}

/// A connection of either kind; commands and pipelines run on it alike.
pub(crate) enum Connection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Connection::Single(c) => c.req_packed_command(cmd),
            Connection::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Connection::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Connection::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Single(c) => c.get_db(),
            Connection::Cluster(c) => c.get_db(),
        }
    }
}
