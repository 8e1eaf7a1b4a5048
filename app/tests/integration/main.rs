//! Integration suites: the real binary against real PostgreSQL and the Pub/Sub emulator.

mod access;
mod api;
mod compression;
mod dead_letter;
mod end_to_end;
mod feed_encoding;
mod history;
mod hostile;
mod ingest_faults;
mod metrics_contract;
mod probe;
mod resilience;
mod rollups;
mod shapes;
mod support;
mod tracing;
