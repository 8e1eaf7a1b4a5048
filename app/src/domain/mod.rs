//! Flight events as the rest of flightdeck sees them: parsed once at the edge, always valid.

pub mod event;
mod wire;

pub use event::{
    DeadLetterReason, DecodeError, FIRST_DAY, FlightEvent, FlightStatus, LAST_DAY, SCHEMA_VERSION,
    SCHEMA_VERSION_ATTRIBUTE, SYNTHETIC_FLIGHT_PREFIX, is_supported_day, schema_attributes,
};
