//! `/healthz` and `/readyz`.
use actix_web::{HttpResponse, get, web::Data};
use tessera_actors::Hub;

use crate::error::{ApiResult, Problem};

/// Liveness: the process is up.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Up", body = Object, example = json!({"status": "ok"}))))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// Readiness: Postgres and Redis both answer.
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
