//! Daily delay rollups: always equal to a recomputation from `flights` (random event sequences
//! through the real batch writer, a flight created by another transaction in the middle of a
//! batch, and events through the emulator), the endpoint's answer equal to the query it
//! replaced, and `flightdeck rollup rebuild` repairing a damaged rollup.

use crate::support::{Harness, eventually, generated_events};
use chrono::{DateTime, Duration as Days, NaiveDate, TimeZone, Utc};
use flightdeck::api::schema::DayStats;
use flightdeck::api::stats::DelayStats;
use flightdeck::config::DatabaseSettings;
use flightdeck::db::percentile::HISTOGRAM_MINUTES;
use flightdeck::db::queries::{DayDelayStats, ON_TIME_MINUTES};
use flightdeck::db::writer::{IncomingEvent, write_batch};
use flightdeck::domain::{FlightEvent, FlightStatus};
use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;
use uuid::Uuid;

/// One (origin, day) of the rollup, as stored or as recomputed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Rollup {
    flights: i64,
    departed: i64,
    cancelled: i64,
    on_time: i64,
    delay_sum: i64,
    histogram: Vec<i32>,
    long_delays: Vec<i32>,
}

type Rollups = BTreeMap<(String, NaiveDate), Rollup>;

/// The rollup recomputed in Rust from every flight's current state (probe flights left out).
async fn recomputed(client: &tokio_postgres::Client) -> Rollups {
    let mut rollups = Rollups::new();
    let rows = client
        .query(
            "SELECT origin::text, (scheduled_departure AT TIME ZONE 'UTC')::date, status, \
             coalesce(delay_minutes, 0) FROM flights WHERE flight_id NOT LIKE 'PROBE-%'",
            &[],
        )
        .await
        .unwrap();
    for row in rows {
        let r = rollups.entry((row.get(0), row.get(1))).or_default();
        let status: &str = row.get(2);
        let delay: i32 = row.get(3);
        r.flights += 1;
        r.cancelled += i64::from(status == "cancelled");
        if status == "departed" || status == "arrived" {
            r.departed += 1;
            r.on_time += i64::from(delay <= ON_TIME_MINUTES);
            r.delay_sum += i64::from(delay);
            if delay < HISTOGRAM_MINUTES {
                if r.histogram.len() <= delay as usize {
                    r.histogram.resize(delay as usize + 1, 0);
                }
                r.histogram[delay as usize] += 1;
            } else {
                r.long_delays.push(delay);
            }
        }
    }
    for r in rollups.values_mut() {
        r.long_delays.sort_unstable();
    }
    rollups
}

/// The stored rollup; rows whose every flight moved elsewhere (all zero) count as absent.
async fn stored(client: &tokio_postgres::Client) -> Rollups {
    let rows = client
        .query(
            "SELECT origin::text, day, flights, departed, cancelled, on_time, delay_sum, \
             delay_histogram, long_delays FROM delay_rollups",
            &[],
        )
        .await
        .unwrap();
    rows.iter()
        .map(|row| {
            let key = (row.get(0), row.get(1));
            let r = Rollup {
                flights: row.get(2),
                departed: row.get(3),
                cancelled: row.get(4),
                on_time: row.get(5),
                delay_sum: row.get(6),
                histogram: row.get(7),
                long_delays: row.get(8),
            };
            (key, r)
        })
        .filter(|(_, r)| *r != Rollup::default())
        .collect()
}

async fn assert_rollup_equals_flights(client: &tokio_postgres::Client, when: &str) {
    assert_eq!(stored(client).await, recomputed(client).await, "{when}");
}

