//! The JSON bodies of the API as consumers see them, mapped from database rows and domain
//! types: a column or domain rename does not change the contract (the recorded OpenAPI
//! document and the shape tests would catch it).

use crate::db::queries::{DayDelayStats, FlightState, StoredEvent};
use crate::domain::{FlightEvent, FlightStatus};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::{ObjectBuilder, RefOr, Type, schema::Schema};
use uuid::Uuid;

/// The status enumeration of the contract, from the one list of statuses.
impl utoipa::PartialSchema for FlightStatus {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("Lifecycle status of a flight."))
            .enum_values(Some(FlightStatus::ALL.map(FlightStatus::as_str)))
            .into()
    }
}

impl utoipa::ToSchema for FlightStatus {}

/// A valid flight event (schema v1). Every field has been checked against the contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = FlightEvent)]
pub struct EventFields {
    /// Idempotency key: an event is stored once however often it is delivered.
    pub event_id: Uuid,
    /// 1-64 characters of `[A-Za-z0-9-]`.
    #[schema(example = "LA800-2026-11-28")]
    pub flight_id: String,
    /// 2-3 uppercase letters or digits (IATA/ICAO airline code).
    #[schema(example = "LA")]
    pub airline: String,
    /// 1-5 digits, kept as text so leading zeros survive.
    #[schema(example = "800")]
    pub flight_number: String,
    /// IATA airport code, 3 uppercase letters.
    #[schema(example = "SCL")]
    pub origin: String,
    /// IATA airport code, 3 uppercase letters.
    #[schema(example = "MAD")]
    pub destination: String,
    pub status: FlightStatus,
    pub scheduled_departure: DateTime<Utc>,
    pub actual_departure: Option<DateTime<Utc>>,
    /// Minutes of delay, >= 0.
    #[schema(minimum = 0)]
    pub delay_minutes: Option<i32>,
    /// When the event happened at the source.
    pub event_time: DateTime<Utc>,
}

impl From<FlightEvent> for EventFields {
    fn from(e: FlightEvent) -> Self {
        Self {
            event_id: e.event_id,
            flight_id: e.flight_id,
            airline: e.airline,
            flight_number: e.flight_number,
            origin: e.origin,
            destination: e.destination,
            status: e.status,
            scheduled_departure: e.scheduled_departure,
            actual_departure: e.actual_departure,
            delay_minutes: e.delay_minutes,
            event_time: e.event_time,
        }
    }
}

/// A stored event: the published fields plus when Pub/Sub accepted it and when it was stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = StoredEvent)]
pub struct Event {
    #[serde(flatten)]
    pub event: EventFields,
    /// Pub/Sub publish time of the message that carried the event.
    pub published_at: DateTime<Utc>,
    /// When flightdeck committed the event to the database.
    pub ingested_at: DateTime<Utc>,
}

impl From<StoredEvent> for Event {
    fn from(row: StoredEvent) -> Self {
        Self {
            event: row.event.into(),
            published_at: row.published_at,
            ingested_at: row.ingested_at,
        }
    }
}

/// Current state of one flight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = FlightState)]
pub struct Flight {
    pub flight_id: String,
    pub airline: String,
    pub flight_number: String,
    pub origin: String,
    pub destination: String,
    pub status: FlightStatus,
    pub scheduled_departure: DateTime<Utc>,
    pub actual_departure: Option<DateTime<Utc>>,
    #[schema(minimum = 0)]
    pub delay_minutes: Option<i32>,
    /// The event that set this state (the newest by `event_time`, then `event_id`).
    pub last_event_id: Uuid,
    pub last_event_time: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<FlightState> for Flight {
    fn from(row: FlightState) -> Self {
        Self {
            flight_id: row.flight_id,
            airline: row.airline,
            flight_number: row.flight_number,
            origin: row.origin,
            destination: row.destination,
            status: row.status,
            scheduled_departure: row.scheduled_departure,
            actual_departure: row.actual_departure,
            delay_minutes: row.delay_minutes,
            last_event_id: row.last_event_id,
            last_event_time: row.last_event_time,
            updated_at: row.updated_at,
        }
    }
}

/// Delay statistics of flights scheduled to depart from one origin on one UTC day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = DayDelayStats)]
pub struct DayStats {
    pub day: NaiveDate,
    /// Flights scheduled that day (current state, one per flight).
    #[schema(minimum = 0)]
    pub flights: i64,
    /// Flights that departed (status departed or arrived).
    #[schema(minimum = 0)]
    pub departed: i64,
    #[schema(minimum = 0)]
    pub cancelled: i64,
    /// Share of departed flights that left at most 15 minutes late; null when none departed.
    #[schema(minimum = 0, maximum = 1)]
    pub on_time_ratio: Option<f64>,
    /// Mean delay of departed flights in minutes; null when none departed.
    #[schema(minimum = 0)]
    pub avg_delay_minutes: Option<f64>,
    /// 95th percentile delay of departed flights in minutes; null when none departed.
    #[schema(minimum = 0)]
    pub p95_delay_minutes: Option<f64>,
}

impl From<DayDelayStats> for DayStats {
    fn from(row: DayDelayStats) -> Self {
        Self {
            day: row.day,
            flights: row.flights,
            departed: row.departed,
            cancelled: row.cancelled,
            on_time_ratio: row.on_time_ratio,
            avg_delay_minutes: row.avg_delay_minutes,
            p95_delay_minutes: row.p95_delay_minutes,
        }
    }
}
