//! Schema v1 of a flight event and its decoder from Pub/Sub message bytes.

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;
use uuid::Uuid;

/// Value of the `schema_version` message attribute this build understands.
pub const SCHEMA_VERSION: &str = "1";

/// Lifecycle status of a flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FlightStatus {
    Scheduled,
    Boarding,
    Departed,
    Arrived,
    Delayed,
    Cancelled,
}

impl FlightStatus {
    pub const ALL: [FlightStatus; 6] = [
        Self::Scheduled,
        Self::Boarding,
        Self::Departed,
        Self::Arrived,
        Self::Delayed,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Boarding => "boarding",
            Self::Departed => "departed",
            Self::Arrived => "arrived",
            Self::Delayed => "delayed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// A valid flight event (schema v1). Every field has been checked against the contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FlightEvent {
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
    pub delay_minutes: Option<i32>,
    /// When the event happened at the source.
    pub event_time: DateTime<Utc>,
}

/// Why a message cannot become a [`FlightEvent`]; `reason()` is a low-cardinality label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    UnsupportedSchemaVersion(Option<String>),
    NotUtf8,
    NotJson(String),
    NotAnObject,
    MissingField(&'static str),
    InvalidField {
        field: &'static str,
        expected: &'static str,
    },
}

impl DecodeError {
    /// Short machine-readable reason used as a metric label and the DLQ `error` prefix.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::UnsupportedSchemaVersion(_) => "unsupported_schema_version",
            Self::NotUtf8 => "not_utf8",
            Self::NotJson(_) => "invalid_json",
            Self::NotAnObject => "not_an_object",
            Self::MissingField(_) => "missing_field",
            Self::InvalidField { .. } => "invalid_field",
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reason = self.reason();
        match self {
            Self::UnsupportedSchemaVersion(Some(v)) => {
                write!(f, "{reason}: schema_version {v:?} is not {SCHEMA_VERSION}")
            }
            Self::UnsupportedSchemaVersion(None) => {
                write!(f, "{reason}: attribute schema_version is missing")
            }
            Self::NotUtf8 => write!(f, "{reason}: data is not UTF-8"),
            Self::NotJson(e) => write!(f, "{reason}: {e}"),
            Self::NotAnObject => write!(f, "{reason}: data is JSON but not an object"),
            Self::MissingField(name) => write!(f, "{reason}: {name}"),
            Self::InvalidField { field, expected } => {
                write!(f, "{reason}: {field} must be {expected}")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

impl FlightEvent {
    /// Decodes message data and attributes (schema v1). Unknown JSON fields are ignored.
    pub fn decode(data: &[u8], attributes: &HashMap<String, String>) -> Result<Self, DecodeError> {
        match attributes.get("schema_version") {
            Some(v) if v == SCHEMA_VERSION => {}
            other => return Err(DecodeError::UnsupportedSchemaVersion(other.cloned())),
        }
        let text = std::str::from_utf8(data).map_err(|_| DecodeError::NotUtf8)?;
        let value: Value =
            serde_json::from_str(text).map_err(|e| DecodeError::NotJson(e.to_string()))?;
        let Value::Object(map) = value else {
            return Err(DecodeError::NotAnObject);
        };
        Self::from_object(&map)
    }

    fn from_object(map: &Map<String, Value>) -> Result<Self, DecodeError> {
        let event_id = required_str(map, "event_id")?;
        let event_id = Uuid::parse_str(event_id).map_err(|_| invalid("event_id", "a UUID"))?;
        let flight_id = checked(
            map,
            "flight_id",
            "1-64 characters of A-Z a-z 0-9 -",
            is_flight_id,
        )?;
        let airline = checked(map, "airline", "2-3 uppercase letters or digits", |s| {
            (2..=3).contains(&s.len())
                && s.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        })?;
        let flight_number = checked(map, "flight_number", "1-5 digits", |s| {
            (1..=5).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
        })?;
        let origin = checked(
            map,
            "origin",
            "an IATA code of 3 uppercase letters",
            is_iata,
        )?;
        let destination = checked(
            map,
            "destination",
            "an IATA code of 3 uppercase letters",
            is_iata,
        )?;
        let status = FlightStatus::parse(required_str(map, "status")?).ok_or(invalid(
            "status",
            "one of scheduled, boarding, departed, arrived, delayed, cancelled",
        ))?;
        let scheduled_departure = timestamp(
            required_str(map, "scheduled_departure")?,
            "scheduled_departure",
        )?;
        let actual_departure = match nullable(map, "actual_departure")? {
            None => None,
            Some(Value::String(s)) => Some(timestamp(s, "actual_departure")?),
            Some(_) => return Err(invalid("actual_departure", "an RFC 3339 timestamp or null")),
        };
        let delay_minutes = match nullable(map, "delay_minutes")? {
            None => None,
            Some(v) => Some(
                v.as_i64()
                    .and_then(|n| i32::try_from(n).ok())
                    .filter(|n| *n >= 0)
                    .ok_or(invalid("delay_minutes", "an integer >= 0 or null"))?,
            ),
        };
        let event_time = timestamp(required_str(map, "event_time")?, "event_time")?;
        Ok(Self {
            event_id,
            flight_id: flight_id.to_owned(),
            airline: airline.to_owned(),
            flight_number: flight_number.to_owned(),
            origin: origin.to_owned(),
            destination: destination.to_owned(),
            status,
            scheduled_departure,
            actual_departure,
            delay_minutes,
            event_time,
        })
    }
}

fn invalid(field: &'static str, expected: &'static str) -> DecodeError {
    DecodeError::InvalidField { field, expected }
}

/// A flight id: 1-64 characters of `[A-Za-z0-9-]`.
pub fn is_flight_id(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// An IATA airport code: 3 uppercase letters.
pub fn is_iata(s: &str) -> bool {
    s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase())
}

fn required_str<'a>(
    map: &'a Map<String, Value>,
    field: &'static str,
) -> Result<&'a str, DecodeError> {
    match map.get(field) {
        None | Some(Value::Null) => Err(DecodeError::MissingField(field)),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(invalid(field, "a string")),
    }
}

fn checked<'a>(
    map: &'a Map<String, Value>,
    field: &'static str,
    expected: &'static str,
    valid: impl Fn(&str) -> bool,
) -> Result<&'a str, DecodeError> {
    let value = required_str(map, field)?;
    if valid(value) {
        Ok(value)
    } else {
        Err(invalid(field, expected))
    }
}

