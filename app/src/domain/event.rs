//! Schema v1 of a flight event and its decoder from Pub/Sub message bytes.

use super::wire::{Slot, WireEvent};
use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use uuid::Uuid;

/// Message attribute naming the schema of the data.
pub const SCHEMA_VERSION_ATTRIBUTE: &str = "schema_version";

/// Value of the `schema_version` message attribute this build understands.
pub const SCHEMA_VERSION: &str = "1";

/// The attributes every schema v1 message carries.
pub fn schema_attributes() -> HashMap<String, String> {
    HashMap::from([(
        SCHEMA_VERSION_ATTRIBUTE.to_string(),
        SCHEMA_VERSION.to_string(),
    )])
}

/// First day flightdeck accepts anywhere (event timestamps, query dates, cursors).
pub const FIRST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(day) => day,
    None => panic!("valid date"),
};

/// Last day flightdeck accepts anywhere. The bounded range keeps every date and every day
/// arithmetic on it inside what chrono and PostgreSQL represent.
pub const LAST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2199, 12, 31) {
    Some(day) => day,
    None => panic!("valid date"),
};

/// True when `day` lies in `FIRST_DAY..=LAST_DAY`.
pub fn is_supported_day(day: NaiveDate) -> bool {
    (FIRST_DAY..=LAST_DAY).contains(&day)
}

/// Flight ids starting with this are synthetic probes: stored and readable by id, but left out
/// of the feed and the statistics.
pub const SYNTHETIC_FLIGHT_PREFIX: &str = "PROBE-";

/// Lifecycle status of a flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlightEvent {
    /// Idempotency key: an event is stored once however often it is delivered.
    pub event_id: Uuid,
    /// 1-64 characters of `[A-Za-z0-9-]`.
    pub flight_id: String,
    /// 2-3 uppercase letters or digits (IATA/ICAO airline code).
    pub airline: String,
    /// 1-5 digits, kept as text so leading zeros survive.
    pub flight_number: String,
    /// IATA airport code, 3 uppercase letters.
    pub origin: String,
    /// IATA airport code, 3 uppercase letters.
    pub destination: String,
    pub status: FlightStatus,
    pub scheduled_departure: DateTime<Utc>,
    pub actual_departure: Option<DateTime<Utc>>,
    /// Minutes of delay, >= 0.
    pub delay_minutes: Option<i32>,
    /// When the event happened at the source.
    pub event_time: DateTime<Utc>,
}

/// Why a message went to the dead-letter topic: the `reason` metric label and the prefix of the
/// dead letter's `error` attribute. The one list of reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeadLetterReason {
    TooLarge,
    UnsupportedSchemaVersion,
    NotUtf8,
    InvalidJson,
    NotAnObject,
    MissingField,
    InvalidField,
    /// Decoded, but the database refused the row (SQLSTATE classes 22 and 23).
    RejectedByDatabase,
}

impl DeadLetterReason {
    pub const ALL: [Self; 8] = [
        Self::TooLarge,
        Self::UnsupportedSchemaVersion,
        Self::NotUtf8,
        Self::InvalidJson,
        Self::NotAnObject,
        Self::MissingField,
        Self::InvalidField,
        Self::RejectedByDatabase,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TooLarge => "too_large",
            Self::UnsupportedSchemaVersion => "unsupported_schema_version",
            Self::NotUtf8 => "not_utf8",
            Self::InvalidJson => "invalid_json",
            Self::NotAnObject => "not_an_object",
            Self::MissingField => "missing_field",
            Self::InvalidField => "invalid_field",
            Self::RejectedByDatabase => "rejected_by_database",
        }
    }
}

