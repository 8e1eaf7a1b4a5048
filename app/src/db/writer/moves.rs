//! What a batch does to flight state and to the daily rollup, decided from each flight's newest
//! event in the batch and the state row the writer locked: which flights to create, which to
//! move forward, and the rollup's net moves (applied by `delay_rollups_move`, migration V4).

use super::IncomingEvent;
use crate::domain::{FlightEvent, event::SYNTHETIC_FLIGHT_PREFIX};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// 2000-01-01T00:00:00Z in Unix seconds: PostgreSQL counts timestamps in microseconds from it.
const POSTGRES_EPOCH_SECONDS: i64 = 946_684_800;

/// A timestamp as PostgreSQL stores it: tokio-postgres truncates towards 2000-01-01 to whole
/// microseconds, so the writer orders events and picks days on the stored value.
fn stored(t: DateTime<Utc>) -> DateTime<Utc> {
    let epoch = DateTime::from_timestamp(POSTGRES_EPOCH_SECONDS, 0).unwrap_or_default();
    (t - epoch)
        .num_microseconds()
        .and_then(|micros| {
            DateTime::from_timestamp_micros(micros + POSTGRES_EPOCH_SECONDS * 1_000_000)
        })
        .unwrap_or(t)
}

/// The order that decides which event is a flight's newest: event time, then event id (the
/// statement of the staged path sorts the same way).
type Recency = (DateTime<Utc>, Uuid);

fn recency(event: &FlightEvent) -> Recency {
    (stored(event.event_time), event.event_id)
}

/// The rollup row a flight counts in (origin, UTC day of its scheduled departure) and what the
/// rollup reads of it: status, and delay with a missing one as 0.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Contribution {
    pub origin: String,
    pub day: NaiveDate,
    pub status: String,
    pub delay: i32,
}

impl Contribution {
    fn of(event: &FlightEvent) -> Self {
        Self {
            origin: event.origin.clone(),
            day: stored(event.scheduled_departure).date_naive(),
            status: event.status.as_str().to_string(),
            delay: event.delay_minutes.unwrap_or(0),
        }
    }
}

/// A flight's state row as the writer locked it.
#[derive(Debug, Clone)]
pub(super) struct StoredFlight {
    pub last_event_time: DateTime<Utc>,
    pub last_event_id: Uuid,
    pub contribution: Contribution,
}

/// Each flight's newest event in the batch, by flight id.
pub(super) fn newest_per_flight<'a>(
    events: &[&'a IncomingEvent],
) -> BTreeMap<&'a str, &'a FlightEvent> {
    let mut newest: BTreeMap<&str, &FlightEvent> = BTreeMap::new();
    for incoming in events {
        let event = &incoming.event;
        newest
            .entry(event.flight_id.as_str())
            .and_modify(|kept| {
                if recency(event) > recency(kept) {
                    *kept = event;
                }
            })
            .or_insert(event);
    }
    newest
}

/// The flight state writes and rollup moves of one batch.
#[derive(Debug, Default)]
pub(super) struct Plan<'a> {
    /// Newest events of flights without a state row, by flight id: created.
    pub creates: Vec<&'a FlightEvent>,
    /// Newest events newer than their flight's stored state, by flight id: moved forward.
    pub updates: Vec<&'a FlightEvent>,
    /// Net flights entering (+) or leaving (-) each contribution; never zero.
    pub moves: BTreeMap<Contribution, i32>,
}

impl<'a> Plan<'a> {
    /// Decides every flight of the batch against its stored state (see `decide`).
    pub fn new(
        newest: &BTreeMap<&'a str, &'a FlightEvent>,
        stored: &HashMap<String, StoredFlight>,
    ) -> Self {
        let mut plan = Plan::default();
        for (&flight_id, &event) in newest {
            plan.decide(event, stored.get(flight_id));
        }
        plan
    }

    /// A flight without a state row is created; one whose stored state is older than its newest
    /// event is moved forward, its old contribution leaving and its new one entering; any other
    /// stays. Synthetic probe flights never count in the rollup.
    fn decide(&mut self, event: &'a FlightEvent, stored: Option<&StoredFlight>) {
        let counted = !event.flight_id.starts_with(SYNTHETIC_FLIGHT_PREFIX);
        match stored {
            None => self.creates.push(event),
            Some(old) if (old.last_event_time, old.last_event_id) < recency(event) => {
                self.updates.push(event);
                if counted {
                    self.add(old.contribution.clone(), -1);
                }
            }
            Some(_) => return,
        }
        if counted {
            self.add(Contribution::of(event), 1);
        }
    }

    /// Another transaction created these flights (`created`, their state rows as now locked)
    /// after the plan was made: each planned creation is taken back and decided again against
    /// the row that transaction stored.
    pub fn created_meanwhile(&mut self, created: &HashMap<String, StoredFlight>) {
        let (beaten, kept): (Vec<_>, Vec<_>) = self
            .creates
            .drain(..)
            .partition(|e| created.contains_key(&e.flight_id));
        self.creates = kept;
        for event in beaten {
            if !event.flight_id.starts_with(SYNTHETIC_FLIGHT_PREFIX) {
                self.add(Contribution::of(event), -1);
            }
            self.decide(event, created.get(&event.flight_id));
        }
        self.updates.sort_by(|a, b| a.flight_id.cmp(&b.flight_id));
    }

