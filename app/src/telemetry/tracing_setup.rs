//! tracing subscriber with OpenTelemetry: spans exported over OTLP when an endpoint is set.

use super::json_log::GoogleCloudJson;
use crate::config::{LogFormat, TelemetrySettings};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Flushes buffered spans when dropped at the end of `main`.
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Err(e) = self.provider.shutdown() {
            eprintln!("flushing traces failed: {e}");
        }
    }
}

static TRACING: AtomicBool = AtomicBool::new(false);

/// True when spans are exported; hot paths (a span per request and per query) skip span
/// creation otherwise, since nothing would read them.
pub fn tracing_enabled() -> bool {
    TRACING.load(Ordering::Relaxed)
}

/// Installs logging, and tracing when `OTEL_EXPORTER_OTLP_ENDPOINT` is set: spans are then
/// exported over OTLP and log lines carry their trace and span ids.
pub fn init_tracing(settings: &TelemetrySettings) -> anyhow::Result<TelemetryGuard> {
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(settings.service_name.clone())
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ))
        .build();
    let mut provider = SdkTracerProvider::builder().with_resource(resource);
    if let Some(endpoint) = &settings.otlp_endpoint {
        use opentelemetry_otlp::WithExportConfig;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint.clone())
            .build()?;
        provider = provider.with_batch_exporter(exporter);
        TRACING.store(true, Ordering::Relaxed);
    }
    let provider = provider.build();
    let tracer = provider.tracer("flightdeck");
    let filter = EnvFilter::try_new(&settings.log_filter)?;
    let fmt = match settings.log_format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .event_format(GoogleCloudJson::new(settings.project.clone()))
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().with_target(false).boxed(),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(tracing_enabled().then(|| tracing_opentelemetry::layer().with_tracer(tracer)))
        .try_init()?;
    Ok(TelemetryGuard { provider })
}

/// Writes the current span's context into message attributes as `traceparent`.
pub fn inject_trace_context(attributes: &mut HashMap<String, String>) {
    let context = tracing::Span::current().context();
    TraceContextPropagator::new().inject_context(&context, attributes);
}

/// Reads a `traceparent` attribute back into an OpenTelemetry context.
pub fn extract_trace_context(attributes: &HashMap<String, String>) -> opentelemetry::Context {
    TraceContextPropagator::new().extract(attributes)
}
