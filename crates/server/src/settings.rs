//! Configuration: built-in defaults < optional `tessera.toml` (`--config PATH`) <
//! environment `TESSERA__SECTION__KEY`. Variables:
//! `TESSERA__PUBLIC_URL`, `TESSERA__DATA_DIR`, `TESSERA__HTTP__BIND`, `TESSERA__HTTP__WORKERS`,
//! `TESSERA__HTTP__TRUSTED_PROXIES` (comma-separated),
//! `TESSERA__DATABASE__URL`, `TESSERA__DATABASE__POOL_SIZE`,
//! `TESSERA__DATABASE__MIGRATE_ON_START`, `TESSERA__DATABASE__PRUNE_INTERVAL_SECS`,
//! `TESSERA__DATABASE__CHECKOUT_TIMEOUT_MS`,
//! `TESSERA__REDIS__URL`, `TESSERA__REDIS__CLUSTER_NODES` (comma-separated),
//! `TESSERA__REDIS__PREFIX`, `TESSERA__KEYS__MASTER_KEY`,
//! `TESSERA__KEYS__ROTATION_CHECK_SECS`,
//! `TESSERA__ARGON2__MEMORY_KIB`, `TESSERA__ARGON2__ITERATIONS`,
//! `TESSERA__ARGON2__PARALLELISM`, `TESSERA__ARGON2__MAX_CONCURRENCY`,
//! `TESSERA__ARGON2__PRIORITY`,
//! `TESSERA__TIMEOUTS__SEND_MS`, `TESSERA__TIMEOUTS__HASH_MS`, `TESSERA__LOG__FORMAT`.
//! A missing or malformed setting stops start-up with one line naming it; no secret
//! value is ever printed.
//!
//! Without `database.url` Tessera runs embedded: an SQLite file and its master key
//! under `data_dir`, revocations in process — for one node only.
use serde::Deserialize;
use std::{
    fmt,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};
use tessera_actors::actors::HashPriority;
use tessera_core::{
    client_ip::{ForwardedHeader, TrustedProxies},
    master_key::MasterKey,
    password::HashParams,
    secret::SecretString,
};
use tessera_revocation::Redis as RedisTarget;
use tessera_store::Target;

/// Every setting, with defaults filled in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Base URL clients reach this service at (default issuers, discovery).
    #[serde(default = "default_public_url")]
    pub public_url: String,
    /// Folder of the embedded mode's SQLite file and master key (used only when
    /// `database.url` is not set).
    #[serde(default = "default_data_dir")]
    pub data_dir: String,
    /// HTTP listener.
    #[serde(default)]
    pub http: Http,
    /// Postgres.
    #[serde(default = "default_database")]
    pub database: Database,
    /// Redis.
    #[serde(default)]
    pub redis: Redis,
    /// Key encryption.
    #[serde(default)]
    pub keys: Keys,
    /// Password hashing.
    #[serde(default)]
    pub argon2: Argon2,
    /// Actor reply timeouts.
    #[serde(default)]
    pub timeouts: Timeouts,
    /// Logging.
    #[serde(default)]
    pub log: Log,
    /// In-memory caches.
    #[serde(default)]
    pub cache: Cache,
}

/// `[cache]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cache {
    /// Longest a node uses a cached tenant (settings and keys) before reading it
    /// again, seconds (1–30): a node that missed a change notification catches up
    /// within it.
    #[serde(default = "default_tenant_max_age")]
    pub tenant_max_age_secs: u64,
}

fn default_tenant_max_age() -> u64 {
    30
}

impl Default for Cache {
    fn default() -> Self {
        Self {
            tenant_max_age_secs: default_tenant_max_age(),
        }
    }
}

/// `[http]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    /// Address to listen on.
    #[serde(default = "default_bind")]
    pub bind: String,
    /// actix-web workers; 0 means one per core.
    #[serde(default)]
    pub workers: usize,
    /// Load balancers and proxies (addresses or CIDR networks) whose
    /// `X-Forwarded-For` is believed; empty: the TCP peer is the client.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// The header the trusted proxies write the client into: `x-forwarded-for`
    /// (default; every line is read) or `forwarded` (RFC 7239). Only this one is read.
    #[serde(default = "default_forwarded_header")]
    pub forwarded_header: String,
}

