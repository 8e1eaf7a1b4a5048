//! JSON log lines in the shape Google Cloud Logging reads: severity, trace and span ids.

use chrono::Utc;
use opentelemetry::trace::TraceContextExt;
use serde_json::{Map, Value};
use std::fmt;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Formats one event per line; `logging.googleapis.com/trace` is set when the project is known.
pub struct GoogleCloudJson {
    project: Option<String>,
}

impl GoogleCloudJson {
    pub fn new(project: Option<String>) -> Self {
        Self { project }
    }
}

fn severity(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARNING",
        Level::INFO => "INFO",
        _ => "DEBUG",
    }
}

struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(
            field.name().to_string(),
            Value::String(format!("{value:?}")),
        );
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .insert(field.name().to_string(), Value::String(value.to_string()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_string(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_string(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_string(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_string(), value.into());
    }
}

impl<S, N> FormatEvent<S, N> for GoogleCloudJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut line = Map::new();
        line.insert("timestamp".into(), Utc::now().to_rfc3339().into());
        line.insert("severity".into(), severity(meta.level()).into());
        line.insert("target".into(), meta.target().into());
        event.record(&mut Fields(&mut line));
        if let Some(span) = ctx.lookup_current() {
            line.insert("span".into(), span.name().into());
            let context = tracing::dispatcher::get_default(|dispatch| {
                tracing_opentelemetry::get_otel_context(&span.id(), dispatch)
            });
            if let Some(context) = context {
                let span_context = context.span().span_context().clone();
                if span_context.is_valid() {
                    let trace_id = span_context.trace_id().to_string();
                    line.insert("trace_id".into(), trace_id.clone().into());
                    line.insert("span_id".into(), span_context.span_id().to_string().into());
                    line.insert(
                        "logging.googleapis.com/spanId".into(),
                        span_context.span_id().to_string().into(),
                    );
                    line.insert(
                        "logging.googleapis.com/trace_sampled".into(),
                        span_context.is_sampled().into(),
                    );
                    if let Some(project) = &self.project {
                        line.insert(
                            "logging.googleapis.com/trace".into(),
                            format!("projects/{project}/traces/{trace_id}").into(),
                        );
                    }
                }
            }
        }
        writeln!(writer, "{}", Value::Object(line))
    }
}
