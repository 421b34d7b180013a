//! This node's Prometheus metrics (served as OpenMetrics text at `/metrics`): HTTP
//! requests per route, logins, refresh-token reuse, revocations, signing-key age,
//! pools, actor queues, revocation-store latency and actor timeouts. Each
//! [`Hub`](crate::Hub) has its own registry, so nodes (and tests running several
//! servers in one process) never mix their counts.
//!
//! The exposition stays bounded whatever the number of tenants: every series is an
//! aggregate, and per-tenant series are kept for the busiest
//! [`Metrics::with_tenant_series`] tenants only (counted in memory for all of them,
//! chosen at scrape time).
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::{Metric, Registry},
};
use tessera_core::{ids::Kid, revocation::RevocationKind};

/// Labels of one HTTP request count.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

/// Labels of one route's latency.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

/// A tenant and how an attempt ended.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    tenant: String,
    outcome: &'static str,
}

/// How an attempt ended.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeOnly {
    outcome: &'static str,
}

/// A tenant and what kind of thing.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    tenant: String,
    kind: &'static str,
}

/// What kind of thing.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindOnly {
    kind: &'static str,
}

/// A state (of pooled connections).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

/// Whether a cache had it.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

/// A revocation-store operation.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OpLabels {
    op: &'static str,
}

/// What was built: the version and the commit.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
    commit: &'static str,
}

/// A tenant.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TenantOnly {
    tenant: String,
}

/// A signing key.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyLabels {
    tenant: String,
    kid: String,
}

/// An actor.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActorLabels {
    actor: &'static str,
}

type Latency = Family<RouteLabels, Histogram, fn() -> Histogram>;
type StoreLatency = Family<OpLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 0.25 ms … ~4 s
    Histogram::new(exponential_buckets(0.000_25, 2.0, 15))
}

fn round_trip_histogram() -> Histogram {
    // 50 µs … ~1.6 s
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

/// Registers `metric` under `name` and hands it back (a clone shares its values).
fn registered<M: Metric + Clone>(registry: &mut Registry, name: &str, help: &str, metric: M) -> M {
    registry.register(name, help, metric.clone());
    metric
}

/// Login outcomes, in the order of [`TenantCounts::logins`].
const OUTCOMES: [&str; 3] = ["succeeded", "failed", "rate_limited"];
/// Revocation kinds, in the order of [`TenantCounts::revocations`].
const KINDS: [&str; 3] = ["session", "token", "user"];
/// Per-tenant series kept by default: the busiest tenants' (and the oldest keys').
pub const DEFAULT_TENANT_SERIES: usize = 20;

/// How a login attempt ended.
#[derive(Debug, Clone, Copy)]
pub enum LoginOutcome {
    /// A pair was issued.
    Succeeded,
    /// Unknown user, wrong password or inactive user.
    Failed,
    /// Refused by the rate limit before any check.
    RateLimited,
}

/// What one tenant did since this node started (kept for every tenant, exported for
/// the busiest only).
#[derive(Debug, Default, Clone, Copy)]
struct TenantCounts {
    logins: [u64; 3],
    reuse: u64,
    revocations: [u64; 3],
}

impl TenantCounts {
    fn total(&self) -> u64 {
        self.logins.iter().chain(&self.revocations).sum::<u64>() + self.reuse
    }
}

/// The per-tenant families, filled at scrape time.
struct TenantSeries {
    logins: Family<OutcomeLabels, Counter>,
    reuse: Family<TenantOnly, Counter>,
    revocations: Family<KindLabels, Counter>,
    key_age: Family<KeyLabels, Gauge>,
    omitted: Gauge,
}

/// Every metric of a node.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Latency,
    logins: Family<OutcomeOnly, Counter>,
    reuse: Counter,
    revocations: Family<KindOnly, Counter>,
    key_max_age: Gauge,
    keys_active: Gauge,
    pool: Family<StateLabels, Gauge>,
    in_flight: Family<ActorLabels, Gauge>,
    store_latency: StoreLatency,
    timeouts: Family<ActorLabels, Counter>,
    user_cache: Family<ResultLabels, Counter>,
    write_batches: Family<KindOnly, Histogram, fn() -> Histogram>,
    /// Tenants whose own series are exported (the busiest; 0: none).
    tenant_series: usize,
    counts: parking_lot::Mutex<std::collections::HashMap<String, TenantCounts>>,
    /// Held while a scrape fills the per-tenant families and encodes them.
    per_tenant: parking_lot::Mutex<TenantSeries>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::with_tenant_series(DEFAULT_TENANT_SERIES)
    }
}

