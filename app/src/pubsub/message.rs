//! The Pub/Sub message of a flight event: schema v1 data and attributes, with trace context.

use crate::domain::{FlightEvent, schema_attributes};
use google_cloud_pubsub::model::Message;
use std::collections::HashMap;

/// The Pub/Sub message carrying `event` (schema v1).
pub fn event_message(event: &FlightEvent) -> Message {
    // A FlightEvent has only strings, numbers, timestamps and an enum: serde cannot fail.
    let data = serde_json::to_vec(event).unwrap_or_default();
    raw_message(data, schema_attributes())
}

/// A message with the current trace context injected as a W3C `traceparent` attribute.
pub fn raw_message(data: Vec<u8>, mut attributes: HashMap<String, String>) -> Message {
    crate::telemetry::inject_trace_context(&mut attributes);
    Message::new().set_data(data).set_attributes(attributes)
}
