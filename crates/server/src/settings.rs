//! Configuration: built-in defaults < optional `tessera.toml` (`--config PATH`) <
//! environment. The setting `section.name` is the variable `TESSERA__SECTION__NAME`
//! (lists comma-separated); `tessera check-config` prints every effective setting.
//! A missing or malformed setting stops start-up with one line naming it; no secret
//! value is ever printed.
//!
//! Without `database.url` Tessera runs embedded: an SQLite file and its master key
//! under `data_dir` (see [`data_dir`]), revocations in process — for one node only.
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use smart_default::SmartDefault;
use std::{fmt, net::SocketAddr, path::Path, str::FromStr, sync::Arc, time::Duration};
use tessera_actors::actors::HashPriority;
use tessera_core::{
    client_ip::{ForwardedHeader, TrustedProxies},
    master_key::MasterKey,
    password::HashParams,
};
use tessera_revocation::{Redis as RedisTarget, Servers, Tls};
use tessera_store::Target;

mod data_dir;
mod text;

use text::{address, explain, hidden, shown, summarize, text};

/// Every setting, with defaults filled in.
#[derive(Debug, Clone, Deserialize, Serialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Base URL clients reach this service at (default issuers, discovery).
    #[default = "http://127.0.0.1:8080"]
    pub public_url: String,
    /// Folder of the embedded mode's SQLite file and master key (used only when
    /// `database.url` is not set).
    #[default = "./tessera-data"]
    pub data_dir: String,
    /// HTTP listener.
    pub http: Http,
    /// The management listener (`/metrics`, `/healthz`, `/readyz`).
    pub management: Management,
    /// What `/metrics` exposes.
    pub metrics: Metrics,
    /// Postgres.
    pub database: Database,
    /// Redis.
    pub redis: Redis,
    /// Key encryption.
    pub keys: Keys,
    /// Password hashing.
    pub argon2: Argon2,
    /// Actor reply timeouts.
    pub timeouts: Timeouts,
    /// Logging.
    pub log: Log,
    /// Traces exported over OpenTelemetry's OTLP.
    pub otel: Otel,
    /// In-memory caches.
    pub cache: Cache,
}

/// `[http]`
#[derive(Debug, Clone, Deserialize, Serialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct Http {
    /// Address to listen on.
    #[serde(deserialize_with = "address", serialize_with = "shown")]
    #[default(SocketAddr::from(([127, 0, 0, 1], 8080)))]
    pub bind: SocketAddr,
    /// actix-web workers; 0 means one per core.
    pub workers: usize,
    /// Load balancers and proxies (addresses or CIDR networks) whose
    /// `X-Forwarded-For` is believed; empty: the TCP peer is the client.
    pub trusted_proxies: Vec<String>,
    /// The header the trusted proxies write the client into: `x-forwarded-for`
    /// (default; every line is read) or `forwarded` (RFC 7239). Only this one is read.
    #[serde(deserialize_with = "text", serialize_with = "shown")]
    pub forwarded_header: ForwardedHeader,
}

/// `[management]`
#[derive(Debug, Clone, Deserialize, Serialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct Management {
    /// Address of the management listener: `/metrics` (which names every tenant and
    /// kid, so it stays off the public port), `/healthz` and `/readyz`.
    #[serde(deserialize_with = "address", serialize_with = "shown")]
    #[default(SocketAddr::from(([127, 0, 0, 1], 9464)))]
    pub bind: SocketAddr,
}

/// Most commit slots `database.commit_slots` may ask for.
const MAX_COMMIT_SLOTS: u32 = 256;