    fn add(&mut self, contribution: Contribution, sign: i32) {
        let net = self.moves.entry(contribution.clone()).or_insert(0);
        *net += sign;
        if *net == 0 {
            self.moves.remove(&contribution);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::FlightStatus;
    use chrono::{TimeZone, Timelike};

    fn event(
        id: u128,
        flight: &str,
        second: u32,
        status: FlightStatus,
        delay: Option<i32>,
    ) -> IncomingEvent {
        let at = Utc.with_ymd_and_hms(2026, 11, 28, 23, 59, 0).unwrap();
        IncomingEvent {
            event: FlightEvent {
                event_id: Uuid::from_u128(id),
                flight_id: flight.to_string(),
                airline: "LA".into(),
                flight_number: "1".into(),
                origin: "SCL".into(),
                destination: "LIM".into(),
                status,
                scheduled_departure: at,
                actual_departure: None,
                delay_minutes: delay,
                event_time: at.with_second(second).unwrap(),
            },
            published_at: at,
            message_id: id.to_string(),
        }
    }

    fn contribution(status: &str, delay: i32) -> Contribution {
        Contribution {
            origin: "SCL".into(),
            day: NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
            status: status.into(),
            delay,
        }
    }

    fn stored_as(e: &IncomingEvent) -> StoredFlight {
        StoredFlight {
            last_event_time: e.event.event_time,
            last_event_id: e.event.event_id,
            contribution: Contribution::of(&e.event),
        }
    }

    #[test]
    fn the_newest_event_wins_by_time_then_by_id() {
        let a = event(1, "F1", 10, FlightStatus::Boarding, None);
        let b = event(2, "F1", 5, FlightStatus::Scheduled, None);
        let c = event(3, "F1", 10, FlightStatus::Departed, Some(3));
        let newest = newest_per_flight(&[&a, &b, &c]);
        assert_eq!(newest["F1"].event_id, Uuid::from_u128(3));
    }

    #[test]
    fn a_new_flight_enters_and_a_moved_one_leaves_its_old_contribution() {
        let old = event(1, "F1", 10, FlightStatus::Scheduled, None);
        let new = event(2, "F1", 20, FlightStatus::Departed, Some(20));
        let other = event(3, "F2", 20, FlightStatus::Cancelled, None);
        let stored = HashMap::from([("F1".to_string(), stored_as(&old))]);
        let newest = newest_per_flight(&[&new, &other]);
        let plan = Plan::new(&newest, &stored);
        assert_eq!((plan.updates.len(), plan.creates.len()), (1, 1));
        assert_eq!(
            plan.moves,
            BTreeMap::from([
                (contribution("cancelled", 0), 1),
                (contribution("departed", 20), 1),
                (contribution("scheduled", 0), -1),
            ])
        );
    }

    #[test]
    fn an_older_or_equal_event_changes_nothing_and_equal_contributions_cancel() {
        let stored_event = event(5, "F1", 30, FlightStatus::Delayed, Some(9));
        let older = event(4, "F1", 30, FlightStatus::Departed, Some(1));
        let stored = HashMap::from([("F1".to_string(), stored_as(&stored_event))]);
        let plan = Plan::new(&newest_per_flight(&[&older]), &stored);
        assert!(plan.creates.is_empty() && plan.updates.is_empty() && plan.moves.is_empty());

        let same_counts = event(6, "F1", 31, FlightStatus::Delayed, Some(9));
        let plan = Plan::new(&newest_per_flight(&[&same_counts]), &stored);
        assert_eq!(plan.updates.len(), 1);
        assert!(plan.moves.is_empty(), "{:?}", plan.moves);
    }

    #[test]
    fn probe_flights_get_state_but_never_count() {
        let probe = event(1, "PROBE-1", 1, FlightStatus::Departed, Some(1));
        let plan = Plan::new(&newest_per_flight(&[&probe]), &HashMap::new());
        assert_eq!(plan.creates.len(), 1);
        assert!(plan.moves.is_empty());
    }

    #[test]
    fn a_creation_another_transaction_beat_is_decided_against_its_row() {
        let mine = event(2, "F1", 20, FlightStatus::Departed, Some(20));
        let theirs = event(1, "F1", 10, FlightStatus::Delayed, Some(4));
        let newer_theirs = event(3, "F2", 50, FlightStatus::Cancelled, None);
        let also_mine = event(4, "F2", 40, FlightStatus::Boarding, None);
        let untouched = event(5, "F3", 40, FlightStatus::Boarding, None);
        let mut plan = Plan::new(
            &newest_per_flight(&[&mine, &also_mine, &untouched]),
            &HashMap::new(),
        );
        assert_eq!(plan.creates.len(), 3);
        plan.created_meanwhile(&HashMap::from([
            ("F1".to_string(), stored_as(&theirs)),
            ("F2".to_string(), stored_as(&newer_theirs)),
        ]));
        let ids = |events: &[&FlightEvent]| {
            events
                .iter()
                .map(|e| e.flight_id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&plan.creates), ["F3"]);
        assert_eq!(
            ids(&plan.updates),
            ["F1"],
            "F2's stored state is newer: it stays"
        );
        assert_eq!(
            plan.moves,
            BTreeMap::from([
                (contribution("boarding", 0), 1),
                (contribution("delayed", 4), -1),
                (contribution("departed", 20), 1),
            ]),
            "their flight leaves, mine enters; F2 keeps their contribution, added by their trigger"
        );
    }

    #[test]
    fn times_are_compared_and_days_taken_as_stored() {
        let late = Utc.with_ymd_and_hms(2026, 11, 28, 23, 59, 59).unwrap()
            + chrono::Duration::nanoseconds(999_999_999);
        assert_eq!(stored(late).nanosecond(), 999_999_000);
        assert_eq!(
            stored(late).date_naive(),
            NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
        );
        let before_2000 = Utc.with_ymd_and_hms(1999, 12, 31, 23, 59, 59).unwrap()
            + chrono::Duration::nanoseconds(999_999_999);
        // Truncated towards 2000-01-01, as tokio-postgres sends it.
        assert_eq!(
            stored(before_2000),
            Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap()
        );
    }
}
