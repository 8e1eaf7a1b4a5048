//! Golden test of the feed's JSON, encoded from binary rows without structs: for the same
//! rows it is byte-for-byte what serde writes for the decoded events (the previous encoder,
//! still behind /v1/flights), whatever the fractions, nulls and filters.

use crate::support::Harness;
use flightdeck::api::events::EventPage;
use flightdeck::api::flights::FlightView;

/// Rows covering every shape of each column: whole seconds, millisecond and microsecond
/// fractions, null and present optional fields, each status, a synthetic probe flight.
const EDGE_ROWS: &str = "
INSERT INTO flight_events (event_id, flight_id, airline, flight_number, origin, destination,
    status, scheduled_departure, actual_departure, delay_minutes, event_time, published_at,
    ingested_at, message_id)
SELECT gen_random_uuid(),
       CASE WHEN i % 10 = 0 THEN 'PROBE-' || i ELSE 'LA' || (i % 7) || '-2026-11-28' END,
       (ARRAY['LA', 'IB', 'H2', 'JJ9'])[1 + i % 4], lpad((i % 13)::text, 1 + i % 5, '0'),
       (ARRAY['SCL', 'MAD', 'LIM'])[1 + i % 3], 'GRU',
       (ARRAY['scheduled','boarding','departed','arrived','delayed','cancelled'])[1 + i % 6],
       timestamptz '2026-11-28 10:00:00Z' + i * interval '1 minute',
       CASE WHEN i % 3 = 0 THEN timestamptz '1970-01-01 00:00:00.001Z' + i * interval '1 day' END,
       CASE WHEN i % 4 = 0 THEN NULL WHEN i % 4 = 1 THEN 0 ELSE i * 97 END,
       timestamptz '2026-11-28 09:00:00Z' + (CASE i % 3 WHEN 0 THEN i * 1000000
            WHEN 1 THEN i * 1000 + 7 ELSE i * 1234567 END) * interval '1 microsecond',
       timestamptz '2199-12-31 23:59:59.999999Z' - i * interval '1.5 second',
       timestamptz '2026-12-01 00:00:00Z' + i * interval '10 millisecond',
       i::text
FROM generate_series(1, 240) AS i;
INSERT INTO flights (flight_id, airline, flight_number, origin, destination, status,
    scheduled_departure, actual_departure, delay_minutes, last_event_id, last_event_time)
SELECT DISTINCT ON (flight_id) flight_id, airline, flight_number, origin, destination, status,
       scheduled_departure, actual_departure, delay_minutes, event_id, event_time
FROM flight_events ORDER BY flight_id, event_time DESC, event_id DESC";

#[tokio::test]
async fn feed_pages_are_byte_for_byte_what_serde_writes_for_the_same_rows() {
    let h = Harness::new().await;
    h.migrate().await;
    h.db.client().await.batch_execute(EDGE_ROWS).await.unwrap();
    let api = h.serve(&[("API_CACHE_TTL_MS", "0")]).await;

    let mut pages = 0;
    for query in [
        "limit=7",
        "limit=500",
        "limit=1&origin=SCL",
        "limit=13&status=delayed",
        "limit=3&origin=LIM&status=cancelled",
        "limit=9&flight_id=PROBE-10",
        "limit=9&flight_id=LA3-2026-11-28",
    ] {
        let mut path = format!("/v1/events?{query}");
        loop {
            let body = api.get(&path).await.bytes().await.unwrap();
            let page: EventPage = serde_json::from_slice(&body).unwrap();
            assert_eq!(
                String::from_utf8(body.to_vec()).unwrap(),
                serde_json::to_string(&page).unwrap(),
                "{path}"
            );
            pages += 1;
            match page.next_cursor {
                Some(cursor) => path = format!("/v1/events?{query}&cursor={cursor}"),
                None => break,
            }
        }
    }
    assert!(pages > 60, "{pages} pages compared");

    // The same flight's events through the struct-decoding path of /v1/flights.
    for flight in ["LA3-2026-11-28", "PROBE-20"] {
        let view: FlightView = api.get_json(&format!("/v1/flights/{flight}"), 200).await;
        let page: EventPage = api
            .get_json(&format!("/v1/events?flight_id={flight}&limit=20"), 200)
            .await;
        assert!(!view.events.is_empty());
        assert_eq!(
            serde_json::to_string(&page.items).unwrap(),
            serde_json::to_string(&view.events).unwrap()
        );
    }
}