/// `[database]`
#[derive(Debug, Clone, Deserialize, Serialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct Database {
    /// Postgres URL (may carry a password: never printed); unset: embedded SQLite.
    #[serde(serialize_with = "hidden")]
    pub url: Option<SecretString>,
    /// Pool size; also the thread count of the DB-bound actors.
    #[default = 16]
    pub pool_size: u32,
    /// Connections (and writer threads) that commit batched session writes (logins,
    /// refreshes, logouts) at once, with Postgres; 0: one per core of this node.
    pub commit_slots: u32,
    /// Apply pending migrations when `serve` starts.
    #[default = true]
    pub migrate_on_start: bool,
    /// Seconds between deletions of expired sessions, tokens and revocations by
    /// `serve`; 0 turns them off (then run `tessera flush-expired`).
    #[default = 3600]
    pub prune_interval_secs: u64,
    /// Longest wait for a pooled connection, ms. Each DB thread holds at most one
    /// connection, so waiting only happens while Postgres is unreachable: keep it short
    /// so that requests get their 503 quickly.
    #[default = 1_000]
    pub checkout_timeout_ms: u64,
    /// PEM file of the CA that signs the Postgres server's certificate: the URL gets
    /// `sslrootcert` set to it, and `sslmode=verify-full` unless it names a mode.
    pub ca_file: Option<String>,
}

/// `[redis]`
#[derive(Debug, Clone, Deserialize, Serialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct Redis {
    /// Redis URL (may carry a password: never printed).
    #[serde(serialize_with = "hidden")]
    #[default(SecretString::from("redis://127.0.0.1:6379"))]
    pub url: SecretString,
    /// Nodes of a Redis Cluster (`redis://host:port`, some or all); when set, they
    /// are used instead of `url`.
    #[serde(serialize_with = "hidden")]
    pub cluster_nodes: Vec<SecretString>,
    /// Prefix of every key and channel.
    #[default = "tessera:"]
    pub prefix: String,
    /// PEM file of the CA that signs the Redis servers' certificates (`rediss://`
    /// URLs only; unset: the system's trusted roots).
    pub ca_file: Option<String>,
    /// PEM client certificate, for a Redis that asks for one (with `client_key_file`).
    pub client_cert_file: Option<String>,
    /// PEM private key of `client_cert_file`.
    pub client_key_file: Option<String>,
}

/// `[keys]`
#[derive(Debug, Clone, Deserialize, Serialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct Keys {
    /// 32 bytes, standard base64: encrypts every private signing key at rest.
    #[serde(serialize_with = "hidden")]
    pub master_key: Option<SecretString>,
    /// Seconds between scheduled key rotation passes on this node; 0 turns them off.
    #[default = 10]
    pub rotation_check_secs: u64,
}

/// `[argon2]`
#[derive(Debug, Clone, Deserialize, Serialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct Argon2 {
    /// Memory per hash, KiB.
    #[default(HashParams::default().memory_kib)]
    pub memory_kib: u32,
    /// Iterations.
    #[default(HashParams::default().iterations)]
    pub iterations: u32,
    /// Lanes.
    #[default(HashParams::default().parallelism)]
    pub parallelism: u32,
    /// Hashes at once (hasher threads); 0 means one per core.
    pub max_concurrency: usize,
    /// Scheduling of the hasher threads: `normal`, `low` (niceness about +10) or
    /// `idle` (SCHED_IDLE). Measured (tests/bench/flood.sh): `normal` keeps the best
    /// /users/me p99 and the most logins under a flood; `idle` keeps other routes'
    /// throughput instead.
    #[serde(deserialize_with = "text", serialize_with = "shown")]
    #[default(HashPriority::Normal)]
    pub priority: HashPriority,
}

/// `[timeouts]`
#[derive(Debug, Clone, Deserialize, Serialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct Timeouts {
    /// Longest wait for an actor reply, ms (then 503).
    #[default = 5_000]
    pub send_ms: u64,
    /// Longest wait for a password hash/verify, ms (then 503).
    #[default = 10_000]
    pub hash_ms: u64,
}

/// `[log]`
#[derive(Debug, Clone, Deserialize, Serialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct Log {
    /// `text` or `json`.
    #[serde(deserialize_with = "text", serialize_with = "shown")]
    #[default(LogFormat::Text)]
    pub format: LogFormat,
    /// tracing filter, e.g. `info` or `tessera=debug,info`; `RUST_LOG`, when set,
    /// takes its place.
    #[default = "info"]
    pub level: String,
}

