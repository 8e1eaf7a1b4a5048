//! The HTTP API contract: pagination, filters, statistics, errors and the OpenAPI document.

use crate::support::{App, Harness, eventually, generated_events};
use flightdeck::api::events::EventPage;
use flightdeck::api::stats::DelayStats;
use std::collections::HashSet;
use std::time::Duration;
use uuid::Uuid;

async fn seeded(n: usize) -> (Harness, App, App) {
    let h = Harness::new().await;
    h.migrate().await;
    let ingest = h.ingest(&[]).await;
    h.pubsub.publish_events(&generated_events(n, 21)).await;
    eventually("seed events stored", Duration::from_secs(60), || async {
        (h.db.count_events().await == n as i64).then_some(())
    })
    .await;
    let api = h.serve(&[]).await;
    (h, ingest, api)
}

/// Follows `next_cursor` to the end and returns every event id seen, in order.
async fn walk(api: &App, query: &str) -> Vec<Uuid> {
    let mut ids = Vec::new();
    let mut path = format!("/v1/events?{query}");
    let mut last_key = None;
    loop {
        let page: EventPage = api.get_json(&path, 200).await;
        for item in &page.items {
            let key = (item.event.event_time, item.event.event_id);
            if let Some(previous) = last_key {
                assert!(key < previous, "strictly newest first");
            }
            last_key = Some(key);
            ids.push(item.event.event_id);
        }
        match page.next_cursor {
            Some(cursor) => path = format!("/v1/events?{query}&cursor={cursor}"),
            None => return ids,
        }
    }
}

