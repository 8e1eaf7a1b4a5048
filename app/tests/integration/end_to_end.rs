//! Brief 3.1: an event published to the topic is served by the API with identical fields.

use crate::support::{Harness, eventually, metrics, unique_event};
use flightdeck::api::events::EventPage;
use flightdeck::api::flights::FlightView;
use flightdeck::api::schema::EventFields;
use std::time::Duration;

#[tokio::test]
async fn published_event_is_served_by_the_api_with_identical_fields() {
    let h = Harness::new().await;
    h.migrate().await;
    let _ingest = h.ingest(&[]).await;
    let api = h.serve(&[("API_CACHE_TTL_MS", "0")]).await;
    let event = unique_event();
    h.pubsub.publish_events(std::slice::from_ref(&event)).await;

    let path = format!("/v1/events?flight_id={}", event.flight_id);
    let page: EventPage = eventually(
        "the event in /v1/events",
        Duration::from_secs(30),
        || async {
            let page: EventPage = api.get_json(&path, 200).await;
            (!page.items.is_empty()).then_some(page)
        },
    )
    .await;
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.next_cursor, None);
    let stored = &page.items[0];
    assert_eq!(
        stored.event,
        EventFields::from(event.clone()),
        "every published field comes back unchanged"
    );
    assert!(stored.ingested_at >= stored.published_at);

    let view: FlightView = api
        .get_json(&format!("/v1/flights/{}", event.flight_id), 200)
        .await;
    assert_eq!(view.events.len(), 1);
    assert_eq!(view.events[0].event, EventFields::from(event.clone()));
    let flight = &view.flight;
    assert_eq!(
        (
            &flight.flight_id,
            &flight.airline,
            &flight.flight_number,
            &flight.origin,
            &flight.destination
        ),
        (
            &event.flight_id,
            &event.airline,
            &event.flight_number,
            &event.origin,
            &event.destination
        )
    );
    assert_eq!(
        (
            flight.status,
            flight.scheduled_departure,
            flight.actual_departure,
            flight.delay_minutes
        ),
        (
            event.status,
            event.scheduled_departure,
            event.actual_departure,
            event.delay_minutes
        )
    );
    assert_eq!(
        (flight.last_event_id, flight.last_event_time),
        (event.event_id, event.event_time)
    );
}

#[tokio::test]
async fn an_event_published_three_times_is_stored_once_and_counted_as_duplicate() {
    let h = Harness::new().await;
    h.migrate().await;
    let ingest = h.ingest(&[]).await;
    let event = unique_event();
    for _ in 0..3 {
        // Three separate publishes: three messages with distinct ids, one event id.
        h.pubsub.publish_events(std::slice::from_ref(&event)).await;
    }
    let scraped = eventually(
        "three messages processed",
        Duration::from_secs(30),
        || async {
            let m = metrics::scrape(&ingest.metrics).await;
            let stored =
                metrics::value(&m, r#"flightdeck_ingest_messages_total{outcome="stored"}"#);
            let duplicate = metrics::value(
                &m,
                r#"flightdeck_ingest_messages_total{outcome="duplicate"}"#,
            );
            (stored + duplicate >= 3.0).then_some((stored, duplicate))
        },
    )
    .await;
    assert_eq!(scraped, (1.0, 2.0), "(stored, duplicate)");
    assert_eq!(h.db.count_events().await, 1);
}

#[tokio::test]
async fn an_older_event_does_not_move_the_flight_state_back() {
    let h = Harness::new().await;
    h.migrate().await;
    let _ingest = h.ingest(&[]).await;
    let api = h.serve(&[("API_CACHE_TTL_MS", "0")]).await;
    let newer = unique_event();
    let mut older = newer.clone();
    older.event_id = uuid::Uuid::new_v4();
    older.event_time = newer.event_time - chrono::Duration::minutes(10);
    older.status = flightdeck::domain::FlightStatus::Scheduled;
    h.pubsub.publish_events(std::slice::from_ref(&newer)).await;
    let path = format!("/v1/flights/{}", newer.flight_id);
    eventually("the newer event", Duration::from_secs(30), || async {
        (api.status(&path).await == 200).then_some(())
    })
    .await;
    h.pubsub.publish_events(std::slice::from_ref(&older)).await;
    let view: FlightView = eventually("both events", Duration::from_secs(30), || async {
        let view: FlightView = api.get_json(&path, 200).await;
        (view.events.len() == 2).then_some(view)
    })
    .await;
    assert_eq!(view.flight.last_event_id, newer.event_id);
    assert_eq!(view.flight.status, newer.status);
    assert_eq!(
        view.events[0].event,
        EventFields::from(newer),
        "newest first"
    );
    assert_eq!(view.events[1].event, EventFields::from(older));
}
