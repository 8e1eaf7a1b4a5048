//! `make up`'s first screen: `publish --backfill-days` gives the default statistics window (the
//! last 7 days) a history, so a newcomer sees numbers instead of zeros.

use crate::support::{Harness, eventually};
use flightdeck::publish::synthetic::HISTORY_FLIGHTS_PER_DAY;
use std::time::Duration;

#[tokio::test]
async fn a_backfilled_week_fills_the_default_statistics_window() {
    let h = Harness::new().await;
    h.migrate().await;
    let _ingest = h.ingest(&[]).await;
    let api = h.serve(&[("API_CACHE_TTL_MS", "0")]).await;

    let report = h
        .command(&[
            "publish",
            "--backfill-days",
            "7",
            "--count",
            "0",
            "--seed",
            "11",
        ])
        .await;
    // Log lines share stdout; the report is the last line.
    let report = report.lines().last().expect("a report line");
    let report: serde_json::Value = serde_json::from_str(report).expect("JSON report");
    let history = report["history"].as_u64().expect("history count");
    assert_eq!(report["failed"], 0, "{report}");
    assert_eq!(report["published"].as_u64(), Some(history), "{report}");
    // A lifecycle has at least two events (scheduled, then cancelled or on towards arrival).
    assert!(
        history >= 2 * 7 * HISTORY_FLIGHTS_PER_DAY as u64,
        "{report}"
    );

    let client = h.db.client().await;
    eventually(
        "every history event stored",
        Duration::from_secs(60),
        || async {
            let stored: i64 = client
                .query_one("SELECT count(*) FROM flight_events", &[])
                .await
                .unwrap()
                .get(0);
            (stored as u64 == history).then_some(())
        },
    )
    .await;
    let flights: i64 = client
        .query_one("SELECT count(*) FROM flights", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(flights as usize, 7 * HISTORY_FLIGHTS_PER_DAY);

    // What a newcomer's first request shows: the default window of every origin, as the API
    // answers it, against the flights stored in those days.
    let first_day = chrono::Utc::now().date_naive() - chrono::Days::new(6);
    let rows = client
        .query(
            "SELECT origin, count(*) FROM flights
             WHERE (scheduled_departure AT TIME ZONE 'UTC')::date >= $1
             GROUP BY origin",
            &[&first_day],
        )
        .await
        .unwrap();
    let mut shown = 0;
    for row in &rows {
        let origin: String = row.get(0);
        let expected: i64 = row.get(1);
        let stats: serde_json::Value = api
            .get_json(&format!("/v1/stats/delays?origin={origin}"), 200)
            .await;
        let days = stats["days"].as_array().expect("days");
        assert_eq!(days.len(), 7, "{stats}");
        let served: i64 = days.iter().map(|d| d["flights"].as_i64().unwrap()).sum();
        assert_eq!(served, expected, "{origin}: {stats}");
        shown += served;
    }
    assert!(
        shown as usize >= 5 * HISTORY_FLIGHTS_PER_DAY,
        "the default window shows {shown} flights"
    );
}
