//! This node's Prometheus metrics (served as OpenMetrics text at `/metrics`): HTTP
//! requests per route, logins, refresh-token reuse, revocations, signing-key age and
//! actor timeouts. Each [`Hub`](crate::Hub) has its own registry, so nodes (and tests
//! running several servers in one process) never mix their counts.
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
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

/// A tenant and what kind of thing.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    tenant: String,
    kind: &'static str,
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

fn latency_histogram() -> Histogram {
    // 0.25 ms … ~4 s
    Histogram::new(exponential_buckets(0.000_25, 2.0, 15))
}

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

/// Every metric of a node.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Latency,
    logins: Family<OutcomeLabels, Counter>,
    reuse: Family<TenantOnly, Counter>,
    revocations: Family<KindLabels, Counter>,
    key_age: Family<KeyLabels, Gauge>,
    timeouts: Family<ActorLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("tessera");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: Latency = Family::new_with_constructor(latency_histogram);
        let logins = Family::<OutcomeLabels, Counter>::default();
        let reuse = Family::<TenantOnly, Counter>::default();
        let revocations = Family::<KindLabels, Counter>::default();
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
        let key_age = Family::<KeyLabels, Gauge>::default();
        let timeouts = Family::<ActorLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            latency.clone(),
        );
        registry.register(
            "logins",
            "Login attempts by tenant and outcome (succeeded, failed, rate_limited)",
            logins.clone(),
        );
        registry.register(
            "refresh_reuse_detections",
            "Rotated-out refresh tokens presented again (each revoked its session)",
            reuse.clone(),
        );
        registry.register(
            "revocations",
            "Revocations written, by tenant and kind (session, token, user)",
            revocations.clone(),
        );
        registry.register(
            "signing_key_age_seconds",
            "Age of each tenant's active signing key, read at scrape time",
            key_age.clone(),
        );
        registry.register(
            "actor_send_timeouts",
            "Messages whose actor did not answer in time (each became a 503)",
            timeouts.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            logins,
            reuse,
            revocations,
            key_age,
            timeouts,
        }
    }
}

impl Metrics {
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

    /// Records a login attempt's outcome.
    pub fn login(&self, tenant: &str, outcome: LoginOutcome) {
        let outcome = match outcome {
            LoginOutcome::Succeeded => "succeeded",
            LoginOutcome::Failed => "failed",
            LoginOutcome::RateLimited => "rate_limited",
        };
        self.logins
            .get_or_create(&OutcomeLabels {
                tenant: tenant.to_owned(),
                outcome,
            })
            .inc();
    }

    /// Records a detected refresh-token reuse.
    pub fn reuse(&self, tenant: &str) {
        self.reuse
            .get_or_create(&TenantOnly {
                tenant: tenant.to_owned(),
            })
            .inc();
    }

    /// Records revocations written.
    pub fn revoked(&self, tenant: &str, kind: RevocationKind) {
        let kind = match kind {
            RevocationKind::Session => "session",
            RevocationKind::Token => "token",
            RevocationKind::User => "user",
        };
        self.revocations
            .get_or_create(&KindLabels {
                tenant: tenant.to_owned(),
                kind,
            })
            .inc();
    }

    /// Records an actor that did not answer in time.
    pub fn timed_out(&self, actor: &'static str) {
        self.timeouts.get_or_create(&ActorLabels { actor }).inc();
    }

    /// Replaces the key ages with `keys` (tenant slug, kid, age in seconds).
    pub fn set_key_ages(&self, keys: &[(String, Kid, i64)]) {
        self.key_age.clear();
        for (tenant, kid, age) in keys {
            self.key_age
                .get_or_create(&KeyLabels {
                    tenant: tenant.clone(),
                    kid: kid.to_string(),
                })
                .set(*age);
        }
    }

    /// The OpenMetrics text of every metric.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}