fn default_forwarded_header() -> String {
    "x-forwarded-for".into()
}

/// `[database]`
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    /// Postgres URL (may carry a password: never printed); unset: embedded SQLite.
    pub url: Option<SecretString>,
    /// Pool size; also the thread count of the DB-bound actors.
    #[serde(default = "default_pool")]
    pub pool_size: u32,
    /// Apply pending migrations when `serve` starts.
    #[serde(default = "yes")]
    pub migrate_on_start: bool,
    /// Longest wait for a pooled connection, ms. Each DB thread holds at most one
    /// connection, so waiting only happens while Postgres is unreachable: keep it short
    /// so that requests get their 503 quickly.
    #[serde(default = "default_checkout_ms")]
    pub checkout_timeout_ms: u64,
    /// Seconds between deletions of expired sessions, tokens and revocations by
    /// `serve`; 0 turns them off (then run `tessera flush-expired`).
    #[serde(default = "default_prune")]
    pub prune_interval_secs: u64,
}

/// `[redis]`
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Redis {
    /// Redis URL (may carry a password: never printed).
    #[serde(default = "default_redis")]
    pub url: SecretString,
    /// Nodes of a Redis Cluster (`redis://host:port`, some or all); when set, they
    /// are used instead of `url`.
    #[serde(default)]
    pub cluster_nodes: Vec<SecretString>,
    /// Prefix of every key and channel.
    #[serde(default = "default_prefix")]
    pub prefix: String,
}

/// `[keys]`
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keys {
    /// 32 bytes, standard base64: encrypts every private signing key at rest.
    pub master_key: Option<SecretString>,
    /// Seconds between scheduled key rotation passes on this node; 0 turns them off.
    #[serde(default = "default_rotation_check")]
    pub rotation_check_secs: u64,
}

impl Default for Keys {
    fn default() -> Self {
        Self {
            master_key: None,
            rotation_check_secs: default_rotation_check(),
        }
    }
}

fn default_rotation_check() -> u64 {
    10
}

/// `[argon2]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Argon2 {
    /// Memory per hash, KiB.
    #[serde(default = "default_m")]
    pub memory_kib: u32,
    /// Iterations.
    #[serde(default = "default_t")]
    pub iterations: u32,
    /// Lanes.
    #[serde(default = "default_p")]
    pub parallelism: u32,
    /// Hashes at once (hasher threads); 0 means one per core.
    #[serde(default)]
    pub max_concurrency: usize,
    /// Scheduling of the hasher threads: `normal`, `low` (niceness about +10) or
    /// `idle` (SCHED_IDLE).
    #[serde(default = "default_hash_priority")]
    pub priority: String,
}

/// `[timeouts]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timeouts {
    /// Longest wait for an actor reply, ms (then 503).
    #[serde(default = "default_send_ms")]
    pub send_ms: u64,
    /// Longest wait for a password hash/verify, ms (then 503).
    #[serde(default = "default_hash_ms")]
    pub hash_ms: u64,
}

/// `[log]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Log {
    /// `text` or `json`.
    #[serde(default = "default_log_format")]
    pub format: String,
    /// tracing filter, e.g. `info` or `tessera=debug`.
    #[serde(default = "default_log_level")]
    pub level: String,
}

fn default_data_dir() -> String {
    "./tessera-data".into()
}
fn default_public_url() -> String {
    "http://127.0.0.1:8080".into()
}
fn default_bind() -> String {
    "127.0.0.1:8080".into()
}
fn default_database() -> Database {
    Database {
        url: None,
        pool_size: default_pool(),
        migrate_on_start: true,
        prune_interval_secs: default_prune(),
        checkout_timeout_ms: default_checkout_ms(),
    }
}
fn default_checkout_ms() -> u64 {
    1_000
}
fn default_prune() -> u64 {
    3600
}
fn default_pool() -> u32 {
    16
}
fn yes() -> bool {
    true
}
fn default_redis() -> SecretString {
    SecretString::new("redis://127.0.0.1:6379")
}
fn default_prefix() -> String {
    "tessera:".into()
}
fn default_m() -> u32 {
    HashParams::default().memory_kib
}
fn default_t() -> u32 {
    HashParams::default().iterations
}
fn default_p() -> u32 {
    HashParams::default().parallelism
}
fn default_hash_priority() -> String {
    // Measured (tests/bench/flood.sh): "normal" keeps the best /users/me p99 and the
    // most logins under a flood; "idle" keeps other routes' throughput instead.
    "normal".into()
}
fn default_send_ms() -> u64 {
    5_000
}
fn default_hash_ms() -> u64 {
    10_000
}
fn default_log_format() -> String {
    "text".into()
}
fn default_log_level() -> String {
    "info".into()
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            public_url: default_public_url(),
            data_dir: default_data_dir(),
            http: Http::default(),
            database: default_database(),
            redis: Redis::default(),
            keys: Keys::default(),
            argon2: Argon2::default(),
            timeouts: Timeouts::default(),
            log: Log::default(),
            cache: Cache::default(),
        }
    }
}

