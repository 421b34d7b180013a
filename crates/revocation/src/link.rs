//! The connection to Redis: one server through a `ConnectionManager`, or a Redis
//! Cluster through the redis crate's cluster client. Both reconnect by themselves,
//! and both fail fast (bounded timeouts and retries) while Redis is unreachable.
use redis::{
    ClientTlsConfig, Cmd, Pipeline, RedisFuture, RedisResult, TlsCertificates, Value,
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

/// Where Redis is and how to reach it (its `Debug` shows no URL: they may carry
/// passwords).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redis {
    /// One server or a cluster.
    pub servers: Servers,
    /// Certificates for `rediss://` URLs (`None`: the system's trusted roots).
    pub tls: Option<Tls>,
}

/// The Redis servers.
#[derive(Clone, PartialEq, Eq)]
pub enum Servers {
    /// One server: `redis://host:port/db` (or `rediss://` for TLS).
    Single(String),
    /// A Redis Cluster: some of its nodes' URLs (the rest are discovered).
    Cluster(Vec<String>),
}

/// TLS material for Redis, PEM-encoded.
#[derive(Clone, PartialEq, Eq)]
pub struct Tls {
    /// The CA certificates that sign the server's (replacing the system's roots).
    pub ca: Option<Vec<u8>>,
    /// A client certificate and its key, for a server that asks for one.
    pub client: Option<(Vec<u8>, zeroize::Zeroizing<Vec<u8>>)>,
}

impl std::fmt::Debug for Servers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Servers::Single(_) => f.write_str("Single(<url>)"),
            Servers::Cluster(nodes) => write!(f, "Cluster(<{} urls>)", nodes.len()),
        }
    }
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("ca", &self.ca.is_some())
            .field("client", &self.client.is_some())
            .finish()
    }
}

impl Tls {
    fn certificates(&self) -> TlsCertificates {
        TlsCertificates {
            root_cert: self.ca.clone(),
            client_tls: self.client.as_ref().map(|(cert, key)| ClientTlsConfig {
                client_cert: cert.clone(),
                client_key: key.to_vec(),
            }),
        }
    }
}

impl Redis {
    /// One server at `url`, with the system's trusted roots for `rediss://`.
    pub fn single(url: impl Into<String>) -> Self {
        Self {
            servers: Servers::Single(url.into()),
            tls: None,
        }
    }

    /// The URLs to subscribe to, in the order to try them: pub/sub messages reach
    /// every node of a cluster, so any one node will do.
    pub fn subscribe_urls(&self) -> Vec<String> {
        match &self.servers {
            Servers::Single(url) => vec![url.clone()],
            Servers::Cluster(nodes) => nodes.clone(),
        }
    }

    /// A client of one server at `url` (a `rediss://` one with this TLS material).
    pub(crate) fn client(&self, url: &str) -> RedisResult<redis::Client> {
        install_crypto();
        match &self.tls {
            Some(tls) => redis::Client::build_with_tls(url, tls.certificates()),
            None => redis::Client::open(url),
        }
    }
}

/// rustls's process-wide crypto: aws-lc-rs, the same library that signs tokens.
fn install_crypto() {
    // Fails only when a provider is installed already, which is as good.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
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
        match &redis.servers {
            Servers::Single(url) => {
                let client = redis.client(url)?;
                let config = ConnectionManagerConfig::new()
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(200))
                    .set_connection_timeout(Some(CONNECT_TIMEOUT))
                    .set_response_timeout(Some(RESPONSE_TIMEOUT));
                ConnectionManager::new_lazy_with_config(client, config).map(Link::Single)
            }
            Servers::Cluster(nodes) => {
                install_crypto();
                let mut builder = ClusterClientBuilder::new(nodes.iter().map(String::as_str));
                if let Some(tls) = &redis.tls {
                    builder = builder.certs(tls.certificates());
                }
                let client = builder
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
