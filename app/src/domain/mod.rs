//! Flight events as the rest of flightdeck sees them: parsed once at the edge, always valid.

pub mod event;
pub mod synthetic;

pub use event::{DecodeError, FlightEvent, FlightStatus, SCHEMA_VERSION};
