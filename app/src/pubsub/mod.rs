//! Google Cloud Pub/Sub: clients (real or emulator), resource set-up and the event publisher.

pub mod client;
pub mod publish;
pub mod setup;