impl Default for Http {
    fn default() -> Self {
        Self {
            bind: default_bind(),
            workers: 0,
            trusted_proxies: Vec::new(),
            forwarded_header: default_forwarded_header(),
        }
    }
}
impl Default for Redis {
    fn default() -> Self {
        Self {
            url: default_redis(),
            cluster_nodes: Vec::new(),
            prefix: default_prefix(),
        }
    }
}
impl Default for Argon2 {
    fn default() -> Self {
        Self {
            memory_kib: default_m(),
            iterations: default_t(),
            parallelism: default_p(),
            max_concurrency: 0,
            priority: default_hash_priority(),
        }
    }
}
impl Default for Timeouts {
    fn default() -> Self {
        Self {
            send_ms: default_send_ms(),
            hash_ms: default_hash_ms(),
        }
    }
}
impl Default for Log {
    fn default() -> Self {
        Self {
            format: default_log_format(),
            level: default_log_level(),
        }
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("url", &self.url.as_ref().map(|_| "<hidden>"))
            .field("pool_size", &self.pool_size)
            .finish()
    }
}
impl fmt::Debug for Redis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redis")
            .field("url", &"<hidden>")
            .field("cluster_nodes", &self.cluster_nodes.len())
            .field("prefix", &self.prefix)
            .finish()
    }
}
impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Keys { master_key: <hidden> }")
    }
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

