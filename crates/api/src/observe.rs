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
use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::Instant,
};
use tessera_actors::Hub;
use tracing::Instrument;

/// Whether spans are exported (set once at start-up by [`export_traces`]): only then
/// do request spans carry the route, status and the caller's trace.
static TRACES: AtomicBool = AtomicBool::new(false);

/// Turns on the request spans' trace attributes (when an OTLP exporter is installed).
pub fn export_traces() {
    TRACES.store(true, Ordering::Relaxed);
}

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
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let start = Instant::now();
    if escapes_a_control(req.path()) {
        // No id, name or slug holds a control character (and a NUL cannot even be
        // stored): such a path names nothing.
        let res = crate::error::problem_response(&tessera_core::Error::NotFound("Route"));
        return Ok(req.into_response(res).map_into_right_body());
    }
    let id = match req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()) {
        Some(given) if acceptable(given) => given.to_owned(),
        _ => tessera_core::ids::random_id(),
    };
    let hub = req.app_data::<Data<Hub>>().cloned();
    let traced = TRACES.load(Ordering::Relaxed);
    let span = if traced {
        let span = tracing::info_span!(
            "request",
            request_id = %id,
            otel.kind = "server",
            http.request.method = %req.method(),
            http.route = tracing::field::Empty,
            http.response.status_code = tracing::field::Empty,
            tenant = tracing::field::Empty,
        );
        follow_caller(&span, &req);
        span
    } else {
        tracing::info_span!("request", request_id = %id)
    };
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
    // The access log: one line per request, by route template (never the raw path,
    // a query, a header or a body, so no token or secret).
    let route = res.request().match_pattern();
    let route = route.as_deref().unwrap_or("unmatched");
    let tenant = res
        .request()
        .match_info()
        .get("tenant")
        .unwrap_or("-")
        .to_owned();
    let method = res.request().method().as_str().to_owned();
    let ms = elapsed.as_millis() as u64;
    if traced {
        use opentelemetry::trace::TraceContextExt;
        use tracing_opentelemetry::OpenTelemetrySpanExt;
        // The span started before routing: it is named by its route template now.
        span.context()
            .span()
            .update_name(format!("{method} {route}"));
        span.record("http.route", route);
        span.record("http.response.status_code", status);
        span.record("tenant", tenant.as_str());
    }
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(target: "tessera::access", %method, %route, status, ms, %tenant, "request");
        } else {
            tracing::info!(target: "tessera::access", %method, %route, status, ms, %tenant, "request");
        }
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    Ok(res.map_into_left_body())
}

/// Makes `span` a child of the caller's trace when the request carries a W3C
/// `traceparent` and traces are exported (otherwise this does nothing).
fn follow_caller(span: &tracing::Span, req: &ServiceRequest) {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    if !req.headers().contains_key("traceparent") {
        return;
    }
    struct Headers<'a>(&'a actix_web::http::header::HeaderMap);
    impl opentelemetry::propagation::Extractor for Headers<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key).and_then(|v| v.to_str().ok())
        }
        fn keys(&self) -> Vec<&str> {
            self.0.keys().map(|k| k.as_str()).collect()
        }
    }
    let parent =
        opentelemetry::global::get_text_map_propagator(|p| p.extract(&Headers(req.headers())));
    // Fails only when no exporter is installed: the span then has no parent to keep.
    let _ = span.set_parent(parent);
}

/// Whether a (still percent-encoded) path carries a control character.
fn escapes_a_control(path: &str) -> bool {
    let hex = |b: u8| char::from(b).to_digit(16);
    path.bytes().any(|b| b < 0x20 || b == 0x7f)
        || path.as_bytes().windows(3).any(|w| {
            w[0] == b'%'
                && matches!((hex(w[1]), hex(w[2])), (Some(h), Some(l)) if h * 16 + l < 0x20 || h * 16 + l == 0x7f)
        })
}

#[cfg(test)]
mod tests {
    use super::acceptable;

    #[test]
    fn paths_escaping_a_control_are_found() {
        assert!(super::escapes_a_control("/v1/admin/tenants/%00"));
        assert!(super::escapes_a_control("/v1/tenants/a%1fb/jwks"));
        assert!(!super::escapes_a_control("/v1/tenants/acme/users/usr_%41"));
        assert!(!super::escapes_a_control("/v1/admin/tenants/%"));
    }

    #[test]
    fn only_short_plain_ids_are_kept() {
        assert!(acceptable("0f1e2d3c-aaaa.bbbb_cc"));
        for bad in ["", "a b", "x\ny", "ünï", &"a".repeat(65), "<script>"] {
            assert!(!acceptable(bad), "{bad:?}");
        }
    }
}