impl fmt::Display for DeadLetterReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a message cannot become a [`FlightEvent`]; `reason()` is a low-cardinality label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Larger than the configured limit: refused without being parsed.
    TooLarge {
        size: usize,
        limit: usize,
    },
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
    pub fn reason(&self) -> DeadLetterReason {
        match self {
            Self::TooLarge { .. } => DeadLetterReason::TooLarge,
            Self::UnsupportedSchemaVersion(_) => DeadLetterReason::UnsupportedSchemaVersion,
            Self::NotUtf8 => DeadLetterReason::NotUtf8,
            Self::NotJson(_) => DeadLetterReason::InvalidJson,
            Self::NotAnObject => DeadLetterReason::NotAnObject,
            Self::MissingField(_) => DeadLetterReason::MissingField,
            Self::InvalidField { .. } => DeadLetterReason::InvalidField,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reason = self.reason();
        match self {
            Self::TooLarge { size, limit } => {
                write!(
                    f,
                    "{reason}: {size} bytes, more than the {limit}-byte limit"
                )
            }
            Self::UnsupportedSchemaVersion(Some(v)) => {
                write!(
                    f,
                    "{reason}: {SCHEMA_VERSION_ATTRIBUTE} {v:?} is not {SCHEMA_VERSION}"
                )
            }
            Self::UnsupportedSchemaVersion(None) => {
                write!(
                    f,
                    "{reason}: attribute {SCHEMA_VERSION_ATTRIBUTE} is missing"
                )
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
    /// [`FlightEvent::decode`] for messages of at most `max_bytes`; larger ones are refused
    /// unread, so a sender cannot make the worker parse (or hold parsed) megabytes.
    pub fn decode_at_most(
        data: &[u8],
        attributes: &HashMap<String, String>,
        max_bytes: usize,
    ) -> Result<Self, DecodeError> {
        if data.len() > max_bytes {
            return Err(DecodeError::TooLarge {
                size: data.len(),
                limit: max_bytes,
            });
        }
        Self::decode(data, attributes)
    }

    /// Decodes message data and attributes (schema v1) in one pass, without a JSON tree.
    /// Unknown JSON fields are ignored.
    pub fn decode(data: &[u8], attributes: &HashMap<String, String>) -> Result<Self, DecodeError> {
        match attributes.get(SCHEMA_VERSION_ATTRIBUTE) {
            Some(v) if v == SCHEMA_VERSION => {}
            other => return Err(DecodeError::UnsupportedSchemaVersion(other.cloned())),
        }
        let text = std::str::from_utf8(data).map_err(|_| DecodeError::NotUtf8)?;
        // serde would also read a struct from a JSON array: only an object is an event.
        if !text.trim_start().starts_with('{') {
            return Err(match serde_json::from_str::<serde::de::IgnoredAny>(text) {
                Ok(_) => DecodeError::NotAnObject,
                Err(e) => DecodeError::NotJson(e.to_string()),
            });
        }
        let wire: WireEvent =
            serde_json::from_str(text).map_err(|e| DecodeError::NotJson(e.to_string()))?;
        Self::from_wire(wire)
    }

    fn from_wire(wire: WireEvent<'_>) -> Result<Self, DecodeError> {
        let event_id = Uuid::parse_str(required_str(&wire.event_id, "event_id")?)
            .map_err(|_| invalid("event_id", "a UUID"))?;
        let flight_id = checked(&wire.flight_id, "flight_id", FLIGHT_ID)?;
        let airline = checked(&wire.airline, "airline", AIRLINE)?;
        let flight_number = checked(&wire.flight_number, "flight_number", FLIGHT_NUMBER)?;
        let origin = checked(&wire.origin, "origin", IATA)?;
        let destination = checked(&wire.destination, "destination", IATA)?;
        let status = FlightStatus::parse(required_str(&wire.status, "status")?)
            .ok_or(invalid("status", STATUS.expected))?;
        let scheduled_departure = timestamp(
            required_str(&wire.scheduled_departure, "scheduled_departure")?,
            "scheduled_departure",
        )?;
        let actual_departure = match &wire.actual_departure {
            Slot::Absent => return Err(DecodeError::MissingField("actual_departure")),
            Slot::Null => None,
            Slot::Text(s) => Some(timestamp(s, "actual_departure")?),
            _ => return Err(invalid("actual_departure", "an RFC 3339 timestamp or null")),
        };
        let delay_minutes = match wire.delay_minutes {
            Slot::Absent => return Err(DecodeError::MissingField("delay_minutes")),
            Slot::Null => None,
            Slot::Integer(n) => Some(
                i32::try_from(n)
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or(invalid("delay_minutes", "an integer >= 0 or null"))?,
            ),
            _ => return Err(invalid("delay_minutes", "an integer >= 0 or null")),
        };
        let event_time = timestamp(required_str(&wire.event_time, "event_time")?, "event_time")?;
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

/// The rule a text field obeys, written once: the check, the words a refusal uses, and the
/// pattern the OpenAPI document shows (a property test ties the pattern to the check).
#[derive(Debug, Clone, Copy)]
pub struct TextRule {
    pub expected: &'static str,
    pub pattern: &'static str,
    pub check: fn(&str) -> bool,
}

impl TextRule {
    pub fn accepts(&self, value: &str) -> bool {
        (self.check)(value)
    }
}

/// A flight id: 1-64 characters of `[A-Za-z0-9-]`.
pub const FLIGHT_ID: TextRule = TextRule {
    expected: "1-64 characters of A-Z a-z 0-9 -",
    pattern: "^[A-Za-z0-9-]{1,64}$",
    check: |s| {
        (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    },
};

/// An IATA/ICAO airline code: 2-3 uppercase letters or digits.
pub const AIRLINE: TextRule = TextRule {
    expected: "2-3 uppercase letters or digits",
    pattern: "^[A-Z0-9]{2,3}$",
    check: |s| {
        (2..=3).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    },
};

/// A flight number: 1-5 digits, kept as text so leading zeros survive.
pub const FLIGHT_NUMBER: TextRule = TextRule {
    expected: "1-5 digits",
    pattern: "^[0-9]{1,5}$",
    check: |s| (1..=5).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()),
};

/// An IATA airport code: 3 uppercase letters.
pub const IATA: TextRule = TextRule {
    expected: "an IATA code of 3 uppercase letters",
    pattern: "^[A-Z]{3}$",
    check: |s| s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()),
};

/// A flight status word.
pub const STATUS: TextRule = TextRule {
    expected: "one of scheduled, boarding, departed, arrived, delayed, cancelled",
    pattern: "^(scheduled|boarding|departed|arrived|delayed|cancelled)$",
    check: |s| FlightStatus::parse(s).is_some(),
};

/// The text fields of an event and their rules, by field name (the decoder, the API's
/// parameters and the OpenAPI document all read them here).
pub const TEXT_FIELDS: [(&str, TextRule); 5] = [
    ("flight_id", FLIGHT_ID),
    ("airline", AIRLINE),
    ("flight_number", FLIGHT_NUMBER),
    ("origin", IATA),
    ("destination", IATA),
];

fn required_str<'s>(slot: &'s Slot<'_>, field: &'static str) -> Result<&'s str, DecodeError> {
    match slot {
        Slot::Absent | Slot::Null => Err(DecodeError::MissingField(field)),
        Slot::Text(s) => Ok(s),
        _ => Err(invalid(field, "a string")),
    }
}

fn checked<'s>(
    slot: &'s Slot<'_>,
    field: &'static str,
    rule: TextRule,
) -> Result<&'s str, DecodeError> {
    let value = required_str(slot, field)?;
    if rule.accepts(value) {
        Ok(value)
    } else {
        Err(invalid(field, rule.expected))
    }
}

