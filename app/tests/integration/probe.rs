//! The black-box prober against the real pipeline: its events are read back through the API
//! and stay out of the feed and the statistics.

use crate::support::{App, Harness, eventually, metrics};
use std::time::Duration;

#[tokio::test]
async fn the_probe_reads_its_events_back_and_they_stay_out_of_the_feed_and_statistics() {
    let h = Harness::new().await;
    h.migrate().await;
    let _ingest = h.ingest(&[("INGEST_BATCH_WAIT_MS", "20")]).await;
    let api = h.serve(&[("API_CACHE_TTL_MS", "0")]).await;
    // The probe is a consumer like any other: its own key, never in its logs.
    let key = h.create_key("probe", 10, 20).await;
    let probe = App::spawn(
        "probe",
        h.env(),
        &[
            ("PROBE_API_URL", &api.http),
            ("PROBE_INTERVAL_MS", "300"),
            ("PROBE_API_KEY", &key),
        ],
    )
    .await;
    let m = eventually(
        "three probes read back",
        Duration::from_secs(30),
        || async {
            let m = metrics::scrape(&probe.metrics).await;
            (metrics::value(&m, r#"flightdeck_probe_runs_total{result="ok"}"#) >= 3.0).then_some(m)
        },
    )
    .await;
    assert!(metrics::value(&m, "flightdeck_probe_freshness_seconds_count") >= 3.0);
    assert_eq!(
        metrics::value(&m, r#"flightdeck_probe_runs_total{result="error"}"#),
        0.0
    );
    assert!(metrics::value(&m, "flightdeck_probe_last_success_timestamp_seconds") > 0.0);
    assert!(!probe.logs().contains(&key), "the probe never logs its key");

    let stored: i64 =
        h.db.client()
            .await
            .query_one(
                "SELECT count(*) FROM flights WHERE flight_id LIKE 'PROBE-%'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
    assert!(stored >= 3, "probe flights are stored ({stored})");
    let feed: serde_json::Value = api.get_json("/v1/events?limit=500", 200).await;
    let items = feed["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .all(|e| !e["flight_id"].as_str().unwrap().starts_with("PROBE-")),
        "the feed leaves probe flights out"
    );
    let stats: serde_json::Value = api.get_json("/v1/stats/delays?origin=ZZZ", 200).await;
    let flights: i64 = stats["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["flights"].as_i64().unwrap())
        .sum();
    assert_eq!(flights, 0, "statistics leave probe flights out");
}