fn env_name(setting: &str) -> String {
    format!(
        "TESSERA__{}",
        setting.replace('.', "__").to_ascii_uppercase()
    )
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
        let cfg = b.build().map_err(|e| ConfigError(redact(e)))?;
        let s: Settings = cfg.try_deserialize().map_err(|e| ConfigError(redact(e)))?;
        s.check()?;
        Ok(s)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            return Err(ConfigError(
                "public_url must start with http:// or https:// (TESSERA__PUBLIC_URL)".into(),
            ));
        }
        if self.http.bind.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConfigError(
                "http.bind must be an address like 127.0.0.1:8080 (TESSERA__HTTP__BIND)".into(),
            ));
        }
        self.trusted_proxies()?;
        if !(1..=30).contains(&self.cache.tenant_max_age_secs) {
            return Err(ConfigError(format!(
                "cache.tenant_max_age_secs must be 1 to 30 ({})",
                env_name("cache.tenant_max_age_secs")
            )));
        }
        if self.database.pool_size == 0 {
            return Err(ConfigError(
                "database.pool_size must be at least 1 (TESSERA__DATABASE__POOL_SIZE)".into(),
            ));
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return Err(ConfigError(
                "log.format must be text or json (TESSERA__LOG__FORMAT)".into(),
            ));
        }
        HashParams {
            memory_kib: self.argon2.memory_kib,
            iterations: self.argon2.iterations,
            parallelism: self.argon2.parallelism,
        }
        .check()
        .map_err(|e| ConfigError(format!("argon2: {e}")))?;
        Ok(())
    }

    /// Every effective setting as `name = value` lines, secrets shown only as `<set>`.
    pub fn summary(&self) -> String {
        let hidden = |set: bool| if set { "<set>" } else { "<not set>" };
        let lines = [
            format!("mode = {}", self.mode()),
            format!("public_url = {:?}", self.public_url),
            format!("data_dir = {:?}", self.data_dir),
            format!("http.bind = {:?}", self.http.bind),
            format!("http.workers = {}", self.http.workers),
            format!("http.trusted_proxies = {:?}", self.http.trusted_proxies),
            format!("http.forwarded_header = {:?}", self.http.forwarded_header),
            format!("database.url = {}", hidden(self.database.url.is_some())),
            format!("database.pool_size = {}", self.database.pool_size),
            format!(
                "database.migrate_on_start = {}",
                self.database.migrate_on_start
            ),
            format!(
                "database.prune_interval_secs = {}",
                self.database.prune_interval_secs
            ),
            format!(
                "database.checkout_timeout_ms = {}",
                self.database.checkout_timeout_ms
            ),
            "redis.url = <set>".to_owned(),
            format!(
                "redis.cluster_nodes = {}",
                match self.redis.cluster_nodes.len() {
                    0 => "<not set>".to_owned(),
                    n => format!("<{n} set>"),
                }
            ),
            format!("redis.prefix = {:?}", self.redis.prefix),
            format!(
                "keys.master_key = {}",
                hidden(self.keys.master_key.is_some())
            ),
            format!(
                "keys.rotation_check_secs = {}",
                self.keys.rotation_check_secs
            ),
            format!("argon2.memory_kib = {}", self.argon2.memory_kib),
            format!("argon2.iterations = {}", self.argon2.iterations),
            format!("argon2.parallelism = {}", self.argon2.parallelism),
            format!("argon2.max_concurrency = {}", self.argon2.max_concurrency),
            format!("argon2.priority = {:?}", self.argon2.priority),
            format!("timeouts.send_ms = {}", self.timeouts.send_ms),
            format!("timeouts.hash_ms = {}", self.timeouts.hash_ms),
            format!("log.format = {:?}", self.log.format),
            format!("log.level = {:?}", self.log.level),
            format!(
                "cache.tenant_max_age_secs = {}",
                self.cache.tenant_max_age_secs
            ),
        ];
        lines.iter().fold(String::new(), |acc, l| acc + l + "\n")
    }

    /// The parsed `http.trusted_proxies`, or the error naming the bad entry.
    pub fn trusted_proxies(&self) -> Result<TrustedProxies, ConfigError> {
        let header = ForwardedHeader::parse(&self.http.forwarded_header).ok_or_else(|| {
            ConfigError(format!(
                "http.forwarded_header must be x-forwarded-for or forwarded, not {:?} ({})",
                self.http.forwarded_header,
                env_name("http.forwarded_header")
            ))
        })?;
        TrustedProxies::parse(&self.http.trusted_proxies)
            .map(|t| t.with_header(header))
            .map_err(|why| {
                ConfigError(format!(
                    "http.trusted_proxies: {why} ({})",
                    env_name("http.trusted_proxies")
                ))
            })
    }

    /// Where the data lives: Postgres at `database.url`, or, without it, the embedded
    /// SQLite file `tessera.db` under `data_dir`.
    pub fn target(&self) -> Result<Target, ConfigError> {
        match self.database.url.as_ref().map(|u| u.expose()) {
            Some(url) if !url.is_empty() => Ok(Target::Postgres(url.to_owned())),
            _ if self.data_dir.trim().is_empty() => Err(ConfigError(format!(
                "data_dir must name a folder when database.url is not set ({})",
                env_name("data_dir")
            ))),
            _ => Ok(Target::Sqlite(self.data_path().join("tessera.db"))),
        }
    }

    /// Whether this configuration runs the embedded, single-node mode.
    pub fn is_embedded(&self) -> bool {
        self.database
            .url
            .as_ref()
            .is_none_or(|u| u.expose().is_empty())
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

    fn data_path(&self) -> PathBuf {
        PathBuf::from(self.data_dir.trim())
    }

    /// The embedded mode's master key file.
    pub fn master_key_file(&self) -> PathBuf {
        self.data_path().join("master.key")
    }

    /// Embedded, takes the data folder's lock for as long as the returned file lives:
    /// a second `serve` on the same folder would keep a revocation list of its own, so
    /// it is refused. `None` in shared mode.
    pub fn lock_data_dir(&self) -> Result<Option<std::fs::File>, ConfigError> {
        if !self.is_embedded() {
            return Ok(None);
        }
        let path = self.data_path().join("serve.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| {
                ConfigError(format!(
                    "data_dir: cannot open {} ({e}) ({})",
                    path.display(),
                    env_name("data_dir")
                ))
            })?;
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => Err(ConfigError(format!(
                "data_dir {} is in use by another `tessera serve`: the embedded mode runs \
                 one node (for several, set database.url and redis.url)",
                self.data_path().display()
            ))),
            Err(std::fs::TryLockError::Error(e)) => Err(ConfigError(format!(
                "data_dir: cannot lock {} ({e})",
                path.display()
            ))),
        }
    }

    /// Where Redis is: the cluster's nodes when set, else `redis.url`.
    pub fn redis_target(&self) -> RedisTarget {
        if self.redis.cluster_nodes.is_empty() {
            RedisTarget::Single(self.redis.url.expose().to_owned())
        } else {
            RedisTarget::Cluster(
                self.redis
                    .cluster_nodes
                    .iter()
                    .map(|n| n.expose().to_owned())
                    .collect(),
            )
        }
    }

    /// The master key, or the error naming it (never its value). Embedded without a
    /// configured key, it is read from `data_dir/master.key`.
    pub fn master_key(&self) -> Result<Arc<MasterKey>, ConfigError> {
        let (text, source) = match &self.keys.master_key {
            Some(text) => (text.expose().to_owned(), env_name("keys.master_key")),
            None if self.is_embedded() => {
                let file = self.master_key_file();
                let text = std::fs::read_to_string(&file).map_err(|e| {
                    ConfigError(format!(
                        "keys.master_key is not set and {} cannot be read ({}): start \
                         `tessera serve` once to create it, or set {}",
                        file.display(),
                        e.kind(),
                        env_name("keys.master_key")
                    ))
                })?;
                (text, file.display().to_string())
            }
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

    /// Prepares the embedded mode's data folder (owner-only) and, on first use, its
    /// master key (owner-only file); returns whether a key was created. Does nothing
    /// when a database URL or a master key is configured.
    pub fn prepare_data_dir(&self) -> Result<bool, ConfigError> {
        if !self.is_embedded() {
            return Ok(false);
        }
        let dir = self.data_path();
        let fail = |what: &str, e: std::io::Error| {
            ConfigError(format!(
                "data_dir: cannot {what} {} ({e}) ({})",
                dir.display(),
                env_name("data_dir")
            ))
        };
        private_dir(&dir).map_err(|e| fail("create", e))?;
        let file = self.master_key_file();
        if self.keys.master_key.is_some() || file.exists() {
            return Ok(false);
        }
        write_private(&file, MasterKey::generate_base64().as_bytes())
            .map_err(|e| fail("write the master key into", e))?;
        Ok(true)
    }

    /// The hasher threads' scheduling priority, or the error naming the setting.
    pub fn hash_priority(&self) -> Result<HashPriority, ConfigError> {
        self.argon2.priority.parse().map_err(|why| {
            ConfigError(format!(
                "argon2.priority: {why} ({})",
                env_name("argon2.priority")
            ))
        })
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
        (self.database.prune_interval_secs > 0)
            .then(|| Duration::from_secs(self.database.prune_interval_secs))
    }

    /// How often scheduled key rotation runs on this node (`None`: off).
    pub fn rotation_check(&self) -> Option<Duration> {
        (self.keys.rotation_check_secs > 0)
            .then(|| Duration::from_secs(self.keys.rotation_check_secs))
    }
}

/// The config crate's message, which names the key but (for type errors) may quote
/// the value: keep the key, drop any quoted value.
fn redact(e: config::ConfigError) -> String {
    let msg = e.to_string();
    match msg
        .find("invalid type: string \"")
        .or_else(|| msg.find("invalid value: string \""))
    {
        Some(start) => {
            let rest = &msg[start..];
            let key = msg
                .rsplit_once(" for key ")
                .map(|(_, k)| format!(" for key {k}"))
                .unwrap_or_default();
            format!(
                "{}<value hidden>{key}",
                &rest[..rest.find('"').map_or(0, |i| i)]
            )
        }
        None => msg,
    }
}

/// Creates `dir` (and its parents) readable by its owner only.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// Writes a new file readable by its owner only; never overwrites.
fn write_private(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut f = o.open(file)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests;