/// Parses RFC 3339 inside the supported days and keeps microseconds, the precision
/// PostgreSQL stores.
fn timestamp(value: &str, field: &'static str) -> Result<DateTime<Utc>, DecodeError> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc).trunc_subsecs(6))
        .ok()
        .filter(|t| is_supported_day(t.date_naive()))
        .ok_or_else(|| invalid(field, "an RFC 3339 timestamp from 1970-01-01 to 2199-12-31"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn attrs() -> HashMap<String, String> {
        schema_attributes()
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
            assert_eq!(err.reason().as_str(), reason, "{err}");
        }
    }

    proptest! {
        #[test]
        fn every_string_a_rule_pattern_matches_passes_its_check(
            (rule, value) in prop::sample::select(
                TEXT_FIELDS.iter().map(|(_, r)| *r).chain([STATUS]).collect::<Vec<_>>()
            ).prop_flat_map(|rule| {
                // The generator takes the pattern without its anchors.
                let body = rule.pattern.trim_start_matches('^').trim_end_matches('$');
                proptest::string::string_regex(body)
                    .expect("valid pattern")
                    .prop_map(move |value| (rule, value))
            })
        ) {
            prop_assert!(rule.accepts(&value), "{value:?} matches {} but fails its check", rule.pattern);
        }

        #[test]
        fn a_rule_check_accepts_exactly_what_its_pattern_matches(
            value in prop_oneof!["[ -~]{0,70}", "[A-Za-z0-9-]{0,6}", "[a-z]{5,9}", "[A-Za-z0-9-]{62,66}"]
        ) {
            for (_, rule) in TEXT_FIELDS.iter().chain([("status", STATUS)].iter()) {
                let pattern = regex::Regex::new(rule.pattern).expect("valid pattern");
                prop_assert_eq!(
                    rule.accepts(&value),
                    pattern.is_match(&value),
                    "{:?} against {}",
                    value,
                    rule.pattern
                );
            }
        }
    }

    #[test]
    fn the_status_rule_names_every_status() {
        for status in FlightStatus::ALL {
            assert!(STATUS.expected.contains(status.as_str()));
            assert!(STATUS.pattern.contains(status.as_str()));
        }
    }

    #[test]
    fn every_decode_reason_is_a_dead_letter_reason_with_a_distinct_label() {
        let labels: std::collections::HashSet<_> =
            DeadLetterReason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(labels.len(), DeadLetterReason::ALL.len());
        assert_eq!(schema_attributes()["schema_version"], "1");
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

    #[test]
    fn timestamps_outside_the_supported_days_are_invalid_fields() {
        for raw in [
            "1969-12-31T23:59:59Z",
            "2200-01-01T00:00:00Z",
            "+262142-12-31T00:00:00Z",
        ] {
            let err = decode_json(&with("event_time", json!(raw))).unwrap_err();
            assert_eq!(err.reason().as_str(), "invalid_field", "{raw}: {err}");
        }
        let message = decode_json(&with("event_time", json!("1969-12-31T23:59:59Z")))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains(&FIRST_DAY.to_string()) && message.contains(&LAST_DAY.to_string()),
            "{message}"
        );
    }

    #[test]
    fn messages_over_the_limit_are_refused_unread() {
        let data = valid().to_string();
        let err =
            FlightEvent::decode_at_most(data.as_bytes(), &attrs(), data.len() - 1).unwrap_err();
        assert_eq!(err.reason().as_str(), "too_large");
        assert!(
            err.to_string().contains(&format!("{} bytes", data.len())),
            "{err}"
        );
        assert!(FlightEvent::decode_at_most(data.as_bytes(), &attrs(), data.len()).is_ok());
    }

    #[test]
    fn odd_documents_get_their_own_reason() {
        let decode = |raw: &str| {
            FlightEvent::decode(raw.as_bytes(), &attrs())
                .unwrap_err()
                .reason()
                .as_str()
        };
        assert_eq!(decode("\"text\""), "not_an_object");
        assert_eq!(decode("42"), "not_an_object");
        assert_eq!(decode("{"), "invalid_json");
        assert_eq!(decode("{} trailing"), "invalid_json");
        assert_eq!(
            decode(&format!("{}{}", "[".repeat(200), "]".repeat(200))),
            "not_an_object"
        );
        assert_eq!(
            decode(&format!("{}{}", "[".repeat(200), "]".repeat(199))),
            "invalid_json"
        );
        assert_eq!(decode(r#"{"origin":"SCL","origin":"LIM"}"#), "invalid_json");
        assert_eq!(decode(r#"{"delay_minutes": 99999999999}"#), "missing_field");
    }

    fn arbitrary_event() -> impl Strategy<Value = FlightEvent> {
        let day_micros = 0_i64..7_258_118_400_000_000;
        (
            any::<u128>(),
            "[A-Za-z0-9-]{1,64}",
            "[A-Z0-9]{2,3}",
            "[0-9]{1,5}",
            "[A-Z]{3}",
            "[A-Z]{3}",
            proptest::sample::select(FlightStatus::ALL.to_vec()),
            day_micros.clone(),
            proptest::option::of(day_micros.clone()),
            proptest::option::of(0_i32..=i32::MAX),
            day_micros,
        )
            .prop_map(
                |(
                    id,
                    flight_id,
                    airline,
                    number,
                    origin,
                    destination,
                    status,
                    sched,
                    actual,
                    delay,
                    time,
                )| {
                    let at = |m: i64| DateTime::from_timestamp_micros(m).unwrap();
                    FlightEvent {
                        event_id: Uuid::from_u128(id),
                        flight_id,
                        airline,
                        flight_number: number,
                        origin,
                        destination,
                        status,
                        scheduled_departure: at(sched),
                        actual_departure: actual.map(at),
                        delay_minutes: delay,
                        event_time: at(time),
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = FlightEvent::decode(&data, &attrs());
        }

        #[test]
        fn arbitrary_json_objects_never_panic(fields in proptest::collection::hash_map(
            "[a-z_]{1,20}",
            prop_oneof![
                Just(Value::Null),
                any::<i64>().prop_map(Value::from),
                any::<f64>().prop_map(Value::from),
                ".{0,40}".prop_map(Value::from),
            ],
            0..12,
        )) {
            let object: serde_json::Map<String, Value> = fields.into_iter().collect();
            let _ = FlightEvent::decode(Value::Object(object).to_string().as_bytes(), &attrs());
        }

        #[test]
        fn valid_events_round_trip_through_their_json(event in arbitrary_event()) {
            let data = serde_json::to_vec(&event).unwrap();
            prop_assert_eq!(FlightEvent::decode(&data, &attrs()).unwrap(), event);
        }
    }
}
