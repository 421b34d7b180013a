//! Logs and traces: the tracing subscriber (text or JSON lines on stderr) and, when
//! `otel.endpoint` is set, the OpenTelemetry layer exporting spans over OTLP/HTTP.
//!
//! Spans: `request` (one per HTTP request, a child of the caller's W3C `traceparent`),
//! `actor` (each message sent to an actor, queueing included), `revocation_store` (each
//! Redis round trip) and `db_transaction` (each database transaction). The last three
//! are at debug level for the exporter only, so without an endpoint they cost nothing.
use opentelemetry::{KeyValue, trace::TracerProvider as _};
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::{
    Resource,
    propagation::TraceContextPropagator,
    trace::{Sampler, SdkTracerProvider},
};
use tracing_subscriber::{
    EnvFilter, Layer, filter::FilterExt, filter::Targets, fmt, layer::SubscriberExt,
    util::SubscriberInitExt,
};

use crate::settings::{LogFormat, Settings};

/// What must outlive the server for its traces to leave: the span exporter, flushed
/// when this is dropped.
pub struct Telemetry(Option<SdkTracerProvider>);

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.0.take() {
            if let Err(e) = provider.force_flush() {
                tracing::warn!(error = %e, "spans not exported at shutdown");
            }
            let _ = provider.shutdown();
        }
    }
}

/// The OTLP exporter and its tracer provider, for `endpoint` (`{endpoint}/v1/traces`).
fn provider(endpoint: &str, sample_ratio: f64) -> Result<SdkTracerProvider, String> {
    let exporter = SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
        .with_timeout(std::time::Duration::from_secs(5))
        .build()
        .map_err(|e| format!("otel.endpoint: {e}"))?;
    let resource = Resource::builder()
        .with_service_name("tessera")
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build();
    Ok(SdkTracerProvider::builder()
        .with_resource(resource)
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            sample_ratio,
        ))))
        .with_batch_exporter(exporter)
        .build())
}

/// Installs the tracing subscriber (later calls install nothing) and, with
/// `otel.endpoint`, the span exporter; keep the returned value until the process ends.
pub fn init_tracing(settings: &Settings) -> Result<Telemetry, String> {
    // RUST_LOG, when set, wins over `log.level` (checked at load); a bad RUST_LOG
    // falls back to `log.level` with a warning.
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let env_filter = from_env.as_deref().map(EnvFilter::try_new);
    let rejected = matches!(env_filter, Some(Err(_)));
    let filter = match env_filter {
        Some(Ok(f)) => f,
        _ => EnvFilter::try_new(&settings.log.level).unwrap_or_else(|_| EnvFilter::new("info")),
    };
    let lines = match settings.log.format {
        LogFormat::Json => fmt::layer().json().with_writer(std::io::stderr).boxed(),
        // Colours only for a person at a terminal, not in a file or a collector.
        LogFormat::Text => fmt::layer()
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_writer(std::io::stderr)
            .boxed(),
    };
    let provider = match &settings.otel.endpoint {
        Some(endpoint) => Some(provider(endpoint, settings.otel.sample_ratio)?),
        None => None,
    };
    let traces = provider.as_ref().map(|p| {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        tessera_api::observe::export_traces();
        // Tessera's own spans down to debug (actor, store, transaction); others' at info.
        let spans = Targets::new()
            .with_default(tracing::Level::INFO)
            .with_target("tessera", tracing::Level::DEBUG);
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("tessera"))
            .with_filter(spans)
    });
    let _ = tracing_subscriber::registry()
        .with(lines.with_filter(filter.and(ClientFaults)))
        .with(traces)
        .try_init();
    if rejected {
        tracing::warn!("RUST_LOG is not a tracing filter: log.level is used instead");
    }
    Ok(Telemetry(provider))
}

/// Keeps what a client did wrong out of the ERROR level: actix logs a request it
/// cannot parse (a NUL byte in a header, a broken request line) as an error of its
/// own; such a line says nothing about the service, so it is logged at debug.
struct ClientFaults;

/// How actix words a request it could not parse.
const PARSE_ERROR: &str = "stream error: request parse error";

impl<S> tracing_subscriber::layer::Filter<S> for ClientFaults {
    fn enabled(
        &self,
        _: &tracing::Metadata<'_>,
        _: &tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        true
    }

    fn event_enabled(
        &self,
        event: &tracing::Event<'_>,
        _: &tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        let meta = event.metadata();
        if *meta.level() != tracing::Level::ERROR || !meta.target().starts_with("actix_http::h1") {
            return true;
        }
        struct Message(String);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0 = format!("{value:?}");
                }
            }
        }
        let mut message = Message(String::new());
        event.record(&mut message);
        if message.0.starts_with(PARSE_ERROR) {
            tracing::debug!(target: "tessera::http", "a client sent a malformed request: {}", message.0);
            return false;
        }
        true
    }
}
