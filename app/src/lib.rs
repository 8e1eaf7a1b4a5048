//! flightdeck: flight events from Pub/Sub into PostgreSQL, served over HTTP, observable end to end.

pub mod access;
pub mod api;
pub mod backoff;
pub mod config;
pub mod db;
pub mod domain;
pub mod health;
pub mod ingest;
pub mod probe;
pub mod publish;
pub mod pubsub;
pub mod server;
pub mod startup;
pub mod telemetry;
