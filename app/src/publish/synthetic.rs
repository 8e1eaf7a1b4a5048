//! Realistic synthetic flight events (lifecycles, delays, cancellations) and poison messages.

use crate::domain::{
    DeadLetterReason, FlightEvent, FlightStatus, SCHEMA_VERSION_ATTRIBUTE, schema_attributes,
};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use uuid::Uuid;

const AIRLINES: [&str; 8] = ["LA", "JA", "H2", "AR", "AV", "CM", "IB", "AA"];
const AIRPORTS: [&str; 14] = [
    "SCL", "LIM", "GRU", "EZE", "BOG", "MIA", "MAD", "JFK", "CCP", "PMC", "ANF", "IQQ", "PUQ",
    "CJC",
];

/// One flight moving through its lifecycle.
#[derive(Debug, Clone)]
struct Flight {
    airline: &'static str,
    number: u32,
    origin: &'static str,
    destination: &'static str,
    scheduled_departure: DateTime<Utc>,
    status: FlightStatus,
    delay_minutes: Option<i32>,
    actual_departure: Option<DateTime<Utc>>,
}

impl Flight {
    fn id(&self) -> String {
        format!(
            "{}{}-{}",
            self.airline,
            self.number,
            self.scheduled_departure.format("%Y%m%d%H%M")
        )
    }

    fn finished(&self) -> bool {
        matches!(self.status, FlightStatus::Arrived | FlightStatus::Cancelled)
    }
}

/// Flights a day in a back-filled history ([`Generator::history`]).
pub const HISTORY_FLIGHTS_PER_DAY: usize = 60;

/// Moves `flight` one step through its lifecycle.
fn advance(rng: &mut StdRng, flight: &mut Flight) {
    let roll: f64 = rng.random();
    flight.status = match flight.status {
        FlightStatus::Scheduled if roll < 0.02 => FlightStatus::Cancelled,
        FlightStatus::Scheduled | FlightStatus::Delayed if roll < 0.25 => {
            let extra = rng.random_range(5..=90);
            flight.delay_minutes = Some(flight.delay_minutes.unwrap_or(0) + extra);
            FlightStatus::Delayed
        }
        FlightStatus::Scheduled | FlightStatus::Delayed => FlightStatus::Boarding,
        FlightStatus::Boarding => {
            // Most departures are close to schedule; a long tail is late.
            let late = if roll < 0.7 {
                rng.random_range(0..=10)
            } else {
                rng.random_range(11..=180)
            };
            let delay = flight.delay_minutes.unwrap_or(0).max(late);
            flight.delay_minutes = Some(delay);
            flight.actual_departure =
                Some(flight.scheduled_departure + Duration::minutes(i64::from(delay)));
            FlightStatus::Departed
        }
        FlightStatus::Departed => FlightStatus::Arrived,
        done => done,
    };
}

/// The event reporting `flight`'s current state, timestamped `now`.
fn event_of(flight: &Flight, now: DateTime<Utc>) -> FlightEvent {
    FlightEvent {
        event_id: Uuid::new_v4(),
        flight_id: flight.id(),
        airline: flight.airline.to_string(),
        flight_number: flight.number.to_string(),
        origin: flight.origin.to_string(),
        destination: flight.destination.to_string(),
        status: flight.status,
        scheduled_departure: flight.scheduled_departure,
        actual_departure: flight.actual_departure,
        delay_minutes: flight.delay_minutes,
        event_time: now.trunc_subsecs(6),
    }
}

/// Deterministic (seeded) generator of flight events for a pool of active flights.
pub struct Generator {
    rng: StdRng,
    flights: Vec<Flight>,
}

impl Generator {
    pub fn new(seed: u64, active_flights: usize) -> Self {
        let mut generator = Self {
            rng: StdRng::seed_from_u64(seed),
            flights: Vec::with_capacity(active_flights.max(1)),
        };
        let now = Utc::now();
        for _ in 0..active_flights.max(1) {
            let flight = generator.new_flight(now);
            generator.flights.push(flight);
        }
        generator
    }

    fn new_flight(&mut self, now: DateTime<Utc>) -> Flight {
        let origin = *AIRPORTS.choose(&mut self.rng).expect("airports");
        let destination = loop {
            let candidate = *AIRPORTS.choose(&mut self.rng).expect("airports");
            if candidate != origin {
                break candidate;
            }
        };
        let offset = Duration::minutes(self.rng.random_range(-120..=720));
        Flight {
            airline: AIRLINES.choose(&mut self.rng).expect("airlines"),
            number: self.rng.random_range(1..=9999),
            origin,
            destination,
            scheduled_departure: (now + offset).trunc_subsecs(0),
            status: FlightStatus::Scheduled,
            delay_minutes: None,
            actual_departure: None,
        }
    }

    /// Advances a random flight one step and returns the resulting event, timestamped `now`.
    pub fn next_event(&mut self, now: DateTime<Utc>) -> FlightEvent {
        let index = self.rng.random_range(0..self.flights.len());
        if self.flights[index].finished() {
            self.flights[index] = self.new_flight(now);
        } else {
            advance(&mut self.rng, &mut self.flights[index]);
        }
        event_of(&self.flights[index], now)
    }

