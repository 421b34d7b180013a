//! `/healthz` and `/readyz` (on both listeners) and `/metrics` (on the management
//! listener only, since it names every tenant and kid).
use actix_web::{HttpResponse, get, web::Data};
use tessera_actors::Hub;

use crate::error::{ApiResult, Problem};

/// Liveness: the process is up.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Up", body = Object, example = json!({"status": "ok"}))))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// Readiness: the database and the revocation store answer (Postgres and Redis, or,
/// embedded, the SQLite file).
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Object, example = json!({"status": "ready"})),
        (status = 503, description = "`service_unavailable`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(hub: Data<Hub>) -> ApiResult<HttpResponse> {
    hub.ready().await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ready"})))
}

/// The OpenMetrics content type Prometheus asks for.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Prometheus metrics of this node (OpenMetrics text): per-route request counts and
/// latency histograms, logins per tenant and outcome, refresh-token reuse detections,
/// revocations, the age of each tenant's active signing key, actor send timeouts.
#[get("/metrics")]
pub async fn metrics(hub: Data<Hub>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(OPENMETRICS)
        .body(hub.render_metrics().await)
}