/// `[otel]`
#[derive(Debug, Clone, Deserialize, Serialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct Otel {
    /// The OTLP/HTTP collector's base URL (e.g. `http://collector:4318`; spans go to
    /// `{endpoint}/v1/traces` as protobuf); unset, no trace is exported.
    pub endpoint: Option<String>,
    /// Share of the traces started here that are kept (0–1); a request carrying a
    /// W3C `traceparent` follows its caller's sampling decision.
    #[default = 1.0]
    pub sample_ratio: f64,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl FromStr for LogFormat {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            _ => Err("must be text or json"),
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Text => "text",
            Self::Json => "json",
        })
    }
}

/// `[metrics]`
#[derive(Debug, Clone, Deserialize, Serialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct Metrics {
    /// Tenants whose own series (logins, reuse, revocations, signing-key age) are
    /// exported: the busiest ones, and the oldest keys (0–1000; 0: aggregates only).
    /// Every other series is an aggregate, so `/metrics` stays bounded.
    #[default(tessera_actors::metrics::DEFAULT_TENANT_SERIES)]
    pub tenant_series: usize,
}

/// `[cache]`
#[derive(Debug, Clone, Deserialize, Serialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct Cache {
    /// Longest a node uses a cached tenant (settings and keys) before reading it
    /// again, seconds (1–30): a node that missed a change notification catches up
    /// within it.
    #[default = 30]
    pub tenant_max_age_secs: u64,
    /// Most user profiles a node keeps for `GET /users/me` (about 300 bytes each;
    /// 0: none), dropped on every change to the user on any node and used for at most
    /// `tenant_max_age_secs`.
    #[default = 100_000]
    pub users: usize,
}

/// A configuration problem, printed as one line that names the setting.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "configuration error: {}", self.0)
    }
}

impl std::error::Error for ConfigError {}

/// The environment variable of a setting (`http.bind` → `TESSERA__HTTP__BIND`).
pub fn env_name(setting: &str) -> String {
    format!(
        "TESSERA__{}",
        setting.replace('.', "__").to_ascii_uppercase()
    )
}

/// A problem with `setting`, naming its environment variable.
fn bad(setting: &str, why: impl fmt::Display) -> ConfigError {
    ConfigError(format!("{setting} {why} ({})", env_name(setting)))
}