impl Metrics {
    /// A registry whose per-tenant series cover at most `tenant_series` tenants.
    pub fn with_tenant_series(tenant_series: usize) -> Self {
        let mut registry = Registry::with_prefix("tessera");
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
                commit: env!("TESSERA_COMMIT"),
            })
            .set(1);
        registry.register(
            "build_info",
            "Always 1: the version and commit this node runs",
            build,
        );
        let requests = registered(
            &mut registry,
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            Family::<RequestLabels, Counter>::default(),
        );
        let latency: Latency = registered(
            &mut registry,
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            Family::new_with_constructor(latency_histogram),
        );
        let logins = registered(
            &mut registry,
            "logins",
            "Login attempts of every tenant, by outcome (succeeded, failed, rate_limited)",
            Family::<OutcomeOnly, Counter>::default(),
        );
        let reuse = registered(
            &mut registry,
            "refresh_reuse_detections",
            "Rotated-out refresh tokens presented again (each revoked its session)",
            Counter::default(),
        );
        let revocations = registered(
            &mut registry,
            "revocations",
            "Revocations written, by kind (session, token, user)",
            Family::<KindOnly, Counter>::default(),
        );
        let key_max_age = registered(
            &mut registry,
            "signing_key_max_age_seconds",
            "Age of the oldest active signing key of any tenant, read at scrape time",
            Gauge::default(),
        );
        let keys_active = registered(
            &mut registry,
            "signing_keys_active",
            "Active signing keys (one per tenant), read at scrape time",
            Gauge::default(),
        );
        let pool = registered(
            &mut registry,
            "db_pool_connections",
            "Database pool connections by state (in_use, idle), read at scrape time",
            Family::<StateLabels, Gauge>::default(),
        );
        let in_flight = registered(
            &mut registry,
            "actor_in_flight",
            "Messages sent to an actor and not yet answered: its mailbox plus the ones being handled (PasswordHasher: the hashing queue)",
            Family::<ActorLabels, Gauge>::default(),
        );
        let store_latency: StoreLatency = registered(
            &mut registry,
            "revocation_store_seconds",
            "Round trip to the revocation store (Redis; in process in the embedded mode), by operation",
            Family::new_with_constructor(round_trip_histogram),
        );
        let timeouts = registered(
            &mut registry,
            "actor_send_timeouts",
            "Messages whose actor did not answer in time (each became a 503)",
            Family::<ActorLabels, Counter>::default(),
        );
        let user_cache = registered(
            &mut registry,
            "user_cache_requests",
            "Profiles /users/me looked up in this node's user cache, by result (hit, miss)",
            Family::<ResultLabels, Counter>::default(),
        );
        let write_batches = registered(
            &mut registry,
            "write_batch_size",
            "Requests committed together in one database write, by kind (refresh, session_revocation, session_start): the group commit at work",
            Family::<KindOnly, Histogram, fn() -> Histogram>::new_with_constructor(|| {
                Histogram::new(exponential_buckets(1.0, 2.0, 7))
            }),
        );
        let series = TenantSeries {
            logins: Family::default(),
            reuse: Family::default(),
            revocations: Family::default(),
            key_age: Family::default(),
            omitted: Gauge::default(),
        };
        registered(
            &mut registry,
            "tenant_logins",
            "Login attempts by tenant and outcome, for the busiest tenants only (metrics.tenant_series)",
            series.logins.clone(),
        );
        registered(
            &mut registry,
            "tenant_refresh_reuse_detections",
            "Refresh-token reuse by tenant, for the busiest tenants only",
            series.reuse.clone(),
        );
        registered(
            &mut registry,
            "tenant_revocations",
            "Revocations by tenant and kind, for the busiest tenants only",
            series.revocations.clone(),
        );
        registered(
            &mut registry,
            "signing_key_age_seconds",
            "Age of the active signing key by tenant and kid, for the oldest keys only (metrics.tenant_series)",
            series.key_age.clone(),
        );
        registered(
            &mut registry,
            "tenant_series_omitted",
            "Tenants with activity whose own series were left out of this scrape",
            series.omitted.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            logins,
            reuse,
            revocations,
            key_max_age,
            keys_active,
            pool,
            in_flight,
            store_latency,
            timeouts,
            user_cache,
            write_batches,
            tenant_series,
            counts: Default::default(),
            per_tenant: parking_lot::Mutex::new(series),
        }
    }

    /// Records one answered request.
    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let (method, route) = (method.to_owned(), route.to_owned());
        self.latency
            .get_or_create(&RouteLabels {
                method: method.clone(),
                route: route.clone(),
            })
            .observe(seconds);
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status,
            })
            .inc();
    }

    /// Adds one to the tenant `slug`'s counts (kept in memory for every tenant).
    fn count(&self, slug: &str, add: impl FnOnce(&mut TenantCounts)) {
        if self.tenant_series == 0 {
            return;
        }
        let mut counts = self.counts.lock();
        match counts.get_mut(slug) {
            Some(c) => add(c),
            None => add(counts.entry(slug.to_owned()).or_default()),
        }
    }

    /// Records a login attempt's outcome.
    pub fn login(&self, tenant: &str, outcome: LoginOutcome) {
        let i = match outcome {
            LoginOutcome::Succeeded => 0,
            LoginOutcome::Failed => 1,
            LoginOutcome::RateLimited => 2,
        };
        self.logins
            .get_or_create(&OutcomeOnly {
                outcome: OUTCOMES[i],
            })
            .inc();
        self.count(tenant, |c| c.logins[i] += 1);
    }

    /// Records a detected refresh-token reuse.
    pub fn reuse(&self, tenant: &str) {
        self.reuse.inc();
        self.count(tenant, |c| c.reuse += 1);
    }

    /// Records revocations written.
    pub fn revoked(&self, tenant: &str, kind: RevocationKind) {
        let i = match kind {
            RevocationKind::Session => 0,
            RevocationKind::Token => 1,
            RevocationKind::User => 2,
        };
        self.revocations
            .get_or_create(&KindOnly { kind: KINDS[i] })
            .inc();
        self.count(tenant, |c| c.revocations[i] += 1);
    }

    /// Records an actor that did not answer in time.
    pub fn timed_out(&self, actor: &'static str) {
        self.timeouts.get_or_create(&ActorLabels { actor }).inc();
    }

    /// Records a user-cache lookup of `/users/me`.
    pub fn user_cache(&self, hit: bool) {
        let result = if hit { "hit" } else { "miss" };
        self.user_cache
            .get_or_create(&ResultLabels { result })
            .inc();
    }

    /// Records how many requests one database write of `kind` committed together.
    pub fn write_batch(&self, kind: &'static str, size: usize) {
        self.write_batches
            .get_or_create(&KindOnly { kind })
            .observe(size as f64);
    }

    /// Counts a message sent to `actor` until the returned guard is dropped.
    pub fn in_flight(&self, actor: &'static str) -> InFlight {
        let gauge = self.in_flight.get_or_create(&ActorLabels { actor }).clone();
        gauge.inc();
        InFlight(gauge)
    }

    /// Records one revocation-store round trip.
    pub fn store_round_trip(&self, op: &'static str, seconds: f64) {
        self.store_latency
            .get_or_create(&OpLabels { op })
            .observe(seconds);
    }

    /// Sets the database pool's connections (at scrape time).
    pub fn set_pool(&self, in_use: u32, idle: u32) {
        for (state, n) in [("in_use", in_use), ("idle", idle)] {
            self.pool
                .get_or_create(&StateLabels { state })
                .set(i64::from(n));
        }
    }

    /// The OpenMetrics text of every metric, with the key ages `keys` (tenant slug,
    /// kid, age in seconds of every active key) read at scrape time: the oldest age
    /// and the count go to aggregates, the oldest keys to per-key series.
    pub fn render(&self, keys: Option<Vec<(String, Kid, i64)>>) -> String {
        let series = self.per_tenant.lock();
        if let Some(mut keys) = keys {
            self.key_max_age
                .set(keys.iter().map(|k| k.2).max().unwrap_or(0));
            self.keys_active.set(keys.len() as i64);
            series.key_age.clear();
            if keys.len() > self.tenant_series {
                keys.select_nth_unstable_by_key(self.tenant_series, |k| std::cmp::Reverse(k.2));
                keys.truncate(self.tenant_series);
            }
            for (tenant, kid, age) in keys {
                series
                    .key_age
                    .get_or_create(&KeyLabels {
                        tenant,
                        kid: kid.to_string(),
                    })
                    .set(age);
            }
        }
        let mut busiest: Vec<(String, TenantCounts)> = {
            let counts = self.counts.lock();
            counts.iter().map(|(k, v)| (k.clone(), *v)).collect()
        };
        series
            .omitted
            .set(busiest.len().saturating_sub(self.tenant_series) as i64);
        if busiest.len() > self.tenant_series {
            busiest.select_nth_unstable_by(self.tenant_series, |a, b| {
                b.1.total().cmp(&a.1.total()).then_with(|| a.0.cmp(&b.0))
            });
            busiest.truncate(self.tenant_series);
        }
        series.logins.clear();
        series.reuse.clear();
        series.revocations.clear();
        for (tenant, c) in busiest {
            for (outcome, n) in OUTCOMES.iter().zip(c.logins) {
                if n > 0 {
                    series
                        .logins
                        .get_or_create(&OutcomeLabels {
                            tenant: tenant.clone(),
                            outcome,
                        })
                        .inc_by(n);
                }
            }
            for (kind, n) in KINDS.iter().zip(c.revocations) {
                if n > 0 {
                    series
                        .revocations
                        .get_or_create(&KindLabels {
                            tenant: tenant.clone(),
                            kind,
                        })
                        .inc_by(n);
                }
            }
            if c.reuse > 0 {
                series
                    .reuse
                    .get_or_create(&TenantOnly { tenant })
                    .inc_by(c.reuse);
            }
        }
        let mut out = String::with_capacity(16 * 1024);
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// A message on its way to an actor; the actor's in-flight gauge drops by one when
/// this is dropped.
pub struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}