async fn ids_where(h: &Harness, condition: &str) -> HashSet<Uuid> {
    let sql = format!("SELECT event_id FROM flight_events WHERE {condition}");
    h.db.client()
        .await
        .query(&sql, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
async fn walking_every_cursor_returns_each_event_once_and_filters_hold() {
    let (h, _ingest, api) = seeded(1_200).await;
    let all = walk(&api, "limit=37").await;
    let unique: HashSet<_> = all.iter().copied().collect();
    assert_eq!(all.len(), 1_200, "no event repeated or skipped");
    assert_eq!(unique, ids_where(&h, "true").await);

    let scl = walk(&api, "origin=SCL&limit=50").await;
    assert!(!scl.is_empty());
    assert_eq!(
        scl.iter().copied().collect::<HashSet<_>>(),
        ids_where(&h, "origin = 'SCL'").await
    );
    let departed = walk(&api, "status=departed&origin=SCL&limit=5").await;
    assert_eq!(
        departed.iter().copied().collect::<HashSet<_>>(),
        ids_where(&h, "status = 'departed' AND origin = 'SCL'").await
    );
    let flight: String =
        h.db.client()
            .await
            .query_one(
                "SELECT flight_id FROM flight_events GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
                &[],
            )
            .await
            .unwrap()
            .get(0);
    let of_flight = walk(&api, &format!("flight_id={flight}&limit=2")).await;
    assert_eq!(
        of_flight.iter().copied().collect::<HashSet<_>>(),
        ids_where(&h, &format!("flight_id = '{flight}'")).await
    );
    let default_page: EventPage = api.get_json("/v1/events", 200).await;
    assert_eq!(default_page.items.len(), 50, "default limit");
    let max_page: EventPage = api.get_json("/v1/events?limit=500", 200).await;
    assert_eq!(max_page.items.len(), 500);
}

#[tokio::test]
async fn bad_parameters_are_400_problems_that_name_the_parameter() {
    let (_h, _ingest, api) = seeded(10).await;
    let cases = [
        ("/v1/events?limit=0", "limit"),
        ("/v1/events?limit=501", "limit"),
        ("/v1/events?limit=ten", "limit"),
        ("/v1/events?cursor=not-a-cursor", "cursor"),
        ("/v1/events?origin=scl", "origin"),
        ("/v1/events?status=landed", "status"),
        ("/v1/events?flight_id=bad%20id", "flight_id"),
        ("/v1/events?orign=SCL", "query"),
        ("/v1/flights/bad%20id", "flight_id"),
        ("/v1/stats/delays", "origin"),
        ("/v1/stats/delays?origin=SCL&from=2026-13-01", "from"),
        (
            "/v1/stats/delays?origin=SCL&from=2026-02-01&to=2026-01-01",
            "from",
        ),
        (
            "/v1/stats/delays?origin=SCL&from=2026-01-01&to=2026-06-01",
            "to",
        ),
    ];
    for (path, parameter) in cases {
        let response = api.get(path).await;
        assert_eq!(response.status().as_u16(), 400, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
        let problem: serde_json::Value = response.json().await.unwrap();
        assert_eq!(problem["status"], 400, "{path}");
        assert_eq!(problem["parameter"], parameter, "{path}: {problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains(parameter),
            "{path}: {problem}"
        );
    }
    let missing = api.get("/v1/flights/NOPE-404").await;
    assert_eq!(missing.status().as_u16(), 404);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );
    assert_eq!(api.status("/v2/nothing").await, 404);
}

#[tokio::test]
async fn delay_statistics_match_the_stored_flights() {
    let (h, _ingest, api) = seeded(3_000).await;
    let rows = h.db.client().await
        .query(
            "SELECT (scheduled_departure AT TIME ZONE 'UTC')::date, status, coalesce(delay_minutes, 0)
             FROM flights WHERE origin = 'SCL'",
            &[],
        )
        .await
        .unwrap();
    let days: Vec<chrono::NaiveDate> = rows.iter().map(|r| r.get(0)).collect();
    let (from, to) = (*days.iter().min().unwrap(), *days.iter().max().unwrap());
    let stats: DelayStats = api
        .get_json(
            &format!("/v1/stats/delays?origin=SCL&from={from}&to={to}"),
            200,
        )
        .await;
    assert_eq!(
        stats.days.len() as i64,
        (to - from).num_days() + 1,
        "every day of the range"
    );
    for day in &stats.days {
        let of_day: Vec<_> = rows
            .iter()
            .filter(|r| r.get::<_, chrono::NaiveDate>(0) == day.day)
            .collect();
        let departed: Vec<i32> = of_day
            .iter()
            .filter(|r| matches!(r.get::<_, &str>(1), "departed" | "arrived"))
            .map(|r| r.get(2))
            .collect();
        assert_eq!(day.flights, of_day.len() as i64, "{}", day.day);
        assert_eq!(day.departed, departed.len() as i64, "{}", day.day);
        assert_eq!(
            day.cancelled,
            of_day
                .iter()
                .filter(|r| r.get::<_, &str>(1) == "cancelled")
                .count() as i64
        );
        if departed.is_empty() {
            assert_eq!(day.on_time_ratio, None);
        } else {
            let on_time =
                departed.iter().filter(|d| **d <= 15).count() as f64 / departed.len() as f64;
            assert!((day.on_time_ratio.unwrap() - on_time).abs() < 1e-9);
            let mean = departed.iter().map(|d| f64::from(*d)).sum::<f64>() / departed.len() as f64;
            assert!((day.avg_delay_minutes.unwrap() - mean).abs() < 1e-6);
            let max = f64::from(*departed.iter().max().unwrap());
            assert!(day.p95_delay_minutes.unwrap() <= max);
        }
    }
}

#[tokio::test]
async fn openapi_document_lists_every_route() {
    let (_h, _ingest, api) = seeded(1).await;
    let doc: serde_json::Value = api.get_json("/openapi.json", 200).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    for route in [
        "/v1/events",
        "/v1/flights/{flight_id}",
        "/v1/stats/delays",
        "/healthz",
        "/readyz",
        "/openapi.json",
    ] {
        assert!(
            paths.contains_key(route),
            "{route} missing from /openapi.json"
        );
        assert!(paths[route].get("get").is_some(), "{route} documents GET");
    }
    assert_eq!(
        paths.len(),
        6,
        "no undocumented or stale route: {:?}",
        paths.keys().collect::<Vec<_>>()
    );
    let metrics_port = api.get("/metrics").await;
    assert_eq!(
        metrics_port.status().as_u16(),
        404,
        "/metrics is never on the public port"
    );
}

#[tokio::test]
async fn cached_reads_show_a_new_event_once_the_staleness_bound_has_passed() {
    let (h, _ingest, api) = seeded(20).await;
    let ttl = Duration::from_millis(1000);
    let first: EventPage = api.get_json("/v1/events?limit=5", 200).await;
    let again: EventPage = api.get_json("/v1/events?limit=5", 200).await;
    assert_eq!(
        first
            .items
            .iter()
            .map(|i| i.event.event_id)
            .collect::<Vec<_>>(),
        again
            .items
            .iter()
            .map(|i| i.event.event_id)
            .collect::<Vec<_>>()
    );
    let mut newest = crate::support::unique_event();
    newest.event_time =
        chrono::SubsecRound::trunc_subsecs(chrono::Utc::now() + chrono::Duration::hours(1), 6);
    h.pubsub.publish_events(std::slice::from_ref(&newest)).await;
    eventually(
        "the new event committed",
        Duration::from_secs(30),
        || async { (h.db.count_of(&[newest.event_id]).await == 1).then_some(()) },
    )
    .await;
    // Any response produced after the bound must include it.
    tokio::time::sleep(ttl + Duration::from_millis(50)).await;
    let page: EventPage = api.get_json("/v1/events?limit=5", 200).await;
    assert_eq!(
        page.items[0].event,
        flightdeck::api::schema::EventFields::from(newest),
        "visible within API_CACHE_TTL_MS of its commit"
    );
    let m = crate::support::metrics::scrape(&api.metrics).await;
    let hits = crate::support::metrics::value(
        &m,
        r#"flightdeck_api_cache_requests_total{cache="events",result="hit"}"#,
    );
    assert!(
        hits >= 1.0,
        "the repeated request was served from the cache"
    );
}
