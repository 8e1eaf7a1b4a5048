//! Logs, traces and metrics: installed once per process, shut down cleanly at exit.

mod json_log;
pub mod metrics;
mod tracing_setup;

pub use metrics::{MetricsHandle, install_metrics};
pub use tracing_setup::{
    TelemetryGuard, extract_trace_context, init_tracing, inject_trace_context, tracing_enabled,
};
