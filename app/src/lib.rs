//! flightdeck: flight events from Pub/Sub into PostgreSQL, served over HTTP, observable end to end.

pub mod api;
pub mod config;
pub mod db;
pub mod domain;
pub mod ingest;
pub mod pubsub;
pub mod startup;
pub mod telemetry;