/// A small world where events collide: 5 flights (one a probe), 2 origins, 3 days, delays
/// around the on-time bound and the histogram's end, events out of order and redelivered.
fn event_strategy() -> impl Strategy<Value = (usize, FlightEvent)> {
    let delay = prop_oneof![
        Just(None),
        (0..30i32).prop_map(Some),
        Just(Some(HISTOGRAM_MINUTES - 1)),
        Just(Some(HISTOGRAM_MINUTES)),
        Just(Some(5_000)),
    ];
    (
        0..40usize,
        0..5usize,
        prop::sample::select(vec!["SCL", "LIM"]),
        0..3i64,
        0..FlightStatus::ALL.len(),
        delay,
        0..10_000i64,
    )
        .prop_map(|(id, flight, origin, day, status, delay, second)| {
            let base = Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
            let event = FlightEvent {
                event_id: Uuid::from_u128(id as u128 + 1),
                flight_id: if flight == 4 {
                    "PROBE-rollup".to_string()
                } else {
                    format!("LA{flight}-2026-11-28")
                },
                airline: "LA".into(),
                flight_number: format!("{flight}"),
                origin: origin.into(),
                destination: "MAD".into(),
                status: FlightStatus::ALL[status],
                scheduled_departure: base + Days::days(day) + Days::minutes(flight as i64),
                actual_departure: None,
                delay_minutes: delay,
                event_time: base + Days::seconds(second),
            };
            (id, event)
        })
}

/// Each flight's state as a model of the writer's rule: the newest event by (event time, event
/// id) of all it has seen.
struct Newest(BTreeMap<String, FlightEvent>);

/// What the flights table holds of a flight: last event, status, delay.
type FlightStates = BTreeMap<String, (Uuid, String, Option<i32>)>;

impl Newest {
    fn new() -> Self {
        Self(BTreeMap::new())
    }

    fn see(&mut self, event: &FlightEvent) {
        let kept = self
            .0
            .entry(event.flight_id.clone())
            .or_insert_with(|| event.clone());
        if (event.event_time, event.event_id) > (kept.event_time, kept.event_id) {
            *kept = event.clone();
        }
    }

    fn states(&self) -> FlightStates {
        self.0
            .iter()
            .map(|(id, e)| {
                (
                    id.clone(),
                    (e.event_id, e.status.as_str().to_string(), e.delay_minutes),
                )
            })
            .collect()
    }
}

async fn flight_states(client: &tokio_postgres::Client) -> FlightStates {
    client
        .query(
            "SELECT flight_id, last_event_id, status, delay_minutes FROM flights",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), (row.get(1), row.get(2), row.get(3))))
        .collect()
}

/// A pool of the service's own kind on the test database, named in `pg_stat_activity`.
fn writer_pool(h: &Harness, application_name: &str) -> flightdeck::db::Pool {
    let settings =
        DatabaseSettings::from_source(&HashMap::from([("DATABASE_URL", h.db.url.as_str())]))
            .unwrap();
    flightdeck::db::connect(&settings, application_name).unwrap()
}

fn incoming(event: FlightEvent) -> IncomingEvent {
    IncomingEvent {
        published_at: event.event_time,
        message_id: event.event_id.to_string(),
        event,
    }
}

#[test]
fn random_event_sequences_through_the_writer_keep_the_rollup_equal_to_the_flights() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (h, pool) = runtime.block_on(async {
        let h = Harness::new().await;
        h.migrate().await;
        let pool = writer_pool(&h, "rollup-property");
        (h, pool)
    });
    let config = ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    };
    proptest!(config, |(batches in prop::collection::vec(
        prop::collection::vec(event_strategy(), 1..12), 1..6))| {
        runtime.block_on(async {
            let check = h.db.client().await;
            check
                .batch_execute("TRUNCATE flight_events, flights, delay_rollups")
                .await
                .unwrap();
            // An event id always carries the same event, as a redelivery does.
            let mut by_id: HashMap<usize, FlightEvent> = HashMap::new();
            let mut newest = Newest::new();
            let client = pool.get().await.unwrap();
            for (n, batch) in batches.iter().enumerate() {
                let mut unseen = HashSet::new();
                let events: Vec<IncomingEvent> = batch
                    .iter()
                    .map(|(id, event)| {
                        let event = by_id.entry(*id).or_insert_with(|| {
                            unseen.insert(event.event_id);
                            event.clone()
                        });
                        incoming(event.clone())
                    })
                    .collect();
                for e in &events {
                    newest.see(&e.event);
                }
                let stored = write_batch(&client, &events).await.unwrap();
                let when = format!("after batch {n}");
                assert_eq!(stored, unseen, "{when}: stored ids");
                assert_eq!(flight_states(&check).await, newest.states(), "{when}: flight states");
                assert_rollup_equals_flights(&check, &when).await;
            }
        });
    });
}

