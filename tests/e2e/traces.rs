//! OpenTelemetry traces over OTLP/HTTP: a receiver of the test's own (decoding the
//! protobuf export) gets the spans of a real `tessera serve` — the request's, each
//! actor message's, the revocation store's and the database transaction's — tied to
//! the request id and to the caller's W3C `traceparent`.
use actix_web::{App, HttpResponse, HttpServer, web};
use opentelemetry_proto::tonic::{
    collector::trace::v1::ExportTraceServiceRequest, common::v1::any_value::Value as V,
};
use prost::Message;
use serde_json::json;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};
use tessera_tests::{TestApp, s};

/// One exported span, with its ids in hex and its string and integer attributes.
#[derive(Debug, Clone)]
struct Exported {
    name: String,
    trace_id: String,
    span_id: String,
    parent: String,
    attrs: HashMap<String, String>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

type Received = Arc<Mutex<Vec<Exported>>>;

/// Accepts `POST /v1/traces` (OTLP/HTTP protobuf) and keeps every span.
async fn export(body: web::Bytes, spans: web::Data<Received>) -> HttpResponse {
    let Ok(req) = ExportTraceServiceRequest::decode(body.as_ref()) else {
        return HttpResponse::BadRequest().finish();
    };
    let mut got = spans.lock().unwrap();
    for rs in req.resource_spans {
        let service = rs
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .find(|kv| kv.key == "service.name")
            .and_then(|kv| kv.value.as_ref()?.value.clone());
        assert!(
            matches!(&service, Some(V::StringValue(s)) if s == "tessera"),
            "{service:?}"
        );
        for span in rs.scope_spans.into_iter().flat_map(|s| s.spans) {
            let attrs = span
                .attributes
                .iter()
                .filter_map(|kv| {
                    let v = match kv.value.as_ref()?.value.as_ref()? {
                        V::StringValue(s) => s.clone(),
                        V::IntValue(i) => i.to_string(),
                        _ => return None,
                    };
                    Some((kv.key.clone(), v))
                })
                .collect();
            got.push(Exported {
                name: span.name,
                trace_id: hex(&span.trace_id),
                span_id: hex(&span.span_id),
                parent: hex(&span.parent_span_id),
                attrs,
            });
        }
    }
    HttpResponse::Ok()
        .content_type("application/x-protobuf")
        .finish()
}

/// Starts the receiver; returns its base URL and what it received.
fn receiver() -> (String, Received) {
    let spans: Received = Arc::default();
    let data = web::Data::new(spans.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
            .route("/v1/traces", web::post().to(export))
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let addr = server.addrs()[0];
    actix_rt::spawn(server.run());
    (format!("http://{addr}"), spans)
}

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER: &str = "00f067aa0ba902b7";

#[actix_rt::test]
async fn spans_reach_an_otlp_receiver_with_the_request_id_and_the_callers_trace() {
    let (endpoint, spans) = receiver();
    let mut app = TestApp::start().await;
    app.tenant("acme", json!({})).await;
    app.user("acme", "alice", "correct horse", json!({})).await;
    // Exported within 100 ms (OTEL_BSP_SCHEDULE_DELAY), and flushed at shutdown.
    let (child, url) = crate::spawn_server(
        &mut app,
        &[
            ("TESSERA__OTEL__ENDPOINT", endpoint.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    )
    .await;
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let mut login = client
        .post(format!("{url}/v1/tenants/acme/token"))
        .insert_header(("X-Request-Id", "otel-login-1"))
        .insert_header(("traceparent", format!("00-{TRACE}-{CALLER}-01")))
        .send_json(&json!({"username": "alice", "password": "correct horse"}))
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let pair: serde_json::Value = login.json().await.unwrap();
    let me = client
        .get(format!("{url}/v1/tenants/acme/users/me"))
        .insert_header(("X-Request-Id", "otel-me-1"))
        .insert_header(("Authorization", format!("Bearer {}", s(&pair, "access"))))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    crate::sigterm(&child);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let spans = spans.lock().unwrap().clone();
    let request = |id: &str| {
        spans
            .iter()
            .find(|s| s.attrs.get("request_id").map(String::as_str) == Some(id))
            .unwrap_or_else(|| panic!("no request span for {id}: {spans:#?}"))
            .clone()
    };
    // The login: a child of the caller's span, in the caller's trace, named by route.
    let login = request("otel-login-1");
    assert_eq!(login.name, "POST /v1/tenants/{tenant}/token", "{login:?}");
    assert_eq!(
        (login.trace_id.as_str(), login.parent.as_str()),
        (TRACE, CALLER)
    );
    assert_eq!(
        login.attrs.get("http.route").map(String::as_str),
        Some("/v1/tenants/{tenant}/token")
    );
    assert_eq!(
        login
            .attrs
            .get("http.response.status_code")
            .map(String::as_str),
        Some("200")
    );
    assert_eq!(login.attrs.get("tenant").map(String::as_str), Some("acme"));
    // What the login did, all in its trace and under it.
    let in_trace: Vec<&Exported> = spans.iter().filter(|s| s.trace_id == TRACE).collect();
    let by_id: HashMap<&str, &Exported> =
        in_trace.iter().map(|s| (s.span_id.as_str(), *s)).collect();
    let under_login = |s: &Exported| {
        let mut at = s;
        for _ in 0..8 {
            if at.span_id == login.span_id {
                return true;
            }
            match by_id.get(at.parent.as_str()) {
                Some(p) => at = p,
                None => return false,
            }
        }
        false
    };
    for (name, what) in [
        (
            "PasswordHasher VerifyPassword",
            "the password check on the hasher threads",
        ),
        ("revocation_store", "the rate limit's round trip"),
        ("db_transaction", "the session's transaction"),
    ] {
        assert!(
            in_trace
                .iter()
                .any(|s| s.name == name && s.span_id != login.span_id && under_login(s)),
            "no {name} span ({what}) under the login: {in_trace:#?}"
        );
    }
    let actor = in_trace
        .iter()
        .find(|s| s.name == "PasswordHasher VerifyPassword")
        .unwrap();
    assert_eq!(
        actor.attrs.get("actor").map(String::as_str),
        Some("PasswordHasher")
    );
    // /users/me without a traceparent starts a trace of its own, with its store check.
    let me = request("otel-me-1");
    assert_ne!(me.trace_id, TRACE);
    assert!(
        me.parent.is_empty() || me.parent == "0000000000000000",
        "{me:?}"
    );
    assert!(
        spans.iter().any(|s| s.trace_id == me.trace_id
            && s.name == "revocation_store"
            && s.attrs.get("op").map(String::as_str) == Some("check")),
        "{spans:#?}"
    );
}

#[test]
fn an_otel_endpoint_that_is_no_url_stops_start_up() {
    let (ok, _, err) = crate::tessera(
        &["check-config"],
        &[("TESSERA__OTEL__ENDPOINT", "collector:4318".into())],
    );
    assert!(!ok);
    assert!(err.contains("otel.endpoint"), "{err}");
}