    /// Whole lifecycles of [`HISTORY_FLIGHTS_PER_DAY`] flights a day scheduled over the `days`
    /// before `now`, oldest first, each event timed around its flight's departure and never
    /// after `now`: a history for the delay statistics of a fresh system.
    pub fn history(&mut self, days: u32, now: DateTime<Utc>) -> Vec<FlightEvent> {
        let mut events = Vec::new();
        for day in (1..=i64::from(days)).rev() {
            for _ in 0..HISTORY_FLIGHTS_PER_DAY {
                let mut flight = self.new_flight(now - Duration::days(day));
                let mut event_time = flight.scheduled_departure - Duration::hours(3);
                loop {
                    events.push(event_of(&flight, event_time.min(now)));
                    if flight.finished() {
                        break;
                    }
                    advance(&mut self.rng, &mut flight);
                    event_time += Duration::minutes(self.rng.random_range(10..=60));
                }
            }
        }
        events
    }

    /// A random poison message of any kind.
    pub fn poison(&mut self, now: DateTime<Utc>) -> (Vec<u8>, HashMap<String, String>) {
        let kind = *PoisonKind::ALL.choose(&mut self.rng).expect("kinds");
        let valid = self.next_event(now);
        kind.message(&valid)
    }
}

/// The kinds of invalid message the ingest worker must route to the dead-letter topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoisonKind {
    NotUtf8,
    NotJson,
    MissingField,
    InvalidField,
    WrongSchemaVersion,
}

impl PoisonKind {
    pub const ALL: [PoisonKind; 5] = [
        Self::NotUtf8,
        Self::NotJson,
        Self::MissingField,
        Self::InvalidField,
        Self::WrongSchemaVersion,
    ];

    /// The DLQ reason the worker must attach to this kind.
    pub fn expected_reason(self) -> DeadLetterReason {
        match self {
            Self::NotUtf8 => DeadLetterReason::NotUtf8,
            Self::NotJson => DeadLetterReason::InvalidJson,
            Self::MissingField => DeadLetterReason::MissingField,
            Self::InvalidField => DeadLetterReason::InvalidField,
            Self::WrongSchemaVersion => DeadLetterReason::UnsupportedSchemaVersion,
        }
    }

    /// Builds message data and attributes of this kind from an otherwise valid event.
    pub fn message(self, valid: &FlightEvent) -> (Vec<u8>, HashMap<String, String>) {
        let mut attributes = schema_attributes();
        let mut json = serde_json::to_value(valid).expect("event serializes");
        let data = match self {
            Self::NotUtf8 => vec![0xc3, 0x28, 0xff, 0xfe],
            Self::NotJson => format!("{{\"event_id\": \"{}\", ", valid.event_id).into_bytes(),
            Self::MissingField => {
                json.as_object_mut().expect("object").remove("origin");
                json.to_string().into_bytes()
            }
            Self::InvalidField => {
                json["origin"] = "santiago".into();
                json.to_string().into_bytes()
            }
            Self::WrongSchemaVersion => {
                attributes.insert(SCHEMA_VERSION_ATTRIBUTE.into(), "2".into());
                json.to_string().into_bytes()
            }
        };
        (data, attributes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_events_are_valid_and_follow_a_lifecycle() {
        let mut generator = Generator::new(7, 20);
        let now = Utc::now();
        let attrs = schema_attributes();
        let mut statuses = std::collections::HashSet::new();
        for _ in 0..5_000 {
            let event = generator.next_event(now);
            let bytes = serde_json::to_vec(&event).unwrap();
            assert_eq!(FlightEvent::decode(&bytes, &attrs).unwrap(), event);
            if event.status == FlightStatus::Departed {
                assert!(event.actual_departure.is_some() && event.delay_minutes.is_some());
            }
            statuses.insert(event.status);
        }
        assert_eq!(
            statuses.len(),
            FlightStatus::ALL.len(),
            "every status appears"
        );
    }

    #[test]
    fn a_history_finishes_every_flight_in_the_past_days() {
        let now = Utc::now();
        let events = Generator::new(3, 10).history(7, now);
        let mut last: HashMap<String, FlightStatus> = HashMap::new();
        for event in &events {
            assert!(event.event_time <= now);
            assert!(event.scheduled_departure < now - Duration::hours(11));
            assert!(event.scheduled_departure > now - Duration::days(8));
            last.insert(event.flight_id.clone(), event.status);
        }
        assert_eq!(last.len(), 7 * HISTORY_FLIGHTS_PER_DAY);
        assert!(
            last.values()
                .all(|s| matches!(s, FlightStatus::Arrived | FlightStatus::Cancelled))
        );
        let days: std::collections::HashSet<_> = events
            .iter()
            .map(|e| e.scheduled_departure.date_naive())
            .collect();
        assert!(days.len() >= 7, "{days:?}");
    }

    #[test]
    fn each_poison_kind_decodes_to_its_reason() {
        let mut generator = Generator::new(1, 1);
        let valid = generator.next_event(Utc::now());
        for kind in PoisonKind::ALL {
            let (data, attrs) = kind.message(&valid);
            let err = FlightEvent::decode(&data, &attrs).unwrap_err();
            assert_eq!(err.reason(), kind.expected_reason());
        }
    }
}
