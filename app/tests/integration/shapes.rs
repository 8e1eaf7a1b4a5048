//! Each endpoint's JSON as a consumer reads it: field names and JSON types written out here,
//! not taken from the server's types, so a rename on both sides of the code still fails.

use crate::support::{Harness, eventually, unique_event};
use serde_json::Value;
use std::time::Duration;

/// The JSON type of a value, as a consumer's schema names it.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Asserts that `value` is an object with exactly `fields`, each of one of the listed types.
fn assert_shape(what: &str, value: &Value, fields: &[(&str, &[&str])]) {
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("{what}: {value}"));
    let mut names: Vec<&str> = object.keys().map(String::as_str).collect();
    names.sort_unstable();
    let mut expected: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
    expected.sort_unstable();
    assert_eq!(names, expected, "{what}: field names");
    for (name, kinds) in fields {
        let actual = kind(&object[*name]);
        assert!(
            kinds.contains(&actual),
            "{what}.{name} is {actual}, not one of {kinds:?}"
        );
    }
}

const EVENT: &[(&str, &[&str])] = &[
    ("event_id", &["string"]),
    ("flight_id", &["string"]),
    ("airline", &["string"]),
    ("flight_number", &["string"]),
    ("origin", &["string"]),
    ("destination", &["string"]),
    ("status", &["string"]),
    ("scheduled_departure", &["string"]),
    ("actual_departure", &["string", "null"]),
    ("delay_minutes", &["integer", "null"]),
    ("event_time", &["string"]),
    ("published_at", &["string"]),
    ("ingested_at", &["string"]),
];

const FLIGHT: &[(&str, &[&str])] = &[
    ("flight_id", &["string"]),
    ("airline", &["string"]),
    ("flight_number", &["string"]),
    ("origin", &["string"]),
    ("destination", &["string"]),
    ("status", &["string"]),
    ("scheduled_departure", &["string"]),
    ("actual_departure", &["string", "null"]),
    ("delay_minutes", &["integer", "null"]),
    ("last_event_id", &["string"]),
    ("last_event_time", &["string"]),
    ("updated_at", &["string"]),
];

const DAY: &[(&str, &[&str])] = &[
    ("day", &["string"]),
    ("flights", &["integer"]),
    ("departed", &["integer"]),
    ("cancelled", &["integer"]),
    ("on_time_ratio", &["number", "integer", "null"]),
    ("avg_delay_minutes", &["number", "integer", "null"]),
    ("p95_delay_minutes", &["number", "integer", "null"]),
];

const PROBLEM: &[(&str, &[&str])] = &[
    ("type", &["string"]),
    ("title", &["string"]),
    ("status", &["integer"]),
    ("detail", &["string"]),
];

#[tokio::test]
async fn every_endpoint_answers_in_the_shape_consumers_read() {
    let h = Harness::new().await;
    h.migrate().await;
    let _ingest = h.ingest(&[]).await;
    let api = h.serve(&[("API_CACHE_TTL_MS", "0")]).await;
    let mut event = unique_event();
    event.delay_minutes = Some(7);
    h.pubsub.publish_events(std::slice::from_ref(&event)).await;
    let feed = format!("/v1/events?flight_id={}", event.flight_id);
    let page: Value = eventually("the event in the feed", Duration::from_secs(30), || async {
        let page: Value = api.get_json(&feed, 200).await;
        (page["items"].as_array().is_some_and(|i| !i.is_empty())).then_some(page)
    })
    .await;

    assert_shape(
        "page",
        &page,
        &[("items", &["array"]), ("next_cursor", &["string", "null"])],
    );
    assert_shape("page.items[0]", &page["items"][0], EVENT);
    let paged: Value = api.get_json("/v1/events?limit=1", 200).await;
    assert_eq!(kind(&paged["next_cursor"]), "null", "one event, one page");

    let view: Value = api
        .get_json(&format!("/v1/flights/{}", event.flight_id), 200)
        .await;
    assert_shape(
        "flight view",
        &view,
        &[("flight", &["object"]), ("events", &["array"])],
    );
    assert_shape("flight", &view["flight"], FLIGHT);
    assert_shape("flight.events[0]", &view["events"][0], EVENT);

    let day = event.scheduled_departure.date_naive();
    let stats: Value = api
        .get_json(
            &format!(
                "/v1/stats/delays?origin={}&from={day}&to={day}",
                event.origin
            ),
            200,
        )
        .await;
    assert_shape(
        "stats",
        &stats,
        &[
            ("origin", &["string"]),
            ("from", &["string"]),
            ("to", &["string"]),
            ("days", &["array"]),
        ],
    );
    assert_shape("stats.days[0]", &stats["days"][0], DAY);

    for (path, status) in [
        ("/v1/events?limit=0", 400),
        ("/v1/flights/no%20such", 400),
        ("/v1/flights/NOPE-1", 404),
        ("/v1/stats/delays", 400),
    ] {
        let response = api.get(path).await;
        assert_eq!(response.status().as_u16(), status, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
        let problem: Value = response.json().await.unwrap();
        if status == 400 {
            // A refused parameter is named.
            let named = [PROBLEM, &[("parameter", &["string"][..])]].concat();
            assert_shape(path, &problem, &named);
        } else {
            assert_shape(path, &problem, PROBLEM);
        }
    }

    for path in ["/healthz", "/readyz"] {
        let health: Value = api.get_json(path, 200).await;
        assert_shape(path, &health, &[("status", &["string"])]);
    }
}
