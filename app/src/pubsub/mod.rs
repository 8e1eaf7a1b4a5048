//! Google Cloud Pub/Sub: clients (real or emulator), the event message and resource set-up.

pub mod client;
pub mod message;
pub mod setup;