impl Settings {
    /// Loads defaults < `file` (if given and present) < environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut b = config::Config::builder();
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            b = b.add_source(config::File::from(path).required(true));
        } else {
            b = b.add_source(config::File::with_name("tessera").required(false));
        }
        b = b.add_source(
            config::Environment::with_prefix("TESSERA")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key("http.trusted_proxies")
                .with_list_parse_key("redis.cluster_nodes"),
        );
        let cfg = b.build().map_err(explain)?;
        let s: Settings = cfg.try_deserialize().map_err(explain)?;
        s.check()?;
        Ok(s)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            return Err(bad("public_url", "must start with http:// or https://"));
        }
        self.trusted_proxies()?;
        if let Some(e) = &self.otel.endpoint
            && (!(e.starts_with("http://") || e.starts_with("https://")) || e.contains('@'))
        {
            // No user:password@ either: the endpoint is printed in summaries and errors
            // (credentials go in OTEL_EXPORTER_OTLP_HEADERS).
            return Err(bad(
                "otel.endpoint",
                "must be an http:// or https:// URL without credentials",
            ));
        }
        if let (Some(_), Some(url)) = (&self.database.ca_file, &self.database.url) {
            let url = url.expose_secret();
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(bad(
                    "database.ca_file",
                    "needs database.url as a postgres:// URL",
                ));
            }
            if let Some(mode) = query_param(url, "sslmode")
                && matches!(mode, "disable" | "allow" | "prefer")
            {
                return Err(bad(
                    "database.ca_file",
                    format!(
                        "is not checked with sslmode={mode}: use verify-full (or leave sslmode out)"
                    ),
                ));
            }
        }
        if !(0.0..=1.0).contains(&self.otel.sample_ratio) {
            return Err(bad("otel.sample_ratio", "must be 0 to 1"));
        }
        let tls_set = [
            &self.redis.ca_file,
            &self.redis.client_cert_file,
            &self.redis.client_key_file,
        ]
        .iter()
        .any(|f| f.is_some());
        // The URLs in use: the cluster's nodes replace redis.url when set.
        let plain = if self.redis.cluster_nodes.is_empty() {
            self.redis.url.expose_secret().starts_with("redis://")
        } else {
            self.redis
                .cluster_nodes
                .iter()
                .any(|u| u.expose_secret().starts_with("redis://"))
        };
        if tls_set && plain && !self.is_embedded() {
            return Err(bad(
                "redis.ca_file",
                "(like the client certificate settings) needs rediss:// URLs in redis.url or redis.cluster_nodes",
            ));
        }
        if self.redis.client_cert_file.is_some() != self.redis.client_key_file.is_some() {
            return Err(bad(
                "redis.client_cert_file",
                "and redis.client_key_file must be set together",
            ));
        }
        if self.metrics.tenant_series > 1000 {
            return Err(bad("metrics.tenant_series", "must be 0 to 1000"));
        }
        if self.database.commit_slots > MAX_COMMIT_SLOTS {
            return Err(bad("database.commit_slots", "must be 0 to 256"));
        }
        if self.cache.users > 10_000_000 {
            return Err(bad("cache.users", "must be 0 to 10000000"));
        }
        if !(1..=30).contains(&self.cache.tenant_max_age_secs) {
            return Err(bad("cache.tenant_max_age_secs", "must be 1 to 30"));
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return Err(bad(
                "log.level",
                "must be a tracing filter like info, warn or tessera=debug,info",
            ));
        }
        if self.database.pool_size == 0 {
            return Err(bad("database.pool_size", "must be at least 1"));
        }
        self.hash_params()
            .check()
            .map_err(|e| ConfigError(format!("argon2: {e}")))
    }

    /// Every effective setting as `name = value` lines, secrets shown only as `<set>`:
    /// read from the settings themselves, so no setting can be left out.
    pub fn summary(&self) -> String {
        format!("mode = {}\n{}", self.mode(), summarize(self))
    }

    /// The parsed `http.trusted_proxies`, or the error naming the bad entry.
    pub fn trusted_proxies(&self) -> Result<TrustedProxies, ConfigError> {
        TrustedProxies::parse(&self.http.trusted_proxies)
            .map(|t| t.with_header(self.http.forwarded_header))
            .map_err(|why| {
                let name = env_name("http.trusted_proxies");
                ConfigError(format!("http.trusted_proxies: {why} ({name})"))
            })
    }

    /// Where the data lives: Postgres at `database.url`, or, without it, the embedded
    /// SQLite file `tessera.db` under `data_dir`.
    pub fn target(&self) -> Result<Target, ConfigError> {
        match self.database.url.as_ref().map(|u| u.expose_secret()) {
            Some(url) if !url.is_empty() => Ok(Target::Postgres(match &self.database.ca_file {
                Some(ca) => with_root_cert(url, ca),
                None => url.to_owned(),
            })),
            _ if self.data_dir.trim().is_empty() => Err(bad(
                "data_dir",
                "must name a folder when database.url is not set",
            )),
            _ => Ok(Target::Sqlite(self.data_path().join("tessera.db"))),
        }
    }

    /// Whether this configuration runs the embedded, single-node mode.
    pub fn is_embedded(&self) -> bool {
        self.database
            .url
            .as_ref()
            .is_none_or(|u| u.expose_secret().is_empty())
    }

    /// `embedded (single node)` or `shared (Postgres + Redis)`, for logs and summaries.
    pub fn mode(&self) -> &'static str {
        if self.is_embedded() {
            "embedded (SQLite + in-process revocations: single node only)"
        } else if self.redis.cluster_nodes.is_empty() {
            "shared (Postgres + Redis)"
        } else {
            "shared (Postgres + Redis Cluster)"
        }
    }

    /// Where Redis is (the cluster's nodes when set, else `redis.url`) and the TLS
    /// material its settings name, read from their files.
    pub fn redis_target(&self) -> Result<RedisTarget, ConfigError> {
        let nodes = &self.redis.cluster_nodes;
        let servers = if nodes.is_empty() {
            Servers::Single(self.redis.url.expose_secret().to_owned())
        } else {
            Servers::Cluster(nodes.iter().map(|n| n.expose_secret().to_owned()).collect())
        };
        let read = |name: &str, file: &Option<String>| {
            file.as_ref()
                .map(|f| std::fs::read(f).map_err(|e| bad(name, format!("cannot read {f}: {e}"))))
                .transpose()
        };
        let ca = read("redis.ca_file", &self.redis.ca_file)?;
        let cert = read("redis.client_cert_file", &self.redis.client_cert_file)?;
        let key = read("redis.client_key_file", &self.redis.client_key_file)?;
        let client = match (cert, key) {
            (Some(cert), Some(key)) => Some((cert, key.into())),
            _ => None,
        };
        let tls = (ca.is_some() || client.is_some()).then_some(Tls { ca, client });
        Ok(RedisTarget { servers, tls })
    }

    /// The master key, or the error naming it (never its value). Embedded without a
    /// configured key, it is read from `data_dir/master.key`.
    pub fn master_key(&self) -> Result<Arc<MasterKey>, ConfigError> {
        let (text, source) = match &self.keys.master_key {
            Some(text) => (text.expose_secret().to_owned(), env_name("keys.master_key")),
            None if self.is_embedded() => self.read_master_key_file()?,
            None => {
                return Err(ConfigError(format!(
                    "keys.master_key is required: 32 random bytes in base64 (set {})",
                    env_name("keys.master_key")
                )));
            }
        };
        MasterKey::from_base64(&text)
            .map(Arc::new)
            .map_err(|why| ConfigError(format!("keys.master_key {why} ({source})")))
    }

    /// argon2id costs.
    pub fn hash_params(&self) -> HashParams {
        HashParams {
            memory_kib: self.argon2.memory_kib,
            iterations: self.argon2.iterations,
            parallelism: self.argon2.parallelism,
        }
    }

    /// The per-message actor timeout.
    pub fn send_timeout(&self) -> Duration {
        Duration::from_millis(self.timeouts.send_ms.max(1))
    }

    /// The batch writer's commit slots: `database.commit_slots`, or one per core.
    pub fn commit_slots(&self) -> u32 {
        match self.database.commit_slots {
            0 => u32::try_from(tessera_actors::actors::commit_slots())
                .unwrap_or(MAX_COMMIT_SLOTS)
                .min(MAX_COMMIT_SLOTS),
            n => n,
        }
    }

    /// The longest wait for a pooled Postgres connection.
    pub fn checkout_timeout(&self) -> Duration {
        Duration::from_millis(self.database.checkout_timeout_ms.max(1))
    }

    /// The password hash/verify timeout.
    pub fn hash_timeout(&self) -> Duration {
        Duration::from_millis(self.timeouts.hash_ms.max(1))
    }

    /// How long a cached tenant is used before it is read again.
    pub fn tenant_max_age(&self) -> Duration {
        Duration::from_secs(self.cache.tenant_max_age_secs)
    }

    /// How often `serve` prunes expired rows (`None`: off).
    pub fn prune_every(&self) -> Option<Duration> {
        let secs = self.database.prune_interval_secs;
        (secs > 0).then(|| Duration::from_secs(secs))
    }

    /// How often scheduled key rotation runs on this node (`None`: off).
    pub fn rotation_check(&self) -> Option<Duration> {
        let secs = self.keys.rotation_check_secs;
        (secs > 0).then(|| Duration::from_secs(secs))
    }
}

#[cfg(test)]
mod tests;

/// `url` with `sslrootcert` = `ca` (percent-encoded), and `sslmode=verify-full` when it
/// names no mode: a CA file is given to check the server against.
fn with_root_cert(url: &str, ca: &str) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    let mut out = url.to_owned();
    let mut add = |param: &str| {
        out.push(if out.contains('?') { '&' } else { '?' });
        out.push_str(param);
    };
    add(&format!(
        "sslrootcert={}",
        utf8_percent_encode(ca, NON_ALPHANUMERIC)
    ));
    if query_param(url, "sslmode").is_none() {
        add("sslmode=verify-full");
    }
    out
}

/// The value of the query parameter `name` of `url` (after its `?`).
fn query_param<'a>(url: &'a str, name: &str) -> Option<&'a str> {
    let (_, query) = url.split_once('?')?;
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find_map(|(k, v)| (k == name).then_some(v))
}
