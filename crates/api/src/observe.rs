//! Request observation, wrapped around every route: a request id (a sane incoming
//! `X-Request-Id` is kept, else one is made) echoed in the response header and carried
//! by the request's tracing span, and the per-route request count and latency metrics
//! (labelled by route template, never by raw path).
use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
    web::Data,
};
use std::time::Instant;
use tessera_actors::Hub;
use tracing::Instrument;

/// The request id header, in and out.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// An incoming id worth keeping: 1–64 characters of `[A-Za-z0-9._-]`.
fn acceptable(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The middleware (`actix_web::middleware::from_fn(observe)`).
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let start = Instant::now();
    let id = match req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()) {
        Some(given) if acceptable(given) => given.to_owned(),
        _ => tessera_core::ids::random_id(),
    };
    let hub = req.app_data::<Data<Hub>>().cloned();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.path()
    );
    let result = next.call(req).instrument(span.clone()).await;
    let mut res = match result {
        Ok(res) => res,
        Err(e) => {
            let status = e.as_response_error().status_code().as_u16();
            span.in_scope(|| tracing::warn!(status, "request failed"));
            return Err(e);
        }
    };
    let status = res.status().as_u16();
    let elapsed = start.elapsed();
    if let Some(hub) = hub {
        let route = res.request().match_pattern();
        hub.metrics().request(
            res.request().method().as_str(),
            route.as_deref().unwrap_or("unmatched"),
            status,
            elapsed.as_secs_f64(),
        );
    }
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(status, ms = elapsed.as_millis() as u64, "request answered");
        } else {
            tracing::debug!(status, ms = elapsed.as_millis() as u64, "request answered");
        }
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::acceptable;

    #[test]
    fn only_short_plain_ids_are_kept() {
        assert!(acceptable("0f1e2d3c-aaaa.bbbb_cc"));
        for bad in ["", "a b", "x\ny", "ünï", &"a".repeat(65), "<script>"] {
            assert!(!acceptable(bad), "{bad:?}");
        }
    }
}
