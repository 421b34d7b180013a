//! Start-up: logging, pool, migrations, the revocation store, actors, and the HTTP
//! server — on Postgres + Redis, or embedded (SQLite + in process) without a database URL.
use actix_web::{HttpServer, dev::Server};
use std::net::{SocketAddr, TcpListener};
use tessera_actors::{Hub, HubConfig};
use tessera_revocation::RevocationStore;
use tessera_store::{
    Target,
    pool::{conn, connect},
};

use crate::{commands::CommandResult, settings::Settings};

/// A started server: await `server` to run it until it stops.
pub struct Running {
    /// The actix server (already listening).
    pub server: Server,
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The management server (`/metrics`, `/healthz`, `/readyz`), already listening.
    pub management: Server,
    /// The address the management server listens on.
    pub management_addr: SocketAddr,
    /// The actors it sends to.
    pub hub: Hub,
    /// Embedded, the data folder's lock: held while this lives.
    pub data_lock: Option<std::fs::File>,
    /// The database pool the actors share (to drain at shutdown).
    pub pool: tessera_store::DbPool,
}

/// Longest wait at shutdown for database work still under way.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(10);

impl Running {
    /// Serves until the server stops (SIGTERM/SIGINT: it stops accepting, answers
    /// what is in flight, then returns), then shuts down in order: the actors lose
    /// their addresses and stop, and the process returns only once no database
    /// connection is in use, so nothing is mid-query (or mid-TLS) at exit.
    pub async fn serve_until_stopped(self) -> std::io::Result<()> {
        let Running {
            server,
            management,
            hub,
            pool,
            data_lock,
            ..
        } = self;
        // The public server ends on a signal; the management one is stopped after it
        // (it kept answering /healthz and /metrics while the public one drained).
        let handle = management.handle();
        let management = actix_rt::spawn(management);
        let served = server.await;
        handle.stop(true).await;
        let _ = management.await;
        drop(hub);
        let start = std::time::Instant::now();
        loop {
            let state = pool.state();
            if state.connections == state.idle_connections || start.elapsed() > DRAIN {
                break;
            }
            actix_rt::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        drop(pool);
        drop(data_lock);
        tracing::info!("tessera stopped");
        served
    }
}

/// Whether a failure to reach Redis at start-up is one that waiting does not cure: a
/// certificate that did not verify (wrong CA, wrong host name), a TLS alert (a client
/// certificate the server wants) or a server too old for Tessera. A handshake cut
/// short (a server still starting) is not: that one may pass.
fn refused_for_good(why: &str) -> bool {
    let why = why.to_ascii_lowercase();
    ["certificate", "alert", "needs redis"]
        .iter()
        .any(|w| why.contains(w))
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Builds everything and starts listening, on `listener` if given (tests pass one
/// bound to port 0) or on `http.bind`, and the management listener on
/// `management.bind` (or on `management` if given). Must run inside an actix `System`.
pub async fn start(
    settings: &Settings,
    listener: Option<TcpListener>,
    management: Option<TcpListener>,
) -> CommandResult<Running> {
    let target = settings.target()?;
    if settings.prepare_data_dir()? {
        tracing::info!(file = %settings.master_key_file().display(), "created a master key (keep a copy: without it the signing keys cannot be read)");
    }
    let data_lock = settings.lock_data_dir()?;
    let master = settings.master_key()?;
    let embedded = target.is_embedded();
    if let Target::Sqlite(file) = &target {
        tracing::warn!(
            database = %file.display(),
            "embedded mode: SQLite and an in-process revocation store, for a single node only; \
             set database.url (Postgres) and redis.url to run several nodes"
        );
    }
    let pool = connect(
        &target,
        settings.database.pool_size,
        settings.checkout_timeout(),
    );
    if settings.database.migrate_on_start {
        let n = tessera_store::migrate(&mut *conn(&pool).map_err(|e| e.log_cause())?)
            .map_err(|e| e.log_cause())?;
        if n > 0 {
            tracing::info!(applied = n, "database migrations applied");
        }
    } else if !embedded && let Err(e) = conn(&pool) {
        // Without migrations nothing has connected yet: a certificate that does not
        // verify stops start-up here too; an unreachable Postgres does not (503s and
        // a failing /readyz until it answers).
        let why = e.log_cause();
        if why.contains("(TLS: ") {
            return Err(why.into());
        }
        tracing::warn!(error = %why, "postgres is unreachable; serving 503 where it is needed until it answers");
    }
    let (revocations, notify) = if embedded {
        (RevocationStore::in_process(), None)
    } else {
        let redis = settings.redis_target()?;
        let store = RevocationStore::connect(&redis, &settings.redis.prefix)
            .map_err(|e| format!("redis.url: {}", e.log_cause()))?;
        if let Err(e) = store.ping().await {
            let why = e.log_cause();
            // A server that answers but cannot be trusted or used will not get better
            // by waiting: a certificate that does not verify, or too old a Redis.
            if refused_for_good(&why) {
                return Err(format!("redis.url: {why}").into());
            }
            // Not fatal: routes that need Redis answer 503 and /readyz fails until it is back.
            tracing::warn!(error = %why, "redis is unreachable; serving 503 where it is needed until it answers");
        }
        (store, Some(redis))
    };
    let hash_threads = match settings.argon2.max_concurrency {
        0 => cores(),
        n => n,
    };
    let batch_pool = if embedded {
        pool.clone()
    } else {
        tessera_store::pool::connect_for_batches(
            &target,
            settings.commit_slots(),
            settings.checkout_timeout(),
            settings.send_timeout(),
        )
    };
    let hub = Hub::start(HubConfig {
        pool: pool.clone(),
        batch_pool,
        // Also embedded, where the SQLite pool has one connection: token verification
        // runs on these threads without touching the pool, and must use every core
        // (with one thread, verify ran at 80% of the shared mode's rate).
        db_threads: settings.database.pool_size as usize,
        hash_threads,
        hashing: settings.hash_params(),
        hash_priority: settings.argon2.priority,
        master,
        public_url: settings.public_url.trim_end_matches('/').to_owned(),
        revocations,
        notify,
        send_timeout: settings.send_timeout(),
        hash_timeout: settings.hash_timeout(),
        rotation_check: settings.rotation_check(),
        prune_every: settings.prune_every(),
        trusted_proxies: settings.trusted_proxies()?,
        tenant_max_age: settings.tenant_max_age(),
        tenant_series: settings.metrics.tenant_series,
        users_cached: settings.cache.users,
    })
    .map_err(|e| e.log_cause())?;
    let listener = match listener {
        Some(l) => l,
        None => TcpListener::bind(settings.http.bind)
            .map_err(|e| format!("http.bind {}: {e}", settings.http.bind))?,
    };
    let management = match management {
        Some(l) => l,
        None => TcpListener::bind(settings.management.bind)
            .map_err(|e| format!("management.bind {}: {e}", settings.management.bind))?,
    };
    let addr = listener.local_addr()?;
    let management_addr = management.local_addr()?;
    let management_hub = hub.clone();
    let management = HttpServer::new(move || tessera_api::management_app(management_hub.clone()))
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(management)?
        .run();
    let spec = tessera_api::openapi::openapi();
    let app_hub = hub.clone();
    let workers = match settings.http.workers {
        0 => cores(),
        n => n,
    };
    let server = HttpServer::new(move || tessera_api::app(app_hub.clone(), spec.clone()))
        .workers(workers)
        .shutdown_timeout(30)
        .listen(listener)?
        .run();
    tracing::info!(%addr, %management_addr, workers, hash_threads, "tessera listening");
    Ok(Running {
        server,
        addr,
        management,
        management_addr,
        hub,
        data_lock,
        pool,
    })
}