/// The statistics as the endpoint computed them from `flights` before the rollup existed.
async fn from_flights(
    client: &tokio_postgres::Client,
    origin: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<DayDelayStats> {
    let start: DateTime<Utc> = from.and_hms_opt(0, 0, 0).unwrap().and_utc();
    let end: DateTime<Utc> = (to + Days::days(1)).and_hms_opt(0, 0, 0).unwrap().and_utc();
    let rows = client
        .query(
            "SELECT (scheduled_departure AT TIME ZONE 'UTC')::date AS day,
                    count(*) AS flights,
                    count(*) FILTER (WHERE status IN ('departed','arrived')) AS departed,
                    count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
                    count(*) FILTER (WHERE status IN ('departed','arrived')
                                     AND coalesce(delay_minutes, 0) <= $4) AS on_time,
                    avg(coalesce(delay_minutes, 0)) FILTER (WHERE status IN ('departed','arrived'))::float8 AS avg_delay,
                    percentile_cont(0.95) WITHIN GROUP (ORDER BY coalesce(delay_minutes, 0))
                        FILTER (WHERE status IN ('departed','arrived')) AS p95_delay
             FROM flights
             WHERE origin = $1 AND scheduled_departure >= $2 AND scheduled_departure < $3
               AND flight_id NOT LIKE 'PROBE-%'
             GROUP BY 1 ORDER BY 1",
            &[&origin, &start, &end, &ON_TIME_MINUTES],
        )
        .await
        .unwrap();
    let mut by_day: HashMap<NaiveDate, DayDelayStats> = HashMap::new();
    for row in rows {
        let departed: i64 = row.get("departed");
        let on_time: i64 = row.get("on_time");
        let day: NaiveDate = row.get("day");
        by_day.insert(
            day,
            DayDelayStats {
                day,
                flights: row.get("flights"),
                departed,
                cancelled: row.get("cancelled"),
                on_time_ratio: (departed > 0).then(|| on_time as f64 / departed as f64),
                avg_delay_minutes: row.get("avg_delay"),
                p95_delay_minutes: row.get("p95_delay"),
            },
        );
    }
    from.iter_days()
        .take_while(|d| *d <= to)
        .map(|day| {
            by_day
                .remove(&day)
                .unwrap_or_else(|| DayDelayStats::empty(day))
        })
        .collect()
}

#[tokio::test]
async fn events_through_the_emulator_give_statistics_byte_for_byte_those_of_the_old_query() {
    let h = Harness::new().await;
    h.migrate().await;
    let ingest = h.ingest(&[]).await;
    let events = generated_events(3_000, 17);
    h.pubsub.publish_events(&events).await;
    eventually("events stored", Duration::from_secs(90), || async {
        (h.db.count_events().await == events.len() as i64).then_some(())
    })
    .await;
    drop(ingest);
    let client = h.db.client().await;
    assert_rollup_equals_flights(&client, "after ingest").await;

    let api = h.serve(&[("API_CACHE_TTL_MS", "0")]).await;
    let days: Vec<NaiveDate> = client
        .query(
            "SELECT DISTINCT (scheduled_departure AT TIME ZONE 'UTC')::date FROM flights ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let (from, to) = (
        days[0] - Days::days(1),
        *days.last().unwrap() + Days::days(1),
    );
    let origins: Vec<String> = client
        .query("SELECT DISTINCT origin::text FROM flights ORDER BY 1", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut departed = 0;
    for origin in &origins {
        let body = api
            .get(&format!(
                "/v1/stats/delays?origin={origin}&from={from}&to={to}"
            ))
            .await
            .bytes()
            .await
            .unwrap();
        let expected = DelayStats {
            origin: origin.clone(),
            from,
            to,
            days: from_flights(&client, origin, from, to)
                .await
                .into_iter()
                .map(DayStats::from)
                .collect(),
        };
        departed += expected.days.iter().map(|d| d.departed).sum::<i64>();
        assert_eq!(
            String::from_utf8(body.to_vec()).unwrap(),
            serde_json::to_string(&expected).unwrap(),
            "{origin}"
        );
    }
    assert!(departed > 100, "{departed} departed flights compared");
}

#[tokio::test]
async fn rollup_rebuild_repairs_a_damaged_rollup() {
    let h = Harness::new().await;
    h.migrate().await;
    let client = h.db.client().await;
    let pool = writer_pool(&h, "rollup-rebuild");
    let events: Vec<IncomingEvent> = generated_events(400, 3).into_iter().map(incoming).collect();
    write_batch(&pool.get().await.unwrap(), &events)
        .await
        .unwrap();
    assert_rollup_equals_flights(&client, "after the batch").await;

    // A bulk fix done with triggers off leaves the rollup behind.
    client
        .batch_execute(
            "ALTER TABLE flights DISABLE TRIGGER USER;
             UPDATE flights SET status = 'cancelled', delay_minutes = NULL WHERE flight_id IN
                 (SELECT flight_id FROM flights ORDER BY flight_id LIMIT 40);
             ALTER TABLE flights ENABLE TRIGGER USER;
             UPDATE delay_rollups SET flights = flights + 7;",
        )
        .await
        .unwrap();
    assert_ne!(stored(&client).await, recomputed(&client).await);

    let output = h.command(&["rollup", "rebuild"]).await;
    let flights: i64 = client
        .query_one(
            "SELECT count(*) FROM flights WHERE flight_id NOT LIKE 'PROBE-%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        output.trim(),
        format!("rebuilt the daily delay rollups from {flights} flights")
    );
    assert_rollup_equals_flights(&client, "after rebuild").await;
}

#[tokio::test]
async fn a_flight_created_by_another_transaction_mid_batch_is_moved_once() {
    let h = Harness::new().await;
    h.migrate().await;
    let check = h.db.client().await;
    let other = h.db.client().await;
    let pool = writer_pool(&h, "rollup-race");
    let departed = |id: u128, flight: &str, minute: i64| FlightEvent {
        event_id: Uuid::from_u128(id),
        flight_id: flight.to_string(),
        airline: "LA".into(),
        flight_number: "9".into(),
        origin: "SCL".into(),
        destination: "LIM".into(),
        status: FlightStatus::Departed,
        scheduled_departure: Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap(),
        actual_departure: None,
        delay_minutes: Some(minute as i32),
        event_time: Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap() + Days::minutes(minute),
    };
    // Another writer (an older build, a manual fix) creates LA9 and has not committed yet.
    other
        .batch_execute(
            "BEGIN;
             INSERT INTO flights (flight_id, airline, flight_number, origin, destination, status,
                                  scheduled_departure, delay_minutes, last_event_id, last_event_time)
             VALUES ('LA9-2026-11-28', 'LA', '9', 'SCL', 'LIM', 'delayed',
                     '2026-11-28T12:00:00Z', 3, '00000000-0000-0000-0000-0000000000ff',
                     '2026-11-28T12:01:00Z');",
        )
        .await
        .unwrap();
    let events = vec![
        incoming(departed(1, "LA9-2026-11-28", 20)),
        incoming(departed(2, "LA8-2026-11-28", 5)),
    ];
    let writer = tokio::spawn(async move {
        let client = pool.get().await.unwrap();
        write_batch(&client, &events).await
    });
    eventually(
        "the batch waits for the uncommitted flight",
        Duration::from_secs(10),
        || async {
            check
                .query_opt(
                    "SELECT 1 FROM pg_stat_activity WHERE application_name = 'rollup-race' \
                 AND wait_event_type = 'Lock'",
                    &[],
                )
                .await
                .unwrap()
                .map(|_| ())
        },
    )
    .await;
    other.batch_execute("COMMIT").await.unwrap();

    let stored = writer.await.unwrap().unwrap();
    assert_eq!(
        stored,
        HashSet::from([Uuid::from_u128(1), Uuid::from_u128(2)])
    );
    let states = flight_states(&check).await;
    assert_eq!(
        states["LA9-2026-11-28"],
        (Uuid::from_u128(1), "departed".to_string(), Some(20)),
        "the newer event moved the flight the other transaction created"
    );
    assert_eq!(states.len(), 2);
    assert_rollup_equals_flights(&check, "after the race").await;
    let counted: i64 = check
        .query_one(
            "SELECT flights FROM delay_rollups WHERE origin = 'SCL'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(counted, 2, "each flight counted once");
}