/// A field that must be present but may be null.
fn nullable<'a>(
    map: &'a Map<String, Value>,
    field: &'static str,
) -> Result<Option<&'a Value>, DecodeError> {
    match map.get(field) {
        None => Err(DecodeError::MissingField(field)),
        Some(Value::Null) => Ok(None),
        Some(v) => Ok(Some(v)),
    }
}

/// Parses RFC 3339 and keeps microseconds, the precision PostgreSQL stores.
fn timestamp(value: &str, field: &'static str) -> Result<DateTime<Utc>, DecodeError> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc).trunc_subsecs(6))
        .map_err(|_| invalid(field, "an RFC 3339 timestamp"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs() -> HashMap<String, String> {
        HashMap::from([("schema_version".to_string(), "1".to_string())])
    }

    fn valid() -> Value {
        json!({
            "event_id": "0b8e4a52-4c1e-4e0a-9a53-3f1f4c2a9d10",
            "flight_id": "LA800-20261128",
            "airline": "LA",
            "flight_number": "0800",
            "origin": "SCL",
            "destination": "MAD",
            "status": "delayed",
            "scheduled_departure": "2026-11-28T12:00:00Z",
            "actual_departure": null,
            "delay_minutes": 25,
            "event_time": "2026-11-28T11:40:00.123456789-03:00",
            "unknown_future_field": {"ignored": true}
        })
    }

    fn decode_json(v: &Value) -> Result<FlightEvent, DecodeError> {
        FlightEvent::decode(v.to_string().as_bytes(), &attrs())
    }

    fn with(field: &str, value: Value) -> Value {
        let mut v = valid();
        v[field] = value;
        v
    }

    fn without(field: &str) -> Value {
        let mut v = valid();
        v.as_object_mut().unwrap().remove(field);
        v
    }

    #[test]
    fn decodes_a_valid_event_ignoring_unknown_fields() {
        let event = decode_json(&valid()).unwrap();
        assert_eq!(event.flight_number, "0800");
        assert_eq!(event.status, FlightStatus::Delayed);
        assert_eq!(event.delay_minutes, Some(25));
        assert_eq!(event.actual_departure, None);
        assert_eq!(
            event.event_time.to_rfc3339(),
            "2026-11-28T14:40:00.123456+00:00"
        );
    }

    #[test]
    fn round_trips_through_its_own_json() {
        let event = decode_json(&valid()).unwrap();
        let again = FlightEvent::decode(&serde_json::to_vec(&event).unwrap(), &attrs()).unwrap();
        assert_eq!(event, again);
    }

    #[test]
    fn rejects_each_kind_of_poison_with_its_reason() {
        let cases: Vec<(Result<FlightEvent, DecodeError>, &str)> = vec![
            (FlightEvent::decode(&[0xff, 0xfe], &attrs()), "not_utf8"),
            (FlightEvent::decode(b"{not json", &attrs()), "invalid_json"),
            (FlightEvent::decode(b"[1,2]", &attrs()), "not_an_object"),
            (
                FlightEvent::decode(valid().to_string().as_bytes(), &HashMap::new()),
                "unsupported_schema_version",
            ),
            (decode_json(&without("origin")), "missing_field"),
            (decode_json(&without("actual_departure")), "missing_field"),
            (
                decode_json(&with("event_id", json!("nope"))),
                "invalid_field",
            ),
            (decode_json(&with("origin", json!("scl"))), "invalid_field"),
            (
                decode_json(&with("destination", json!("MADR"))),
                "invalid_field",
            ),
            (decode_json(&with("airline", json!("L"))), "invalid_field"),
            (
                decode_json(&with("flight_number", json!("123456"))),
                "invalid_field",
            ),
            (
                decode_json(&with("flight_number", json!(800))),
                "invalid_field",
            ),
            (
                decode_json(&with("flight_id", json!("LA 800"))),
                "invalid_field",
            ),
            (
                decode_json(&with("flight_id", json!("x".repeat(65)))),
                "invalid_field",
            ),
            (
                decode_json(&with("status", json!("landed"))),
                "invalid_field",
            ),
            (
                decode_json(&with("delay_minutes", json!(-1))),
                "invalid_field",
            ),
            (
                decode_json(&with("delay_minutes", json!(1.5))),
                "invalid_field",
            ),
            (
                decode_json(&with("event_time", json!("yesterday"))),
                "invalid_field",
            ),
            (
                decode_json(&with("scheduled_departure", json!(null))),
                "missing_field",
            ),
        ];
        for (result, reason) in cases {
            let err = result.expect_err(reason);
            assert_eq!(err.reason(), reason, "{err}");
        }
    }

    #[test]
    fn error_text_names_the_field_and_the_expectation() {
        let err = decode_json(&with("origin", json!("scl"))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid_field: origin must be an IATA code of 3 uppercase letters"
        );
        assert_eq!(
            decode_json(&without("status")).unwrap_err().to_string(),
            "missing_field: status"
        );
    }
}
